package server

import (
	"strings"

	"github.com/cdnserve/cdnserve/layout"
)

// assetPath is what an asset path names, before anything is read: the
// library, and the path below it. The first segment decides, because a
// library's name never looks like a version, an alias or a range
// (layout.CheckLibraryName):
//
//	/2.2.4/pusher.js, /^2.2.0/pusher.js   the root library
//	/pusher/2.2.4/pusher.js               the library "pusher"
//	/@corp/ui/1.0.0/ui.css                the scoped library "@corp/ui"
//	/pusher@2.2.4/pusher.js               the name@spec form (at)
//	/pusher, /@corp/ui                    a library with no slash after it (bare)
type assetPath struct {
	lib  string // the library's name; "" for the root library
	rest string // the path below the library, without a leading "/"
	// at is the name@spec form, whose spec follows the "@".
	at   bool
	spec string
	// bare is a named library's path that ends at its name.
	bare bool
	// resolved is the exact version a mirror resolved the spec (a range
	// or a tag) to upstream, which wins over storage's own resolution.
	resolved string
}

// splitAssetPath splits a request path (with its leading "/") into its
// library and the rest. known says whether a name is a library the
// server knows, which settles most paths with one map lookup. It reads
// nothing, and allocates nothing for a known library or a root-library
// version, alias or range: the names are substrings of p.
func splitAssetPath(p string, known func(string) bool) assetPath {
	p = p[1:]
	first, after, slash := strings.Cut(p, "/")
	if i := strings.IndexByte(first, '@'); i > 0 {
		return assetPath{lib: first[:i], spec: first[i+1:], rest: after, at: true}
	}
	if strings.HasPrefix(first, "@") && slash {
		second, after2, slash2 := strings.Cut(after, "/")
		if i := strings.IndexByte(second, '@'); i >= 0 {
			return assetPath{lib: p[:len(first)+1+i], spec: second[i+1:], rest: after2, at: true}
		}
		return assetPath{lib: p[:len(first)+1+len(second)], rest: after2, bare: !slash2}
	}
	if first == "" || first[0] >= '0' && first[0] <= '9' || !known(first) && !isLibrarySegment(first) {
		return assetPath{rest: p} // a version or alias (a digit first), or a range or tag
	}
	return assetPath{lib: first, rest: after, bare: !slash}
}

// isLibrarySegment reports whether the first segment of a path is a
// library's name rather than the root library's version, alias or range.
// A library's name starts with a letter or "-", which no version, alias
// or range but "latest", "x…" and "v…" does; the full check runs only
// for what remains.
func isLibrarySegment(s string) bool {
	if s == "" || s == "latest" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] == '-') {
		return false
	}
	return layout.ClassifyDir(s) == layout.Library
}

// libraryAPIPath maps a named library's own /-/ paths to the server's:
// /<name>/-/meta/<v> is /-/meta/<name>/<v>, and /<name>/-/versions is
// /-/versions/<name>. So a client whose CDN base is the library's URL
// (https://cdn.example.com/pusher/, as a seed-style loader is given)
// finds the manifests where it finds them at the root.
func (s *Server) libraryAPIPath(p string) (string, bool) {
	if !strings.Contains(p, "/-/") {
		return "", false
	}
	ap := splitAssetPath(p, s.cat.Known)
	switch {
	case ap.lib == "" || ap.at:
		return "", false
	case strings.HasPrefix(ap.rest, "-/meta/"):
		return "/-/meta/" + ap.lib + "/" + ap.rest[len("-/meta/"):], true
	case ap.rest == "-/versions":
		return "/-/versions/" + ap.lib, true
	}
	return "", false
}
