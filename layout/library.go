package layout

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/cdnserve/cdnserve/versioning"
	"github.com/spf13/afero"
)

// A dist root holds many libraries. The root library keeps the seed's
// layout, dist/<version>/…; a named library lives in dist/<name>/<version>/…,
// and a scoped one in dist/@scope/name/<version>/…. A library's directory
// is a tree of its own: versions, aliases, its lock and its journals.

// MaxLibraryName is npm's limit on a package name, scope included.
const MaxLibraryName = 214

// RootLibrary is how the root library is written where a name is needed
// (cdnserve verify's report, a --private pattern): "-", which no named
// library can take.
const RootLibrary = "-"

// CheckLibraryName accepts a named library's name: npm's rules for a new
// package name (lowercase; letters, digits, "-", "." and "_"; not
// starting with "." or "_"; at most 214 characters; an optional
// "@scope/"), and ours, so that the first segment of a URL says at once
// whether it is a library or a version of the root library: an unscoped
// name never starts with a digit, "v" and a digit, or any of ^~<>=, is
// never a semver range such as "x", and is not "latest", "-" or
// "node_modules". The error says what is wrong.
func CheckLibraryName(name string) error {
	if len(name) > MaxLibraryName {
		return fmt.Errorf("is %d characters long; npm allows at most %d", len(name), MaxLibraryName)
	}
	if scope, rest, scoped := strings.Cut(name, "/"); scoped {
		if !strings.HasPrefix(scope, "@") {
			return errors.New(`has a "/" but no "@scope/" before it: use "name" or "@scope/name"`)
		}
		if err := checkNamePart(scope[1:]); err != nil {
			return fmt.Errorf("scope %q %w", scope, err)
		}
		return checkNamePart(rest)
	}
	if strings.HasPrefix(name, "@") {
		return errors.New(`is a scope without a name: use "@scope/name"`)
	}
	if err := checkNamePart(name); err != nil {
		return err
	}
	switch {
	case name == "latest" || name == RootLibrary || name == "node_modules":
		return errors.New("is reserved: latest and - name the root library's tag and its place in names, node_modules is npm's")
	case name[0] >= '0' && name[0] <= '9',
		name[0] == 'v' && len(name) > 1 && name[1] >= '0' && name[1] <= '9':
		return errors.New("starts like a version; an unscoped name must not start with a digit or with v and a digit, so that /<name>/ and /<version>/ never meet")
	}
	if _, err := versioning.ParseRange(name); err == nil {
		return errors.New("reads as a semver range; pick a name that does not")
	}
	return nil
}

// checkNamePart checks one part of a name, the scope or the name: npm's
// rules for a new package.
func checkNamePart(s string) error {
	switch {
	case s == "":
		return errors.New("is empty")
	case s[0] == '.' || s[0] == '_':
		return errors.New(`must not start with "." or "_"`)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.', c == '_':
		case c >= 'A' && c <= 'Z':
			return fmt.Errorf("has the capital %q; names are lowercase", c)
		default:
			return fmt.Errorf("has %q; names use only a-z, 0-9, '-', '.' and '_'", c)
		}
	}
	return nil
}

// IsLibraryName reports whether name is a valid named library.
func IsLibraryName(name string) bool { return CheckLibraryName(name) == nil }

// LibraryDir is the directory of a library below a dist root: the root
// itself for the root library (name "").
func LibraryDir(root, name string) string {
	if name == "" {
		return root
	}
	return path.Join(root, name)
}

// SplitLibrary splits a slash-separated path below a dist root into the
// library it belongs to ("" for the root library) and the path inside
// that library's tree: "pusher/2.2.4/x.js" gives "pusher" and
// "2.2.4/x.js"; "@corp/ui/1.0.0/a.css" gives "@corp/ui"; "2.2.4/x.js"
// gives "". A first segment that is no library name belongs to the root
// library.
func SplitLibrary(p string) (library, rest string) {
	first, after, _ := strings.Cut(p, "/")
	switch ClassifyDir(first) {
	case Library:
		return first, after
	case Scope:
		second, after2, _ := strings.Cut(after, "/")
		if lib := first + "/" + second; IsLibraryName(lib) {
			return lib, after2
		}
	}
	return "", p
}

// Skipped is a path left out of a tree, and why: by ListLibraries, by
// dist.ReadDir (a directory to publish), by npm.Extract (a tarball).
type Skipped struct {
	Path, Why string
}

// ListLibraries finds the named libraries below a dist root, sorted,
// from a listing of the root (entries, as afero.ReadDir returns it): the
// plain directories with a library's name, and those inside plain
// "@scope" directories, which it lists. Entries with a library's or a
// scope's name that are not plain directories, and names in a scope
// that are no library names, come back as unlisted; the root library's
// own entries (versions, aliases, dot-names) are neither.
func ListLibraries(fsys afero.Fs, root string, entries []fs.FileInfo) (names []string, unlisted []Skipped, err error) {
	for _, e := range entries {
		name := e.Name()
		kind := ClassifyDir(name)
		if kind != Library && kind != Scope {
			continue
		}
		if why := notPlainDir(e); why != "" {
			unlisted = append(unlisted, Skipped{Path: name, Why: why})
			continue
		}
		if kind == Library {
			names = append(names, name)
			continue
		}
		scoped, err := afero.ReadDir(fsys, path.Join(root, name))
		if err != nil {
			return nil, nil, fmt.Errorf("listing %s: %w", path.Join(root, name), err)
		}
		for _, se := range scoped {
			lib := name + "/" + se.Name()
			if err := CheckLibraryName(lib); err != nil {
				unlisted = append(unlisted, Skipped{Path: lib, Why: "not a library name: " + err.Error()})
			} else if why := notPlainDir(se); why != "" {
				unlisted = append(unlisted, Skipped{Path: lib, Why: why})
			} else {
				names = append(names, lib)
			}
		}
	}
	slices.Sort(names)
	return names, unlisted, nil
}

// notPlainDir says why a listed entry is not a plain directory, or "".
// (afero.ReadDir lstats on the OS, so a link is seen as a link.)
func notPlainDir(e fs.FileInfo) string {
	switch {
	case e.Mode()&fs.ModeSymlink != 0:
		return "a symbolic link"
	case !e.IsDir():
		return "not a directory"
	}
	return ""
}
