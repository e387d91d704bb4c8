package storage

import (
	"errors"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
	"golang.org/x/sys/unix"
)

// DiskFs is the local file system with one extra power: it swaps two
// directories atomically with renameat2(RENAME_EXCHANGE) (Linux 3.15+),
// so an alias directory changes from old to new content with no moment in
// between. Paths are host paths, as with afero.OsFs.
//
// With Root set, no path below Root passes through a symbolic link
// (links.go): storage.Open sets it to the dist root.
type DiskFs struct {
	afero.OsFs
	// Root, if set, is the directory below which every path is checked
	// for links, component by component. Root itself may be a link.
	Root string
}

var (
	_ afero.Fs         = (*DiskFs)(nil)
	_ layout.Exchanger = (*DiskFs)(nil)
)

// Exchange atomically swaps the directories a and b, which must both
// exist on the same file system. It returns layout.ErrExchangeUnsupported
// where the file system refuses.
func (d DiskFs) Exchange(a, b string) error {
	if err := d.beneath("exchange", a, false); err != nil {
		return err
	}
	if err := d.beneath("exchange", b, false); err != nil {
		return err
	}
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
		return layout.ErrExchangeUnsupported
	}
	return err
}
