// Package dist owns the published tree: the directories below a dist root,
// one per published version or alias, on an afero.Fs. All writing of
// artifacts goes through this package, so that the rules for publishing
// live in one place.
//
// This version writes files in place. It is not yet atomic or immutable;
// see the README's "Publishing guarantees" for what is promised today.
package dist

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/spf13/afero"
)

// File is one file of a version directory.
type File struct {
	// Name is the file's slash-separated path inside the version directory.
	Name string
	// Data is the file's content.
	Data []byte
}

// Tree is a dist root on a file system.
type Tree struct {
	// Fs is the storage the tree lives on. Required.
	Fs afero.Fs
	// Root is the dist root's path in Fs, such as "dist". Required.
	Root string
}

// Paths lists every file path that Write would create, in order: for each
// directory, each file. It is what `build --dry-run` prints.
func (t Tree) Paths(dirs []string, files []File) []string {
	out := make([]string, 0, len(dirs)*len(files))
	for _, d := range dirs {
		for _, f := range files {
			out = append(out, path.Join(t.Root, d, f.Name))
		}
	}
	return out
}

// Write writes every file into every directory below the root, creating
// directories as needed and replacing files that exist. Every name is
// checked before anything is written.
func (t Tree) Write(dirs []string, files []File) error {
	for _, d := range dirs {
		if err := CheckPath(d); err != nil {
			return fmt.Errorf("version directory %q: %w", d, err)
		}
	}
	for _, f := range files {
		if err := CheckPath(f.Name); err != nil {
			return fmt.Errorf("file %q: %w", f.Name, err)
		}
	}
	for _, d := range dirs {
		for _, f := range files {
			p := path.Join(t.Root, d, f.Name)
			if err := t.Fs.MkdirAll(path.Dir(p), 0o755); err != nil {
				return fmt.Errorf("creating %s: %w", path.Dir(p), err)
			}
			if err := afero.WriteFile(t.Fs, p, f.Data, 0o644); err != nil {
				return fmt.Errorf("writing %s: %w", p, err)
			}
		}
	}
	return nil
}

// CheckPath accepts a slash-separated path that stays below its root: not
// empty, relative, clean (no "..", ".", "//" or trailing "/"), and without
// backslashes or NUL bytes. Everything written into the tree, and every
// path a manifest names, passes this check.
func CheckPath(p string) error {
	switch {
	case p == "":
		return errors.New("must not be empty")
	case strings.ContainsAny(p, "\\\x00"):
		return errors.New("must use forward slashes and no NUL bytes")
	case path.IsAbs(p):
		return errors.New("must be relative")
	case path.Clean(p) != p || p == "." || p == ".." || strings.HasPrefix(p, "../"):
		return errors.New("must be a clean path below its directory (no '..', '.', '//' or trailing '/')")
	}
	return nil
}
