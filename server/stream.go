package server

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
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

// openStream opens a variant too big for the cache, after refusing what
// is not a regular file of the manifest's size, or what failed its hash
// before and has not changed since. A range request (whole is false) on
// a file not yet verified is verified in one pass first, since a range
// alone cannot be.
func (s *Server) openStream(vr *variant, whole bool) (*verifyingFile, error) {
	fi, why, err := layout.NotPlain(s.cfg.Fs, vr.storage, false)
	if err != nil {
		return nil, err
	}
	if why != "" {
		return nil, fmt.Errorf("%w: %s is %s", errIntegrity, vr.storage, why)
	}
	if fi.Size() != vr.size {
		return nil, fmt.Errorf("%w: %s is %d bytes, manifest says %d", errIntegrity, vr.storage, fi.Size(), vr.size)
	}
	check := vr.check.Load()
	if check.matches(fi) && !check.ok {
		return nil, fmt.Errorf("%w: %s failed its hash and has not changed since", errIntegrity, vr.storage)
	}
	if !whole && !check.matches(fi) {
		if err := s.verifyWhole(vr, fi); err != nil {
			return nil, err
		}
	}
	f, err := s.cfg.Fs.Open(vr.storage)
	if err != nil {
		return nil, err
	}
	return &verifyingFile{File: f, vr: vr, fi: fi, h: sha256.New()}, nil
}

// verifyWhole hashes a stored file in one pass and records the outcome.
func (s *Server) verifyWhole(vr *variant, fi fs.FileInfo) error {
	f, err := s.cfg.Fs.Open(vr.storage)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	ok := hex.EncodeToString(h.Sum(nil)) == vr.sha256
	vr.check.Store(&fileCheck{size: fi.Size(), mod: fi.ModTime(), ok: ok})
	if !ok {
		return fmt.Errorf("%w: %s", errIntegrity, vr.storage)
	}
	return nil
}

// verifyingFile hashes what http.ServeContent reads, while it reads the
// whole file in order from the start. The read that would return the
// last bytes checks the hash first, and returns errIntegrity instead of
// them on a mismatch.
type verifyingFile struct {
	afero.File
	vr       *variant
	fi       fs.FileInfo
	h        hash.Hash
	pos      int64
	partial  bool // a seek away from the start: this response is a range
	mismatch bool
}

// Seek follows http.ServeContent: it measures the size (a seek to the
// end), then rewinds to send the whole file, or seeks to a range.
func (f *verifyingFile) Seek(offset int64, whence int) (int64, error) {
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

func (f *verifyingFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	if f.partial || n == 0 {
		return n, err
	}
	f.h.Write(p[:n])
	f.pos += int64(n)
	switch {
	case f.pos > f.vr.size:
		f.fail()
		return 0, fmt.Errorf("%w: %s grew past %d bytes while it was sent", errIntegrity, f.vr.storage, f.vr.size)
	case f.pos == f.vr.size:
		if hex.EncodeToString(f.h.Sum(nil)) != f.vr.sha256 {
			f.fail()
			return 0, fmt.Errorf("%w: %s", errIntegrity, f.vr.storage)
		}
		f.vr.check.Store(&fileCheck{size: f.fi.Size(), mod: f.fi.ModTime(), ok: true})
	}
	return n, err
}

func (f *verifyingFile) fail() {
	f.mismatch = true
	f.vr.check.Store(&fileCheck{size: f.fi.Size(), mod: f.fi.ModTime(), ok: false})
}

// abortIfMismatched ends a response whose stream failed its hash: the
// bytes sent fall short of Content-Length, and the connection is cut
// (http.ErrAbortHandler), so nothing keeps the response as complete.
func (s *Server) abortIfMismatched(f *verifyingFile) {
	if !f.mismatch {
		return
	}
	s.log.Error("aborted a response: the stored file failed its integrity check while it was sent", "file", f.vr.storage)
	s.metrics.damaged.Inc()
	panic(http.ErrAbortHandler)
}
