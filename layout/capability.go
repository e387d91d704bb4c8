package layout

import (
	"errors"

	"github.com/spf13/afero"
)

// The capabilities a storage may have beyond afero.Fs. dist chooses how
// to write a tree by them, once, when the tree is opened; storage's file
// systems declare them (storage.DiskFs, storage.BlobFs), and wrappers
// forward them (storage.BasePathFs). They live here, with the vocabulary,
// so that storage never imports dist.

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
// a copy of every object. A tree on one is written in place.
type InPlaceWriter interface {
	WritesInPlace() bool
}

// WriteMode is how a tree on a storage is written.
type WriteMode int

const (
	// WriteRename stages a directory and renames it into place.
	WriteRename WriteMode = iota
	// WriteExchange is WriteRename, and swaps a replaced directory with
	// its successor in one step.
	WriteExchange
	// WriteInPlace writes every file where it belongs, the integrity
	// manifest last.
	WriteInPlace
)

// WriteModeOf is the way a tree on fsys is written, from the
// capabilities it declares.
func WriteModeOf(fsys afero.Fs) WriteMode {
	if w, ok := fsys.(InPlaceWriter); ok && w.WritesInPlace() {
		return WriteInPlace
	}
	if _, ok := fsys.(Exchanger); ok {
		return WriteExchange
	}
	return WriteRename
}
