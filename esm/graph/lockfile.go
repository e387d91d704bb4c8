package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/cdnserve/cdnserve/esm"
	"github.com/cdnserve/cdnserve/importmap"
)

// Pins are a lockfile's exact versions (esm.Plan) and npm's integrity
// of each, by "name@version".
type Pins struct {
	Plan      *esm.Plan
	Integrity map[string]string
}

// ErrFormat is an app file that is neither a package.json nor a
// package-lock.json (v2 or v3).
var ErrFormat = importmap.ErrFormat

// MakeFrom makes the map of an app from its package.json (its
// dependencies' ranges, as Make resolves them) or its
// package-lock.json (lockfileVersion 2 or 3: the lockfile's exact
// versions, each checked against the lockfile's integrity). A
// pnpm-lock.yaml is refused with a reason: it is not read yet.
func (m *Maker) MakeFrom(ctx context.Context, base string, body []byte) (*importmap.Result, error) {
	trimmed := bytes.TrimSpace(body)
	if bytes.HasPrefix(trimmed, []byte("lockfileVersion:")) {
		return nil, &Error{Package: "pnpm-lock.yaml", Reason: "pnpm lockfiles are not read yet: send the package.json, or an npm package-lock.json (npm install --package-lock-only)", Err: ErrFormat}
	}
	var probe struct {
		LockfileVersion *int              `json:"lockfileVersion"`
		Dependencies    map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(trimmed, &probe); err != nil {
		return nil, &Error{Package: "the request body", Reason: "not JSON: " + err.Error() + "; send a package.json or a package-lock.json", Err: ErrFormat}
	}
	if probe.LockfileVersion == nil {
		var specs []string
		for name, rng := range probe.Dependencies {
			specs = append(specs, name+"@"+rng)
		}
		if len(specs) == 0 {
			return nil, &Error{Package: "package.json", Reason: "it has no dependencies to map", Err: ErrFormat}
		}
		slices.Sort(specs)
		return m.make(ctx, base, specs, nil)
	}
	lf, err := esm.ParseLockfile(trimmed, "package-lock.json")
	if err != nil {
		return nil, &Error{Package: "package-lock.json", Reason: err.Error(), Err: ErrFormat}
	}
	plan, err := esm.PlanFromLockfile(lf, false)
	if err != nil {
		return nil, &Error{Package: "package-lock.json", Reason: err.Error(), Err: importmap.ErrUnsupported}
	}
	pins := &Pins{Plan: plan, Integrity: map[string]string{}}
	for _, p := range lf.Packages {
		pins.Integrity[p.Name+"@"+p.Version] = p.Integrity
	}
	var specs []string
	for name := range lf.Requires {
		v, ok := plan.Top[name]
		if !ok {
			continue // an optional dependency that was not installed
		}
		specs = append(specs, name+"@"+v)
	}
	if len(specs) == 0 {
		return nil, &Error{Package: "package-lock.json", Reason: "the app has no dependencies to map (dev dependencies are left out)", Err: ErrFormat}
	}
	slices.Sort(specs)
	return m.make(ctx, base, specs, pins)
}

// pinned is choose for a lockfile: the version the lockfile installs
// where from's imports look (its scope, else the top), fetched if
// storage lacks it, and refused unless its npm integrity is the
// lockfile's.
func (t *trace) pinned(name string, from *node) (*node, error) {
	plan := t.pins.Plan
	version, scoped := "", false
	if from != nil {
		version, scoped = plan.Scopes[from.id()][name]
	}
	if !scoped {
		var ok bool
		if version, ok = plan.Top[name]; !ok {
			who := "the app"
			if from != nil {
				who = from.id()
			}
			return nil, &Error{Package: name, Reason: "the lockfile installs no " + name + " where " + who + " looks for it; run npm install", Err: importmap.ErrUnsupported}
		}
	}
	dependent := ""
	if from != nil {
		dependent = from.name
	}
	if _, err := t.m.resolve(t.ctx, name, version, dependent); err != nil {
		return nil, err
	}
	n, err := t.node(name, version)
	if err != nil {
		return nil, err
	}
	if want := t.pins.Integrity[n.id()]; want != "" && n.man.Provenance.Integrity != want {
		return nil, &Error{Package: n.id(), Err: importmap.ErrUnsupported,
			Reason: fmt.Sprintf("the lockfile says its integrity is %s, but storage holds %q: not the package the app was tested with", want, n.man.Provenance.Integrity)}
	}
	if scoped {
		if from.scope == nil {
			from.scope = map[string]*node{}
		}
		from.scope[name] = n
	} else {
		t.top[name] = n
	}
	return n, nil
}
