package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/storage/s3test"
)

// TestLibrariesFromTheCommandLine builds two named libraries from their
// own manifests (init NAME writes name: NAME) and publishes a third with
// publish --name, all into one shared dist root beside the root library;
// verify reports each library, and serve serves them all.
func TestLibrariesFromTheCommandLine(t *testing.T) {
	t.Parallel()
	root := seedProject(t) // the root library: the seed, at 2.2.3
	dist := filepath.Join(root, "dist")
	if code, _, errOut := cli(t, root, "build", "--quiet"); code != 0 {
		t.Fatal(errOut)
	}
	for _, name := range []string{"widgets", "@corp/ui"} {
		dir := t.TempDir()
		if code, _, errOut := cli(t, dir, "init", name); code != 0 {
			t.Fatalf("init %s: %s", name, errOut)
		}
		code, out, errOut := cli(t, dir, "build", "--storage", dist)
		if code != 0 {
			t.Fatalf("build %s: %s", name, errOut)
		}
		if want := "integrity manifest -> " + filepath.Join(dist, name, "0.1.0") + "/\n"; !strings.Contains(out, want) {
			t.Errorf("build %s output lacks %q:\n%s", name, want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dist, "@corp/ui/0.1.0/ui.min.js")); err != nil {
		t.Errorf("scoped library: %v", err)
	}
	out := t.TempDir()
	os.WriteFile(filepath.Join(out, "chart.js"), []byte("var chart = 1;\n"), 0o644)
	code, stdout, errOut := cli(t, root, "publish", out, "--version", "3.1.0", "--name", "chart")
	if code != 0 || !strings.Contains(stdout, "integrity manifest -> dist/chart/3.1.0/") {
		t.Fatalf("publish --name: %d %s %s", code, stdout, errOut)
	}
	if code, _, errOut := cli(t, root, "publish", out, "--version", "3.1.0", "--name", "Chart"); code != 1 || !strings.Contains(errOut, `--name: library name "Chart" has the capital 'C'; names are lowercase`) {
		t.Errorf("publish --name Chart: %d %s", code, errOut)
	}

	code, stdout, errOut = cli(t, root, "verify")
	if code != 0 {
		t.Fatalf("verify: %d %s %s", code, stdout, errOut)
	}
	for _, want := range []string{
		"root library: 1 version, 1 alias, 56 files: OK\n",
		"@corp/ui: 1 version, 1 alias, 8 files: OK\n",
		"chart: 1 version, 1 alias, 2 files: OK\n",
		"widgets: 1 version, 1 alias, 10 files: OK\n",
		"verified dist: 4 libraries, 4 versions, 4 aliases, 76 files: OK\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("verify output lacks %q:\n%s", want, stdout)
		}
	}

	s := startServe(t, root, nil, "--addr", "127.0.0.1:0")
	for path, want := range map[string]string{
		"/2.2.3/pusher.js":        "200",
		"/widgets/0.1/widgets.js": "200",
		"/@corp/ui/0.1.0/ui.js":   "200",
		"/chart@^3/chart.js":      "302 /chart/3.1.0/chart.js",
		"/widgets@0.1.0/x.js":     "301 /widgets/0.1.0/x.js",
	} {
		r, _ := get(t, s.base+path)
		got := r.Status[:3]
		if r.StatusCode/100 == 3 {
			got += " " + r.Header.Get("Location")
		}
		if got != want {
			t.Errorf("%s: %s, want %s", path, got, want)
		}
	}
	_, body := get(t, s.base+"/-/libraries")
	var libs struct {
		Libraries []struct{ Name, Latest string } `json:"libraries"`
	}
	json.Unmarshal([]byte(body), &libs)
	if got, _ := json.Marshal(libs.Libraries); string(got) != `[{"Name":"@corp/ui","Latest":"0.1.0"},{"Name":"chart","Latest":"3.1.0"},{"Name":"widgets","Latest":"0.1.0"}]` {
		t.Errorf("/-/libraries: %s", body)
	}
	s.stop(t)

	// Damage one library: verify names it, and exits 1.
	os.WriteFile(filepath.Join(dist, "@corp/ui/0.1.0/ui.js"), []byte("tampered"), 0o644)
	code, stdout, errOut = cli(t, root, "verify")
	if code != 1 || !strings.Contains(stdout, "@corp/ui/0.1.0/ui.js: altered: sha256") || !strings.Contains(stdout, "@corp/ui: 1 version, 1 alias, 8 files: 1 problem\n") ||
		!strings.Contains(stdout, "widgets: 1 version, 1 alias, 10 files: OK\n") || !strings.Contains(errOut, "(1 problem, in @corp/ui)") {
		t.Errorf("verify of a damaged library: exit %d\n%s\n%s", code, stdout, errOut)
	}
}

// TestServeNamedLibraryQuickStart is the README's quick start: init NAME,
// build, serve. The start-up text points at the library's URLs.
func TestServeNamedLibraryQuickStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if code, _, errOut := cli(t, dir, "init", "my-lib"); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := cli(t, dir, "build", "--quiet"); code != 0 {
		t.Fatal(errOut)
	}
	s := startServe(t, dir, nil, "--addr", "127.0.0.1:0")
	for _, want := range []string{"Serving 0.1.0 of my-lib (the public library published last)", "/my-lib/0.1.0/my-lib.js\n", "/my-lib@0.1.0/my-lib.js\n", "/-/versions/my-lib\n", "/-/libraries\n"} {
		if !strings.Contains(s.stdout, want) {
			t.Errorf("start-up text lacks %q:\n%s", want, s.stdout)
		}
	}
	if r, body := get(t, s.base+"/my-lib/latest/my-lib.min.js"); r.StatusCode != 302 {
		t.Errorf("/my-lib/latest/: %d %s", r.StatusCode, body)
	}
	s.stop(t)

	// A library published later, named after my-lib in the alphabet's
	// other end, is the one shown; a private one never is.
	other := t.TempDir()
	if code, _, errOut := cli(t, other, "init", "a-lib"); code != 0 {
		t.Fatal(errOut)
	}
	time.Sleep(1100 * time.Millisecond) // build times are to the second or finer
	if code, _, errOut := cli(t, other, "build", "--quiet", "--storage", filepath.Join(dir, "dist")); code != 0 {
		t.Fatal(errOut)
	}
	s = startServe(t, dir, nil, "--addr", "127.0.0.1:0")
	if !strings.Contains(s.stdout, "Serving 0.1.0 of a-lib (the public library published last)") {
		t.Errorf("the start-up text does not show the library published last:\n%s", s.stdout)
	}
	s.stop(t)
	if code, _, errOut := cli(t, dir, "token", "create", "--library", "a-lib"); code != 0 {
		t.Fatal(errOut)
	}
	s = startServe(t, dir, nil, "--addr", "127.0.0.1:0", "--private", "a-lib", "--tokens", "tokens")
	if !strings.Contains(s.stdout, "Serving 0.1.0 of my-lib (") || strings.Contains(s.stdout, "/a-lib/") {
		t.Errorf("the start-up text shows a private library:\n%s", s.stdout)
	}
	s.stop(t)
}

// TestLibrariesOverS3: the same rules on a bucket: two libraries built
// into it, served by a replica, verified per library.
func TestLibrariesOverS3(t *testing.T) {
	t.Parallel()
	bucket := s3test.Bucket(t, s3test.Endpoint(t))
	for _, name := range []string{"widgets", "@corp/ui"} {
		dir := t.TempDir()
		if code, _, errOut := cli(t, dir, "init", name); code != 0 {
			t.Fatal(errOut)
		}
		if code, _, errOut := runBin(t, dir, "build", "--quiet", "--storage", bucket); code != 0 {
			t.Fatalf("build %s --storage: %s", name, errOut)
		}
	}
	s := startServe(t, t.TempDir(), nil, "--addr", "127.0.0.1:0", "--storage", bucket)
	for _, p := range []string{"/widgets/0.1.0/widgets.min.js", "/@corp/ui/0.1/ui.js"} {
		if r, _ := get(t, s.base+p); r.StatusCode != 200 || r.Header.Get("Etag") == "" {
			t.Errorf("%s over S3: %d", p, r.StatusCode)
		}
	}
	if r, _ := get(t, s.base+"/@corp/ui@0/ui.js"); r.Header.Get("Location") != "/@corp/ui/0.1.0/ui.js" {
		t.Errorf("range over S3: %q", r.Header.Get("Location"))
	}
	s.stop(t)
	code, stdout, errOut := runBin(t, t.TempDir(), "verify", bucket)
	if code != 0 || !strings.Contains(stdout, "@corp/ui: 1 version, 1 alias, 8 files: OK") || !strings.Contains(stdout, "2 libraries, 2 versions") {
		t.Errorf("verify over S3: %d\n%s\n%s", code, stdout, errOut)
	}
}
