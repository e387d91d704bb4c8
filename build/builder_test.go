package build

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/afero"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

const seedDir = "../testdata/seedlib"

func seedSrc() afero.Fs {
	return afero.NewReadOnlyFs(afero.NewBasePathFs(afero.NewOsFs(), filepath.Join(seedDir, "src")))
}

func loadManifest(t *testing.T, path string) *Manifest {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(filepath.Base(path), data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func buildSeed(t *testing.T, version string) *Result {
	t.Helper()
	res, err := Build(context.Background(), Options{Manifest: loadManifest(t, filepath.Join(seedDir, "cdnserve.yaml")), Src: seedSrc(), Version: version})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func artifact(t *testing.T, res *Result, name string) string {
	t.Helper()
	for _, a := range res.Artifacts {
		if a.Name == name {
			return string(a.Data)
		}
	}
	t.Fatalf("no artifact %q", name)
	return ""
}

func readSrc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(seedDir, "src", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestBuildSeedLayout checks the outputs a seed-shaped library gets: the
// names and order, the directories, and the exact bytes against golden
// files (rewrite them with go test ./build -update).
func TestBuildSeedLayout(t *testing.T) {
	res := buildSeed(t, "")
	if got := res.Dirs; !slices.Equal(got, []string{"2.2.3", "2.2"}) {
		t.Errorf("Dirs = %q, want [2.2.3 2.2]", got)
	}
	var names []string
	for _, a := range res.Artifacts {
		names = append(names, a.Name)
	}
	want := []string{"pusher.js", "pusher.min.js", "sockjs.js", "sockjs.min.js", "app.js", "app.min.js",
		"style.css", "style.min.css", "json2.js", "json2.min.js", "WebSocketMain.swf"}
	if !slices.Equal(names, want) {
		t.Fatalf("artifacts = %q\nwant        %q", names, want)
	}
	golden := filepath.Join("testdata", "golden", "seedlib")
	for _, a := range res.Artifacts {
		p := filepath.Join(golden, a.Name)
		if *update {
			if err := os.MkdirAll(golden, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, a.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		wantData, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (run go test ./build -update to create golden files)", err)
		}
		if string(wantData) != string(a.Data) {
			t.Errorf("%s differs from %s:\n got: %q\nwant: %q", a.Name, p, a.Data, wantData)
		}
	}
}

// TestBuildPlainByteLayout rebuilds pusher.js by hand from its sources, as
// JBundle laid it out: license + "\n", then each file + "\n", with the
// "all" and "src" substitutions.
func TestBuildPlainByteLayout(t *testing.T) {
	res := buildSeed(t, "")
	subst := strings.NewReplacer("<VERSION>", "2.2.3", "<CDN_HTTP>", "http://js.example.com/", "<CDN_HTTPS>", "https://js.example.com/", "<DEPENDENCY_SUFFIX>", "")
	license := subst.Replace(readSrc(t, "pusher-licence.js"))
	want := license + "\n"
	for _, f := range []string{"pusher.js", "utils.js", "connection.js"} {
		want += subst.Replace(readSrc(t, f)) + "\n"
	}
	if got := artifact(t, res, "pusher.js"); got != want {
		t.Errorf("pusher.js =\n%s\nwant\n%s", got, want)
	}
	min := artifact(t, res, "pusher.min.js")
	if !strings.HasPrefix(min, license+"\n(function(){") {
		t.Errorf("pusher.min.js does not start with the license, a newline and the code:\n%s", min)
	}
	if strings.Count(min, "\n") != strings.Count(license, "\n")+2 {
		t.Errorf("pusher.min.js is not license + one line of code:\n%s", min)
	}
	for _, name := range []string{"pusher.js", "pusher.min.js", "sockjs.js", "app.js", "app.min.js", "style.css", "json2.min.js"} {
		if strings.Contains(artifact(t, res, name), "<VERSION>") || strings.Contains(artifact(t, res, name), "<DEPENDENCY_SUFFIX>") {
			t.Errorf("%s still holds a token", name)
		}
	}
	if got, want := artifact(t, res, "WebSocketMain.swf"), readSrc(t, "web-socket-js/WebSocketMainInsecure.swf"); got != want {
		t.Errorf("WebSocketMain.swf = %q, want the source byte for byte %q (no substitution)", got, want)
	}
	if !strings.Contains(artifact(t, res, "style.css"), "/* version 2.2.3 */") || artifact(t, res, "style.min.css") != ".pusher-badge{color:red;padding:0 4px}.pusher-badge:hover{color:#00f}\n" {
		t.Errorf("style outputs wrong:\n%s\n%s", artifact(t, res, "style.css"), artifact(t, res, "style.min.css"))
	}
}

// TestBuildRunsInNode runs the built files in node, which is what a user
// ultimately sees: the dependency loader builds the self-hosted URLs with
// the right suffix, and the ES module bundle exposes its global.
func TestBuildRunsInNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("SKIPPED LOUDLY: node is not installed; the built JavaScript was not executed")
	}
	res := buildSeed(t, "2.2.4")
	tests := []struct {
		name, file, expr, want string
	}{
		{"plain loader", "pusher.js", `Pusher.Dependencies.getPath("sockjs", {encrypted: true})`, "https://js.example.com/2.2.4/sockjs.js"},
		{"min loader http", "pusher.min.js", `Pusher.Dependencies.getPath("sockjs", {encrypted: false})`, "http://js.example.com/2.2.4/sockjs.min.js"},
		{"min version", "pusher.min.js", `Pusher.VERSION + " " + new Pusher("key").connection.state`, "2.2.4 initialized"},
		{"entry bundle", "app.min.js", `App.hello("you")`, "hello, you from 2.2.4"},
		{"json2", "json2.min.js", `JSON2.stringify("x")`, `"x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			script := "var window=this;" + artifact(t, res, tc.file) + "\n;process.stdout.write(String(" + tc.expr + "));"
			out, err := exec.Command(node, "-e", script).CombinedOutput()
			if err != nil {
				t.Fatalf("node: %v\n%s", err, out)
			}
			if string(out) != tc.want {
				t.Errorf("%s = %q, want %q", tc.expr, out, tc.want)
			}
		})
	}
}

func TestBuildPrereleaseDirs(t *testing.T) {
	res := buildSeed(t, "2.3.0-rc.1")
	if !slices.Equal(res.Dirs, []string{"2.3.0-rc.1"}) {
		t.Errorf("Dirs = %q, want only the exact prerelease dir", res.Dirs)
	}
	if !strings.Contains(artifact(t, res, "pusher.js"), "v2.3.0-rc.1") {
		t.Error("license does not carry the overridden version")
	}
}

// project builds a manifest over sources held in memory.
func project(t *testing.T, manifest string, files map[string]string) (*Result, error) {
	t.Helper()
	m, err := Decode("cdnserve.yaml", []byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	fs := afero.NewMemMapFs()
	for name, body := range files {
		if err := afero.WriteFile(fs, name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return Build(context.Background(), Options{Manifest: m, Src: fs})
}

// TestBuildErrors pins where each failure is reported: the source file,
// line and column (1-based, as editors count), or the manifest line and
// field.
func TestBuildErrors(t *testing.T) {
	threeFiles := "version: 1.0.0\nsrc_dir: src\nbundles:\n  lib.js:\n    files: [a.js, b.js, c.js]\n"
	ok := "var a = 1;\nvar b = 2;\n"
	tests := []struct {
		name     string
		manifest string
		files    map[string]string
		want     string
	}{
		{"syntax error in second concatenated file", threeFiles,
			map[string]string{"a.js": ok, "b.js": "var x = 1;\n\nvar y = x +;\n", "c.js": ok},
			`bundles.lib.js: src/b.js:3:12: Unexpected ";"`},
		{"syntax error in last file", threeFiles,
			map[string]string{"a.js": ok, "b.js": ok, "c.js": "var y = ;"},
			`bundles.lib.js: src/c.js:1:9: Unexpected ";"`},
		{"newer syntax than es5", threeFiles,
			map[string]string{"a.js": ok, "b.js": ok, "c.js": "\n\n  const z = 1;\n"},
			`src/c.js:3:3: Transforming const to the configured target environment ("es5") is not supported yet` + "\n(to allow it, set bundles.lib.js.target to a newer target such as es2015 for this output alone, or raise the top-level target of cdnserve.yaml"},
		{"missing file names manifest line", threeFiles,
			map[string]string{"a.js": ok, "c.js": ok},
			`cdnserve.yaml:5: bundles.lib.js.files[1]: file "b.js" does not exist in src_dir "src"`},
		{"missing license", "version: 1.0.0\nbundles:\n  lib.js:\n    license: LICENSE\n    files: [a.js]\n",
			map[string]string{"a.js": ok},
			`cdnserve.yaml:4: bundles.lib.js.license: file "LICENSE" does not exist in src_dir "."`},
		{"missing plain file", "version: 1.0.0\nfiles:\n  - from: flash/x.swf\n    to: x.swf\n", nil,
			`cdnserve.yaml:3: files[0]: file "flash/x.swf" does not exist in src_dir "."`},
		{"missing entry", "version: 1.0.0\nbundles:\n  app.js:\n    entry: index.js\n", nil,
			`cdnserve.yaml:4: bundles.app.js.entry: file "index.js" does not exist in src_dir "."`},
		{"error in imported module", "version: 1.0.0\nbundles:\n  app.js:\n    entry: index.js\n",
			map[string]string{"index.js": "import {f} from './lib/f.js';\nf();\n", "lib/f.js": "export function f() {\n  return 1 +;\n}\n"},
			`bundles.app.js: lib/f.js:2:13: Unexpected ";"`},
		{"bare import", "version: 1.0.0\nbundles:\n  app.js:\n    entry: index.js\n",
			map[string]string{"index.js": "import _ from 'lodash';\n"},
			`index.js:1:15: cannot import "lodash": only relative imports of files under src_dir are supported`},
		{"import outside src", "version: 1.0.0\nbundles:\n  app.js:\n    entry: index.js\n",
			map[string]string{"index.js": "import x from '../secret.js';\n"},
			`index.js:1:15: cannot import "../secret.js": it is outside src_dir`},
		{"missing version", "bundles:\n  lib.js:\n    files: [a.js]\n", map[string]string{"a.js": ok},
			`cdnserve.yaml: version: is missing: set "version" in the manifest or pass --version`},
		{"metadata version", "version: 1.0.0+abc\nfiles: [a.js]\n", map[string]string{"a.js": ok},
			`cdnserve.yaml:1: version: invalid version "1.0.0+abc": build metadata (+abc) is not allowed`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := project(t, tc.manifest, tc.files)
			if err == nil {
				t.Fatalf("build succeeded, want error %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n  %s\nwant it to contain\n  %s", err, tc.want)
			}
		})
	}
}

func TestBuildSourceErrorIsTyped(t *testing.T) {
	_, err := project(t, "version: 1.0.0\nfiles: [a.js]\n", map[string]string{"a.js": "let x = 1;"})
	var se *SourceError
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not a *SourceError", err)
	}
	if se.File != "a.js" || se.Line != 1 || se.Column != 1 {
		t.Errorf("SourceError = %+v, want a.js:1:1", se)
	}
}

func TestBuildNewerTarget(t *testing.T) {
	res, err := project(t, "version: 1.0.0\ntarget: es2020\nfiles: [a.js]\n", map[string]string{"a.js": "const answer = () => 42;\n"})
	if err != nil {
		t.Fatal(err)
	}
	if got := artifact(t, res, "a.min.js"); got != "const answer=()=>42;\n" {
		t.Errorf("a.min.js = %q", got)
	}
}

// TestBuildSourcemap checks that the map sits beside the minified file, is
// linked from it, accounts for the license lines, and names real sources.
func TestBuildSourcemap(t *testing.T) {
	manifest := "version: 1.0.0\nsourcemap: true\nbundles:\n  lib.js:\n    license: LICENSE\n    files: [a.js, b.js]\n  app.js:\n    entry: index.js\n  s.css:\n    files: [s.css]\n"
	res, err := project(t, manifest, map[string]string{
		"LICENSE": "/*! line one\n * line two */", "a.js": "var a = 1;\n", "b.js": "var b = 2;\n",
		"index.js": "import {x} from './x.js';\nconsole.log(x);\n", "x.js": "export var x = 1;\n", "s.css": "a { color: red }\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	min := artifact(t, res, "lib.min.js")
	if !strings.HasSuffix(min, "\n//# sourceMappingURL=lib.min.js.map\n") {
		t.Errorf("lib.min.js does not link its map:\n%s", min)
	}
	var sm struct {
		Version  int      `json:"version"`
		Sources  []string `json:"sources"`
		Mappings string   `json:"mappings"`
	}
	if err := json.Unmarshal([]byte(artifact(t, res, "lib.min.js.map")), &sm); err != nil {
		t.Fatal(err)
	}
	// The license is two lines plus the "\n" after it: code starts on line 3.
	if sm.Version != 3 || !strings.HasPrefix(sm.Mappings, ";;") || strings.HasPrefix(sm.Mappings, ";;;") {
		t.Errorf("lib.min.js.map = %+v, want mappings shifted by exactly two lines", sm)
	}
	if err := json.Unmarshal([]byte(artifact(t, res, "app.min.js.map")), &sm); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sm.Sources, []string{"x.js", "index.js"}) {
		t.Errorf("app.min.js.map sources = %q, want the module paths", sm.Sources)
	}
	if !strings.HasSuffix(artifact(t, res, "app.min.js"), "//# sourceMappingURL=app.min.js.map\n") {
		t.Error("app.min.js does not link its map")
	}
	if !strings.HasSuffix(artifact(t, res, "s.min.css"), "/*# sourceMappingURL=s.min.css.map */\n") {
		t.Errorf("s.min.css does not link its map: %q", artifact(t, res, "s.min.css"))
	}
	for _, a := range res.Artifacts {
		if a.Name == "lib.js.map" || a.Name == "app.js.map" {
			t.Errorf("plain output %s got a map", a.Name)
		}
	}
}

func TestBuildCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Build(ctx, Options{Manifest: loadManifest(t, filepath.Join(seedDir, "cdnserve.yaml")), Src: seedSrc()})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestReport(t *testing.T) {
	res := buildSeed(t, "")
	var b strings.Builder
	if err := res.Report.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"output", "plain", "min", "gzip", "pusher.js", "WebSocketMain.swf", "built in "} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	row := res.Report.Rows[0]
	if row.Name != "pusher.js" || row.Plain != len(artifact(t, res, "pusher.js")) || row.Min != len(artifact(t, res, "pusher.min.js")) || row.Gzip <= 0 || row.Gzip >= row.Min {
		t.Errorf("pusher.js row = %+v", row)
	}
	swf := res.Report.Rows[len(res.Report.Rows)-1]
	if swf.Min != 0 || swf.Plain != len(artifact(t, res, "WebSocketMain.swf")) {
		t.Errorf("copied file row = %+v, want no min size", swf)
	}
}

// TestBuildMarksModules: an esm bundle's outputs are marked as ES
// modules (so pages get type="module" tags); iife bundles are not.
func TestBuildMarksModules(t *testing.T) {
	res, err := project(t, "version: 1.0.0\ntarget: es2020\nbundles:\n  mod.js:\n    entry: a.js\n    format: esm\n  classic.js:\n    entry: a.js\n",
		map[string]string{"a.js": "export const a = 1;\n"})
	if err != nil {
		t.Fatal(err)
	}
	marked := map[string]bool{}
	for _, a := range res.Artifacts {
		marked[a.Name] = a.Module
	}
	want := map[string]bool{"mod.js": true, "mod.min.js": true, "classic.js": false, "classic.min.js": false}
	for name, module := range want {
		if marked[name] != module {
			t.Errorf("%s: Module = %v, want %v (%v)", name, marked[name], module, marked)
		}
	}
}

// TestBuildVendoredCopyAndTargets: a files entry with copy: true goes out
// byte for byte (tokens left alone, no .min twin); a bundle or a file
// entry may set its own target; a bad one names its key.
func TestBuildVendoredCopyAndTargets(t *testing.T) {
	vendor := "/*! sockjs <VERSION> */\nconst x = 1; // vendored, es2015\n"
	res, err := project(t, "version: 1.2.3\nbundles:\n  lib.js:\n    files: [a.js]\n  modern.js:\n    files: [m.js]\n    target: es2015\n"+
		"files:\n  - from: sockjs.min.js\n    copy: true\n  - from: m2.js\n    target: es2020\n"+
		"substitutions:\n  all:\n    <VERSION>: \"{{version}}\"\n",
		map[string]string{"a.js": "var a = '<VERSION>';\n", "m.js": "const m = 1;\n", "m2.js": "let n = 2;\n", "sockjs.min.js": vendor})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range res.Artifacts {
		got[a.Name] = string(a.Data)
	}
	if got["sockjs.min.js"] != vendor {
		t.Errorf("the vendored file changed:\n%q", got["sockjs.min.js"])
	}
	if _, ok := got["sockjs.min.min.js"]; ok {
		t.Error("a copied file got a .min twin")
	}
	if !strings.Contains(got["lib.js"], "'1.2.3'") || !strings.Contains(got["modern.min.js"], "const") || !strings.Contains(got["m2.min.js"], "let") {
		t.Errorf("substitution or per-entry targets not applied: %q %q %q", got["lib.js"], got["modern.min.js"], got["m2.min.js"])
	}
	for _, tc := range []struct{ manifest, want string }{
		{"version: 1.0.0\nbundles:\n  a.js:\n    files: [a.js]\n    target: es1999\n", `cdnserve.yaml:5: bundles.a.js.target: unknown target "es1999"`},
		{"version: 1.0.0\nfiles:\n  - from: a.js\n    copy: yes-please\n", `files[0].copy: expected true or false`},
		{"version: 1.0.0\nfiles:\n  - from: a.js\n    copy: true\n    target: es2015\n", `files[0].target: a "copy" entry is sent as it is: it has no target`},
		{"version: 1.0.0\nfiles:\n  - from: c.js\n", "files[0]: c.js:1:1: Transforming const"},
		{"version: 1.0.0\nfiles:\n  - from: c.js\n", "set files[0].target to a newer target such as es2015"},
	} {
		t.Run(tc.manifest, func(t *testing.T) {
			m, err := Decode("cdnserve.yaml", []byte(tc.manifest))
			if err == nil {
				fs := afero.NewMemMapFs()
				afero.WriteFile(fs, "a.js", []byte("var a;\n"), 0o644)
				afero.WriteFile(fs, "c.js", []byte("const c = 1;\n"), 0o644)
				_, err = Build(context.Background(), Options{Manifest: m, Src: fs})
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%q: %v, want %q", tc.manifest, err, tc.want)
			}
		})
	}
}

// TestBuildPlainBundleNamesSources: a plain bundle's module comments
// name the source file, not the build's internal namespace (issue 29,
// polish: "// cdnserve-src:greet.js").
func TestBuildPlainBundleNamesSources(t *testing.T) {
	res, err := project(t, "version: 1.0.0\ntarget: es2020\nbundles:\n  mod.js:\n    entry: a.js\n    format: esm\n",
		map[string]string{"a.js": "import { greet } from './greet.js';\nexport const a = greet();\n", "greet.js": "export function greet() { return 'hi'; }\n"})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range res.Artifacts {
		if a.Name == "mod.js" {
			if s := string(a.Data); strings.Contains(s, "cdnserve-src") || !strings.Contains(s, "// greet.js\n") {
				t.Errorf("mod.js:\n%s", s)
			}
			return
		}
	}
	t.Fatal("no mod.js")
}
