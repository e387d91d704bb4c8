// Package content is a version's file bytes as the server sends them:
// each file's variants (identity, the publisher's .br and .gz sidecars,
// and encodings made on the fly), read from storage and checked against
// the integrity manifest once per load into a bounded memory cache, or
// streamed with a running hash when too big for it. Bytes that fail
// their manifest are ErrIntegrity, never sent as whole.
package content

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/cdnserve/cdnserve/layout"
)

// ErrIntegrity means stored bytes do not match their manifest: the file
// was altered, or an alias is switching file by file under us.
var ErrIntegrity = errors.New("stored bytes do not match the integrity manifest")

// File is one public file of a version, with every header value it needs
// computed once, when its manifest is loaded.
type File struct {
	Path         string
	ContentType  []string // header value, ready to assign
	Compressible bool
	Identity     *Variant
	sidecars     map[string]*Variant // "br", "gzip": precompressed by the publisher

	mu  sync.Mutex
	fly map[string]*Variant // compressed on the fly; nil value: not worth it
}

// Variant is one representation of a file: identity or one encoding.
// Each has its own bytes and so its own strong ETag (RFC 9110 §8.8.3).
type Variant struct {
	Encoding string   // "" for identity, else the Content-Encoding token
	Storage  string   // where its bytes are stored; "" when made on the fly
	Size     int64    // bytes
	SHA256   string   // hex SHA-256 of the bytes: the body cache key
	ETag     []string // the strong ETag, ready to assign
	Length   []string // the Content-Length header value
	CE       []string // the Content-Encoding header value, nil for identity
	data     []byte   // on-the-fly variants keep their bytes here
	// check is what streaming last learned of the stored file (stream.go);
	// nil until a variant too big for the cache is streamed.
	check atomic.Pointer[fileCheck]
}

// NewFile is a manifest file stored in dir, with its sidecars.
func NewFile(dir string, mf layout.ManifestFile) *File {
	f := &File{
		Path:         mf.Path,
		ContentType:  []string{mf.ContentType},
		Compressible: layout.Compressible(mf.Path),
		Identity:     newVariant("", path.Join(dir, mf.Path), mf.Size, mf.SHA256),
	}
	for _, enc := range layout.Encodings {
		if sc, ok := mf.Encodings[enc.Name]; ok {
			if f.sidecars == nil {
				f.sidecars = map[string]*Variant{}
			}
			f.sidecars[enc.Name] = newVariant(enc.Name, path.Join(dir, mf.Path+enc.Suffix), sc.Size, sc.SHA256)
		}
	}
	return f
}

func newVariant(encoding, storage string, size int64, sha string) *Variant {
	v := &Variant{Encoding: encoding, Storage: storage, Size: size, SHA256: sha}
	tag := sha
	if len(tag) > 32 {
		tag = tag[:32]
	}
	v.ETag = []string{`"` + tag + `"`}
	v.Length = []string{strconv.FormatInt(size, 10)}
	if encoding != "" {
		v.CE = []string{encoding}
	}
	return v
}

// Encoded returns the file's variant for an encoding the client accepts:
// a publisher's sidecar, or one compressed on the fly from identity bytes
// and kept, or nil when compressing does not make the file smaller.
func (f *File) Encoded(enc string, identity func() ([]byte, error)) (*Variant, error) {
	if v := f.sidecars[enc]; v != nil {
		return v, nil
	}
	if !f.Compressible {
		return nil, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if v, done := f.fly[enc]; done {
		return v, nil
	}
	data, err := identity()
	if err != nil {
		return nil, err
	}
	var v *Variant
	if e, ok := layout.EncodingNamed(enc); ok {
		if z := e.Compress(data, layout.Fast); len(z) < len(data) {
			sum := sha256.Sum256(z)
			v = newVariant(enc, "", int64(len(z)), hex.EncodeToString(sum[:]))
			v.data = z
		}
	}
	if f.fly == nil {
		f.fly = map[string]*Variant{}
	}
	f.fly[enc] = v
	return v, nil
}

// CheckBytes verifies bytes read from storage against the manifest, once
// per load into the cache, never per request.
func (v *Variant) CheckBytes(data []byte) error {
	if int64(len(data)) != v.Size {
		return fmt.Errorf("%w: %s is %d bytes, manifest says %d", ErrIntegrity, v.Storage, len(data), v.Size)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != v.SHA256 {
		return fmt.Errorf("%w: %s", ErrIntegrity, v.Storage)
	}
	return nil
}
