package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
