package graph

import (
	"net/url"
	"slices"

	"github.com/cdnserve/cdnserve/importmap"
)

// BuildPath is the URL path below which the server serves builds.
const BuildPath = importmap.BuildPath

// dirURL is the URL of the directory a node's modules are served from:
// the package's own for files served as they are, its build's otherwise.
func (n *node) dirURL(base string) string {
	if n.build != nil {
		return base + BuildPath[1:] + n.build.key + "/" + n.version + "/"
	}
	return base + (&url.URL{Path: n.name}).EscapedPath() + "/" + n.version + "/"
}

// fileURL is the URL of one of a node's files.
func (n *node) fileURL(base, file string) string {
	return n.dirURL(base) + (&url.URL{Path: file}).EscapedPath()
}

// entryURL is the URL a subpath of a node maps to.
func (n *node) entryURL(base, sub string) string {
	if n.build != nil {
		return n.fileURL(base, n.build.outs[sub])
	}
	return n.fileURL(base, n.subs[sub].file)
}

// modules lists every module URL of a node with its integrity: the
// files its entries reach, or every file of its build.
func (n *node) modules(base string) map[string]string {
	out := map[string]string{}
	if n.build != nil {
		for _, f := range n.build.man.Files {
			out[n.fileURL(base, f.Path)] = f.Integrity
		}
		return out
	}
	for _, e := range n.subs {
		for _, in := range e.inputs {
			if mf, ok := n.man.File(in); ok {
				out[n.fileURL(base, in)] = mf.Integrity
			}
		}
	}
	return out
}

// result turns a traced and built graph into its import map: the top
// version of each package in imports, the others in the scope of the
// package that needs them, and the integrity of every module.
func (t *trace) result(base string, roots []want) *importmap.Result {
	m := &importmap.Map{Imports: map[string]string{}, Integrity: map[string]string{}}
	res := &importmap.Result{Map: m, Packages: len(t.nodes), Built: t.built}
	addScope := func(n *node, name string, dep *node) {
		if m.Scopes == nil {
			m.Scopes = map[string]map[string]string{}
		}
		dir := n.dirURL(base)
		if m.Scopes[dir] == nil {
			m.Scopes[dir] = map[string]string{}
		}
		for sub := range dep.subs {
			m.Scopes[dir][specifier(name, sub)] = dep.entryURL(base, sub)
		}
	}
	libs := map[string]bool{}
	for _, n := range t.sortedNodes() {
		if t.top[n.name] == n {
			for sub := range n.subs {
				m.Imports[specifier(n.name, sub)] = n.entryURL(base, sub)
			}
		} else {
			addScope(n, n.name, n) // its own bare imports of itself
		}
		for name, dep := range n.scope {
			addScope(n, name, dep)
		}
		for u, sri := range n.modules(base) {
			m.Integrity[u] = sri
		}
		libs[n.name] = true
		if n.build != nil {
			res.Builds = append(res.Builds, n.build.key)
		}
	}
	for name := range libs {
		res.Libraries = append(res.Libraries, name)
	}
	slices.Sort(res.Libraries)
	slices.Sort(res.Builds)
	seen := map[string]bool{}
	for _, w := range roots {
		if w.n.subs[w.sub] == nil {
			continue
		}
		u := w.n.entryURL(base, w.sub)
		if !seen[u] {
			seen[u] = true
			res.Preload = append(res.Preload, u)
		}
	}
	return res
}
