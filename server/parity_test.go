package server

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// TestFastPathMatchesSlowPath sends each request to two servers on one
// tree: one answers files from memory where it can (writeFromMemory), the
// other has no body cache, so http.ServeContent answers every file from
// storage. Status, every header and the body must be the same, so that
// speed never changes a response. Both take their headers from
// fileHeaders; this test guards that nothing else adds one.
func TestFastPathMatchesSlowPath(t *testing.T) {
	f := newFixture(t, "2.2.3")
	for _, mode := range []string{"any origin", "allow-list"} {
		cfg := func(cacheBytes int64) func(*Config) {
			return func(c *Config) {
				c.CacheBytes = cacheBytes
				if mode == "allow-list" {
					c.CORSOrigins = []string{"https://app.example"}
				}
			}
		}
		fast, _ := f.server(t, cfg(0))
		slow, _ := f.server(t, cfg(1)) // every file is too big for the cache: streamed
		etags := map[string]string{}
		for _, enc := range []string{"", "br", "gzip"} {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/2.2.3/pusher.min.js", nil)
			req.Header.Set("Accept-Encoding", enc)
			fast.ServeHTTP(rec, req)
			etags[enc] = rec.Header().Get("Etag")
		}
		tests := []struct {
			name, method, path string
			headers            []string
		}{
			{"identity", "GET", "/2.2.3/pusher.min.js", nil},
			{"brotli", "GET", "/2.2.3/pusher.min.js", []string{"Accept-Encoding", "gzip, deflate, br"}},
			{"gzip", "GET", "/2.2.3/pusher.min.js", []string{"Accept-Encoding", "gzip"}},
			{"head", "HEAD", "/2.2.3/pusher.js", []string{"Accept-Encoding", "br"}},
			{"alias", "GET", "/2.2/sockjs.js", nil},
			{"binary", "GET", "/2.2.3/WebSocketMain.swf", []string{"Accept-Encoding", "br"}},
			{"304 identity", "GET", "/2.2.3/pusher.min.js", []string{"If-None-Match", etags[""]}},
			{"304 brotli", "GET", "/2.2.3/pusher.min.js", []string{"If-None-Match", etags["br"], "Accept-Encoding", "br"}},
			{"origin", "GET", "/2.2.3/pusher.min.js", []string{"Origin", "https://app.example"}},
			{"request id", "GET", "/2.2.3/pusher.min.js", []string{"X-Request-Id", "abc-123"}},
			{"other etag", "GET", "/2.2.3/pusher.js", []string{"If-None-Match", `"not-this-encoding"`}},
			{"etag list", "GET", "/2.2.3/pusher.js", []string{"If-None-Match", `"a", ` + etags[""]}},
			{"etag star", "GET", "/2.2.3/pusher.js", []string{"If-None-Match", "*"}},
			{"range", "GET", "/2.2.3/pusher.js", []string{"Range", "bytes=0-1"}},
			{"range brotli", "GET", "/2.2.3/pusher.js", []string{"Range", "bytes=2-9", "Accept-Encoding", "br"}},
			{"if-modified-since", "GET", "/2.2.3/pusher.js", []string{"If-Modified-Since", "Thu, 26 Nov 2099 12:00:00 GMT"}},
			{"missing file", "GET", "/2.2.3/nope.js", nil},
			{"range redirect", "GET", "/2/pusher.js", nil},
			{"version page", "GET", "/2.2.3/", nil},
			{"preflight", "OPTIONS", "/2.2.3/pusher.js", []string{"Origin", "https://app.example", "Access-Control-Request-Method", "GET"}},
		}
		for _, tc := range tests {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				mk := func() *http.Request {
					r := httptest.NewRequest(tc.method, tc.path, nil)
					for i := 0; i+1 < len(tc.headers); i += 2 {
						r.Header.Set(tc.headers[i], tc.headers[i+1])
					}
					return r
				}
				fastRec, slowRec := httptest.NewRecorder(), httptest.NewRecorder()
				fast.ServeHTTP(fastRec, mk())
				slow.ServeHTTP(slowRec, mk())
				if fastRec.Code != slowRec.Code || fastRec.Body.String() != slowRec.Body.String() {
					t.Errorf("memory %d (%d bytes), storage %d (%d bytes)", fastRec.Code, fastRec.Body.Len(), slowRec.Code, slowRec.Body.Len())
				}
				fh, sh := fastRec.Header().Clone(), slowRec.Header().Clone()
				if tc.name != "request id" {
					delete(fh, "X-Request-Id")
					delete(sh, "X-Request-Id")
				}
				if !maps.EqualFunc(fh, sh, slices.Equal) {
					t.Errorf("headers differ:\nmemory  %v\nstorage %v", fh, sh)
				}
			})
		}
	}
}
