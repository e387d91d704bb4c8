package esm

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// loadPackage reads a real package.json (as the npm registry lists the
// version: npm view NAME@VERSION … --json) from testdata/packages.
func loadPackage(t *testing.T, file string) *Package {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "packages", file+".json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePackage(raw)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestExportRealPackages resolves subpaths of real packages from npm
// with the browser's conditions, as a bundler targeting browsers does.
func TestExportRealPackages(t *testing.T) {
	for _, tc := range []struct {
		pkg, subpath, want string
		dev                bool
	}{
		{"preact_10.24.3", ".", "dist/preact.module.js", false},
		{"preact_10.24.3", "./hooks", "hooks/dist/hooks.module.js", false},
		{"preact_10.24.3", "./compat/client", "compat/client.mjs", false},
		{"preact_10.24.3", "./package.json", "package.json", false},
		{"react_18.3.1", ".", "index.js", false},
		{"react_18.3.1", "./jsx-runtime", "jsx-runtime.js", false},
		{"react-dom_18.3.1", "./client", "client.js", false},
		{"three_0.170.0", ".", "build/three.module.js", false},
		{"three_0.170.0", "./examples/jsm/controls/OrbitControls.js", "examples/jsm/controls/OrbitControls.js", false},
		{"three_0.170.0", "./addons/loaders/GLTFLoader.js", "examples/jsm/loaders/GLTFLoader.js", false},
		{"three_0.170.0", "./addons", "examples/jsm/Addons.js", false},
		{"vue_3.5.13", ".", "dist/vue.runtime.esm-bundler.js", false},
		{"uuid_9.0.1", ".", "dist/esm-browser/index.js", false},
		{"axios_1.7.9", ".", "index.js", false},
		{"chalk_5.3.0", ".", "source/index.js", false},
		{"lodash-es_4.17.21", ".", "lodash.js", false},
		{"lodash-es_4.17.21", "./debounce.js", "debounce.js", false},
		{"floating-ui_dom_1.6.12", ".", "dist/floating-ui.dom.mjs", false},
		{"d3_7.9.0", ".", "src/index.js", false},
		{"lit_3.2.1", ".", "index.js", false},
		{"lit-html_3.2.1", ".", "lit-html.js", false},
		{"lit-html_3.2.1", ".", "development/lit-html.js", true},
		{"lit_3.2.1", "./decorators.js", "decorators.js", false},
		{"lit-html_3.2.1", "./directives/repeat.js", "directives/repeat.js", false},
	} {
		t.Run(tc.pkg+" "+tc.subpath, func(t *testing.T) {
			conds := BrowserConditions
			if tc.dev {
				conds = DevelopmentConditions
			}
			got, err := loadPackage(t, tc.pkg).Export(tc.subpath, conds)
			if err != nil || got.Path != tc.want {
				t.Errorf("%s %s: %+v %v, want %s", tc.pkg, tc.subpath, got, err, tc.want)
			}
		})
	}
}

// TestExportRefusals: what a package does not export, excludes, or
// points outside itself is an error naming the package and subpath.
func TestExportRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, pkg, subpath string
		want               error
		text               string
	}{
		{"not in the map", "preact_10.24.3", "./src/index.js", ErrNotExported, `preact: "./src/index.js"`},
		{"react's internals", "react_18.3.1", "./cjs/react.development.js", ErrNotExported, "react"},
		{"a bare subpath", "react_18.3.1", "jsx-runtime", nil, `must be "." or start with "./"`},
		{"only exports", "chalk_5.3.0", "./source/vendor/ansi-styles/index.js", ErrNotExported, "chalk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadPackage(t, tc.pkg).Export(tc.subpath, BrowserConditions)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("%s %s: %v", tc.pkg, tc.subpath, err)
			}
		})
	}
}

// TestExportRules: the exports rules Node documents, each on a
// package.json made for it, hostile ones included.
func TestExportRules(t *testing.T) {
	for _, tc := range []struct {
		name, pkg, subpath, want string
		err                      error
	}{
		{"a string", `{"name":"a","exports":"./a.js"}`, ".", "a.js", nil},
		{"a string, another subpath", `{"name":"a","exports":"./a.js"}`, "./b.js", "", ErrNotExported},
		{"conditions in the package's order", `{"name":"a","exports":{"default":"./d.js","browser":"./b.js"}}`, ".", "d.js", nil},
		{"nested conditions", `{"name":"a","exports":{".":{"node":{"import":"./n.mjs"},"browser":{"require":"./b.cjs","default":"./b.js"}}}}`, ".", "b.js", nil},
		{"nested, none matches, then the next key", `{"name":"a","exports":{".":{"import":{"node":"./n.mjs"},"default":"./d.js"}}}`, ".", "d.js", nil},
		{"no condition matches", `{"name":"a","exports":{".":{"node":"./n.js","require":"./r.js"}}}`, ".", "", ErrNotExported},
		{"a pattern", `{"name":"a","exports":{"./features/*.js":"./src/features/*.js"}}`, "./features/x/y.js", "src/features/x/y.js", nil},
		{"the longest prefix wins", `{"name":"a","exports":{"./*":"./any/*","./special/*":"./sp/*"}}`, "./special/x.js", "sp/x.js", nil},
		{"an exact key before a pattern", `{"name":"a","exports":{"./*":"./any/*","./x":"./exact.js"}}`, "./x", "exact.js", nil},
		{"null excludes", `{"name":"a","exports":{"./*":"./*","./internal/*":null}}`, "./internal/x.js", "", ErrNotExported},
		{"fallbacks: the first valid", `{"name":"a","exports":{".":["../bad.js","./good.js"]}}`, ".", "good.js", nil},
		{"a target outside", `{"name":"a","exports":{".":"./../../etc/passwd"}}`, ".", "", ErrInvalidTarget},
		{"a target without ./", `{"name":"a","exports":{".":"a.js"}}`, ".", "", ErrInvalidTarget},
		{"a pattern match that climbs", `{"name":"a","exports":{"./*":"./lib/*"}}`, "./../x.js", "", ErrInvalidTarget},
		{"into node_modules", `{"name":"a","exports":{"./*":"./*"}}`, "./node_modules/b/x.js", "", ErrInvalidTarget},
		{"mixed keys", `{"name":"a","exports":{".":"./a.js","import":"./b.js"}}`, ".", "", ErrInvalidTarget},
		{"no exports: module first", `{"name":"a","main":"./m.js","module":"./esm.js"}`, ".", "esm.js", nil},
		{"no exports: the browser string", `{"name":"a","main":"./m.js","browser":"./b.js"}`, ".", "b.js", nil},
		{"no exports: main", `{"name":"a","main":"lib/m.js"}`, ".", "lib/m.js", nil},
		{"no exports: index.js", `{"name":"a"}`, ".", "index.js", nil},
		{"no exports: any file", `{"name":"a"}`, "./lib/x.js", "lib/x.js", nil},
		{"browser remaps", `{"name":"a","main":"./node.js","browser":{"./node.js":"./browser.js"}}`, ".", "browser.js", nil},
		{"browser remaps without .js", `{"name":"a","main":"./lib/node.js","browser":{"./lib/node":"./lib/b.js"}}`, ".", "lib/b.js", nil},
		{"main outside", `{"name":"a","main":"../x.js"}`, ".", "", ErrInvalidTarget},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePackage([]byte(tc.pkg))
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Export(tc.subpath, BrowserConditions)
			if tc.err != nil {
				if !errors.Is(err, tc.err) || !strings.HasPrefix(err.Error(), "a: ") {
					t.Errorf("%s: %+v %v, want %v", tc.subpath, got, err, tc.err)
				}
				return
			}
			if err != nil || got.Path != tc.want {
				t.Errorf("%s: %+v %v, want %s", tc.subpath, got, err, tc.want)
			}
		})
	}
	p, _ := ParsePackage([]byte(`{"name":"a","main":"./m.js","browser":{"./m.js":false}}`))
	if got, err := p.Export(".", BrowserConditions); err != nil || !got.Dropped {
		t.Errorf("browser false: %+v %v", got, err)
	}
}

// TestImports: "#internal" specifiers, from chalk's real imports field
// and from rules made for them.
func TestImports(t *testing.T) {
	chalk := loadPackage(t, "chalk_5.3.0")
	for spec, want := range map[string]string{
		"#ansi-styles":    "source/vendor/ansi-styles/index.js",
		"#supports-color": "source/vendor/supports-color/browser.js",
	} {
		if got, err := chalk.Import(spec, BrowserConditions); err != nil || got.Path != want {
			t.Errorf("chalk %s: %+v %v, want %s", spec, got, err, want)
		}
	}
	p, _ := ParsePackage([]byte(`{"name":"a","imports":{"#dep":"other-pkg/sub","#int/*":"./src/*.js","#bad":"../x.js"}}`))
	if got, err := p.Import("#dep", BrowserConditions); err != nil || got.External != "other-pkg/sub" {
		t.Errorf("#dep: %+v %v", got, err)
	}
	if got, err := p.Import("#int/a", BrowserConditions); err != nil || got.Path != "src/a.js" {
		t.Errorf("#int/a: %+v %v", got, err)
	}
	for _, spec := range []string{"#bad", "#missing", "nohash", "#"} {
		if _, err := p.Import(spec, BrowserConditions); err == nil {
			t.Errorf("%s resolved", spec)
		}
	}
}

// TestSubpathsAndDependencies: the subpaths a real package exports by
// name, and the range it declares for a dependency.
func TestSubpathsAndDependencies(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"preact_10.24.3", []string{".", "./compat", "./debug", "./devtools", "./hooks", "./test-utils", "./jsx-runtime", "./jsx-dev-runtime", "./compat/client", "./compat/server", "./compat/jsx-runtime", "./compat/jsx-dev-runtime", "./compat/scheduler"}},
		{"uuid_9.0.1", []string{"."}},
		{"lodash-es_4.17.21", []string{"."}},
	} {
		p := loadPackage(t, tc.file)
		if got := p.Subpaths(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.file, got, tc.want)
		}
	}
	// react-dom 18.3.1's own fields.
	p, err := ParsePackage([]byte(`{"name":"react-dom","dependencies":{"loose-envify":"^1.1.0","scheduler":"^0.23.2"},"peerDependencies":{"react":"^18.3.1"}}`))
	if err != nil {
		t.Fatal(err)
	}
	for dep, want := range map[string]string{"scheduler": "^0.23.2", "react": "^18.3.1", "vue": ""} {
		if r, ok := p.DependencyRange(dep); r != want || ok != (want != "") {
			t.Errorf("react-dom's range for %s: %q %v, want %q", dep, r, ok, want)
		}
	}
}
