package server

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

// errIntegrity means stored bytes do not match their manifest: the file
// was altered, or an alias is switching file by file under us.
var errIntegrity = errors.New("stored bytes do not match the integrity manifest")

// file is one public file of a version, with every header value it needs
// computed once, when its manifest is loaded.
type file struct {
	path         string
	contentType  []string // header value, ready to assign
	compressible bool
	identity     *variant
	sidecars     map[string]*variant // "br", "gzip": precompressed by the publisher

	mu  sync.Mutex
	fly map[string]*variant // compressed on the fly; nil value: not worth it
}

// variant is one representation of a file: identity or one encoding.
// Each has its own bytes and so its own strong ETag (RFC 9110 §8.8.3).
type variant struct {
	encoding string   // "" for identity, else the Content-Encoding token
	storage  string   // where its bytes are stored; "" when made on the fly
	size     int64    // bytes
	sha256   string   // hex SHA-256 of the bytes: the body cache key
	etag     []string // header value, ready to assign
	length   []string // Content-Length header value
	ceHeader []string // Content-Encoding header value, nil for identity
	data     []byte   // on-the-fly variants keep their bytes here
	// check is what streaming last learned of the stored file (stream.go);
	// nil until a variant too big for the cache is streamed.
	check atomic.Pointer[fileCheck]
}

func newFile(dir string, mf layout.ManifestFile) *file {
	f := &file{
		path:         mf.Path,
		contentType:  []string{mf.ContentType},
		compressible: layout.Compressible(mf.Path),
		identity:     newVariant("", path.Join(dir, mf.Path), mf.Size, mf.SHA256),
	}
	for _, enc := range layout.Encodings {
		if sc, ok := mf.Encodings[enc.Name]; ok {
			if f.sidecars == nil {
				f.sidecars = map[string]*variant{}
			}
			f.sidecars[enc.Name] = newVariant(enc.Name, path.Join(dir, mf.Path+enc.Suffix), sc.Size, sc.SHA256)
		}
	}
	return f
}

func newVariant(encoding, storage string, size int64, sha string) *variant {
	v := &variant{encoding: encoding, storage: storage, size: size, sha256: sha}
	tag := sha
	if len(tag) > 32 {
		tag = tag[:32]
	}
	v.etag = []string{`"` + tag + `"`}
	v.length = []string{strconv.FormatInt(size, 10)}
	if encoding != "" {
		v.ceHeader = []string{encoding}
	}
	return v
}

// encoded returns the file's variant for an encoding the client accepts:
// a publisher's sidecar, or one compressed on the fly from identity bytes
// and kept, or nil when compressing does not make the file smaller.
func (f *file) encoded(enc string, identity func() ([]byte, error)) (*variant, error) {
	if v := f.sidecars[enc]; v != nil {
		return v, nil
	}
	if !f.compressible {
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
	var v *variant
	if e, ok := layout.EncodingNamed(enc); ok {
		if z := e.Compress(data, layout.Fast); len(z) < len(data) {
			sum := sha256.Sum256(z)
			v = newVariant(enc, "", int64(len(z)), hex.EncodeToString(sum[:]))
			v.data = z
		}
	}
	if f.fly == nil {
		f.fly = map[string]*variant{}
	}
	f.fly[enc] = v
	return v, nil
}

// checkBytes verifies bytes read from storage against the manifest, once
// per load into the cache, never per request.
func (v *variant) checkBytes(data []byte) error {
	if int64(len(data)) != v.size {
		return fmt.Errorf("%w: %s is %d bytes, manifest says %d", errIntegrity, v.storage, len(data), v.size)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != v.sha256 {
		return fmt.Errorf("%w: %s", errIntegrity, v.storage)
	}
	return nil
}
