package storage

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/afero"
)

// fileInfo describes an object.
type fileInfo struct {
	name string
	size int64
	mod  time.Time
}

func (f fileInfo) Name() string       { return f.name }
func (f fileInfo) Size() int64        { return f.size }
func (f fileInfo) Mode() os.FileMode  { return 0o644 }
func (f fileInfo) ModTime() time.Time { return f.mod }
func (f fileInfo) IsDir() bool        { return false }
func (f fileInfo) Sys() any           { return nil }

// dirInfo describes an implicit directory.
type dirInfo string

func (d dirInfo) Name() string       { return string(d) }
func (d dirInfo) Size() int64        { return 0 }
func (d dirInfo) Mode() os.FileMode  { return fs.ModeDir | 0o755 }
func (d dirInfo) ModTime() time.Time { return time.Time{} }
func (d dirInfo) IsDir() bool        { return true }
func (d dirInfo) Sys() any           { return nil }

var errReadOnly = syscall.EBADF

// readFile is an object's bytes, opened for reading.
type readFile struct {
	*bytes.Reader
	name string
	info os.FileInfo
}

var _ afero.File = (*readFile)(nil)

func (f *readFile) Close() error               { return nil }
func (f *readFile) Name() string               { return f.name }
func (f *readFile) Stat() (os.FileInfo, error) { return f.info, nil }
func (f *readFile) Sync() error                { return nil }
func (f *readFile) Readdir(int) ([]os.FileInfo, error) {
	return nil, &os.PathError{Op: "readdir", Path: f.name, Err: syscall.ENOTDIR}
}
func (f *readFile) Readdirnames(int) ([]string, error) {
	return nil, &os.PathError{Op: "readdir", Path: f.name, Err: syscall.ENOTDIR}
}
func (f *readFile) Write([]byte) (int, error) {
	return 0, &os.PathError{Op: "write", Path: f.name, Err: errReadOnly}
}
func (f *readFile) WriteAt([]byte, int64) (int, error) {
	return 0, &os.PathError{Op: "write", Path: f.name, Err: errReadOnly}
}
func (f *readFile) WriteString(string) (int, error) {
	return 0, &os.PathError{Op: "write", Path: f.name, Err: errReadOnly}
}
func (f *readFile) Truncate(int64) error {
	return &os.PathError{Op: "truncate", Path: f.name, Err: errReadOnly}
}

// writeFile buffers what is written and uploads it as one object when
// closed.
type writeFile struct {
	fs     *BlobFs
	name   string
	key    string
	excl   bool
	buf    bytes.Buffer
	closed bool
}

var _ afero.File = (*writeFile)(nil)

func (f *writeFile) Write(p []byte) (int, error)       { return f.buf.Write(p) }
func (f *writeFile) WriteString(s string) (int, error) { return f.buf.WriteString(s) }
func (f *writeFile) Name() string                      { return f.name }
func (f *writeFile) Sync() error                       { return nil }

// Close uploads the object. With O_EXCL it is a conditional write, which
// fails with fs.ErrExist when another writer created the key first.
func (f *writeFile) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	ctx, cancel := f.fs.ctx()
	defer cancel()
	opts := *f.fs.Options(f.key)
	opts.IfNotExist = f.excl
	if err := f.fs.bucket.WriteAll(ctx, f.key, f.buf.Bytes(), &opts); err != nil {
		return pathErr("write", f.name, err)
	}
	return nil
}

func (f *writeFile) Stat() (os.FileInfo, error) {
	return fileInfo{name: f.name, size: int64(f.buf.Len()), mod: time.Now()}, nil
}
func (f *writeFile) Read([]byte) (int, error) {
	return 0, &os.PathError{Op: "read", Path: f.name, Err: syscall.EBADF}
}
func (f *writeFile) ReadAt([]byte, int64) (int, error) {
	return 0, &os.PathError{Op: "read", Path: f.name, Err: syscall.EBADF}
}
func (f *writeFile) Seek(int64, int) (int64, error) {
	return 0, &os.PathError{Op: "seek", Path: f.name, Err: syscall.ESPIPE}
}
func (f *writeFile) WriteAt([]byte, int64) (int, error) {
	return 0, &os.PathError{Op: "write", Path: f.name, Err: syscall.ESPIPE}
}
func (f *writeFile) Truncate(size int64) error {
	if size > int64(f.buf.Len()) {
		return &os.PathError{Op: "truncate", Path: f.name, Err: syscall.EINVAL}
	}
	f.buf.Truncate(int(size))
	return nil
}
func (f *writeFile) Readdir(int) ([]os.FileInfo, error) {
	return nil, &os.PathError{Op: "readdir", Path: f.name, Err: syscall.ENOTDIR}
}
func (f *writeFile) Readdirnames(int) ([]string, error) {
	return nil, &os.PathError{Op: "readdir", Path: f.name, Err: syscall.ENOTDIR}
}

// dirFile lists an implicit directory.
type dirFile struct {
	fs      *BlobFs
	name    string
	key     string
	entries []os.FileInfo
	read    bool
}

var _ afero.File = (*dirFile)(nil)

// Readdir returns the entries in name order; n > 0 reads in batches as
// os.File does.
func (d *dirFile) Readdir(n int) ([]os.FileInfo, error) {
	if !d.read {
		entries, err := d.fs.list(d.key)
		if err != nil {
			return nil, pathErr("readdir", d.name, err)
		}
		slices.SortFunc(entries, func(a, b os.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })
		d.entries, d.read = entries, true
	}
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.entries))
	out := d.entries[:n]
	d.entries = d.entries[n:]
	return out, nil
}

func (d *dirFile) Readdirnames(n int) ([]string, error) {
	infos, err := d.Readdir(n)
	names := make([]string, len(infos))
	for i, fi := range infos {
		names[i] = fi.Name()
	}
	return names, err
}

func (d *dirFile) Close() error               { return nil }
func (d *dirFile) Name() string               { return d.name }
func (d *dirFile) Stat() (os.FileInfo, error) { return dirInfo(d.key), nil }
func (d *dirFile) Sync() error                { return nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &os.PathError{Op: "read", Path: d.name, Err: syscall.EISDIR}
}
func (d *dirFile) ReadAt([]byte, int64) (int, error) {
	return 0, &os.PathError{Op: "read", Path: d.name, Err: syscall.EISDIR}
}
func (d *dirFile) Seek(int64, int) (int64, error) {
	return 0, &os.PathError{Op: "seek", Path: d.name, Err: syscall.EISDIR}
}
func (d *dirFile) Write([]byte) (int, error) {
	return 0, &os.PathError{Op: "write", Path: d.name, Err: syscall.EISDIR}
}
func (d *dirFile) WriteAt([]byte, int64) (int, error) {
	return 0, &os.PathError{Op: "write", Path: d.name, Err: syscall.EISDIR}
}
func (d *dirFile) WriteString(string) (int, error) {
	return 0, &os.PathError{Op: "write", Path: d.name, Err: syscall.EISDIR}
}
func (d *dirFile) Truncate(int64) error {
	return &os.PathError{Op: "truncate", Path: d.name, Err: syscall.EISDIR}
}
