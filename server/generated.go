package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/cdnserve/cdnserve/headers"
	"github.com/cdnserve/cdnserve/layout"
)

// What the server makes rather than reads from storage (the loader,
// /-/meta, /-/versions, /-/libraries, import maps, snippets, stats and
// the pages) is sent as files are: with a strong ETag, a Content-Length,
// preconditions and ranges (serveBytes), and, when it is large enough to
// gain from it, in the client's best encoding, compressed once per change
// of its bytes and kept (generatedCache).

// compressFrom is the smallest body worth compressing: below it, the
// encoding's own header and the Vary cost about what they save.
const compressFrom = 512

// generatedCacheMax bounds the compressed bodies kept, in bytes.
const generatedCacheMax = 32 << 20

// generatedCache keeps the compressed forms of generated bodies, keyed by
// the hash of the body and the encoding: a body is compressed once for
// as long as it does not change.
type generatedCache struct {
	mu    sync.Mutex
	m     map[generatedKey][]byte
	bytes int
	// made counts the bodies compressed (misses).
	made int
}

type generatedKey struct {
	sum [sha256.Size]byte
	enc string
}

// encoded returns body compressed with enc, compressing it on a miss.
// Two requests that miss at once both compress; the bytes are the same.
func (c *generatedCache) encoded(sum [sha256.Size]byte, enc layout.Encoding, body []byte) []byte {
	k := generatedKey{sum, enc.Name}
	c.mu.Lock()
	b, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return b
	}
	b = enc.Compress(body, layout.Fast)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.made++
	if c.m == nil {
		c.m = map[generatedKey][]byte{}
	}
	for old, ob := range c.m { // evict at random until the new one fits
		if c.bytes+len(b) <= generatedCacheMax {
			break
		}
		delete(c.m, old)
		c.bytes -= len(ob)
	}
	if _, ok := c.m[k]; !ok && len(b) <= generatedCacheMax {
		c.m[k] = b
		c.bytes += len(b)
	}
	return b
}

// sendGenerated answers 200 with a generated body of contentType (see
// above). Headers already set (Cache-Control, tags) are kept; Vary gains
// Accept-Encoding.
func (s *Server) sendGenerated(w http.ResponseWriter, r *http.Request, contentType string, body []byte) (int, int64) {
	return s.sendGeneratedSum(w, r, contentType, body, sha256.Sum256(body))
}

// sendGeneratedSum is sendGenerated for a body whose SHA-256 is known
// (the loader's, taken once).
func (s *Server) sendGeneratedSum(w http.ResponseWriter, r *http.Request, contentType string, body []byte, sum [sha256.Size]byte) (int, int64) {
	h := w.Header()
	h["Content-Type"] = []string{contentType}
	tag := hex.EncodeToString(sum[:16])
	if len(body) >= compressFrom {
		addVary(h, "Accept-Encoding")
		if enc, ok := generatedEncoding(r.Header.Get("Accept-Encoding")); ok {
			body = s.generated.encoded(sum, enc, body)
			h["Content-Encoding"] = []string{enc.Name}
			tag += "-" + enc.Name
		}
	}
	h["Etag"] = []string{`"` + tag + `"`}
	if h["Content-Encoding"] != nil {
		// http.ServeContent leaves an encoded body's length, and its
		// ranges, to the caller: send it whole.
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
		r.Header.Del("Range")
	}
	rec := &recorder{ResponseWriter: w}
	serveBytes(rec, r, body)
	return rec.status, rec.bytes
}

// sendGeneratedJSON sends v as JSON with a trailing newline.
func (s *Server) sendGeneratedJSON(w http.ResponseWriter, r *http.Request, v any) (int, int64) {
	b, _ := json.Marshal(v) // plain data: cannot fail
	return s.sendGenerated(w, r, "application/json", append(b, '\n'))
}

// generatedEncoding picks the client's best encoding for a generated
// body, or false for identity. A client that refuses identity and every
// encoding gets identity: RFC 9110 §12.5.3 allows it, and a generated
// body is small.
func generatedEncoding(acceptEncoding string) (layout.Encoding, bool) {
	if acceptEncoding == "" {
		return layout.Encoding{}, false
	}
	for _, name := range headers.ParseAcceptEncoding(acceptEncoding).Order() {
		if name == "" {
			break
		}
		if enc, ok := layout.EncodingNamed(name); ok {
			return enc, true
		}
	}
	return layout.Encoding{}, false
}

// addVary adds token to Vary unless it is there, in a new slice: the
// header's values may be shared (headers.Common.Vary).
func addVary(h http.Header, token string) {
	vals := h.Values("Vary")
	for _, v := range vals {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), token) {
				return
			}
		}
	}
	h["Vary"] = append(append(make([]string, 0, len(vals)+1), vals...), token)
}
