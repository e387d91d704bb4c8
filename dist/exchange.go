package dist

import "errors"

// Exchanger is an afero.Fs that can swap two directories atomically, such
// as storage.DiskFs on Linux (renameat2 RENAME_EXCHANGE). A tree on one
// replaces an alias or a forced version in one step.
type Exchanger interface {
	Exchange(a, b string) error
}

// ErrExchangeUnsupported is returned by Exchange when the file system
// cannot swap directories after all; the tree falls back to renames.
var ErrExchangeUnsupported = errors.New("atomic directory exchange is not supported here")

// InPlaceWriter is an afero.Fs that cannot rename a directory atomically,
// such as S3-compatible object storage (storage.BlobFs), where a rename is
// a copy of every object. A tree on one is written in place (see
// inPlaceWriter).
type InPlaceWriter interface {
	WritesInPlace() bool
}
