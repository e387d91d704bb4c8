// Package layout is the vocabulary of a published dist tree, shared by
// every package that reads or writes one: the integrity manifest and its
// file name, which paths may appear in a tree, what a directory name is
// (an exact version, a major.minor alias, or internal), the content types
// and encodings files are served with, the default Cache-Control values,
// and the one atomic file write.
//
// It is a leaf: it imports nothing of cdnserve's but versioning, so that
// dist (which writes trees), server (which serves them), storage (which
// stores them) and build (which makes their files) can all use it without
// importing each other.
package layout

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// ManifestName is the integrity manifest in each version and alias
// directory. Servers never expose it as a plain file.
const ManifestName = "_cdnserve.json"

// ManifestFormat is the integrity manifest's format number.
const ManifestFormat = 1

// Manifest is a version directory's integrity manifest: every file with
// its size, type and hashes, and where the version came from.
type Manifest struct {
	// Format is ManifestFormat.
	Format int `json:"format"`
	// Version is the exact version the files belong to.
	Version string `json:"version"`
	// AliasOf is set in an alias directory ("1.7") to the exact version it
	// holds ("1.7.1"); empty in an exact version's directory.
	AliasOf string `json:"alias_of,omitempty"`
	// Files lists every public file, sorted by path.
	Files []ManifestFile `json:"files"`
	// Entry is the file a browser loads when it names the version but no
	// file (/<name>@<range>/): an npm package's jsdelivr, unpkg, browser
	// or main field. Empty for most libraries.
	Entry string `json:"entry,omitempty"`
	// Provenance records how the version was made.
	Provenance Provenance `json:"provenance"`
}

// ManifestFile describes one public file and its precompressed sidecars.
type ManifestFile struct {
	Path        string `json:"path"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	// SHA256 is the hex SHA-256 of the bytes; servers derive ETags from it.
	SHA256 string `json:"sha256"`
	// Integrity is the Subresource Integrity string (W3C SRI §3.1),
	// "sha384-" and the base64 SHA-384.
	Integrity string `json:"integrity"`
	// Encodings maps a Content-Encoding ("br", "gzip") to its sidecar.
	Encodings map[string]Sidecar `json:"encodings,omitempty"`
	// Module says the file is an ES module; see IsModule.
	Module bool `json:"module,omitempty"`
}

// IsModule reports whether a file runs only as an ES module
// (<script type="module">): a .mjs file, or one its build marked.
func (f ManifestFile) IsModule() bool {
	return f.Module || strings.HasSuffix(f.Path, ".mjs")
}

// Sidecar describes a precompressed variant, stored as path + suffix.
type Sidecar struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Provenance records who published a version, from what, and when.
type Provenance struct {
	// Tool is "cdnserve" and its version.
	Tool string `json:"tool"`
	// Source says what was published: "build" or "publish <dir>".
	Source string `json:"source,omitempty"`
	// ManifestSHA256 is the hex SHA-256 of the cdnserve.yaml built from.
	ManifestSHA256 string `json:"manifest_sha256,omitempty"`
	// GitCommit is the commit of the sources, when they are in a checkout.
	GitCommit string `json:"git_commit,omitempty"`
	// GitDirty is true when the checkout had uncommitted changes.
	GitDirty bool `json:"git_dirty,omitempty"`
	// BuiltAt is when the version was published, in UTC.
	BuiltAt time.Time `json:"built_at"`
	// Registry, Tarball and Integrity say where an npm package came from
	// (cdnserve add, the npm mirror): the registry's URL, the tarball's
	// URL, and npm's integrity string (sha512) the tarball was verified
	// against before anything was published.
	Registry  string `json:"registry,omitempty"`
	Tarball   string `json:"tarball,omitempty"`
	Integrity string `json:"integrity,omitempty"`
	// License is the package's license, from its package.json.
	License string `json:"license,omitempty"`
	// Verified is what the supply-chain gate checked before the version
	// was stored (package gate); nil for a version it did not check.
	Verified *Verified `json:"verified,omitempty"`
}

// Verified is what the supply-chain gate found of an npm package
// version at ingest: the version page shows it.
type Verified struct {
	// Policy names the policy in force (its digest).
	Policy string `json:"policy"`
	// KeyID is the registry key whose signature verified.
	KeyID string `json:"signature_keyid,omitempty"`
	// Repository, Commit and Workflow come from a verified Sigstore
	// provenance attestation: the source repository, its commit, and
	// the build's workflow.
	Repository string `json:"provenance_repository,omitempty"`
	Commit     string `json:"provenance_commit,omitempty"`
	Workflow   string `json:"provenance_workflow,omitempty"`
	License    string `json:"license,omitempty"`
	// Advisories are the OSV ids that affected the version at ingest.
	Advisories []string `json:"advisories,omitempty"`
	// Scripts are its install scripts; Maintainers its maintainers, and
	// NewMaintainers those not on the version stored before it.
	Scripts        []string `json:"install_scripts,omitempty"`
	Maintainers    []string `json:"maintainers,omitempty"`
	NewMaintainers []string `json:"new_maintainers,omitempty"`
	// Warnings are the checks that found something the policy admits.
	Warnings []string `json:"warnings,omitempty"`
}

// SRI returns the Subresource Integrity string of data.
func SRI(data []byte) string {
	sum := sha512.Sum384(data)
	return "sha384-" + base64.StdEncoding.EncodeToString(sum[:])
}

// SHA256Hex returns the hex SHA-256 of data, as manifests record it.
func SHA256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// StoredObject is one object a version directory holds for a file: the
// file itself (Encoding "") or one of its sidecars, with the size and
// SHA-256 the manifest gives it.
type StoredObject struct {
	Name, Encoding string
	Size           int64
	SHA256         string
}

// Stored lists what a version directory holds for the file: the file,
// then its sidecars in Encodings' order. Copying a stored version
// (aliases, import) and exporting one walk this list.
func (f ManifestFile) Stored() []StoredObject {
	out := []StoredObject{{Name: f.Path, Size: f.Size, SHA256: f.SHA256}}
	for _, enc := range Encodings {
		if sc, ok := f.Encodings[enc.Name]; ok {
			out = append(out, StoredObject{Name: f.Path + enc.Suffix, Encoding: enc.Name, Size: sc.Size, SHA256: sc.SHA256})
		}
	}
	return out
}

// File returns the entry for path p, or false.
func (m *Manifest) File(p string) (ManifestFile, bool) {
	for _, f := range m.Files {
		if f.Path == p {
			return f, true
		}
	}
	return ManifestFile{}, false
}

// Encode returns the manifest as it is stored: indented JSON and a
// newline.
func (m *Manifest) Encode() []byte {
	b, _ := json.MarshalIndent(m, "", "  ") // plain data: cannot fail
	return append(b, '\n')
}

// DecodeManifest parses an integrity manifest; name is used in errors.
func DecodeManifest(name string, data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: not a valid integrity manifest: %w", name, err)
	}
	if m.Format != ManifestFormat {
		return nil, fmt.Errorf("%s: integrity manifest format %d, want %d", name, m.Format, ManifestFormat)
	}
	return &m, nil
}

// File is one public file of a version directory, as a build makes it and
// a publish writes it.
type File struct {
	// Name is the file's slash-separated path inside the version directory.
	Name string
	// Data is the file's content.
	Data []byte
	// Module says the file is an ES module (an esm bundle): it runs only
	// as <script type="module">. A .mjs file is one whatever this says.
	Module bool
}

// NoManifestAdvice says what a directory without a manifest is and how to
// adopt it; build, publish, serve and verify all say it.
func NoManifestAdvice(version string) string {
	return "it has no integrity manifest (copied by hand, or written by an older tool), so cdnserve never serves it; " +
		"to adopt it, publish its files with --force: cdnserve publish DIR --version " + version + " --force"
}

// ReadingOrder sorts a version's files as people read them: by name
// without case, each bundle before its .min twin and then its sourcemap
// ("pusher.js", "pusher.min.js", "pusher.min.js.map", "sockjs.js").
func ReadingOrder(files []ManifestFile) []ManifestFile {
	out := slices.Clone(files)
	key := func(p string) (string, int) {
		l, rank := strings.ToLower(p), 0
		if base, ok := strings.CutSuffix(l, ".map"); ok {
			l, rank = base, 2
		}
		ext := path.Ext(l)
		if base, ok := strings.CutSuffix(strings.TrimSuffix(l, ext), ".min"); ok {
			l, rank = base+ext, max(rank, 1)
		}
		return l, rank
	}
	slices.SortStableFunc(out, func(a, b ManifestFile) int {
		ka, ra := key(a.Path)
		kb, rb := key(b.Path)
		if c := strings.Compare(ka, kb); c != 0 {
			return c
		}
		return ra - rb
	})
	return out
}
