package storage_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/storage"
	"github.com/spf13/afero"
)

// TestDiskFsRefusesLinks: every operation on a path below Root that
// passes through a symbolic link, at any level, fails with ErrLink (a
// kind of fs.ErrNotExist) and touches nothing outside; Root itself may
// be a link.
func TestDiskFsRefusesLinks(t *testing.T) {
	outside, real := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(outside, "lib", "1.0.0"), 0o755)
	os.WriteFile(filepath.Join(outside, "lib", "1.0.0", "a.js"), []byte("outside"), 0o644)
	os.MkdirAll(filepath.Join(real, "lib", "1.0.0"), 0o755)
	os.WriteFile(filepath.Join(real, "lib", "1.0.0", "a.js"), []byte("inside"), 0o644)
	root := filepath.Join(t.TempDir(), "dist")
	os.Symlink(real, root) // the root itself may be a link
	os.Symlink(outside, filepath.Join(real, "@scope"))
	os.Symlink(filepath.Join(outside, "lib"), filepath.Join(real, "linked"))
	os.Symlink(filepath.Join(outside, "lib", "1.0.0"), filepath.Join(real, "lib", "2.0.0"))
	os.Symlink(filepath.Join(outside, "lib", "1.0.0", "a.js"), filepath.Join(real, "lib", "1.0.0", "b.js"))
	d := storage.DiskFs{Root: root}
	if b, err := afero.ReadFile(d, filepath.Join(root, "lib", "1.0.0", "a.js")); err != nil || string(b) != "inside" {
		t.Fatalf("a plain file below a linked root: %q %v", b, err)
	}
	for _, p := range []string{"@scope/lib/1.0.0/a.js", "linked/1.0.0/a.js", "lib/2.0.0/a.js", "lib/1.0.0/b.js"} {
		name := filepath.Join(root, p)
		now := time.Now()
		for _, tc := range []struct {
			op string
			do func() error
		}{
			{"open", func() error { _, err := d.Open(name); return err }},
			{"stat", func() error { _, err := d.Stat(name); return err }},
			{"create", func() error { _, err := d.Create(name + ".new"); return err }},
			{"openfile", func() error { _, err := d.OpenFile(name, os.O_WRONLY|os.O_TRUNC, 0); return err }},
			{"mkdirall", func() error { return d.MkdirAll(filepath.Join(name+".d", "x"), 0o755) }},
			{"chtimes", func() error { return d.Chtimes(name, now, now) }},
			{"removeall", func() error { return d.RemoveAll(filepath.Join(filepath.Dir(name), "x")) }},
			{"rename", func() error { return d.Rename(name, filepath.Join(root, "moved")) }},
		} {
			op := tc.op
			t.Run(p+" "+op, func(t *testing.T) {
				err := tc.do()
				if p == "lib/1.0.0/b.js" && (op == "rename" || op == "create" || op == "mkdirall" || op == "removeall") {
					return // the link itself, or a name beside it: through no link
				}
				if !errors.Is(err, storage.ErrLink) || !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s %s: %v", op, p, err)
				}
			})
		}
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "lib", "1.0.0", "a.js")); string(b) != "outside" {
		t.Errorf("the file outside changed: %q", b)
	}
	if entries, _ := os.ReadDir(filepath.Join(outside, "lib", "1.0.0")); len(entries) != 1 {
		t.Errorf("something was written outside: %v", entries)
	}
	if fi, _, err := d.LstatIfPossible(filepath.Join(root, "linked")); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("lstat of the link itself: %v %v", fi, err)
	}
}

// TestDiskFsCreateExclusive: a file created exclusively appears whole,
// a second creation fails with os.ErrExist and leaves the first intact,
// no temporary file stays behind, and a link below Root is refused.
func TestDiskFsCreateExclusive(t *testing.T) {
	root := t.TempDir()
	d := storage.DiskFs{Root: root}
	p := filepath.Join(root, ".lock")
	if err := d.CreateExclusive(p, []byte(`{"pid":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := d.CreateExclusive(p, []byte(`{"pid":2}`)); !errors.Is(err, os.ErrExist) {
		t.Errorf("second create: %v, want os.ErrExist", err)
	}
	if data, _ := os.ReadFile(p); string(data) != `{"pid":1}` {
		t.Errorf("the first file became %q", data)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 1 {
		t.Errorf("left in the root: %v", entries)
	}
	outside := t.TempDir()
	os.Symlink(outside, filepath.Join(root, "lib"))
	if err := d.CreateExclusive(filepath.Join(root, "lib", ".lock"), []byte("x")); !errors.Is(err, storage.ErrLink) {
		t.Errorf("create through a link: %v, want ErrLink", err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("written outside the root: %v", entries)
	}
}
