package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLinksAreNeverFollowed: a symbolic link at any level below the
// dist root (scope, library, version, file) is never served, listed,
// published into, pruned through or counted; verify names it (issue
// 25, item 6). The linked trees are real libraries elsewhere on disk.
func TestLinksAreNeverFollowed(t *testing.T) {
	t.Parallel()
	dir, elsewhere := t.TempDir(), t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "a.js"), []byte("export const a = 1;\n"), 0o644)
	publish := func(storage, name, version string) {
		t.Helper()
		if code, _, errOut := cli(t, dir, "publish", src, "--quiet", "--version", version, "--name", name, "--storage", storage); code != 0 {
			t.Fatalf("publish %s@%s: %s", name, version, errOut)
		}
	}
	outside := filepath.Join(elsewhere, "dist")
	publish(outside, "@lscope/inner", "1.0.0")
	publish(outside, "linked", "1.0.0")
	publish("dist", "real", "1.0.0")
	publish("dist", "real", "2.0.0")
	dist := filepath.Join(dir, "dist")
	for link, target := range map[string]string{
		"@lscope":                  filepath.Join(outside, "@lscope"),
		"linked":                   filepath.Join(outside, "linked"),
		"real/1.0.0-link":          filepath.Join(outside, "linked", "1.0.0"),
		"real/3.0.0":               filepath.Join(outside, "linked", "1.0.0"),
		"real/2.0.0/b.js":          filepath.Join(outside, "linked", "1.0.0", "a.js"),
		"real/2.0.0/.integrity-ln": filepath.Join(outside, "linked", "1.0.0", "a.js"),
		".stats":                   elsewhere, // the replicas' usage counts
	} {
		if err := os.Symlink(target, filepath.Join(dist, link)); err != nil {
			t.Fatal(err)
		}
	}
	s := startServe(t, dir, nil, "--addr", "127.0.0.1:0", "--storage", "dist")
	for _, p := range []string{
		"/@lscope/inner/1.0.0/a.js", "/@lscope/inner@1/a.js", "/@lscope/inner/", "/@lscope/inner/1.0.0/",
		"/-/versions/@lscope/inner", "/-/meta/@lscope/inner/1.0.0", "/@lscope/inner/-/versions", "/-/stats/@lscope/inner",
		"/linked/1.0.0/a.js", "/-/versions/linked", "/real/3.0.0/a.js", "/real/2.0.0/b.js",
	} {
		if r, body := get(t, s.base+p); r.StatusCode != 404 || strings.Contains(body, "export const a") {
			t.Errorf("%s: %d %.200s", p, r.StatusCode, body)
		}
	}
	if r, _ := get(t, s.base+"/real/2.0.0/a.js"); r.StatusCode != 200 {
		t.Errorf("the real library: %d", r.StatusCode)
	}
	for _, p := range []string{"/", "/-/libraries", "/real/"} {
		if _, body := get(t, s.base+p); strings.Contains(body, "lscope") || strings.Contains(body, "linked") || strings.Contains(body, "3.0.0") {
			t.Errorf("%s lists a link:\n%.400s", p, body)
		}
	}
	s.stop(t)

	before := snapshot(t, elsewhere)
	for _, args := range [][]string{
		{"publish", src, "--version", "1.0.0", "--name", "@lscope/newlib"},
		{"publish", src, "--version", "1.1.0", "--name", "@lscope/inner"},
		{"publish", src, "--version", "1.1.0", "--name", "linked"},
		{"deprecate", "linked@1.0.0", "--message", "x"},
		{"private", "@lscope/inner"},
		{"prune", "@lscope/inner@1.0.0", "--force"},
		{"prune", "linked", "--prereleases", "--older-than", "1s", "--force"},
		{"stats", "real"},
	} {
		t.Run(strings.ReplaceAll(strings.Join(args, " "), src, "src"), func(t *testing.T) {
			code, _, errOut := cli(t, dir, args...)
			if code == 0 || !strings.Contains(errOut, "symbolic link") {
				t.Errorf("%v: %d %s", args, code, errOut)
			}
		})
	}
	if after := snapshot(t, elsewhere); after != before {
		t.Errorf("a command wrote outside the tree:\nbefore %s\nafter  %s", before, after)
	}
	code, out, errOut := cli(t, dir, "verify", "--storage", "dist")
	if code == 0 || !strings.Contains(out+errOut, "@lscope: extra: a symbolic link: never served or listed") {
		t.Errorf("verify: %d %s %s", code, out, errOut)
	}
	for _, name := range []string{"@lscope", "linked", "3.0.0", "b.js"} {
		if !strings.Contains(out+errOut, name) {
			t.Errorf("verify does not name the link %s:\n%s%s", name, out, errOut)
		}
	}
}

// snapshot lists a directory's files with their sizes and times.
func snapshot(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			b.WriteString(p + " " + fi.ModTime().String() + " " + fi.Mode().String() + "\n")
		}
		return nil
	})
	return b.String()
}
