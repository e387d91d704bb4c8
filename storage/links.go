package storage

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

// ErrLink is layout.ErrLink: a path below the dist root through a
// symbolic link.
var ErrLink = layout.ErrLink

// beneath refuses a path below d.Root that passes through a symbolic
// link. Every component below the root is lstat'ed, the last one too
// unless last is false (an operation on the link itself: Lstat, Remove,
// Rename). A component that does not exist ends the check: what follows
// it will be created, as directories. Paths outside Root (temporary
// files elsewhere) are not checked.
func (d DiskFs) beneath(op, name string, last bool) error {
	if d.Root == "" {
		return nil
	}
	rel, err := filepath.Rel(d.Root, name)
	if err != nil || rel == "." || !filepath.IsLocal(rel) {
		return nil
	}
	parts := strings.Split(rel, string(filepath.Separator))
	if !last {
		parts = parts[:len(parts)-1]
	}
	cur := d.Root
	for _, part := range parts {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if err != nil {
			return nil // absent (created next), or the operation reports it
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return &fs.PathError{Op: op, Path: cur, Err: ErrLink}
		}
	}
	return nil
}

// The afero.Fs methods, each checked below Root.

func (d DiskFs) Create(name string) (afero.File, error) {
	if err := d.beneath("create", name, true); err != nil {
		return nil, err
	}
	return d.OsFs.Create(name)
}

func (d DiskFs) Mkdir(name string, perm os.FileMode) error {
	if err := d.beneath("mkdir", name, true); err != nil {
		return err
	}
	return d.OsFs.Mkdir(name, perm)
}

func (d DiskFs) MkdirAll(name string, perm os.FileMode) error {
	if err := d.beneath("mkdir", name, true); err != nil {
		return err
	}
	return d.OsFs.MkdirAll(name, perm)
}

func (d DiskFs) Open(name string) (afero.File, error) {
	if err := d.beneath("open", name, true); err != nil {
		return nil, err
	}
	return d.OsFs.Open(name)
}

func (d DiskFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if err := d.beneath("open", name, true); err != nil {
		return nil, err
	}
	return d.OsFs.OpenFile(name, flag, perm)
}

func (d DiskFs) Remove(name string) error {
	if err := d.beneath("remove", name, false); err != nil {
		return err
	}
	return d.OsFs.Remove(name)
}

func (d DiskFs) RemoveAll(name string) error {
	if err := d.beneath("remove", name, false); err != nil {
		return err
	}
	return d.OsFs.RemoveAll(name)
}

func (d DiskFs) Rename(oldname, newname string) error {
	if err := errors.Join(d.beneath("rename", oldname, false), d.beneath("rename", newname, false)); err != nil {
		return err
	}
	return d.OsFs.Rename(oldname, newname)
}

func (d DiskFs) Stat(name string) (os.FileInfo, error) {
	if err := d.beneath("stat", name, true); err != nil {
		return nil, err
	}
	return d.OsFs.Stat(name)
}

// LstatIfPossible checks the parents only: it reports a link itself.
func (d DiskFs) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	if err := d.beneath("lstat", name, false); err != nil {
		return nil, true, err
	}
	return d.OsFs.LstatIfPossible(name)
}

func (d DiskFs) Chmod(name string, mode os.FileMode) error {
	if err := d.beneath("chmod", name, true); err != nil {
		return err
	}
	return d.OsFs.Chmod(name, mode)
}

func (d DiskFs) Chown(name string, uid, gid int) error {
	if err := d.beneath("chown", name, true); err != nil {
		return err
	}
	return d.OsFs.Chown(name, uid, gid)
}

func (d DiskFs) Chtimes(name string, atime, mtime time.Time) error {
	if err := d.beneath("chtimes", name, true); err != nil {
		return err
	}
	return d.OsFs.Chtimes(name, atime, mtime)
}

var _ layout.ExclusiveCreator = DiskFs{}

// CreateExclusive writes data to a temporary file beside name and links
// it to name, which fails if name exists (link(2) never replaces). A
// process killed before the link leaves only the temporary file, which
// dist removes as it removes every one a killed publisher left.
func (d DiskFs) CreateExclusive(name string, data []byte) error {
	if err := d.beneath("create", name, true); err != nil {
		return err
	}
	tmp := layout.NewName(name) // not a TmpPrefix name, which a publisher cleans up (layout.NewInfix)
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	defer os.Remove(tmp)
	return os.Link(tmp, name)
}
