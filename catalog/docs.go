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

// NewestMax bounds how many libraries Newest reads a manifest of: it
// runs before serve listens, and on S3 each is a request.
const NewestMax = 32

// Newest returns the library whose versions a start-up message should
// show: of the libraries show allows (the public ones), the one whose
// latest version was published last (by its manifest's build time; of
// the first NewestMax libraries, the root library first), with that
// version (its newest stable version, or its newest when none is
// stable), the alias that holds it, if any, and its files. All are empty
// when nothing it may show is published.
func (c *Catalog) Newest(show func(library string) bool) (library, version, alias string, files []string) {
	candidates := []*Library{c.Root()}
	for _, name := range c.Libraries() {
		if l := c.Loaded(name); l != nil && len(candidates) < NewestMax {
			candidates = append(candidates, l)
		}
	}
	var v *Version
	var lib *Library
	for _, l := range candidates {
		if len(l.Versions()) == 0 || !show(l.Name()) {
			continue
		}
		name, err := l.Resolve("latest")
		if err != nil {
			name = l.Versions()[0].Original()
		}
		cand, err := l.Get(name)
		if err == nil && (v == nil || cand.Manifest.Provenance.BuiltAt.After(v.Manifest.Provenance.BuiltAt)) {
			v, lib, version = cand, l, name
		}
	}
	if v == nil {
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
