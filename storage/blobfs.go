package storage

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// BlobFs is a small writable afero.Fs over a gocloud.dev blob.Bucket,
// such as an S3 bucket. Keys are slash-separated paths; directories are
// implicit (the prefixes of keys). A file is read whole into memory when
// opened, and written when closed. Rename is emulated by copy and
// delete, so it is not atomic: BlobFs reports WritesInPlace, and package
// dist then publishes without renaming directories.
type BlobFs struct {
	bucket *blob.Bucket
	// Timeout bounds each storage call (default 30s).
	Timeout time.Duration
	// Options gives the attributes an object is written with; the default
	// is ObjectOptions.
	Options func(key string) *blob.WriterOptions
}

var (
	_ afero.Fs             = (*BlobFs)(nil)
	_ layout.InPlaceWriter = (*BlobFs)(nil)
)

// NewBlobFs wraps a bucket.
func NewBlobFs(b *blob.Bucket) *BlobFs {
	return &BlobFs{bucket: b, Timeout: 30 * time.Second, Options: ObjectOptions}
}

// WritesInPlace reports that directory renames are not atomic here.
func (*BlobFs) WritesInPlace() bool { return true }

// Name names the file system.
func (*BlobFs) Name() string { return "BlobFs" }

func (b *BlobFs) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), b.Timeout)
}

// key turns an afero path into a blob key: slash-separated, clean, with
// no leading slash; the root is "".
func key(name string) string {
	k := strings.TrimPrefix(path.Clean("/"+strings.ReplaceAll(name, "\\", "/")), "/")
	return k
}

// pathErr wraps a storage error as os does, mapping "not found" to
// fs.ErrNotExist and "already exists" to fs.ErrExist, so callers can use
// errors.Is as with afero.OsFs.
func pathErr(op, name string, err error) error {
	switch gcerrors.Code(err) {
	case gcerrors.NotFound:
		err = fs.ErrNotExist
	case gcerrors.FailedPrecondition, gcerrors.AlreadyExists:
		err = fs.ErrExist
	}
	return &os.PathError{Op: op, Path: name, Err: err}
}

// Stat returns a file's size and time, or a directory when objects exist
// below the name. Stat of the root asks whether the bucket is reachable.
func (b *BlobFs) Stat(name string) (os.FileInfo, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	k := key(name)
	if k == "" {
		ok, err := b.bucket.IsAccessible(ctx)
		if err != nil {
			return nil, pathErr("stat", name, err)
		}
		if !ok {
			return nil, pathErr("stat", name, fs.ErrNotExist)
		}
		return dirInfo(""), nil
	}
	attrs, err := b.bucket.Attributes(ctx, k)
	if err == nil {
		return fileInfo{name: path.Base(k), size: attrs.Size, mod: attrs.ModTime}, nil
	}
	if gcerrors.Code(err) != gcerrors.NotFound {
		return nil, pathErr("stat", name, err)
	}
	it := b.bucket.List(&blob.ListOptions{Prefix: k + "/"})
	if _, err := it.Next(ctx); err == nil {
		return dirInfo(path.Base(k)), nil
	} else if !errors.Is(err, io.EOF) {
		return nil, pathErr("stat", name, err)
	}
	return nil, pathErr("stat", name, fs.ErrNotExist)
}

// Open opens a file for reading (its bytes are fetched now) or a
// directory for listing.
func (b *BlobFs) Open(name string) (afero.File, error) {
	fi, err := b.Stat(name)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return &dirFile{fs: b, name: name, key: key(name)}, nil
	}
	ctx, cancel := b.ctx()
	defer cancel()
	data, err := b.bucket.ReadAll(ctx, key(name))
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	return &readFile{Reader: bytes.NewReader(data), name: name, info: fi}, nil
}

// OpenFile opens for reading like Open, or for writing when flag asks
// for it. A written file is uploaded when it is closed; with O_EXCL the
// upload succeeds only if no object has the key (a conditional write).
func (b *BlobFs) OpenFile(name string, flag int, _ os.FileMode) (afero.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC) == 0 {
		return b.Open(name)
	}
	if flag&os.O_APPEND != 0 || (flag&os.O_TRUNC == 0 && flag&os.O_EXCL == 0) {
		return nil, &os.PathError{Op: "open", Path: name, Err: errors.New("BlobFs writes whole objects: open with O_TRUNC or O_EXCL")}
	}
	k := key(name)
	if k == "" {
		return nil, &os.PathError{Op: "open", Path: name, Err: syscall.EISDIR}
	}
	excl := flag&os.O_EXCL != 0
	if excl {
		ctx, cancel := b.ctx()
		ok, err := b.bucket.Exists(ctx, k)
		cancel()
		if err != nil {
			return nil, pathErr("open", name, err)
		}
		if ok {
			return nil, pathErr("open", name, fs.ErrExist)
		}
	}
	return &writeFile{fs: b, name: name, key: k, excl: excl}, nil
}

// Create opens a new, empty file for writing.
func (b *BlobFs) Create(name string) (afero.File, error) {
	return b.OpenFile(name, os.O_CREATE|os.O_TRUNC|os.O_RDWR, 0o644)
}

// Mkdir and MkdirAll succeed: directories are implicit.
func (*BlobFs) Mkdir(string, os.FileMode) error    { return nil }
func (*BlobFs) MkdirAll(string, os.FileMode) error { return nil }

// Remove deletes a file, or succeeds for an empty (absent) directory.
func (b *BlobFs) Remove(name string) error {
	fi, err := b.Stat(name)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return &os.PathError{Op: "remove", Path: name, Err: syscall.ENOTEMPTY}
	}
	ctx, cancel := b.ctx()
	defer cancel()
	if err := b.bucket.Delete(ctx, key(name)); err != nil {
		return pathErr("remove", name, err)
	}
	return nil
}

// RemoveAll deletes a file and every object below the name.
func (b *BlobFs) RemoveAll(name string) error {
	ctx, cancel := b.ctx()
	defer cancel()
	k := key(name)
	keys, err := b.keysBelow(ctx, k)
	if err != nil {
		return pathErr("removeall", name, err)
	}
	if k != "" {
		keys = append(keys, k)
	}
	for _, key := range keys {
		if err := b.bucket.Delete(ctx, key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			return pathErr("removeall", name, err)
		}
	}
	return nil
}

// Rename copies then deletes: one object, or every object below a
// directory. It is not atomic.
func (b *BlobFs) Rename(oldname, newname string) error {
	fi, err := b.Stat(oldname)
	if err != nil {
		return err
	}
	ctx, cancel := b.ctx()
	defer cancel()
	oldKey, newKey := key(oldname), key(newname)
	pairs := [][2]string{{oldKey, newKey}}
	if fi.IsDir() {
		below, err := b.keysBelow(ctx, oldKey)
		if err != nil {
			return pathErr("rename", oldname, err)
		}
		pairs = pairs[:0]
		for _, k := range below {
			pairs = append(pairs, [2]string{k, newKey + strings.TrimPrefix(k, oldKey)})
		}
	}
	for _, p := range pairs {
		if err := b.bucket.Copy(ctx, p[1], p[0], nil); err != nil {
			return pathErr("rename", oldname, err)
		}
	}
	for _, p := range pairs {
		if err := b.bucket.Delete(ctx, p[0]); err != nil {
			return pathErr("rename", oldname, err)
		}
	}
	return nil
}

func (b *BlobFs) keysBelow(ctx context.Context, k string) ([]string, error) {
	prefix := ""
	if k != "" {
		prefix = k + "/"
	}
	var keys []string
	it := b.bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return keys, nil
		}
		if err != nil {
			return nil, err
		}
		keys = append(keys, obj.Key)
	}
}

// Chmod, Chown and Chtimes succeed and change nothing: objects have no
// modes or owners, and their times are the store's.
func (*BlobFs) Chmod(string, os.FileMode) error            { return nil }
func (*BlobFs) Chown(string, int, int) error               { return nil }
func (*BlobFs) Chtimes(string, time.Time, time.Time) error { return nil }

// list returns the entries directly below a directory key.
func (b *BlobFs) list(k string) ([]os.FileInfo, error) {
	ctx, cancel := b.ctx()
	defer cancel()
	prefix := ""
	if k != "" {
		prefix = k + "/"
	}
	var out []os.FileInfo
	it := b.bucket.List(&blob.ListOptions{Prefix: prefix, Delimiter: "/"})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(strings.TrimPrefix(obj.Key, prefix), "/")
		if obj.IsDir {
			out = append(out, dirInfo(name))
		} else {
			out = append(out, fileInfo{name: name, size: obj.Size, mod: obj.ModTime})
		}
	}
}

var _ layout.ExclusiveCreator = (*BlobFs)(nil)

// CreateExclusive uploads data to name with a conditional write, which
// fails if an object has the key: the object appears whole or not at all.
func (b *BlobFs) CreateExclusive(name string, data []byte) error {
	return layout.CreateThenWrite(b, name, data)
}
