package layout

import (
	"io/fs"

	"github.com/spf13/afero"
)

// NotPlain says why an entry of a tree is not a plain directory (when dir)
// or a regular file, or "" when it is one, with the FileInfo it read
// (for a plain entry, the same as Stat's). Only plain entries are part of
// a tree: a symbolic link, a device or a socket is never served, never
// listed, never published into or through, and verify reports it. Where
// the Fs can tell (afero.Lstater), links are not followed; object
// storage has none.
func NotPlain(fsys afero.Fs, p string, dir bool) (fs.FileInfo, string, error) {
	var fi fs.FileInfo
	var err error
	if l, ok := fsys.(afero.Lstater); ok {
		fi, _, err = l.LstatIfPossible(p)
	} else {
		fi, err = fsys.Stat(p)
	}
	switch {
	case err != nil:
		return nil, "", err
	case fi.Mode()&fs.ModeSymlink != 0:
		return fi, "a symbolic link", nil
	case dir && !fi.IsDir():
		return fi, "not a directory", nil
	case !dir && !fi.Mode().IsRegular():
		return fi, "not a regular file", nil
	}
	return fi, "", nil
}

// ErrLink is a path below a dist root that passes through a symbolic
// link: at the scope, the library, the version or the file
// (storage.DiskFs refuses it). Nothing is served, listed, published,
// pruned or counted through one, wherever it points. It is a kind of
// fs.ErrNotExist, so that serving answers 404 and a listing leaves the
// entry out; a reader that must not take it for absence (usage counts,
// which decide a prune) checks for it first.
var ErrLink error = linkError{}

type linkError struct{}

func (linkError) Error() string {
	return "a symbolic link on the path: cdnserve never serves, lists or writes through one (replace it with a directory)"
}

func (linkError) Is(target error) bool { return target == fs.ErrNotExist }
