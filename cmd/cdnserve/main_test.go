package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// cli runs one command line in-process in dir and returns its exit code
// and output.
func cli(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), &env{stdout: &out, stderr: &errb, dir: dir}, args)
	return code, out.String(), errb.String()
}

func TestInitThenBuild(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := cli(t, dir, "init", "my-lib")
	if code != 0 {
		t.Fatalf("init exit %d: %s", code, errOut)
	}
	for _, want := range []string{"created cdnserve.yaml", "created src/my-lib.js", "created src/license.txt"} {
		if !strings.Contains(out, want) {
			t.Errorf("init output lacks %q:\n%s", want, out)
		}
	}
	code, out, errOut = cli(t, dir, "build")
	if code != 0 {
		t.Fatalf("build exit %d: %s", code, errOut)
	}
	for _, p := range []string{"dist/0.1.0/my-lib.js", "dist/0.1.0/my-lib.min.js", "dist/0.1/my-lib.js", "dist/0.1/my-lib.min.js"} {
		if !strings.Contains(out, "wrote "+p) {
			t.Errorf("build output lacks %q:\n%s", "wrote "+p, out)
		}
	}
	min, err := os.ReadFile(filepath.Join(dir, "dist/0.1.0/my-lib.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	want := "/*!\n * my-lib v0.1.0\n * Released under the MIT license.\n */\n(function(i){var b={VERSION:\"0.1.0\"};i.MyLib=b})(this);\n"
	if string(min) != want {
		t.Errorf("my-lib.min.js =\n%q\nwant\n%q", min, want)
	}
	if !strings.Contains(out, "my-lib.js") || !strings.Contains(out, "built in ") {
		t.Errorf("build output lacks the summary table:\n%s", out)
	}

	// A second init refuses to overwrite.
	code, _, errOut = cli(t, dir, "init", "my-lib")
	if code != 1 || !strings.Contains(errOut, "cdnserve.yaml already exists") {
		t.Errorf("second init: exit %d, stderr %q", code, errOut)
	}
}

func seedProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../testdata/seedlib")); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(dir, "dist"))
	return dir
}

func TestBuildDryRunWritesNothing(t *testing.T) {
	dir := seedProject(t)
	code, out, errOut := cli(t, dir, "build", "--dry-run", "--version", "2.2.4")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"would write dist/2.2.4/pusher.min.js", "would write dist/2.2/WebSocketMain.swf", "version 2.2.4 -> [2.2.4 2.2]"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "dist")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dry run created dist/ (stat err %v)", err)
	}
}

func TestBuildJSONAndQuiet(t *testing.T) {
	dir := seedProject(t)
	code, out, _ := cli(t, dir, "build", "--json", "--version", "3.0.0-rc.1")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var rep struct {
		Version string   `json:"version"`
		Dirs    []string `json:"dirs"`
		Files   []string `json:"files"`
		Outputs []struct {
			Name  string `json:"name"`
			Plain int    `json:"plain_bytes"`
			Min   int    `json:"min_bytes"`
			Gzip  int    `json:"gzip_bytes"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if rep.Version != "3.0.0-rc.1" || len(rep.Dirs) != 1 || rep.Dirs[0] != "3.0.0-rc.1" || len(rep.Files) != 11 || rep.Outputs[0].Name != "pusher.js" || rep.Outputs[0].Min == 0 {
		t.Errorf("json report = %+v", rep)
	}
	if _, err := os.Stat(filepath.Join(dir, "dist/3.0")); !errors.Is(err, os.ErrNotExist) {
		t.Error("a prerelease wrote the 3.0 alias directory")
	}
	code, out, errOut := cli(t, dir, "build", "--quiet", "--version", "3.0.1")
	if code != 0 || out != "" || errOut != "" {
		t.Errorf("--quiet: exit %d, stdout %q, stderr %q; want silence", code, out, errOut)
	}
}

func TestCLIErrors(t *testing.T) {
	seed := seedProject(t)
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "cdnserve.yaml"), []byte("version: 1.0.0\nbundles:\n  a.js:\n    files: [a.js, gone.js]\n"), 0o644)
	os.WriteFile(filepath.Join(bad, "a.js"), []byte("var a;\n"), 0o644)
	tests := []struct {
		name     string
		dir      string
		args     []string
		code     int
		inStderr string
	}{
		{"no args", seed, nil, 2, "Usage: cdnserve <command>"},
		{"unknown command", seed, []string{"bulid"}, 2, `unknown command "bulid"`},
		{"unknown flag", seed, []string{"build", "--frobnicate"}, 2, "flag provided but not defined: -frobnicate"},
		{"stray argument", seed, []string{"build", "extra"}, 2, `unexpected argument "extra"`},
		{"init without name", seed, []string{"init"}, 2, "need exactly one library NAME"},
		{"init bad name", t.TempDir(), []string{"init", "../evil"}, 1, `library name "../evil"`},
		{"missing manifest", t.TempDir(), []string{"build"}, 1, "reading manifest: open "},
		{"bad version flag", seed, []string{"build", "--version", "v2"}, 1, `--version: invalid version "v2"`},
		{"missing source", bad, []string{"build"}, 1, `cdnserve.yaml:4: bundles.a.js.files[1]: file "gone.js" does not exist in src_dir "."`},
		{"help", seed, []string{"build", "-h"}, 0, "Examples:\n  cdnserve build"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := cli(t, tc.dir, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errOut)
			}
			if !strings.Contains(errOut, tc.inStderr) {
				t.Errorf("stderr %q lacks %q", errOut, tc.inStderr)
			}
		})
	}
}

// TestBinaryExitCodes runs the real binary, since the exit code a shell
// sees comes from os.Exit in main.
func TestBinaryExitCodes(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "cdnserve")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := seedProject(t)
	tests := []struct {
		args     []string
		code     int
		inStderr string
	}{
		{[]string{"build", "--quiet"}, 0, ""},
		{[]string{"build", "--nope"}, 2, "flag provided but not defined"},
		{[]string{"build", "-f", "missing.yaml"}, 1, "missing.yaml"},
	}
	for _, tc := range tests {
		cmd := exec.Command(bin, tc.args...)
		cmd.Dir = dir
		var errb bytes.Buffer
		cmd.Stderr = &errb
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		if code != tc.code || !strings.Contains(errb.String(), tc.inStderr) {
			t.Errorf("cdnserve %q: exit %d stderr %q, want exit %d with %q", tc.args, code, errb.String(), tc.code, tc.inStderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "dist/2.2.3/pusher.min.js")); err != nil {
		t.Errorf("binary build wrote no output: %v", err)
	}
}
