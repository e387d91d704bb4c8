package build

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/spf13/afero"
)

func TestDecodeSeedManifest(t *testing.T) {
	data, err := os.ReadFile("../testdata/seedlib/cdnserve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode("cdnserve.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != "2.2.3" || m.SrcDir != "src" || m.TargetDir != "dist" || m.Target != "es5" || m.Sourcemap {
		t.Errorf("top-level fields = %+v", m)
	}
	var names []string
	for _, b := range m.Bundles {
		names = append(names, b.Name)
	}
	if got := strings.Join(names, ","); got != "pusher.js,sockjs.js,app.js,style.css" {
		t.Errorf("bundle order = %s, want manifest order", got)
	}
	pusher := m.Bundles[0]
	if pusher.License != "pusher-licence.js" || strings.Join(pusher.Files, ",") != "pusher.js,utils.js,connection.js" {
		t.Errorf("pusher bundle = %+v", pusher)
	}
	if app := m.Bundles[2]; app.Entry != "modern/index.js" || app.Format != "iife" || app.GlobalName != "App" {
		t.Errorf("app bundle = %+v", app)
	}
	wantFiles := []File{{From: "json2.js", To: "json2.js"}, {From: "web-socket-js/WebSocketMainInsecure.swf", To: "WebSocketMain.swf"}}
	if len(m.Files) != 2 || m.Files[0] != wantFiles[0] || m.Files[1] != wantFiles[1] {
		t.Errorf("files = %+v, want %+v", m.Files, wantFiles)
	}
	s := m.Substitutions
	if len(s.All) != 3 || s.All[0] != (Substitution{"<VERSION>", "{{version}}"}) ||
		s.Src[0] != (Substitution{"<DEPENDENCY_SUFFIX>", ""}) || s.Min[0] != (Substitution{"<DEPENDENCY_SUFFIX>", ".min"}) {
		t.Errorf("substitutions = %+v", s)
	}
}

func TestDecodeDefaults(t *testing.T) {
	m, err := Decode("m.yaml", []byte("files: [a.js]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.SrcDir != "." || m.TargetDir != "dist" || m.Target != "es5" || m.Sourcemap || m.Version != "" {
		t.Errorf("defaults = src_dir %q target_dir %q target %q sourcemap %v version %q", m.SrcDir, m.TargetDir, m.Target, m.Sourcemap, m.Version)
	}
}

// TestDecodeErrors pins the message for each kind of bad manifest: the
// file, the line and the field, and the value that was wrong.
func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown top key", "version: 1.0.0\nsrcdir: src\nfiles: [a.js]\n",
			`m.yaml:2: unknown key "srcdir" (known keys: name, version, src_dir, target_dir, target, sourcemap, bundles, files, substitutions)`},
		{"npm file with a range", "files:\n  - from: npm:sockjs-client@^1.6.0/dist/sockjs.min.js\n", `m.yaml:2: files[0].from: "npm:sockjs-client@^1.6.0/dist/sockjs.min.js": a build takes an exact version, not "^1.6.0", so that it builds the same bytes tomorrow; pin one, such as npm:sockjs-client@1.2.3/dist/sockjs.min.js`},
		{"npm file without a file", "files:\n  - from: npm:sockjs-client@1.6.1\n", `names a package but no file in it`},
		{"npm file with a target", "files:\n  - from: npm:a-b@1.0.0/x.js\n    target: es2015\n", `files[0].target: a file from npm is copied as it is: it has no target`},
		{"npm file with a bad name", "files:\n  - from: npm:Sock@1.0.0/x.js\n", `package name "Sock" has the capital`},
		{"library name with a capital", "name: Pusher\nfiles: [a.js]\n", `m.yaml:1: name: library name "Pusher" has the capital 'P'; names are lowercase`},
		{"library name like a version", "version: 1.0.0\nname: 2fast\nfiles: [a.js]\n", `m.yaml:2: name: library name "2fast" starts like a version`},
		{"library name reserved", "name: latest\nfiles: [a.js]\n", `m.yaml:1: name: library name "latest" is reserved`},
		{"library name empty", "name: ''\nfiles: [a.js]\n", `m.yaml:1: name: library name "" is empty`},
		{"unknown bundle key", "bundles:\n  a.js:\n    files: [a.js]\n    minify: true\n",
			`m.yaml:4: bundles.a.js: unknown key "minify" (known keys: license, files, entry, format, global_name, target)`},
		{"duplicate key", "files: [a.js]\nfiles: [b.js]\n", `m.yaml:2: files: duplicate key "files"`},
		{"duplicate bundle", "bundles:\n  a.js: {files: [a.js]}\n  a.js: {files: [b.js]}\n", `m.yaml:3: bundles.a.js: duplicate key "a.js"`},
		{"files not a list", "files: a.js\n", `m.yaml:1: files: expected a list, got str "a.js"`},
		{"bundle files not a list", "bundles:\n  a.js:\n    files: a.js\n", `m.yaml:3: bundles.a.js.files: expected a list of file names, got str "a.js"`},
		{"number in files", "bundles:\n  a.js:\n    files: [a.js, 12]\n", `m.yaml:3: bundles.a.js.files[1]: expected a string, got int "12"`},
		{"sourcemap not bool", "sourcemap: yes please\nfiles: [a.js]\n", `m.yaml:1: sourcemap: expected true or false, got str "yes please"`},
		{"src_dir list", "src_dir: [a]\nfiles: [a.js]\n", `m.yaml:1: src_dir: expected a string, got a list`},
		{"files and entry", "bundles:\n  a.js:\n    files: [a.js]\n    entry: a.js\n", `m.yaml:2: bundles.a.js: set either "files" or "entry", not both`},
		{"neither files nor entry", "bundles:\n  a.js:\n    license: l.txt\n", `m.yaml:2: bundles.a.js: needs "files" (concatenated) or "entry"`},
		{"bad bundle extension", "bundles:\n  a.txt:\n    files: [a.js]\n", `m.yaml:2: bundles.a.txt: output name "a.txt" must end in .js, .mjs or .css`},
		{"bad target", "target: es3\nfiles: [a.js]\n", `m.yaml:1: target: unknown target "es3" (one of es2015,`},
		{"bad format", "bundles:\n  a.js:\n    entry: a.js\n    format: umd\n", `m.yaml:4: bundles.a.js.format: unknown format "umd" (one of iife, esm, cjs)`},
		{"global_name with esm", "bundles:\n  a.js:\n    entry: a.js\n    format: esm\n    global_name: A\n", `m.yaml:5: bundles.a.js.global_name: applies only to format iife, not "esm"`},
		{"format without entry", "bundles:\n  a.js:\n    files: [a.js]\n    format: esm\n", `m.yaml:2: bundles.a.js: "format" and "global_name" apply only to an "entry" bundle`},
		{"traversal in files", "bundles:\n  a.js:\n    files: [../../etc/passwd]\n", `m.yaml:3: bundles.a.js.files[0]: "../../etc/passwd": must be a clean path`},
		{"absolute from", "files:\n  - from: /etc/passwd\n    to: p.txt\n", `m.yaml:2: files[0]: from "/etc/passwd": must be relative`},
		{"traversal to", "files:\n  - from: a.swf\n    to: ../a.swf\n", `m.yaml:2: files[0]: to "../a.swf": must be a clean path`},
		{"backslash", "files: ['a\\b.js']\n", `m.yaml:1: files[0]: from "a\\b.js": must use forward slashes`},
		{"file entry without from", "files:\n  - to: a.swf\n", `m.yaml:2: files[0]: a file entry needs "from"`},
		{"output collision", "bundles:\n  a.js: {files: [x.js]}\nfiles: [a.js]\n", `m.yaml:3: files[0]: output "a.js" is already written by bundles.a.js`},
		{"min collision", "bundles:\n  a.js: {files: [x.js]}\nfiles: [a.min.js]\n", `m.yaml:3: files[0]: output "a.min.js" is already written by bundles.a.js`},
		{"null substitution", "files: [a.js]\nsubstitutions:\n  all:\n    <X>:\n", `m.yaml:4: substitutions.all.<X>: expected a string value (write "" for an empty one), got nothing`},
		{"unknown substitution set", "files: [a.js]\nsubstitutions:\n  dev:\n    <X>: a\n", `m.yaml:3: substitutions: unknown key "dev" (known keys: all, src, min)`},
		{"nothing to build", "version: 1.0.0\n", `m.yaml: nothing to build: declare "bundles" or "files"`},
		{"empty", "", `m.yaml: manifest is empty`},
		{"not a mapping", "- a\n- b\n", `m.yaml:1: expected a mapping, got a list`},
		{"bad yaml", "bundles:\n  a.js: [\n", `m.yaml:2: not valid YAML: yaml: line 2: did not find expected node content`},
		{"huge", strings.Repeat("#", MaxManifestSize+1), `larger than the 1048576 byte limit`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode("m.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("Decode succeeded, want error %q", tc.want)
			}
			var me *ManifestError
			if !errors.As(err, &me) {
				t.Errorf("error %T is not a *ManifestError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n  %s\nwant it to contain\n  %s", err, tc.want)
			}
		})
	}
}

func TestMinName(t *testing.T) {
	for in, want := range map[string]string{"pusher.js": "pusher.min.js", "style.css": "style.min.css", "a/b.mjs": "a/b.min.mjs", "x.y.js": "x.y.min.js"} {
		if got := MinName(in); got != want {
			t.Errorf("MinName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDecodeNPMFiles: a files entry from npm is an exact version's file,
// copied as it is, to "to" or to the package's own path.
func TestDecodeNPMFiles(t *testing.T) {
	m, err := Decode("m.yaml", []byte("files:\n  - from: npm:sockjs-client@1.6.1/dist/sockjs.min.js\n    to: sockjs.min.js\n  - from: npm:@corp/ui@2.0.0/dist/ui.css\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, b := m.Files[0], m.Files[1]
	if a.NPM == nil || a.NPM.Name != "sockjs-client" || a.NPM.Range != "1.6.1" || a.NPM.Path != "dist/sockjs.min.js" || a.To != "sockjs.min.js" || !a.Copy {
		t.Errorf("first: %+v %+v", a, a.NPM)
	}
	if b.NPM == nil || b.NPM.Name != "@corp/ui" || b.To != "dist/ui.css" || !b.Copy {
		t.Errorf("second: %+v", b)
	}
	// Without an npm client, the build says what it lacks.
	_, err = Build(context.Background(), Options{Manifest: m, Src: afero.NewMemMapFs(), Version: "1.0.0"})
	if err == nil || !strings.Contains(err.Error(), "m.yaml:2: files[0].from: npm:sockjs-client@1.6.1/dist/sockjs.min.js comes from npm, and this build has no npm client") {
		t.Errorf("no client: %v", err)
	}
}
