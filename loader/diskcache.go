package loader

import (
	"path"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

// The disk cache keeps, below CacheDir/<version>/ (or
// CacheDir/<library>/<version>/ for a named library): files/<file> (the
// bytes), etags/<file> (the ETag they came with) and meta.json (the
// version's integrity manifest). Writes are atomic: a temporary file
// renamed into place.

func (l *Loader) cachePath(kind, file string) string {
	return path.Join(l.cacheRoot(), kind, file)
}

// diskGet returns a cached file and its ETag.
func (l *Loader) diskGet(file string) ([]byte, string, bool) {
	if l.opts.CacheDir == "" {
		return nil, "", false
	}
	data, err := afero.ReadFile(l.opts.CacheFs, l.cachePath("files", file))
	if err != nil {
		return nil, "", false
	}
	etag, _ := afero.ReadFile(l.opts.CacheFs, l.cachePath("etags", file))
	return data, string(etag), true
}

// diskPut stores a verified file. A failure only costs a later refetch,
// so it is not an error.
func (l *Loader) diskPut(file string, data []byte, etag string) {
	if l.opts.CacheDir == "" {
		return
	}
	l.writeAtomic(l.cachePath("etags", file), []byte(etag))
	l.writeAtomic(l.cachePath("files", file), data)
}

func (l *Loader) diskMeta() ([]byte, bool) {
	if l.opts.CacheDir == "" {
		return nil, false
	}
	raw, err := afero.ReadFile(l.opts.CacheFs, path.Join(l.cacheRoot(), "meta.json"))
	return raw, err == nil
}

func (l *Loader) diskPutMeta(raw []byte) {
	if l.opts.CacheDir != "" {
		l.writeAtomic(path.Join(l.cacheRoot(), "meta.json"), raw)
	}
}

// writeAtomic writes a cache entry so that a concurrent reader, or the
// next run after a crash, sees the old entry or the new one, never half.
// A cache that cannot be written is skipped: the next load fetches again.
func (l *Loader) writeAtomic(p string, data []byte) {
	layout.WriteFileAtomic(l.opts.CacheFs, p, data)
}

// cacheRoot is the version's directory in the disk cache.
func (l *Loader) cacheRoot() string {
	return path.Join(l.opts.CacheDir, l.libraryPrefix(), l.opts.Version)
}
