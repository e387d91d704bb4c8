package esm

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"
)

// Lockfile is what an app's package-lock.json (lockfileVersion 2 or
// 3) pins: every package of its tree, with its exact version and
// integrity (issue 26, part 4's input).
type Lockfile struct {
	// Name is the app's name ("" when it has none).
	Name string
	// Requires are the app's own dependencies, by name: its ranges.
	Requires map[string]string
	// Packages are the locked packages, in the file's order.
	Packages []Locked
	// Skipped are the entries left out, and why: workspace links,
	// packages not from a registry.
	Skipped []layout.Skipped
}

// Locked is one package of a lockfile.
type Locked struct {
	// Path is its place in node_modules ("node_modules/a/node_modules/b").
	Path string
	// Name and Version are what the lockfile pins; Integrity is npm's
	// SRI string, with a sha512.
	Name, Version, Integrity string
	// Dev and Optional say what kind of dependency it is.
	Dev, Optional bool
	// Dependencies are its own ranges, by name (optional ones included).
	Dependencies map[string]string
}

// ParseLockfile reads a package-lock.json. Nothing it names is trusted:
// every name must be one cdnserve can host as a library, every version
// semver, every integrity a sha512; an error names the file, the entry
// and the field, and says what to do.
func ParseLockfile(raw []byte, file string) (*Lockfile, error) {
	var doc struct {
		Name            string                     `json:"name"`
		LockfileVersion int                        `json:"lockfileVersion"`
		Packages        map[string]json.RawMessage `json:"packages"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: not a package-lock.json: %w", file, err)
	}
	if doc.LockfileVersion < 2 || doc.Packages == nil {
		return nil, fmt.Errorf("%s: lockfileVersion %d has no \"packages\": write a version 2 or 3 lockfile with npm 7 or later (npm install --package-lock-only)", file, doc.LockfileVersion)
	}
	keys, _ := orderedObject(mustObject(raw, "packages"))
	out := &Lockfile{Name: doc.Name}
	for _, kv := range keys {
		var e struct {
			Name                 string            `json:"name"`
			Version              string            `json:"version"`
			Integrity            string            `json:"integrity"`
			Resolved             string            `json:"resolved"`
			Link                 bool              `json:"link"`
			Dev                  bool              `json:"dev"`
			Optional             bool              `json:"optional"`
			Dependencies         map[string]string `json:"dependencies"`
			OptionalDependencies map[string]string `json:"optionalDependencies"`
			PeerDependencies     map[string]string `json:"peerDependencies"`
		}
		if err := json.Unmarshal(kv.value, &e); err != nil {
			return nil, fmt.Errorf("%s: packages[%q]: %w", file, kv.key, err)
		}
		if kv.key == "" {
			out.Requires = e.Dependencies
			continue
		}
		if e.Link {
			out.Skipped = append(out.Skipped, layout.Skipped{Path: kv.key, Why: "a workspace link, not a registry package"})
			continue
		}
		if e.Resolved != "" && !strings.HasPrefix(e.Resolved, "https://") && !strings.HasPrefix(e.Resolved, "http://") {
			out.Skipped = append(out.Skipped, layout.Skipped{Path: kv.key, Why: "not from a registry: " + e.Resolved})
			continue
		}
		l, err := lockedEntry(kv.key, e.Name, e.Version, e.Integrity)
		if err != nil {
			return nil, fmt.Errorf("%s: packages[%q]: %w", file, kv.key, err)
		}
		l.Dev, l.Optional = e.Dev, e.Optional
		l.Dependencies = map[string]string{}
		for _, deps := range []map[string]string{e.Dependencies, e.OptionalDependencies, e.PeerDependencies} {
			for n, r := range deps {
				if _, ok := l.Dependencies[n]; !ok {
					l.Dependencies[n] = r
				}
			}
		}
		out.Packages = append(out.Packages, l)
	}
	return out, nil
}

// lockedEntry checks one entry: its name (from the name field, or the
// last node_modules/ segment of its key), version and integrity.
func lockedEntry(key, name, version, integrity string) (Locked, error) {
	i := strings.LastIndex(key, "node_modules/")
	if i < 0 {
		return Locked{}, fmt.Errorf("not below node_modules/: a workspace or a path cdnserve does not serve")
	}
	if name == "" {
		name = key[i+len("node_modules/"):]
	}
	if err := layout.CheckLibraryName(name); err != nil || name == "" {
		return Locked{}, fmt.Errorf("name %q: not a package name cdnserve can host", name)
	}
	if _, err := versioning.Parse(version); err != nil {
		return Locked{}, fmt.Errorf("version %q: %w", version, err)
	}
	if !slices.ContainsFunc(strings.Fields(integrity), func(f string) bool { return strings.HasPrefix(f, "sha512-") }) {
		return Locked{}, fmt.Errorf("integrity %q: no sha512, so the tarball could not be verified; run npm install again to record one", integrity)
	}
	return Locked{Path: key, Name: name, Version: version, Integrity: integrity}, nil
}

// mustObject is the raw value of one member of a JSON object, or nil.
func mustObject(raw []byte, member string) json.RawMessage {
	obj, _ := orderedObject(raw)
	for _, kv := range obj {
		if kv.key == member {
			return kv.value
		}
	}
	return nil
}
