// Package importmap makes import maps with integrity (the HTML
// standard's "integrity" key, whatwg/html #10269) for libraries of a
// tree: each bare specifier maps to an exact version's ES-module entry,
// and each module file gets its SRI. It reads the catalog; the server
// serves its maps at /-/importmap, and cdnserve importmap prints them.
package importmap

import (
	"errors"
	"fmt"
	"html"
	"net/url"
	"path"
	"strings"

	"github.com/cdnserve/cdnserve/catalog"
	"github.com/cdnserve/cdnserve/layout"
)

// Map is an import map with integrity (the HTML standard's
// "integrity" key, whatwg/html #10269): each bare specifier maps to an
// exact version's ES-module entry, and a specifier with a trailing slash
// to the version's directory; each module file gets its SRI.
type Map struct {
	Imports map[string]string `json:"imports"`
	// Scopes map, below a URL prefix, the specifiers whose modules there
	// need another version than Imports gives (npm's nested
	// node_modules).
	Scopes    map[string]map[string]string `json:"scopes,omitempty"`
	Integrity map[string]string            `json:"integrity"`
}

// Where graphs keep what they make, below the dist root (dot-names, which
// the tree's catalog never lists), and the URL path builds are served at.
const (
	// BuildsDir holds the ES-module builds (package esm/graph): one
	// library per build key, with one exact version.
	BuildsDir = ".esm"
	// MapsDir holds every graph's map, by the SHA-256 of its bytes,
	// for /-/importmap/<sha256>.json.
	MapsDir = ".importmaps"
	// BuildPath is the URL path below which builds are served:
	// /-/esm/<key>/<version>/<file>.
	BuildPath = "/-/esm/"
)

// Result is an import map made for an npm dependency graph (package
// esm/graph), and what making it did.
type Result struct {
	Map *Map
	// Preload are the module URLs the asked-for entry points load
	// first, for <link rel="modulepreload">.
	Preload []string
	// Libraries are the libraries the map names (packages fetched into
	// storage may be among them), and Builds the keys of the builds it
	// names, so that a server that caches its view of storage looks
	// again.
	Libraries, Builds []string
	// Packages counts the packages of the graph; Built the builds that
	// ran (the others were found in storage).
	Packages, Built int
}

// The kinds of errors a graph's map fails with, besides fs.ErrNotExist
// (a package, version or subpath that is not there) and
// context.DeadlineExceeded (a build past its time limit).
var (
	// ErrUnsupported is a module a browser cannot run and a build
	// cannot fix: a Node built-in, a syntax error, a missing file, an
	// undeclared dependency.
	ErrUnsupported = errors.New("cannot run in a browser")
	// ErrTooLarge is a package past the build's memory limit, or a
	// graph past its package limit.
	ErrTooLarge = errors.New("too large to build")
	// ErrNotPackage is a library that is no npm package (it has no
	// package.json): its map is made from its manifest (Make).
	ErrNotPackage = errors.New("not an npm package")
	// ErrFormat is an app's file that is neither a package.json nor a
	// package-lock.json (v2 or v3).
	ErrFormat = errors.New("not a package.json or a package-lock.json")
)

// Error is a spec an import map cannot be made for; it says why.
type Error struct {
	Spec   string
	Reason string
	// NotFound is true when the library or version does not exist.
	NotFound bool
}

func (e *Error) Error() string { return e.Spec + ": " + e.Reason }

// Make makes an import map for libraries of cat named "name@range" (a
// version, a range or a tag; "name" alone is name@latest), optionally
// "name@range/path/to/entry.mjs" for another entry than the library's.
// URLs start with base ("https://cdn.example.com/"). A spec that cannot
// be mapped is an *Error; storage failing is catalog.ErrStorage.
func Make(cat *catalog.Catalog, base string, specs []string) (*Map, error) {
	m := &Map{Imports: map[string]string{}, Integrity: map[string]string{}}
	base = strings.TrimSuffix(base, "/") + "/"
	for _, spec := range specs {
		if err := addImport(cat, m, base, spec); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// addImport adds one library to an import map.
func addImport(cat *catalog.Catalog, m *Map, base, spec string) error {
	name, rng, file, at := SplitSpec(spec)
	if !at {
		rng = "latest"
		if !layout.IsLibraryName(name) || file != "" {
			return &Error{Spec: spec, Reason: "write name@range, such as widgets@^2 (the root library has no name to import by)"}
		}
	}
	if file != "" && layout.CheckPath(file) != nil {
		return &Error{Spec: spec, Reason: "bad entry path"}
	}
	lib, err := cat.Library(name)
	if err != nil {
		return &Error{Spec: spec, Reason: "no library named " + name + " is published", NotFound: true}
	}
	exact := rng
	if v, err := lib.Get(rng); err == nil {
		exact = v.Exact
	} else if exact, err = lib.Resolve(rng); err != nil {
		var re *catalog.ResolveError
		if errors.As(err, &re) {
			return &Error{Spec: spec, Reason: re.Reason, NotFound: true}
		}
		return err
	}
	v, err := lib.Get(exact)
	if err != nil {
		return err
	}
	if file == "" {
		file = ModuleEntry(v.Manifest)
		if file == "" {
			return &Error{Spec: spec, Reason: fmt.Sprintf("version %s of %s has no ES-module file to import; name one: %s@%s/path.mjs", exact, name, name, rng), NotFound: true}
		}
	} else if !hasFile(v.Manifest, file) {
		return &Error{Spec: spec, Reason: fmt.Sprintf("version %s has no file %s", exact, file), NotFound: true}
	}
	dir := base + lib.Prefix()[1:] + exact + "/"
	m.Imports[name] = dir + (&url.URL{Path: file}).EscapedPath()
	m.Imports[name+"/"] = dir
	for _, mf := range v.Manifest.Files {
		if mf.IsModule() || mf.Path == file {
			m.Integrity[dir+(&url.URL{Path: mf.Path}).EscapedPath()] = mf.Integrity
		}
	}
	return nil
}

// ModuleEntry is a version's ES-module entry: its manifest's entry when
// that is a module, else its minified module file, else its first module
// file; "" when it has none.
func ModuleEntry(m *layout.Manifest) string {
	var first, min string
	for _, mf := range layout.ReadingOrder(m.Files) {
		if !mf.IsModule() {
			continue
		}
		if mf.Path == m.Entry {
			return mf.Path
		}
		if first == "" {
			first = mf.Path
		}
		if min == "" && strings.Contains(path.Base(mf.Path), ".min.") {
			min = mf.Path
		}
	}
	if min != "" {
		return min
	}
	return first
}

// hasFile reports whether a manifest lists a file.
func hasFile(m *layout.Manifest, file string) bool {
	for _, mf := range m.Files {
		if mf.Path == file {
			return true
		}
	}
	return false
}

// SplitSpec reads "name@range/path": the library's name (scoped names
// keep their "@scope/"), the range after the name's "@" (at reports
// whether there is one), and the path after it.
func SplitSpec(spec string) (name, rng, file string, at bool) {
	rest := spec
	scope := ""
	if strings.HasPrefix(rest, "@") {
		s, r, ok := strings.Cut(rest, "/")
		if !ok {
			return spec, "", "", false
		}
		scope, rest = s+"/", r
	}
	head, file, _ := strings.Cut(rest, "/")
	name, rng, at = strings.Cut(head, "@")
	return scope + name, rng, file, at
}

// HTMLTags are the tags a page's <head> needs for a graph: its import
// map, and a modulepreload link with integrity for each module the
// entry points load first.
func HTMLTags(res *Result, mapJSON []byte) string {
	var b strings.Builder
	b.WriteString("<script type=\"importmap\">\n")
	b.WriteString(strings.ReplaceAll(string(mapJSON), "</", "<\\/"))
	b.WriteString("</script>\n")
	for _, u := range res.Preload {
		b.WriteString(`<link rel="modulepreload" href="` + html.EscapeString(u) + `"`)
		if sri := res.Map.Integrity[u]; sri != "" {
			b.WriteString(` integrity="` + html.EscapeString(sri) + `"`)
		}
		b.WriteString(" crossorigin=\"anonymous\">\n")
	}
	return b.String()
}

// Published reports whether every spec names a library of cat that was
// published here, not fetched from npm (its newest version's provenance
// names no registry): its map is Make's, from its manifest; an npm
// package's is its graph's (package esm/graph).
func Published(cat *catalog.Catalog, specs []string) bool {
	for _, spec := range specs {
		name, _, _, _ := SplitSpec(spec)
		lib, err := cat.Library(name)
		if err != nil {
			return false
		}
		vs := lib.Versions()
		if len(vs) == 0 {
			return false
		}
		v, err := lib.Get(vs[0].Original())
		if err != nil || v.Manifest.Provenance.Registry != "" {
			return false
		}
	}
	return true
}
