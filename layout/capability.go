package layout

import (
	"errors"
	"os"

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

// ExclusiveCreator is an afero.Fs that can create a file holding its
// whole content in one step, failing with an error that is os.ErrExist
// when the name is taken: no reader ever sees the file empty or half
// written, and a process killed on the way leaves either no file or the
// whole one. storage.DiskFs links a written temporary file into place;
// storage.BlobFs uploads with a conditional write. A publish lock created
// this way always names its holder.
type ExclusiveCreator interface {
	CreateExclusive(name string, data []byte) error
}

// CreateExclusive creates name holding data, failing with an error that
// is os.ErrExist when name is taken. It reports whether the file appeared
// whole in one step (fsys is an ExclusiveCreator); otherwise it was
// created empty and then written, and a reader in between saw it empty.
func CreateExclusive(fsys afero.Fs, name string, data []byte) (whole bool, err error) {
	if c, ok := fsys.(ExclusiveCreator); ok {
		return true, c.CreateExclusive(name, data)
	}
	return false, CreateThenWrite(fsys, name, data)
}

// CreateThenWrite creates name with O_EXCL and writes data to it. It is
// CreateExclusive for a file system that has nothing better; on one that
// uploads on close (storage.BlobFs), it is already whole.
func CreateThenWrite(fsys afero.Fs, name string, data []byte) error {
	f, err := fsys.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil && !errors.Is(werr, os.ErrExist) {
		fsys.Remove(name)
	}
	return werr
}
