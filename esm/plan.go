package esm

import (
	"fmt"
	"slices"
	"strings"
)

// Plan is which version of each package an app's modules get: one
// version per name at the top (the import map's imports), and, for a
// package that needs another version of a dependency, that version in
// its own scope (the map's scopes), as npm's node_modules tree places
// them.
type Plan struct {
	// Top maps a package name to the version every module gets, unless
	// its scope says otherwise.
	Top map[string]string
	// Scopes maps "name@version" of an importing package to the
	// versions its own imports get where they differ from Top.
	Scopes map[string]map[string]string
}

// PlanFromLockfile turns a lockfile's tree into a Plan, resolving each
// package's dependencies as Node does: the nearest node_modules up from
// the package's own place. Dev dependencies are left out unless dev.
// A dependency the tree does not hold (an optional or peer one that was
// not installed) is left to Top, or to nothing.
func PlanFromLockfile(lf *Lockfile, dev bool) (*Plan, error) {
	at := map[string]Locked{}
	for _, p := range lf.Packages {
		if p.Dev && !dev {
			continue
		}
		at[p.Path] = p
	}
	plan := &Plan{Top: map[string]string{}, Scopes: map[string]map[string]string{}}
	for path, p := range at {
		if path == "node_modules/"+p.Name {
			plan.Top[p.Name] = p.Version
		}
	}
	// What each package@version's imports get, from every place it is
	// installed: the copies must agree, since a map scopes by URL, and
	// every copy has the same URL.
	gets := map[string]map[string]string{}
	for _, path := range sortedKeys(at) {
		p := at[path]
		key := p.Name + "@" + p.Version
		if gets[key] == nil {
			gets[key] = map[string]string{}
		}
		for _, dep := range sortedKeys(p.Dependencies) {
			found, ok := nearest(at, path, dep)
			if !ok {
				continue
			}
			if prev, ok := gets[key][dep]; ok && prev != found.Version {
				return nil, fmt.Errorf("%s is installed twice (at two places in node_modules), and its two copies get %s@%s and %s@%s: one import map cannot tell them apart; run npm dedupe", key, dep, prev, dep, found.Version)
			}
			gets[key][dep] = found.Version
			if found.Version == plan.Top[dep] {
				continue
			}
			if plan.Scopes[key] == nil {
				plan.Scopes[key] = map[string]string{}
			}
			plan.Scopes[key][dep] = found.Version
		}
	}
	return plan, nil
}

// nearest finds the package a module at path resolves name to: path's
// own node_modules, then each enclosing one, up to the top.
func nearest(at map[string]Locked, path, name string) (Locked, bool) {
	dir := path
	for {
		if p, ok := at[dir+"/node_modules/"+name]; ok {
			return p, true
		}
		i := strings.LastIndex(dir, "/node_modules/")
		if i < 0 {
			break
		}
		dir = dir[:i]
	}
	p, ok := at["node_modules/"+name]
	return p, ok
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
