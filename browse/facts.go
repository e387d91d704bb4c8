package browse

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"

	"github.com/cdnserve/cdnserve/catalog"
	"github.com/cdnserve/cdnserve/layout"
)

// Facts are what an npm package's version page shows beyond its files:
// where it came from, and what its package.json says it exports and
// needs.
type Facts struct {
	Registry, Tarball, Integrity, License string
	// Exports maps each subpath of package.json's "exports" to its
	// targets, by condition; Main is "main"/"module" without exports.
	Exports []ExportRow
	// Dependencies are package.json's, with a link to each one's page
	// when this server has it.
	Dependencies []Dependency
}

// ExportRow is one subpath of an exports map.
type ExportRow struct {
	Subpath string
	Targets []ExportTarget
}

// ExportTarget is one condition's file, linked when the version has it.
type ExportTarget struct{ Condition, File, URL string }

// Dependency is one dependency and the range it asks for.
type Dependency struct{ Name, Range, URL, Kind string }

// PackageFacts gathers an npm package version's facts from its
// provenance and its package.json (pkg, the verified bytes; nil when it
// has none). known says whether this server has a library, to link it.
func PackageFacts(v *catalog.Version, pkg []byte, known func(string) bool) *Facts {
	prov := v.Manifest.Provenance
	if prov.Registry == "" {
		return nil
	}
	f := &Facts{Registry: prov.Registry, Tarball: prov.Tarball, Integrity: prov.Integrity, License: prov.License}
	var doc struct {
		Exports              json.RawMessage   `json:"exports"`
		Main                 string            `json:"main"`
		Module               string            `json:"module"`
		Browser              json.RawMessage   `json:"browser"`
		License              any               `json:"license"`
		Dependencies         map[string]string `json:"dependencies"`
		PeerDependencies     map[string]string `json:"peerDependencies"`
		OptionalDependencies map[string]string `json:"optionalDependencies"`
	}
	if pkg == nil || json.Unmarshal(pkg, &doc) != nil {
		return f
	}
	if f.License == "" {
		if s, ok := doc.License.(string); ok {
			f.License = s
		}
	}
	files := map[string]bool{}
	for _, mf := range v.Manifest.Files {
		files[mf.Path] = true
	}
	base := v.Lib.Prefix() + v.Name + "/"
	target := func(cond, file string) ExportTarget {
		t := ExportTarget{Condition: cond, File: file}
		if p := strings.TrimPrefix(file, "./"); files[p] {
			t.URL = base + escapePath(p) + "?view"
		}
		return t
	}
	f.Exports = exportRows(doc.Exports, target)
	if len(f.Exports) == 0 {
		row := ExportRow{Subpath: "."}
		if doc.Module != "" {
			row.Targets = append(row.Targets, target("module", doc.Module))
		}
		if doc.Main != "" {
			row.Targets = append(row.Targets, target("main", doc.Main))
		}
		if len(row.Targets) > 0 {
			f.Exports = []ExportRow{row}
		}
	}
	for kind, deps := range map[string]map[string]string{"": doc.Dependencies, "peer": doc.PeerDependencies, "optional": doc.OptionalDependencies} {
		for name, rng := range deps {
			d := Dependency{Name: name, Range: rng, Kind: kind}
			if layout.IsLibraryName(name) && known(name) {
				d.URL = "/" + name + "/"
			}
			f.Dependencies = append(f.Dependencies, d)
		}
	}
	sort.Slice(f.Dependencies, func(i, j int) bool {
		a, b := f.Dependencies[i], f.Dependencies[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Name < b.Name
	})
	return f
}

// exportRows flattens an exports map: a string is ".", an object of
// conditions is "." too, an object of subpaths is one row each; nested
// conditions are written "import/default".
func exportRows(raw json.RawMessage, target func(cond, file string) ExportTarget) []ExportRow {
	if len(raw) == 0 {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []ExportRow{{Subpath: ".", Targets: []ExportTarget{target("", s)}}}
	}
	keys, obj, ok := orderedObject(raw)
	if !ok {
		return nil
	}
	subpaths := false
	for _, k := range keys {
		subpaths = subpaths || strings.HasPrefix(k, ".")
	}
	if !subpaths {
		return []ExportRow{{Subpath: ".", Targets: conditions("", raw, target)}}
	}
	var rows []ExportRow
	for _, k := range keys {
		rows = append(rows, ExportRow{Subpath: k, Targets: conditions("", obj[k], target)})
	}
	return rows
}

// conditions lists the files of a target (a string, null, an array of
// fallbacks, or an object of conditions), each with its condition path.
func conditions(prefix string, raw json.RawMessage, target func(cond, file string) ExportTarget) []ExportTarget {
	if string(bytes.TrimSpace(raw)) == "null" {
		return []ExportTarget{{Condition: prefix, File: "(none)"}} // not exported
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []ExportTarget{target(prefix, s)}
	}
	var arr []json.RawMessage
	if json.Unmarshal(raw, &arr) == nil {
		var out []ExportTarget
		for _, a := range arr {
			out = append(out, conditions(prefix, a, target)...)
		}
		return out
	}
	keys, obj, ok := orderedObject(raw)
	if !ok {
		return nil
	}
	var out []ExportTarget
	for _, k := range keys {
		c := k
		if prefix != "" {
			c = prefix + "/" + k
		}
		out = append(out, conditions(c, obj[k], target)...)
	}
	return out
}

// orderedObject decodes a JSON object with its keys in their order,
// which is the order conditions are tried in; false when raw is not an
// object.
func orderedObject(raw json.RawMessage) ([]string, map[string]json.RawMessage, bool) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return nil, nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.Token() // {
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			break
		}
		k, _ := t.(string)
		keys = append(keys, k)
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			break
		}
	}
	return keys, obj, true
}
