package server

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/access"
	"github.com/cdnserve/cdnserve/content"
	"github.com/cdnserve/cdnserve/storage"
)

// The layers of one file request, each measured alone, so that the next
// regression of BenchmarkServeHit shows where it came from:
//
//	route -> library -> access -> file -> headers -> usage -> observe
//
// and, below them all, what net/http costs for the header map a
// response fills (BenchmarkServeHitFreshHeader).

func layersServer(b *testing.B, mod func(*Config)) (*Server, *version, *content.File) {
	b.Helper()
	f := newFixture(b, "2.2.3")
	f.publishSeedIn(b, "@corp/pusher", "2.2.3")
	cfg := Config{Fs: storage.DiskFs{}, Root: f.root}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	lib, err := s.cat.Library("@corp/pusher")
	if err != nil {
		b.Fatal(err)
	}
	v, err := getVersion(lib, "2.2.3")
	if err != nil {
		b.Fatal(err)
	}
	return s, v, v.files["sockjs.min.js"]
}

func BenchmarkLayerRoute(b *testing.B) {
	s, _, _ := layersServer(b, nil)
	b.ReportAllocs()
	for b.Loop() {
		splitAssetPath("/@corp/pusher/2.2.3/sockjs.min.js", s.cat.Known)
	}
}

func BenchmarkLayerLibrary(b *testing.B) {
	s, _, _ := layersServer(b, nil)
	b.ReportAllocs()
	for b.Loop() {
		s.cat.Library("@corp/pusher")
	}
}

func BenchmarkLayerAccess(b *testing.B) {
	for _, tc := range []struct {
		name    string
		private []string
	}{{"public", nil}, {"three-patterns", []string{"@corp/internal-*", "secret-sdk", "@other/*"}}} {
		b.Run(tc.name, func(b *testing.B) {
			p := &access.Policy{Private: tc.private}
			b.ReportAllocs()
			for b.Loop() {
				p.IsPrivate("@corp/pusher")
			}
		})
	}
}

func BenchmarkLayerFile(b *testing.B) {
	s, _, _ := layersServer(b, nil)
	lib, _ := s.cat.Library("@corp/pusher")
	b.ReportAllocs()
	for b.Loop() {
		if v := loadedVersion(lib, "2.2.3"); v == nil || v.files["sockjs.min.js"] == nil {
			b.Fatal("not loaded")
		}
	}
}

func BenchmarkLayerHeaders(b *testing.B) {
	s, v, f := layersServer(b, nil)
	r := httptest.NewRequest("GET", "/@corp/pusher/2.2.3/sockjs.min.js", nil)
	h := http.Header{}
	b.ReportAllocs()
	for b.Loop() {
		clear(h)
		s.common.Set(h, r)
		s.fileHeaders(h, v, f, f.Identity, kindExact, http.StatusOK)
	}
}

func BenchmarkLayerUsage(b *testing.B) {
	_, v, _ := layersServer(b, nil)
	b.ReportAllocs()
	for b.Loop() {
		v.use.Add(2048)
	}
}

func BenchmarkLayerObserve(b *testing.B) {
	s, v, _ := layersServer(b, nil)
	r := httptest.NewRequest("GET", "/@corp/pusher/2.2.3/sockjs.min.js", nil)
	h := http.Header{}
	b.ReportAllocs()
	for b.Loop() {
		clear(h)
		id := s.requestID(h, r)
		s.finish(r, id, dataOf(v.Lib).counts, kindExact, http.StatusOK, 2048, time.Now(), false)
	}
}

// BenchmarkServeHitFreshHeader is BenchmarkServeHit with a new header map
// for every request, as net/http gives each one: it includes the map's
// growth, which BenchmarkServeHit (one map, cleared) hides. Go's map
// holds 14 entries before it grows to 32 slots, and a file response
// fills 15 (16 with Content-Encoding): the growth is one allocation of
// about 2 KB per response (BenchmarkHeaderMapEntries).
func BenchmarkServeHitFreshHeader(b *testing.B) {
	s, _, _ := layersServer(b, nil)
	req := httptest.NewRequest("GET", "/@corp/pusher/2.2.3/sockjs.min.js", nil)
	w := &discard{h: http.Header{}}
	s.ServeHTTP(w, req)
	b.ReportAllocs()
	for b.Loop() {
		w.h = http.Header{}
		s.ServeHTTP(w, req)
	}
}

// BenchmarkHeaderMapEntries is what filling a new http.Header costs by
// the number of entries: the step between 14 and 15 is the map's growth.
func BenchmarkHeaderMapEntries(b *testing.B) {
	keys := []string{"Access-Control-Allow-Origin", "Access-Control-Expose-Headers", "Timing-Allow-Origin", "X-Content-Type-Options",
		"Cross-Origin-Resource-Policy", "X-Request-Id", "Etag", "Cache-Control", "Surrogate-Key", "Cache-Tag", "Vary",
		"Content-Type", "Last-Modified", "Accept-Ranges", "Content-Length", "Content-Encoding"}
	v := []string{"x"}
	for _, n := range []int{13, 14, 15, 16} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h := make(http.Header)
				for _, k := range keys[:n] {
					h[k] = v
				}
			}
		})
	}
}
