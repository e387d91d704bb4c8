package content

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
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
//
// A range cannot be checked against the whole file's hash. So the first
// pass over the whole file that matches the manifest (a whole response,
// or, for a range asked first, one pass before it) also records the
// SHA-256 of each chunk (ChunkSize), in memory: 32 bytes per chunk. A
// range is then read in whole chunks, each checked against its recorded
// hash before any of its bytes is sent, whatever the file's size or
// modification time say; a chunk that fails cuts the response as above.

// ChunkSize is the span of bytes each recorded hash of a streamed file
// covers: a range reads at most two chunks more than it sends.
const ChunkSize = 256 << 10

// fileCheck is what is known about a streamed variant's stored file,
// as of the file's size and modification time.
type fileCheck struct {
	size int64
	mod  time.Time
	ok   bool // its bytes matched the manifest; false: they did not
	// chunks are the SHA-256 of each ChunkSize span of the bytes that
	// matched, when ok.
	chunks [][sha256.Size]byte
}

// chunkHasher hashes what is written to it per ChunkSize span.
type chunkHasher struct {
	h      hash.Hash
	n      int
	chunks [][sha256.Size]byte
}

func newChunkHasher() *chunkHasher { return &chunkHasher{h: sha256.New()} }

func (c *chunkHasher) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		k := min(len(p), ChunkSize-c.n)
		c.h.Write(p[:k])
		c.n += k
		p = p[k:]
		if c.n == ChunkSize {
			c.flush()
		}
	}
	return total, nil
}

// done returns the hashes, the last (short) chunk's included.
func (c *chunkHasher) done() [][sha256.Size]byte {
	if c.n > 0 {
		c.flush()
	}
	return c.chunks
}

func (c *chunkHasher) flush() {
	var sum [sha256.Size]byte
	c.h.Sum(sum[:0])
	c.chunks = append(c.chunks, sum)
	c.h.Reset()
	c.n = 0
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
	if !whole && (check == nil || !check.ok) {
		if check, err = st.verifyWhole(vr, fi); err != nil {
			return nil, err
		}
	}
	f, err := st.fs.Open(vr.Storage)
	if err != nil {
		return nil, err
	}
	vf := &VerifyingFile{File: f, vr: vr, fi: fi, h: sha256.New(), ranged: !whole}
	if check == nil || !check.ok {
		vf.chunks = newChunkHasher() // the first good pass records them
	} else {
		vf.known = check.chunks
	}
	return vf, nil
}

// verifyWhole hashes a stored file in one pass, with its chunks, and
// records the outcome.
func (st *Store) verifyWhole(vr *Variant, fi fs.FileInfo) (*fileCheck, error) {
	f, err := st.fs.Open(vr.Storage)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h, chunks := sha256.New(), newChunkHasher()
	n, err := io.Copy(io.MultiWriter(h, chunks), f)
	if err != nil {
		return nil, err
	}
	c := &fileCheck{size: fi.Size(), mod: fi.ModTime(), ok: n == vr.Size && hex.EncodeToString(h.Sum(nil)) == vr.SHA256}
	if c.ok {
		c.chunks = chunks.done()
	}
	vr.check.Store(c)
	if !c.ok {
		return nil, fmt.Errorf("%w: %s", ErrIntegrity, vr.Storage)
	}
	return c, nil
}

// VerifyingFile hashes what http.ServeContent reads, while it reads the
// whole file in order from the start. The read that would return the
// last bytes checks the hash first, and returns ErrIntegrity instead of
// them on a mismatch. After a seek away from the start (a range), it
// reads whole chunks and checks each against its recorded hash before
// returning any of it.
type VerifyingFile struct {
	afero.File
	vr       *Variant
	fi       fs.FileInfo
	h        hash.Hash
	pos      int64
	partial  bool // read by chunks (readRange): this response is a range
	ranged   bool // the request asked for a range: every read is by chunks
	mismatch bool
	// chunks records the chunk hashes of a first whole pass; known are
	// those recorded before, which a range is checked against.
	chunks *chunkHasher
	known  [][sha256.Size]byte
	// buf holds the checked chunk that starts at bufAt, for a range.
	buf   []byte
	bufAt int64
}

// Seek follows http.ServeContent: it measures the size (a seek to the
// end), then rewinds to send the whole file, or seeks to a range (and
// each range of a multipart answer).
func (f *VerifyingFile) Seek(offset int64, whence int) (int64, error) {
	if whence == io.SeekStart && (offset > 0 || f.ranged) {
		if offset > f.vr.Size {
			return 0, fmt.Errorf("seek past the end of %s", f.vr.Storage)
		}
		f.pos, f.partial = offset, true // read by readRange, chunk by chunk
		return offset, nil
	}
	n, err := f.File.Seek(offset, whence)
	switch {
	case err != nil, whence == io.SeekEnd && offset == 0:
	case n == 0:
		f.h.Reset()
		f.pos, f.partial = 0, false
		if f.chunks != nil {
			f.chunks = newChunkHasher()
		}
	default:
		f.partial = true
	}
	return n, err
}

func (f *VerifyingFile) Read(p []byte) (int, error) {
	if f.partial {
		return f.readRange(p)
	}
	n, err := f.File.Read(p)
	if n == 0 {
		return n, err
	}
	f.h.Write(p[:n])
	if f.chunks != nil {
		f.chunks.Write(p[:n])
	}
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
		c := &fileCheck{size: f.fi.Size(), mod: f.fi.ModTime(), ok: true}
		if f.chunks != nil {
			c.chunks = f.chunks.done()
		} else {
			c.chunks = f.known
		}
		f.vr.check.Store(c)
	}
	return n, err
}

// readRange reads from pos through the checked chunk that holds it.
func (f *VerifyingFile) readRange(p []byte) (int, error) {
	if f.pos >= f.vr.Size {
		return 0, io.EOF
	}
	if f.buf == nil || f.pos < f.bufAt || f.pos >= f.bufAt+int64(len(f.buf)) {
		if err := f.loadChunk(f.pos / ChunkSize); err != nil {
			return 0, err
		}
	}
	n := copy(p, f.buf[f.pos-f.bufAt:])
	f.pos += int64(n)
	return n, nil
}

// loadChunk reads chunk i whole and checks it against its recorded hash.
func (f *VerifyingFile) loadChunk(i int64) error {
	if i >= int64(len(f.known)) {
		f.fail() // no recorded hashes to check a range by: never sent unchecked
		return fmt.Errorf("%w: %s: no chunk hashes to check a range by", ErrIntegrity, f.vr.Storage)
	}
	at := i * ChunkSize
	size := min(int64(ChunkSize), f.vr.Size-at)
	if cap(f.buf) < int(size) {
		f.buf = make([]byte, ChunkSize)
	}
	f.buf = f.buf[:size]
	if _, err := f.File.Seek(at, io.SeekStart); err != nil {
		return err
	}
	if _, err := io.ReadFull(f.File, f.buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			f.fail()
			return fmt.Errorf("%w: %s shrank while it was sent", ErrIntegrity, f.vr.Storage)
		}
		return err
	}
	if sha256.Sum256(f.buf) != f.known[i] {
		f.buf = nil
		f.fail()
		return fmt.Errorf("%w: %s: bytes %d-%d do not match what was checked before", ErrIntegrity, f.vr.Storage, at, at+size-1)
	}
	f.bufAt = at
	return nil
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
