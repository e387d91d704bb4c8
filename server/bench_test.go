package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/storage"
	"github.com/spf13/afero"
)

// discard is a ResponseWriter that keeps nothing but its header map,
// cleared between requests, so a benchmark measures the server alone.
type discard struct {
	h http.Header
	n int // bytes written by the last response
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { d.n += len(b); return len(b), nil }
func (d *discard) WriteHeader(int)             {}

func benchServe(b *testing.B, path string, headers ...string) {
	f := newFixture(b, "2.2.3")
	f.publishSeedIn(b, "@corp/pusher", "2.2.3")
	s, err := New(Config{Fs: storage.DiskFs{}, Root: f.root})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := &discard{h: http.Header{}}
	s.ServeHTTP(w, req) // load the version and warm the cache
	if etag := w.h.Get("Etag"); len(headers) > 0 && headers[0] == "If-None-Match" {
		req.Header.Set("If-None-Match", etag)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		s.ServeHTTP(w, req)
	}
}

// BenchmarkServeHit: GET of a cached 2 KB file of an exact version.
func BenchmarkServeHit(b *testing.B) { benchServe(b, "/2.2.3/sockjs.min.js") }

// BenchmarkServeHitLibrary is BenchmarkServeHit for a scoped library's
// file: finding the library costs a map lookup, and nothing more.
func BenchmarkServeHitLibrary(b *testing.B) { benchServe(b, "/@corp/pusher/2.2.3/sockjs.min.js") }

// BenchmarkServe304: a conditional GET whose If-None-Match matches.
func BenchmarkServe304(b *testing.B) { benchServe(b, "/2.2.3/pusher.min.js", "If-None-Match", "") }

// BenchmarkServeBrotli: GET with Accept-Encoding: gzip, deflate, br.
func BenchmarkServeBrotli(b *testing.B) {
	benchServe(b, "/2.2.3/pusher.min.js", "Accept-Encoding", "gzip, deflate, br")
}

// BenchmarkServeSlowPath is BenchmarkServeHit through Echo and
// http.ServeContent, for comparison.
func BenchmarkServeSlowPath(b *testing.B) {
	f := newFixture(b, "2.2.3")
	s, _ := New(Config{Fs: storage.DiskFs{}, Root: f.root})
	req := httptest.NewRequest("GET", "/2.2.3/sockjs.min.js", nil)
	w := &discard{h: http.Header{}}
	s.echo.ServeHTTP(w, req)
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		s.echo.ServeHTTP(w, req)
	}
}

// manyVersionsServer serves n published versions (manifests only) across
// majors 0..n/1000, with their major.minor aliases.
func manyVersionsServer(b testing.TB, n int) *Server {
	fs := afero.NewMemMapFs()
	aliases := map[string]string{}
	for i := range n {
		v := fmt.Sprintf("%d.%d.%d", i/1000, (i/10)%100, i%10)
		afero.WriteFile(fs, "/dist/"+v+"/"+layout.ManifestName, []byte(`{"format":1,"version":"`+v+`","files":[]}`), 0o644)
		aliases[fmt.Sprintf("%d.%d", i/1000, (i/10)%100)] = v
	}
	for a, v := range aliases {
		afero.WriteFile(fs, "/dist/"+a+"/"+layout.ManifestName, []byte(`{"format":1,"version":"`+v+`","alias_of":"`+v+`","files":[]}`), 0o644)
	}
	s, err := New(Config{Fs: fs, Root: "/dist"})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkIndex5000 renders / over 5,000 versions: its size (issue 14
// asks < 50 KB) and its speed (>= 1,000 req/s, so < 1 ms an op), the
// first render and the cached pages after it.
func BenchmarkIndex5000(b *testing.B) {
	s := manyVersionsServer(b, 5000)
	for _, tc := range []struct {
		name, path string
		cold       bool
	}{{"index", "/", false}, {"index-cold", "/", true}, {"major-page", "/?major=3&page=2", false}} {
		b.Run(tc.name, func(b *testing.B) {
			w := &discard{h: http.Header{}}
			req := httptest.NewRequest("GET", tc.path, nil)
			s.ServeHTTP(w, req)
			size := w.n
			b.ReportAllocs()
			for b.Loop() {
				if tc.cold {
					s.cat.Changed() // as a refresh that changed the tree does
				}
				clear(w.h)
				s.ServeHTTP(w, req)
			}
			b.ReportMetric(float64(size), "page-bytes")
		})
	}
}

// librariesServer serves libs named libraries of n versions each
// (manifests only), as bench/scale's -libraries tree.
func librariesServer(b testing.TB, libs, n int) *Server {
	fs := afero.NewMemMapFs()
	for l := range libs {
		for i := range n {
			v := fmt.Sprintf("%d.%d.%d", i/1000, (i/10)%100, i%10)
			afero.WriteFile(fs, fmt.Sprintf("/dist/lib-%04d/%s/%s", l, v, layout.ManifestName), []byte(`{"format":1,"version":"`+v+`","files":[{"path":"lib.js","size":1,"sha256":"x"}]}`), 0o644)
		}
	}
	s, err := New(Config{Fs: fs, Root: "/dist"})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkLibraries measures a tree of 1,000 libraries of 20 versions
// (issue 15):
//   - resolve-cached: a range in one library, once warm: finding the
//     library and the cached answer allocates nothing;
//   - split: telling the library from a request path;
//   - refresh: one refresh of the whole tree, which every replica runs
//     each --refresh (2 s by default on disk);
//   - index: / from the page cache, and its size.
func BenchmarkLibraries(b *testing.B) {
	s := librariesServer(b, 1000, 20)
	b.Run("resolve-cached", func(b *testing.B) {
		lib, _ := s.cat.Library("lib-0999")
		lib.Resolve("^0.1.0")
		b.ReportAllocs()
		for b.Loop() {
			lib := s.cat.Loaded("lib-0999")
			if v, err := lib.Resolve("^0.1.0"); err != nil || v != "0.1.9" {
				b.Fatal(v, err)
			}
		}
	})
	b.Run("split", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ap := splitAssetPath("/lib-0500/^0.1.0/lib.js", s.cat.Known); ap.lib != "lib-0500" {
				b.Fatal(ap)
			}
		}
	})
	b.Run("refresh", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := s.cat.Refresh(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("index", func(b *testing.B) {
		w := &discard{h: http.Header{}}
		req := httptest.NewRequest("GET", "/", nil)
		s.ServeHTTP(w, req)
		size := w.n
		b.ReportAllocs()
		for b.Loop() {
			clear(w.h)
			s.ServeHTTP(w, req)
		}
		b.ReportMetric(float64(size), "page-bytes")
	})
}
