// Package bundle carries published versions from one cdnserve to another
// that cannot reach it, nor any registry: a site with no network. A
// bundle is one tar file holding each version's files, sidecars and
// integrity manifest (with its provenance and the gate's record) as the
// source stored them, the derived ES-module builds of its npm packages,
// and an index (IndexName) listing every file's size and SHA-256, signed
// with an Ed25519 key when one is given (SignatureName).
//
// The rules it keeps:
//
//   - Import checks everything before it publishes anything: the index's
//     signature when a key is given, every file against the index, no
//     file missing or extra, every name, version and path, and every
//     version against the storage it imports into. A flipped byte, a bad
//     signature, or a version that storage holds with other content
//     imports nothing.
//   - Import publishes through dist with the stored manifest
//     (dist.Request.Stored): each version atomic, immutable and
//     kill-safe, with the bytes, sidecars and provenance it had, so the
//     copy serves the same bytes; aliases move by dist's rules.
//   - Importing a bundle again is a no-op, and an interrupted import is
//     finished by running it again.
//   - Nothing a bundle names becomes a path unchecked: library names
//     pass layout.CheckLibraryName, versions versioning.Parse, files
//     layout.CheckPath.
package bundle

import (
	"fmt"
	"path"
	"time"
)

// Format names this layout of a bundle, in its index.
const Format = "cdnserve-bundle/1"

// The bundle's own files, after every version's.
const (
	// IndexName is the index: JSON, an Index.
	IndexName = "cdnserve-bundle.json"
	// SignatureName is the Ed25519 signature of the index's bytes, in
	// base64, when the bundle is signed.
	SignatureName = "cdnserve-bundle.sig"
)

// Index is what a bundle holds: its versions and the SHA-256 of each file.
type Index struct {
	Format  string    `json:"format"`
	Created time.Time `json:"created"`
	// Tool is the cdnserve that wrote it.
	Tool string `json:"tool"`
	// Since is what an incremental bundle left out: a date, or an
	// earlier bundle's versions ("" for a whole one).
	Since    string    `json:"since,omitempty"`
	Versions []Version `json:"versions"`
	// Files maps each file's path in the tar to its size and SHA-256.
	Files map[string]FileSum `json:"files"`
}

// FileSum is one file's size and hex SHA-256.
type FileSum struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Version is one published version in a bundle.
type Version struct {
	// Library is the library's name; "" is the root library (and a
	// build's).
	Library string `json:"library,omitempty"`
	// Build is a derived ES-module build's key (the tree
	// <root>/.esm/<key>), for a build; "" for a library's version.
	Build   string `json:"build,omitempty"`
	Version string `json:"version"`
	// Private records that the library is private in the source.
	Private bool `json:"private,omitempty"`
	// Deprecated is the version's deprecation message, if any.
	Deprecated string `json:"deprecated,omitempty"`
	// Manifest is the SHA-256 of the version's integrity manifest.
	Manifest string `json:"manifest_sha256"`
	// BuiltAt is when the version was published in the source.
	BuiltAt time.Time `json:"built_at"`
}

// Dir is where the version's files are in the tar.
func (v Version) Dir() string {
	switch {
	case v.Build != "":
		return path.Join("builds", v.Build, v.Version)
	case v.Library == "":
		return path.Join("root", v.Version)
	}
	return path.Join("libraries", v.Library, v.Version)
}

// String names the version for messages: "react@18.2.0", "the root
// library's 1.7.1", "the ES-module build <key> of 1.0.0".
func (v Version) String() string {
	switch {
	case v.Build != "":
		return fmt.Sprintf("the ES-module build %s@%s", v.Build, v.Version)
	case v.Library == "":
		return "the root library's " + v.Version
	}
	return v.Library + "@" + v.Version
}

// key identifies a version across bundles, for --since and conflicts.
func (v Version) key() string { return v.Build + "\x00" + v.Library + "\x00" + v.Version }
