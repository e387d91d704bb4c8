package dist

import (
	"errors"
	"fmt"
	"path"
	"slices"

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
	lt.Root, lt.library = layout.LibraryDir(t.Root, name), name
	return lt, nil
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

// Libraries lists the named libraries below a dist root, sorted: every
// plain directory whose name is a library name, and every one inside a
// plain "@scope" directory. Entries that are neither a library, nor a
// scope, nor a part of the root library's tree come back as skipped, with
// why, for verify to report.
func Libraries(fsys afero.Fs, root string) (names []string, skipped []Skipped, err error) {
	entries, err := afero.ReadDir(fsys, root)
	if err != nil {
		return nil, nil, fmt.Errorf("listing %s: %w", root, err)
	}
	for _, e := range entries {
		name := e.Name()
		switch layout.ClassifyDir(name) {
		case layout.Library:
			if why := plainDir(fsys, path.Join(root, name)); why != "" {
				skipped = append(skipped, Skipped{Path: name, Why: why})
				continue
			}
			names = append(names, name)
		case layout.Scope:
			scoped, skip, err := scopeLibraries(fsys, root, name)
			if err != nil {
				return nil, nil, err
			}
			names, skipped = append(names, scoped...), append(skipped, skip...)
		}
	}
	slices.Sort(names)
	return names, skipped, nil
}

// scopeLibraries lists the libraries inside one scope directory.
func scopeLibraries(fsys afero.Fs, root, scope string) (names []string, skipped []Skipped, err error) {
	if why := plainDir(fsys, path.Join(root, scope)); why != "" {
		return nil, []Skipped{{Path: scope, Why: why}}, nil
	}
	entries, err := afero.ReadDir(fsys, path.Join(root, scope))
	if err != nil {
		return nil, nil, fmt.Errorf("listing %s: %w", path.Join(root, scope), err)
	}
	for _, e := range entries {
		lib := scope + "/" + e.Name()
		if err := layout.CheckLibraryName(lib); err != nil {
			skipped = append(skipped, Skipped{Path: lib, Why: "not a library name: " + err.Error()})
			continue
		}
		if why := plainDir(fsys, path.Join(root, lib)); why != "" {
			skipped = append(skipped, Skipped{Path: lib, Why: why})
			continue
		}
		names = append(names, lib)
	}
	return names, skipped, nil
}

// plainDir says why p is not a plain directory, or "".
func plainDir(fsys afero.Fs, p string) string {
	_, why, err := layout.NotPlain(fsys, p, true)
	if err != nil {
		return err.Error()
	}
	return why
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
