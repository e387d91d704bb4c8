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
// and the integrity manifest are internal and never public files. The
// names themselves (manifest, paths, directory kinds, encodings) are
// package layout's.
package dist

import (
	"path"
	"time"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

// Tree is a dist root on a file system. Make one with NewTree, which
// chooses how directories are written on that file system; the optional
// fields below may be set after it.
type Tree struct {
	// Fs is the storage the tree lives on. An Fs that is an Exchanger
	// (storage.DiskFs) switches aliases in one atomic step; one that is an
	// InPlaceWriter (storage.BlobFs) is written in place.
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

	// w writes directories the one way that is safe on Fs.
	w writer
	// library is the named library this tree holds (Tree.Library), or ""
	// for the root library, whose directory also holds the others.
	library string
	// top is the dist root of a named library's tree.
	top string
}

// NewTree opens the tree at root on fsys and chooses, once, how its
// directories are written (see writer).
func NewTree(fsys afero.Fs, root string) Tree {
	return Tree{Fs: fsys, Root: root, w: chooseWriter(fsys)}
}

// Paths lists every file path that Write would create, in order: for each
// directory, each file. It is what `build --dry-run` prints.
func (t Tree) Paths(dirs []string, files []layout.File) []string {
	out := make([]string, 0, len(dirs)*len(files))
	for _, d := range dirs {
		for _, f := range files {
			out = append(out, path.Join(t.Root, d, f.Name))
		}
	}
	return out
}
