package browse

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/cdnserve/cdnserve/catalog"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"
)

// Tag is a tag to paste for one file.
type Tag struct{ Path, Tag string }

// VersionData is what a version's page shows.
type VersionData struct {
	Title, Name, AliasOf, Snippet, SnippetURL string
	Library, Base, MetaPath                   string
	LoaderTag, ImportMap                      string
	Deprecated, Successor, VersionsPath       string
	HasStats                                  bool
	Requests7                                 int64
	Pre, Dirty                                bool
	Published, Commit, Tool                   string
	Newer, Older, Latest                      string
	Major                                     uint64
	// Files is a page of the version's root directory, its
	// subdirectories collapsed (List).
	Files *Listing
	// Tags are for the scripts and stylesheets of that page and the
	// entry, at most MaxTags; MoreTags says how many more there are.
	Tags     []Tag
	MoreTags int
	Switcher *Switcher
	// Registry is the npm registry a fetched version came from, and
	// Verified what the supply-chain gate checked then (nil: not checked).
	Registry string
	Verified *layout.Verified
	// Facts are an npm package's: its tarball, licence, exports and
	// dependencies (nil for a built library).
	Facts *Facts
}

// VersionInput is what a version page shows beyond the catalog: the
// URLs clients use, this server's loader, the version's import map (nil
// when it has none), and its recent requests.
type VersionInput struct {
	// HTTPBase and HTTPSBase are the server's base URLs (with a trailing
	// slash); TagBase is the one pasted tags use.
	HTTPBase, HTTPSBase, TagBase string
	// LoaderIntegrity is /-/loader.js's SRI.
	LoaderIntegrity string
	// ImportMap is the version's import map, or nil.
	ImportMap any
	// Requests counts the version's recent requests.
	Requests Requests
	// Page is the page of the root directory to show, from 1.
	Page int
	// PackageJSON is an npm package's package.json (verified bytes), and
	// Known says whether a dependency is a library this server shows.
	PackageJSON []byte
	Known       func(string) bool
}

// MaxTags bounds the tags a version page offers to paste: a package of
// 300 scripts gets 20, not 300.
const MaxTags = 20

// Version gathers a version's page: a page of its root directory with
// sizes, types and SRI, a tag to paste for its scripts and stylesheets,
// the loader snippet, its neighbours and its provenance. It returns nil
// for a page past the end.
func Version(v *catalog.Version, in VersionInput) *VersionData {
	data := &VersionData{Title: "cdnserve: " + v.Lib.MetaPath(v.Name), Name: v.Name, Library: v.Lib.Name(), Base: v.Lib.Prefix(), MetaPath: v.Lib.MetaPath(v.Name)}
	if v.Alias {
		data.AliasOf = v.Exact
	}
	prov := v.Manifest.Provenance
	if !prov.BuiltAt.IsZero() {
		data.Published = prov.BuiltAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	data.Commit, data.Dirty, data.Tool = shortCommit(prov.GitCommit), prov.GitDirty, prov.Tool
	data.Registry, data.Verified = prov.Registry, prov.Verified
	if sv, err := versioning.Parse(v.Exact); err == nil {
		data.Pre, data.Major = versioning.IsPrerelease(sv), sv.Major()
		data.Newer, data.Older = neighbours(v.Lib, sv)
	}
	if latest, err := v.Lib.Resolve("latest"); err == nil && latest != v.Exact {
		data.Latest = latest
	}
	httpBase, httpsBase, tagBase := in.HTTPBase, in.HTTPSBase, in.TagBase
	listing, ok := List(v, "", max(in.Page, 1))
	if !ok {
		return nil
	}
	data.Files = listing
	if in.Known != nil {
		data.Facts = PackageFacts(v, in.PackageJSON, in.Known)
	}
	data.Switcher = NewSwitcher(v.Lib, v.Name, "")
	for _, mf := range tagged(v, listing) {
		abs := tagBase + v.Lib.Prefix()[1:] + v.Exact + "/" + (&url.URL{Path: mf.Path}).EscapedPath()
		switch {
		case mf.IsModule():
			// An ES module runs only as type="module"; modulepreload lets a
			// page fetch it (and check it) before an import needs it.
			data.Tags = append(data.Tags,
				Tag{mf.Path, `<script type="module" src="` + abs + `" integrity="` + mf.Integrity + `" crossorigin="anonymous"></script>`},
				Tag{mf.Path + " (preload)", `<link rel="modulepreload" href="` + abs + `" integrity="` + mf.Integrity + `" crossorigin="anonymous">`})
		case strings.HasSuffix(mf.Path, ".js"):
			data.Tags = append(data.Tags, Tag{mf.Path, `<script src="` + abs + `" integrity="` + mf.Integrity + `" crossorigin="anonymous"></script>`})
		case strings.HasSuffix(mf.Path, ".css"):
			data.Tags = append(data.Tags, Tag{mf.Path, `<link rel="stylesheet" href="` + abs + `" integrity="` + mf.Integrity + `" crossorigin="anonymous">`})
		}
	}
	if len(data.Tags) > MaxTags {
		data.Tags, data.MoreTags = data.Tags[:MaxTags], len(data.Tags)-MaxTags
	}
	data.LoaderTag = `<script src="` + tagBase + `-/loader.js" integrity="` + in.LoaderIntegrity + `" crossorigin="anonymous"></script>`
	if in.ImportMap != nil {
		raw, _ := json.MarshalIndent(in.ImportMap, "", "  ")
		data.ImportMap = `<script type="importmap">` + "\n" + string(raw) + "\n</script>"
	}
	// The dependency loader loads classic scripts: a version of ES
	// modules only is offered its import map instead.
	if slices.ContainsFunc(v.Manifest.Files, func(mf layout.ManifestFile) bool { return strings.HasSuffix(mf.Path, ".js") && !mf.IsModule() }) {
		data.Snippet = Snippet(httpBase+v.Lib.Prefix()[1:], httpsBase+v.Lib.Prefix()[1:], v.Exact, ".min")
	}
	data.SnippetURL = "/-/snippet?version=" + url.QueryEscape(v.Exact)
	if v.Lib.Name() != "" {
		data.SnippetURL += "&library=" + url.QueryEscape(v.Lib.Name())
	}
	if d := v.Lib.Deprecated(v.Exact); d != nil {
		data.Deprecated, data.Successor = d.Message, d.Successor
	}
	data.VersionsPath = v.Lib.VersionsPath()
	data.Requests7, data.HasStats = in.Requests(v.Lib.Name(), v.Exact)
	return data
}

// tagged are the files a version page offers tags for: the entry, then
// the files of the page's listing.
func tagged(v *catalog.Version, l *Listing) []layout.ManifestFile {
	byPath := make(map[string]layout.ManifestFile, len(v.Manifest.Files))
	for _, mf := range v.Manifest.Files {
		byPath[mf.Path] = mf
	}
	var out []layout.ManifestFile
	if e, ok := byPath[v.Manifest.Entry]; ok && strings.Contains(e.Path, "/") {
		out = append(out, e)
	}
	for _, e := range l.Entries {
		if mf, ok := byPath[e.Path]; ok && !e.Dir {
			out = append(out, mf)
		}
	}
	return out
}

// neighbours are the published versions just newer and just older than
// v, for the version switcher.
func neighbours(lib *catalog.Library, v *semver.Version) (newer, older string) {
	versions := lib.Versions() // newest first
	i, found := slices.BinarySearchFunc(versions, v, func(a, b *semver.Version) int { return b.Compare(a) })
	if i > 0 {
		newer = versions[i-1].Original()
	}
	if found {
		i++
	}
	if i < len(versions) {
		older = versions[i].Original()
	}
	return newer, older
}

// shortCommit is the first 12 hex digits of a commit.
func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// Snippet is the JavaScript that points a seed-style dependency loader
// at this server, like the seed README's new DependencyLoader({...}).
// Values are JSON string literals, so they are safe JavaScript.
func Snippet(httpBase, httpsBase, version, suffix string) string {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	return "new DependencyLoader({\n" +
		"  cdn_http: " + q(httpBase) + ",\n" +
		"  cdn_https: " + q(httpsBase) + ",\n" +
		"  version: " + q(version) + ",\n" +
		"  suffix: " + q(suffix) + "\n" +
		"})"
}
