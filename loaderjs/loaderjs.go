// Package loaderjs holds the browser dependency loader that serve sends
// at /-/loader.js: the seed's DependencyLoader API ({cdn_http, cdn_https,
// version, suffix}, getRoot, getPath, load) with integrity. It fetches
// /-/meta once per version and sets integrity and crossorigin on every
// script it injects; concurrent loads share a tag; failures are not
// remembered; it times out and falls back to mirrors; it takes a library
// and a URL signer.
//
// The source is src/loader.js. loader.min.js is what cdnserve's own build
// code makes of it (target es5, so no newer syntax can reach a browser the
// seed supported); it is embedded here so that the server links no
// esbuild, and TestEmbeddedIsBuilt holds the two together
// (go test ./loaderjs -update rewrites it).
package loaderjs

import (
	_ "embed"

	"github.com/cdnserve/cdnserve/layout"
)

// Min is the minified loader.
//
//go:embed loader.min.js
var Min []byte

// Integrity is Min's SRI string, for <script integrity>.
var Integrity = layout.SRI(Min)
