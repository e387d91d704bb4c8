package storage

import (
	"path"
	"strings"

	"github.com/cdnserve/cdnserve/layout"
	"gocloud.dev/blob"
)

// ObjectOptions gives each object the headers cdnserve would serve it
// with, so that a bucket served directly, or through a CDN, behaves the
// same: the exact Content-Type; Content-Encoding for a .br or .gz
// sidecar; a year and immutable under an exact version, the short alias
// policy under an alias, and no-cache for manifests and internal files,
// in the root library and in every named one.
func ObjectOptions(key string) *blob.WriterOptions {
	opts := &blob.WriterOptions{ContentType: layout.ContentType(key), CacheControl: layout.InternalCacheControl}
	if base, enc, ok := layout.SplitSidecar(key); ok {
		opts.ContentType, opts.ContentEncoding = layout.ContentType(base), enc.Name
	}
	if path.Base(key) == layout.ManifestName {
		return opts
	}
	_, inLibrary := layout.SplitLibrary(key)
	first, _, _ := strings.Cut(inLibrary, "/")
	switch layout.ClassifyDir(first) {
	case layout.Exact:
		opts.CacheControl = layout.DefaultExactCacheControl
	case layout.Alias:
		opts.CacheControl = layout.DefaultAliasCacheControl
	}
	return opts
}
