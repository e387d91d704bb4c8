package server

import (
	"bytes"
	"compress/gzip"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

// TestGeneratedBodiesCompressed: what the server makes (the loader,
// /-/meta, /-/versions, /-/libraries, an import map, a snippet, the
// pages) is sent in the client's best encoding with a Content-Length, a
// strong ETag of its own per encoding and a 304 on it, and is compressed
// once for as long as it does not change (issue 28, item 12).
func TestGeneratedBodiesCompressed(t *testing.T) {
	f := esmFixture(t)
	f.publishSeedIn(t, "pusher", "2.2.4")
	s, ts := f.server(t, nil)
	decode := map[string]func([]byte) ([]byte, error){
		"": func(b []byte) ([]byte, error) { return b, nil },
		"br": func(b []byte) ([]byte, error) {
			return io.ReadAll(brotli.NewReader(bytes.NewReader(b)))
		},
		"gzip": func(b []byte) ([]byte, error) {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			return io.ReadAll(zr)
		},
	}
	for _, p := range []string{"/-/loader.js", "/-/meta/pusher/2.2.4", "/-/versions/pusher", "/-/libraries",
		"/-/importmap?lib=widget@^1.0.0", "/-/snippet?lib=pusher", "/", "/pusher/", "/pusher/2.2.4/"} {
		t.Run(p, func(t *testing.T) {
			plain, want := do(t, "GET", ts.URL+p)
			if plain.StatusCode != 200 {
				t.Fatalf("%s: %d", p, plain.StatusCode)
			}
			small := len(want) < compressFrom // sent as it is
			etags := map[string]bool{}
			for _, tc := range []struct{ ae, enc string }{{"", ""}, {"gzip, deflate, br", "br"}, {"gzip", "gzip"}, {"br;q=0, gzip;q=0", ""}} {
				if small {
					tc.enc = ""
				}
				r, body := do(t, "GET", ts.URL+p, "Accept-Encoding", tc.ae)
				got, err := decode[tc.enc](body)
				etag := r.Header.Get("Etag")
				if r.StatusCode != 200 || r.Header.Get("Content-Encoding") != tc.enc || err != nil || !bytes.Equal(got, want) {
					t.Errorf("Accept-Encoding %q: %d, Content-Encoding %q (want %q), decoded the same: %v (%v)", tc.ae, r.StatusCode, r.Header.Get("Content-Encoding"), tc.enc, bytes.Equal(got, want), err)
				}
				if r.Header.Get("Content-Length") != strconv.Itoa(len(body)) || r.TransferEncoding != nil {
					t.Errorf("Accept-Encoding %q: Content-Length %q, Transfer-Encoding %v, for %d bytes", tc.ae, r.Header.Get("Content-Length"), r.TransferEncoding, len(body))
				}
				if strings.Contains(strings.Join(r.Header.Values("Vary"), ","), "Accept-Encoding") == small || !strings.HasPrefix(etag, `"`) {
					t.Errorf("Accept-Encoding %q: Vary %q, ETag %q", tc.ae, r.Header.Values("Vary"), etag)
				}
				if tc.enc != "" && len(body) >= len(want) {
					t.Errorf("%s: %d bytes, not smaller than %d", tc.enc, len(body), len(want))
				}
				etags[etag] = true
				if r, body := do(t, "GET", ts.URL+p, "Accept-Encoding", tc.ae, "If-None-Match", etag); r.StatusCode != 304 || len(body) != 0 {
					t.Errorf("Accept-Encoding %q, If-None-Match %s: %d", tc.ae, etag, r.StatusCode)
				}
				if r, body := do(t, "HEAD", ts.URL+p, "Accept-Encoding", tc.ae); r.Header.Get("Content-Length") != strconv.Itoa(len(body)+lenOf(t, ts.URL+p, tc.ae)) || r.Header.Get("Etag") != etag {
					t.Errorf("HEAD, Accept-Encoding %q: Content-Length %q, ETag %q", tc.ae, r.Header.Get("Content-Length"), r.Header.Get("Etag"))
				}
			}
			if small && len(etags) != 1 || !small && len(etags) != 3 {
				t.Errorf("ETags %v: want one per encoding sent", etags)
			}
		})
	}
	// Compressed once: the cache holds one body per page and encoding,
	// however often they are asked for.
	s.generated.mu.Lock()
	n := s.generated.made
	s.generated.mu.Unlock()
	for i := 0; i < 3; i++ {
		do(t, "GET", ts.URL+"/pusher/2.2.4/", "Accept-Encoding", "br")
		do(t, "GET", ts.URL+"/-/loader.js", "Accept-Encoding", "gzip")
	}
	s.generated.mu.Lock()
	defer s.generated.mu.Unlock()
	if s.generated.made != n {
		t.Errorf("asking again compressed again: %d compressions, %d before", s.generated.made, n)
	}
}

// lenOf is the length of a GET's body.
func lenOf(t *testing.T, url, ae string) int {
	_, body := do(t, "GET", url, "Accept-Encoding", ae)
	return len(body)
}
