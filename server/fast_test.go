package server

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// TestFastPathMatchesSlowPath sends each request through the fast path
// and through Echo and http.ServeContent: the status, every header and
// the body must be the same, so that speed never changes a response.
func TestFastPathMatchesSlowPath(t *testing.T) {
	f := newFixture(t, "2.2.3")
	for _, mode := range []string{"any origin", "allow-list"} {
		s, _ := f.server(t, func(c *Config) {
			if mode == "allow-list" {
				c.CORSOrigins = []string{"https://app.example"}
			}
		})
		etags := map[string]string{}
		for _, enc := range []string{"", "br", "gzip"} {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/2.2.3/pusher.min.js", nil)
			req.Header.Set("Accept-Encoding", enc)
			s.echo.ServeHTTP(rec, req)
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
		}
		for _, tc := range tests {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				fast, slow := httptest.NewRecorder(), httptest.NewRecorder()
				mk := func() *http.Request {
					r := httptest.NewRequest(tc.method, tc.path, nil)
					for i := 0; i+1 < len(tc.headers); i += 2 {
						r.Header.Set(tc.headers[i], tc.headers[i+1])
					}
					return r
				}
				s.echo.ServeHTTP(slow, mk()) // first, so the version is loaded
				if !s.serveFast(fast, mk()) {
					t.Fatal("the fast path declined a request it is meant for")
				}
				if fast.Code != slow.Code || fast.Body.String() != slow.Body.String() {
					t.Errorf("fast %d (%d bytes), slow %d (%d bytes)", fast.Code, fast.Body.Len(), slow.Code, slow.Body.Len())
				}
				fh, sh := fast.Header().Clone(), slow.Header().Clone()
				for _, k := range []string{"X-Request-Id"} {
					if tc.name != "request id" {
						delete(fh, k)
						delete(sh, k)
					}
				}
				if !maps.EqualFunc(fh, sh, slices.Equal) {
					t.Errorf("headers differ:\nfast %v\nslow %v", fh, sh)
				}
			})
		}
	}
}

// TestFastPathDeclines lists requests the fast path must leave to Echo.
func TestFastPathDeclines(t *testing.T) {
	f := newFixture(t, "2.2.3")
	s, _ := f.server(t, nil)
	s.echo.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/2.2.3/pusher.js", nil)) // load 2.2.3
	for _, tc := range []struct{ method, path, header, value string }{
		{"POST", "/2.2.3/pusher.js", "", ""},
		{"GET", "/2.2.3/pusher.js", "Range", "bytes=0-1"},
		{"GET", "/2.2.3/pusher.js", "If-Modified-Since", "Thu, 26 Nov 2026 12:00:00 GMT"},
		{"GET", "/2.2.3/pusher.js", "If-None-Match", `"a", "b"`},
		{"GET", "/2.2.3/pusher.js", "If-None-Match", "*"},
		{"GET", "/2.2.3/pusher.js", "If-None-Match", `"not-this-encoding"`},
		{"GET", "/2/pusher.js", "", ""},
		{"GET", "/9.9.9/pusher.js", "", ""},
		{"GET", "/2.2.3/", "", ""},
		{"GET", "/-/versions", "", ""},
		{"GET", "/2.2.3/../2.2.3/pusher.js", "", ""},
		{"GET", "/2.2.3/%70usher.js", "", ""},
	} {
		r := httptest.NewRequest(tc.method, tc.path, nil)
		if tc.header != "" {
			r.Header.Set(tc.header, tc.value)
		}
		if s.serveFast(httptest.NewRecorder(), r) {
			t.Errorf("%s %s %s: the fast path answered", tc.method, tc.path, tc.header)
		}
	}
}
