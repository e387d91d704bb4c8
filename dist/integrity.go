package dist

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
}

// SRI returns the Subresource Integrity string of data.
func SRI(data []byte) string {
	sum := sha512.Sum384(data)
	return "sha384-" + base64.StdEncoding.EncodeToString(sum[:])
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// describe makes a file's manifest entry.
func describe(f File, sidecars []sidecar) ManifestFile {
	mf := ManifestFile{
		Path:        f.Name,
		Size:        int64(len(f.Data)),
		ContentType: ContentType(f.Name),
		SHA256:      sha256Hex(f.Data),
		Integrity:   SRI(f.Data),
	}
	for _, s := range sidecars {
		if mf.Encodings == nil {
			mf.Encodings = map[string]Sidecar{}
		}
		mf.Encodings[s.enc.Name] = Sidecar{Size: int64(len(s.data)), SHA256: sha256Hex(s.data)}
	}
	return mf
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

func (m *Manifest) encode() []byte {
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
