// Package esm is cdnserve's model of npm packages as ES modules in a
// browser: which file a specifier names, as Node and bundlers resolve
// it (issue 26, part 1). It reads a package.json's exports, imports,
// module, browser and main fields, with the browser's conditions, and
// answers package-relative paths, never a path outside the package; and
// it reads an app's package-lock.json, checking every name, version and
// integrity it pins before any of it becomes a request or a path.
//
// These are the first parts of issue 26 only: the server does not use
// them yet.
package esm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Package is what resolution reads of a package.json.
type Package struct {
	Name    string          `json:"name"`
	Version string          `json:"version"`
	Type    string          `json:"type"`
	Main    string          `json:"main"`
	Module  string          `json:"module"`
	Browser json.RawMessage `json:"browser"`
	Exports json.RawMessage `json:"exports"`
	Imports json.RawMessage `json:"imports"`
	// Dependencies, PeerDependencies and OptionalDependencies are what
	// a bare specifier of the package's modules resolves against.
	Dependencies         map[string]string `json:"dependencies"`
	PeerDependencies     map[string]string `json:"peerDependencies"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
}

// DependencyRange is the range the package declares for another
// package: in dependencies, then optionalDependencies, then
// peerDependencies; false when it declares none.
func (p *Package) DependencyRange(name string) (string, bool) {
	for _, m := range []map[string]string{p.Dependencies, p.OptionalDependencies, p.PeerDependencies} {
		if r, ok := m[name]; ok {
			return r, true
		}
	}
	return "", false
}

// Subpaths lists the subpaths the package exports by name, in its
// order: "." first when it has one, then "./hooks" and the like; not
// patterns ("./addons/*"), JSON files ("./package.json"), nor subpaths excluded with
// null. A package without exports has ".".
func (p *Package) Subpaths() []string {
	obj, ok := orderedObject(p.Exports)
	if !ok || len(obj) == 0 || !strings.HasPrefix(obj[0].key, ".") {
		return []string{"."}
	}
	var out []string
	for _, kv := range obj {
		if strings.Contains(kv.key, "*") || strings.HasSuffix(kv.key, ".json") || strings.HasSuffix(kv.key, "/") || isNull(kv.value) {
			continue
		}
		out = append(out, kv.key)
	}
	return out
}

// ParsePackage reads a package.json.
func ParsePackage(raw []byte) (*Package, error) {
	var p Package
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("package.json: %w", err)
	}
	return &p, nil
}

// BrowserConditions are the conditions a browser build matches, in
// order of preference (issue 26): browser, import, module, default, and
// production (Development swaps in development).
var BrowserConditions = []string{"browser", "import", "module", "production", "default"}

// DevelopmentConditions are BrowserConditions for a development build.
var DevelopmentConditions = []string{"browser", "import", "module", "development", "default"}

// ErrNotExported is a subpath the package's exports do not export, or
// exclude with null.
var ErrNotExported = errors.New("not exported by the package")

// ErrInvalidTarget is an exports or imports target that is not a
// package-relative path ("./…" staying inside the package).
var ErrInvalidTarget = errors.New("invalid target in package.json")

// Resolved is what a specifier resolves to: a file of the package
// (Path, package-relative, without "./"), or, for an imports entry
// that names another package, that bare specifier (External). Empty
// when the browser field drops the file (Dropped).
type Resolved struct {
	Path     string
	External string
	Dropped  bool
}

// Export resolves a subpath of the package ("." for the package
// itself, "./hooks") for conditions, as Node's PACKAGE_EXPORTS_RESOLVE
// does, and falls back, when the package has no exports, to module,
// the browser field, main and index.js for "." and to the file itself
// for another subpath. The browser field's object form then remaps or
// drops the file.
func (p *Package) Export(subpath string, conditions []string) (Resolved, error) {
	if subpath != "." && !strings.HasPrefix(subpath, "./") {
		return Resolved{}, fmt.Errorf("%s: subpath %q must be \".\" or start with \"./\"", p.Name, subpath)
	}
	var file string
	if len(p.Exports) > 0 && !isNull(p.Exports) {
		target, err := p.exportsTarget(subpath, conditions)
		if err != nil {
			return Resolved{}, p.noCondition(err, subpath, conditions)
		}
		file = target
	} else if subpath == "." {
		file = p.legacyEntry()
	} else {
		file = subpath
	}
	clean, err := insidePackage(file)
	if err != nil {
		return Resolved{}, fmt.Errorf("%s: %q: %w", p.Name, subpath, err)
	}
	return p.browserMap(clean), nil
}

// legacyEntry is the entry of a package without exports, for a browser:
// module, then the browser field when it is a string, then main, then
// index.js.
func (p *Package) legacyEntry() string {
	var browser string
	json.Unmarshal(p.Browser, &browser)
	for _, e := range []string{p.Module, browser, p.Main} {
		if e != "" {
			return e
		}
	}
	return "index.js"
}

// browserMap applies the browser field's object form to a file: a
// remapped file, or Dropped for false.
func (p *Package) browserMap(file string) Resolved {
	m, ok := orderedObject(p.Browser)
	if !ok {
		return Resolved{Path: file}
	}
	for _, kv := range m {
		key, err := insidePackage(kv.key)
		if err != nil || (key != file && key+".js" != file) {
			continue
		}
		if string(kv.value) == "false" {
			return Resolved{Dropped: true}
		}
		var to string
		if json.Unmarshal(kv.value, &to) == nil {
			if clean, err := insidePackage(to); err == nil {
				return Resolved{Path: clean}
			}
		}
	}
	return Resolved{Path: file}
}

// exportsTarget finds the target of a subpath in the exports field.
func (p *Package) exportsTarget(subpath string, conditions []string) (string, error) {
	exports := p.Exports
	if obj, ok := orderedObject(exports); ok {
		subpaths, conds := 0, 0
		for _, kv := range obj {
			if strings.HasPrefix(kv.key, ".") {
				subpaths++
			} else {
				conds++
			}
		}
		if subpaths > 0 && conds > 0 {
			return "", fmt.Errorf("%s: exports mixes subpaths and conditions: %w", p.Name, ErrInvalidTarget)
		}
		if subpaths > 0 {
			return p.matchMap(obj, subpath, conditions, "exports")
		}
	}
	if subpath != "." {
		return "", fmt.Errorf("%s: %q: %w", p.Name, subpath, ErrNotExported)
	}
	return p.target(exports, "", conditions, subpath)
}

// Import resolves an imports specifier ("#internal") for conditions:
// a file of the package, or another package's bare specifier.
func (p *Package) Import(specifier string, conditions []string) (Resolved, error) {
	if !strings.HasPrefix(specifier, "#") || specifier == "#" || strings.HasPrefix(specifier, "#/") {
		return Resolved{}, fmt.Errorf("%s: %q is no imports specifier (#name)", p.Name, specifier)
	}
	obj, ok := orderedObject(p.Imports)
	if !ok {
		return Resolved{}, fmt.Errorf("%s: %q: the package has no imports field: %w", p.Name, specifier, ErrNotExported)
	}
	target, err := p.matchMap(obj, specifier, conditions, "imports")
	if err != nil {
		return Resolved{}, p.noCondition(err, specifier, conditions)
	}
	if !strings.HasPrefix(target, "./") {
		return Resolved{External: target}, nil
	}
	clean, err := insidePackage(target)
	if err != nil {
		return Resolved{}, fmt.Errorf("%s: %q: %w", p.Name, specifier, err)
	}
	return p.browserMap(clean), nil
}

// matchMap finds a key in a subpath map: the exact key, else the
// pattern ("./*", "./features/*.js") with the longest prefix before its
// "*" (Node's PATTERN_KEY_COMPARE), whose "*" is substituted in the
// target.
func (p *Package) matchMap(obj []keyValue, key string, conditions []string, field string) (string, error) {
	for _, kv := range obj {
		if kv.key == key && !strings.Contains(key, "*") {
			return p.target(kv.value, "", conditions, key)
		}
	}
	best, bestMatch := -1, ""
	for i, kv := range obj {
		prefix, suffix, ok := strings.Cut(kv.key, "*")
		if !ok || strings.Contains(suffix, "*") {
			continue
		}
		if !strings.HasPrefix(key, prefix) || !strings.HasSuffix(key, suffix) || len(key) < len(kv.key) {
			continue
		}
		if best < 0 || patternKeyCompare(kv.key, obj[best].key) < 0 {
			best, bestMatch = i, key[len(prefix):len(key)-len(suffix)]
		}
	}
	if best < 0 {
		return "", fmt.Errorf("%s: %q: %w (see its %s field)", p.Name, key, ErrNotExported, field)
	}
	return p.target(obj[best].value, bestMatch, conditions, key)
}

// patternKeyCompare orders pattern keys as Node does: the longer prefix
// before "*" first, then the longer key.
func patternKeyCompare(a, b string) int {
	ai, bi := strings.Index(a, "*"), strings.Index(b, "*")
	if ai != bi {
		return bi - ai
	}
	return len(b) - len(a)
}

// target resolves one target: a string (with "*" replaced by match), an
// array (the first that resolves), an object of conditions (the first
// key, in the package's order, that is one of conditions), or null
// (excluded).
func (p *Package) target(raw json.RawMessage, match string, conditions []string, key string) (string, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case isNull(raw):
		return "", fmt.Errorf("%s: %q: %w (excluded with null)", p.Name, key, ErrNotExported)
	case len(raw) > 0 && raw[0] == '"':
		var s string
		json.Unmarshal(raw, &s)
		s = strings.ReplaceAll(s, "*", match)
		if strings.HasPrefix(s, "./") {
			if _, err := insidePackage(s); err != nil {
				return "", fmt.Errorf("%s: %q: %w", p.Name, key, err)
			}
			if strings.Contains(match, "..") || strings.Contains(match, "node_modules") {
				return "", fmt.Errorf("%s: %q: %w: the pattern's match %q leaves the package", p.Name, key, ErrInvalidTarget, match)
			}
			return s, nil
		}
		if strings.HasPrefix(key, "#") && !strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "../") && s != "" {
			return s, nil // an imports target may be another package
		}
		return "", fmt.Errorf("%s: %q: %w: %q does not start with \"./\"", p.Name, key, ErrInvalidTarget, s)
	case len(raw) > 0 && raw[0] == '[':
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return "", fmt.Errorf("%s: %q: %w", p.Name, key, ErrInvalidTarget)
		}
		var last error = fmt.Errorf("%s: %q: %w (an empty list)", p.Name, key, ErrNotExported)
		for _, t := range list { // the first that resolves, as Node's fallbacks
			s, err := p.target(t, match, conditions, key)
			if err == nil {
				return s, nil
			}
			last = err
		}
		return "", last
	case len(raw) > 0 && raw[0] == '{':
		obj, _ := orderedObject(raw)
		for _, kv := range obj {
			if kv.key != "default" && !slices.Contains(conditions, kv.key) {
				continue
			}
			s, err := p.target(kv.value, match, conditions, key)
			if errors.Is(err, errNoCondition) {
				continue // a nested object none of whose conditions match: try the next key
			}
			return s, err
		}
		return "", errNoCondition
	}
	return "", fmt.Errorf("%s: %q: %w", p.Name, key, ErrInvalidTarget)
}

// noCondition names the package, the key and the conditions of an
// errNoCondition.
func (p *Package) noCondition(err error, key string, conditions []string) error {
	if err == errNoCondition {
		return fmt.Errorf("%s: %q: no condition of %s matches: %w", p.Name, key, strings.Join(conditions, ", "), ErrNotExported)
	}
	return err
}

// errNoCondition is a conditions object with no key that matches; at
// the top it means the subpath is not exported for these conditions.
var errNoCondition = fmt.Errorf("no condition matches: %w", ErrNotExported)

// insidePackage turns a package-relative target ("./dist/a.js",
// "dist/a.js") into a clean path inside the package, or refuses it.
func insidePackage(target string) (string, error) {
	t := strings.TrimPrefix(target, "./")
	clean := path.Clean(t)
	if t == "" || path.IsAbs(t) || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains("/"+t+"/", "/node_modules/") || strings.ContainsAny(t, "\\\x00") {
		return "", fmt.Errorf("%w: %q leaves the package", ErrInvalidTarget, target)
	}
	return clean, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// keyValue is one member of a JSON object, in the document's order:
// conditions are tried in the order the package lists them.
type keyValue struct {
	key   string
	value json.RawMessage
}

// orderedObject reads a JSON object's members in order; false when raw
// is not an object.
func orderedObject(raw json.RawMessage) ([]keyValue, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, false
	}
	var out []keyValue
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		out = append(out, keyValue{key, v})
	}
	return out, true
}
