package storage

import (
	"path"
	"strings"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/server"
	"github.com/cdnserve/cdnserve/versioning"
	"gocloud.dev/blob"
)

// ObjectOptions gives each object the headers cdnserve would serve it
// with, so that a bucket served directly, or through a CDN, behaves the
// same: the exact Content-Type; Content-Encoding for a .br or .gz
// sidecar; a year and immutable under an exact version, the short alias
// policy under an alias, and no-cache for manifests and internal files.
func ObjectOptions(key string) *blob.WriterOptions {
	base, enc := key, ""
	for _, e := range dist.Encodings {
		if b, ok := strings.CutSuffix(key, e.Suffix); ok && dist.Compressible(b) {
			base, enc = b, e.Name
		}
	}
	opts := &blob.WriterOptions{ContentType: dist.ContentType(base), ContentEncoding: enc, CacheControl: "no-cache"}
	first, _, _ := strings.Cut(key, "/")
	switch {
	case path.Base(key) == dist.ManifestName || strings.HasPrefix(first, "."):
		// internal: never cache
	case isExact(first):
		opts.CacheControl = server.DefaultExactCacheControl
	case versioning.IsAliasName(first):
		opts.CacheControl = server.DefaultAliasCacheControl
	}
	return opts
}

func isExact(name string) bool {
	_, err := versioning.Parse(name)
	return err == nil
}
