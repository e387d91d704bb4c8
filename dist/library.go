package dist

import (
	"errors"
	"fmt"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

// Library returns the tree of one library below this dist root: the root
// library itself for "", or dist/<name>/ (layout.LibraryDir) for a named
// one, with the same storage, writer and settings. Each library's tree
// has its own lock and journals, so two libraries publish at the same
// time, and every rule of this package holds per library.
func (t Tree) Library(name string) (Tree, error) {
	if name == "" {
		return t, nil
	}
	if err := layout.CheckLibraryName(name); err != nil {
		return Tree{}, &LibraryNameError{Name: name, Err: err}
	}
	lt := t
	lt.Root, lt.library, lt.top = layout.LibraryDir(t.Root, name), name, t.Root
	return lt, nil
}

// Top returns the tree of the dist root this tree is in: itself for the
// root library's.
func (t Tree) Top() Tree {
	if t.library == "" {
		return t
	}
	top := t
	top.Root, top.library, top.top = t.top, "", ""
	return top
}

// LibraryNameError is a library name that npm's rules, or ours, refuse.
type LibraryNameError struct {
	Name string
	Err  error
}

func (e *LibraryNameError) Error() string {
	return fmt.Sprintf("library name %q %v", e.Name, e.Err)
}

func (e *LibraryNameError) Unwrap() error { return e.Err }

// Libraries lists the named libraries below a dist root, sorted
// (layout.ListLibraries). Entries with a library's or a scope's name that
// are not one come back as skipped, with why, for verify to report.
func Libraries(fsys afero.Fs, root string) (names []string, skipped []Skipped, err error) {
	entries, err := afero.ReadDir(fsys, root)
	if err != nil {
		return nil, nil, fmt.Errorf("listing %s: %w", root, err)
	}
	return layout.ListLibraries(fsys, root, entries)
}

// LibraryReport is one library's part of VerifyAll.
type LibraryReport struct {
	// Library is the library's name, "" for the root library.
	Library string
	*VerifyReport
}

// VerifyAll verifies the root library and every named library below the
// dist root (Verify, per library). The root library is left out when it
// holds nothing. Entries that belong to no library are problems of the
// root library's report.
func (t Tree) VerifyAll() ([]LibraryReport, error) {
	if t.w == nil {
		return nil, errors.New("dist: a Tree must be made with NewTree")
	}
	root, err := t.Verify()
	if err != nil {
		return nil, err
	}
	names, skipped, err := Libraries(t.Fs, t.Root)
	if err != nil {
		return nil, err
	}
	for _, s := range skipped {
		root.Problems = append(root.Problems, Problem{Dir: s.Path, Kind: "extra", Detail: s.Why + ": never served or listed"})
	}
	var out []LibraryReport
	if len(root.Versions)+len(root.Aliases)+len(root.Problems)+len(root.Notes) > 0 || len(names) == 0 {
		out = append(out, LibraryReport{Library: "", VerifyReport: root})
	}
	for _, name := range names {
		lt, _ := t.Library(name) // Libraries lists valid names only
		r, err := lt.Verify()
		if err != nil {
			return nil, err
		}
		out = append(out, LibraryReport{Library: name, VerifyReport: r})
	}
	return out, nil
}
