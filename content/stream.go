package content

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"time"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

// A file too big for the body cache is streamed from storage, and checked
// against its manifest as it goes: it must be a regular file (no link)
// of the manifest's size, and its SHA-256 must match by the last byte. On
// a mismatch the last bytes are withheld and the connection is aborted,
// so that no client or edge keeps a complete response; the variant then
// answers 500 until the file on storage changes.

// fileCheck is what is known about a streamed variant's stored file,
// as of the file's size and modification time.
type fileCheck struct {
	size int64
	mod  time.Time
	ok   bool // its bytes matched the manifest; false: they did not
}

// matches reports whether the check is about the file as fi describes it.
func (c *fileCheck) matches(fi fs.FileInfo) bool {
	return c != nil && c.size == fi.Size() && c.mod.Equal(fi.ModTime())
}

// Open opens a variant too big for the cache, after refusing what
// is not a regular file of the manifest's size, or what failed its hash
// before and has not changed since. A range request (whole is false) on
// a file not yet verified is verified in one pass first, since a range
// alone cannot be.
func (st *Store) Open(vr *Variant, whole bool) (*VerifyingFile, error) {
	fi, why, err := layout.NotPlain(st.fs, vr.Storage, false)
	if err != nil {
		return nil, err
	}
	if why != "" {
		return nil, fmt.Errorf("%w: %s is %s", ErrIntegrity, vr.Storage, why)
	}
	if fi.Size() != vr.Size {
		return nil, fmt.Errorf("%w: %s is %d bytes, manifest says %d", ErrIntegrity, vr.Storage, fi.Size(), vr.Size)
	}
	check := vr.check.Load()
	if check.matches(fi) && !check.ok {
		return nil, fmt.Errorf("%w: %s failed its hash and has not changed since", ErrIntegrity, vr.Storage)
	}
	if !whole && !check.matches(fi) {
		if err := st.verifyWhole(vr, fi); err != nil {
			return nil, err
		}
	}
	f, err := st.fs.Open(vr.Storage)
	if err != nil {
		return nil, err
	}
	return &VerifyingFile{File: f, vr: vr, fi: fi, h: sha256.New()}, nil
}

// verifyWhole hashes a stored file in one pass and records the outcome.
func (st *Store) verifyWhole(vr *Variant, fi fs.FileInfo) error {
	f, err := st.fs.Open(vr.Storage)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	ok := hex.EncodeToString(h.Sum(nil)) == vr.SHA256
	vr.check.Store(&fileCheck{size: fi.Size(), mod: fi.ModTime(), ok: ok})
	if !ok {
		return fmt.Errorf("%w: %s", ErrIntegrity, vr.Storage)
	}
	return nil
}

// VerifyingFile hashes what http.ServeContent reads, while it reads the
// whole file in order from the start. The read that would return the
// last bytes checks the hash first, and returns ErrIntegrity instead of
// them on a mismatch.
type VerifyingFile struct {
	afero.File
	vr       *Variant
	fi       fs.FileInfo
	h        hash.Hash
	pos      int64
	partial  bool // a seek away from the start: this response is a range
	mismatch bool
}

// Seek follows http.ServeContent: it measures the size (a seek to the
// end), then rewinds to send the whole file, or seeks to a range.
func (f *VerifyingFile) Seek(offset int64, whence int) (int64, error) {
	n, err := f.File.Seek(offset, whence)
	switch {
	case err != nil, whence == io.SeekEnd && offset == 0:
	case n == 0:
		f.h.Reset()
		f.pos, f.partial = 0, false
	default:
		f.partial = true
	}
	return n, err
}

func (f *VerifyingFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	if f.partial || n == 0 {
		return n, err
	}
	f.h.Write(p[:n])
	f.pos += int64(n)
	switch {
	case f.pos > f.vr.Size:
		f.fail()
		return 0, fmt.Errorf("%w: %s grew past %d bytes while it was sent", ErrIntegrity, f.vr.Storage, f.vr.Size)
	case f.pos == f.vr.Size:
		if hex.EncodeToString(f.h.Sum(nil)) != f.vr.SHA256 {
			f.fail()
			return 0, fmt.Errorf("%w: %s", ErrIntegrity, f.vr.Storage)
		}
		f.vr.check.Store(&fileCheck{size: f.fi.Size(), mod: f.fi.ModTime(), ok: true})
	}
	return n, err
}

// Mismatched reports whether the bytes read failed their hash: the
// response must be cut, not completed.
func (f *VerifyingFile) Mismatched() bool { return f.mismatch }

// Storage is where the file's bytes are stored.
func (f *VerifyingFile) Storage() string { return f.vr.Storage }

func (f *VerifyingFile) fail() {
	f.mismatch = true
	f.vr.check.Store(&fileCheck{size: f.fi.Size(), mod: f.fi.ModTime(), ok: false})
}
