// Package dist owns the published tree: the directories below a dist root,
// one per published version or alias, on an afero.Fs. All writing of
// artifacts goes through this package, so that the rules for publishing
// live in one place:
//
//   - a version directory appears whole or not at all (staged in a
//     temporary directory, then renamed into place);
//   - a published version never changes, unless forced;
//   - a major.minor alias only moves forward, and switching it never
//     hides a file that both the old and the new content hold;
//   - one publisher at a time holds the tree's lock file;
//   - every version and alias directory has an integrity manifest, and
//     compressible files get .br and .gz sidecars.
//
// Names that start with "." (temporary directories, the lock, journals)
// and the integrity manifest are internal and never public files.
package dist

import (
	"errors"
	"path"
	"strings"
	"time"

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
	// Fs is the storage the tree lives on. Required. A DiskFs (or any Fs
	// that is an Exchanger) switches aliases in one atomic step.
	Fs afero.Fs
	// Root is the dist root's path in Fs, such as "dist". Required.
	Root string

	// PID and Host identify this publisher in the lock file; defaults are
	// the process's PID and the host name.
	PID  int
	Host string
	// Clock gives the time for the lock and the provenance; default
	// time.Now.
	Clock func() time.Time
	// StaleAfter is the age after which another host's lock is taken over;
	// default DefaultStaleAfter.
	StaleAfter time.Duration
	// PollInterval is how often a waiting publisher retries the lock;
	// default 200ms.
	PollInterval time.Duration
	// ProcessAlive reports whether a PID on this host still runs; default
	// kill(pid, 0).
	ProcessAlive func(pid int) bool
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
