package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cdnserve/cdnserve/npm/npmtest"
)

// TestImportmapCommand builds an ES-module library and prints its import
// map, as /-/importmap serves it.
func TestImportmapCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "src"), 0o755)
	os.WriteFile(filepath.Join(dir, "src/index.js"), []byte("export const answer = 42;\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "cdnserve.yaml"), []byte("name: widget\nversion: 1.2.0\nsrc_dir: src\ntarget: es2020\nbundles:\n  widget.mjs:\n    entry: index.js\n    format: esm\n"), 0o644)
	if code, _, errOut := cli(t, dir, "build", "--quiet"); code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut := cli(t, dir, "importmap", "widget@^1", "--public-url", "https://cdn.example.com/")
	if code != 0 {
		t.Fatalf("%d %s", code, errOut)
	}
	var m struct {
		Imports, Integrity map[string]string
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	entry := "https://cdn.example.com/widget/1.2.0/widget.min.mjs"
	if m.Imports["widget"] != entry || !strings.HasPrefix(m.Integrity[entry], "sha384-") || !strings.HasPrefix(m.Integrity["https://cdn.example.com/widget/1.2.0/widget.mjs"], "sha384-") {
		t.Errorf("import map:\n%s", out)
	}
	if code, _, errOut := cli(t, dir, "importmap", "widget@^3"); code != 1 || !strings.Contains(errOut, "widget@^3: no published version matches") {
		t.Errorf("a range that matches nothing: %d %s", code, errOut)
	}
}

// TestImportmapLockfile: from an app's package-lock.json to its page:
// the real preact package is fetched from the registry, checked against
// the lockfile's integrity, and the page gets the map and the
// modulepreload tags in its head, once however often it runs; a
// lockfile whose integrity differs fails naming the package.
func TestImportmapLockfile(t *testing.T) {
	t.Parallel()
	reg := npmtest.Start(t)
	dir := t.TempDir()
	lock := `{"name": "app", "lockfileVersion": 3, "requires": true, "packages": {
  "": {"name": "app", "dependencies": {"preact": "^10.20.0"}},
  "node_modules/preact": {"version": "10.29.8", "resolved": "https://registry.npmjs.org/preact/-/preact-10.29.8.tgz",
    "integrity": "sha512-ej2aVZ+vZ8WO7tvlQWRM9N63A0KzF9q4mWJfDUHgYaIofWY9hu74QdnQrjoPMmZi2/nZ5gN0bJCQF49xQqx09Q==", "license": "MIT"}}}`
	os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte(lock), 0o644)
	page := "<!doctype html>\n<html><head><title>app</title></head><body></body></html>\n"
	os.WriteFile(filepath.Join(dir, "index.html"), []byte(page), 0o644)
	args := []string{"importmap", "--lockfile", "package-lock.json", "--npm-fetch", "--npm-registry", reg.URL, "--npm-cache", t.TempDir(),
		"--public-url", "https://cdn.example.com/", "--html", "index.html"}
	for range 2 {
		if code, _, errOut := cli(t, dir, args...); code != 0 || !strings.Contains(errOut, "wrote the import map and its modulepreload tags into") {
			t.Fatalf("%d %s", code, errOut)
		}
	}
	got, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	entry := `"preact": "https://cdn.example.com/preact/10.29.8/dist/preact.module.js"`
	if strings.Count(string(got), `<script type="importmap">`) != 1 || !strings.Contains(string(got), entry) || !strings.Contains(string(got), `"preact/hooks": "`) ||
		!strings.Contains(string(got), `<link rel="modulepreload" href="https://cdn.example.com/preact/10.29.8/dist/preact.module.js" integrity="sha384-`) ||
		!strings.HasSuffix(string(got), "<!-- /cdnserve importmap -->\n</head><body></body></html>\n") {
		t.Errorf("the page:\n%s", got)
	}
	os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte(strings.Replace(lock, "sha512-ej2a", "sha512-AAAA", 1)), 0o644)
	if code, _, errOut := cli(t, dir, args...); code != 1 || !strings.Contains(errOut, "preact@10.29.8: the lockfile says its integrity is sha512-AAAA") {
		t.Errorf("a lockfile whose integrity differs: %d %s", code, errOut)
	}
}
