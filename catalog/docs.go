package catalog

import (
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"
)

// The documents the tree is summarized in, for /-/versions, /-/libraries
// and /-/meta, and for a start-up message.

// Meta is the /-/meta/<version> document: the version's files with their
// sizes, types and SRI strings, from its integrity manifest.
type Meta struct {
	Library    string                `json:"library,omitempty"`
	Version    string                `json:"version"`
	Dir        string                `json:"dir"`
	AliasOf    string                `json:"alias_of,omitempty"`
	Files      []layout.ManifestFile `json:"files"`
	Provenance layout.Provenance     `json:"provenance"`
	// Deprecated is set for a deprecated version: its message and since
	// when (the Go loader reports it).
	Deprecated *Deprecation `json:"deprecated,omitempty"`
}

// Meta is the version's /-/meta document, without its deprecation.
func (v *Version) Meta() Meta {
	return Meta{Library: v.Lib.Name(), Version: v.Exact, Dir: v.Name, AliasOf: v.Manifest.AliasOf, Files: v.Manifest.Files, Provenance: v.Manifest.Provenance}
}

// VersionList is the /-/versions document of one library.
type VersionList struct {
	Library  string            `json:"library,omitempty"`
	Versions []string          `json:"versions"`
	Aliases  map[string]string `json:"aliases"`
	Latest   string            `json:"latest,omitempty"`
}

// VersionList lists a library's published versions (newest first), each
// alias with the version it holds, and latest.
func (lib *Library) VersionList() VersionList {
	doc := VersionList{Library: lib.Name(), Versions: []string{}, Aliases: map[string]string{}}
	aliases := map[string]bool{}
	for _, v := range lib.Servable() {
		doc.Versions = append(doc.Versions, v.Original())
		aliases[versioning.AliasDir(v)] = true
	}
	for name := range aliases {
		if a, err := lib.Get(name); err == nil && a.Alias {
			doc.Aliases[name] = a.Exact
		}
	}
	doc.Latest, _ = lib.Resolve("latest")
	return doc
}

// Summary is one library in /-/libraries.
type Summary struct {
	Name    string            `json:"name"`
	Latest  string            `json:"latest,omitempty"`
	Aliases map[string]string `json:"aliases"`
}

// Summary is a library's entry in /-/libraries: its latest version and
// the aliases of its major.minor lines.
func (lib *Library) Summary() Summary {
	doc := Summary{Name: lib.Name(), Aliases: map[string]string{}}
	doc.Latest, _ = lib.Resolve("latest")
	seen := map[string]bool{}
	for _, v := range lib.Versions() {
		name := versioning.AliasDir(v)
		if seen[name] || versioning.IsPrerelease(v) {
			continue
		}
		seen[name] = true
		if a, err := lib.Get(name); err == nil && a.Alias {
			doc.Aliases[name] = a.Exact
		}
	}
	return doc
}

// Newest returns the library whose versions a start-up message should
// show (the root library when it has any version, or else the first
// named library that has one), its newest stable version (or its newest
// version, when none is stable), the alias that holds it, if any, and
// its files. All are empty when nothing is published.
func (c *Catalog) Newest() (library, version, alias string, files []string) {
	lib := c.Root()
	for _, name := range c.Libraries() {
		if len(lib.Versions()) > 0 {
			break
		}
		if l := c.Loaded(name); l != nil {
			lib = l
		}
	}
	version, err := lib.Resolve("latest")
	if err != nil {
		if vs := lib.Versions(); len(vs) > 0 {
			version = vs[0].Original()
		}
	}
	v, err := lib.Get(version)
	if err != nil {
		return "", "", "", nil
	}
	if sv, err := versioning.Parse(version); err == nil {
		if a, err := lib.Get(versioning.AliasDir(sv)); err == nil && a.Exact == version {
			alias = a.Name
		}
	}
	for _, f := range v.Manifest.Files {
		files = append(files, f.Path)
	}
	return lib.Name(), version, alias, files
}
