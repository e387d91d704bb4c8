package loader_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/access"
	"github.com/cdnserve/cdnserve/build"
	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/loader"
	"github.com/cdnserve/cdnserve/server"
	"github.com/cdnserve/cdnserve/storage"
	"github.com/cdnserve/cdnserve/versioning"
	"github.com/spf13/afero"
)

// cdn is a real cdnserve server over the seed library, published by the
// real build code, behind a wrapper that injects faults and counts
// requests per path.
type cdn struct {
	*httptest.Server
	root   string
	mu     sync.Mutex
	script map[string][]string // path -> faults to inject, one per request
	hits   map[string]int
	inm    atomic.Int32 // requests that carried If-None-Match
	srv    *server.Server
}

func newCDN(t *testing.T) *cdn {
	t.Helper()
	c := &cdn{root: filepath.Join(t.TempDir(), "dist"), script: map[string][]string{}, hits: map[string]int{}}
	raw, err := os.ReadFile("../testdata/seedlib/cdnserve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := build.Decode("cdnserve.yaml", raw)
	res, err := build.Build(context.Background(), build.Options{Manifest: m,
		Src: afero.NewReadOnlyFs(afero.NewBasePathFs(afero.NewOsFs(), "../testdata/seedlib/src"))})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := versioning.Parse("2.2.3")
	if _, err := (dist.NewTree(storage.DiskFs{}, c.root)).Publish(context.Background(), dist.Request{Version: v, Files: res.Artifacts}); err != nil {
		t.Fatal(err)
	}
	// The named library "pusher" holds 2.2.4, whose pusher.min.js differs.
	lib, _ := dist.NewTree(storage.DiskFs{}, c.root).Library("pusher")
	files := slices.Clone(res.Artifacts)
	for i, f := range files {
		if f.Name == "pusher.min.js" {
			files[i].Data = append(slices.Clone(f.Data), "/* library 2.2.4 */"...)
		}
	}
	v, _ = versioning.Parse("2.2.4")
	if _, err := lib.Publish(context.Background(), dist.Request{Version: v, Files: files}); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Fs: storage.DiskFs{}, Root: c.root})
	if err != nil {
		t.Fatal(err)
	}
	c.srv = srv
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.hits[r.URL.Path]++
		var fault string
		if s := c.script[r.URL.Path]; len(s) > 0 {
			fault, c.script[r.URL.Path] = s[0], s[1:]
		}
		c.mu.Unlock()
		if r.Header.Get("If-None-Match") != "" {
			c.inm.Add(1)
		}
		inject(w, r, fault, srv)
	}))
	t.Cleanup(c.Close)
	return c
}

func inject(w http.ResponseWriter, r *http.Request, fault string, h http.Handler) {
	switch fault {
	case "reset":
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.(*net.TCPConn).SetLinger(0)
		conn.Close()
	case "500":
		w.WriteHeader(500)
	case "404":
		w.WriteHeader(404)
	case "400":
		w.WriteHeader(400)
	case "429":
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(429)
	case "slow":
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	case "corrupt":
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		body[len(body)/2] ^= 0xff
		w.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
		w.Write(body)
	default:
		h.ServeHTTP(w, r)
	}
}

func (c *cdn) plan(path string, faults ...string) {
	c.mu.Lock()
	c.script[path] = faults
	c.mu.Unlock()
}

func (c *cdn) count(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits[path]
}

func (c *cdn) file(t *testing.T, name string) []byte {
	b, err := os.ReadFile(filepath.Join(c.root, "2.2.3", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newLoader(t *testing.T, o loader.Options) *loader.Loader {
	t.Helper()
	if o.Version == "" {
		o.Version = "2.2.3"
	}
	if o.Backoff == 0 {
		o.Backoff = time.Millisecond
	}
	l, err := loader.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestURLs(t *testing.T) {
	l := newLoader(t, loader.Options{CDNHTTP: "http://js.example.com///", CDNHTTPS: "https://js.example.com/assets/", Suffix: ".min"})
	tests := []struct{ got, want string }{
		{l.Root(false), "http://js.example.com/2.2.3"},
		{l.Root(true), "https://js.example.com/assets/2.2.3"},
		{l.Path("sockjs", false), "http://js.example.com/2.2.3/sockjs.min.js"},
		{l.Path("json2", true), "https://js.example.com/assets/2.2.3/json2.min.js"},
		{l.PathOf("WebSocketMain.swf", true), "https://js.example.com/assets/2.2.3/WebSocketMain.swf"},
		{l.PathOf("style.min.css", false), "http://js.example.com/2.2.3/style.min.css"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	plain := newLoader(t, loader.Options{CDNHTTP: "http://js.example.com", CDNHTTPS: "https://js.example.com"})
	if got := plain.Path("sockjs", false); got != "http://js.example.com/2.2.3/sockjs.js" {
		t.Errorf("plain Path = %q", got)
	}
}

// TestNamedLibrary loads from a named library on a server that holds
// many: with Options.Library, and with a CDN base that points at the
// library itself, as a seed-style loader's cdn_http does.
func TestNamedLibrary(t *testing.T) {
	c := newCDN(t)
	want, err := os.ReadFile(filepath.Join(c.root, "pusher/2.2.4/pusher.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	withLibrary := newLoader(t, loader.Options{CDNHTTP: c.URL, Library: "pusher", Version: "2.2.4", Suffix: ".min"})
	if got := withLibrary.Path("pusher", false); got != c.URL+"/pusher/2.2.4/pusher.min.js" {
		t.Errorf("Path = %q", got)
	}
	atLibrary := newLoader(t, loader.Options{CDNHTTP: c.URL + "/pusher/", Version: "2.2.4", Suffix: ".min"})
	for _, l := range []*loader.Loader{withLibrary, atLibrary} {
		got, err := l.Load(context.Background(), "pusher")
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %v; same bytes as the library's: %v", l.Root(false), err, bytes.Equal(got, want))
		}
	}
	if c.count("/-/meta/pusher/2.2.4") != 1 || c.count("/pusher/-/meta/2.2.4") != 1 {
		t.Errorf("manifest requests: %d at /-/meta/pusher/2.2.4, %d at /pusher/-/meta/2.2.4", c.count("/-/meta/pusher/2.2.4"), c.count("/pusher/-/meta/2.2.4"))
	}
	// The root library's 2.2.3 is not the library's.
	other := newLoader(t, loader.Options{CDNHTTP: c.URL, Library: "pusher", Version: "2.2.3"})
	if _, err := other.Load(context.Background(), "pusher"); !errors.Is(err, loader.ErrNotFound) {
		t.Errorf("a version the library lacks: %v", err)
	}
	if err := (loader.Options{CDNHTTP: "http://a", Version: "1.0.0", Library: "Pusher"}).Validate(); err == nil || !strings.Contains(err.Error(), `Options.Library "Pusher" has the capital`) {
		t.Errorf("Validate with a bad library: %v", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		o    loader.Options
		want string
	}{
		{loader.Options{CDNHTTP: "http://a"}, "Options.Version is required"},
		{loader.Options{CDNHTTP: "http://a", Version: "2.2"}, `Options.Version "2.2" must be a full version`},
		{loader.Options{CDNHTTP: "http://a", Version: "^2.2.0"}, "never an alias or range"},
		{loader.Options{Version: "1.0.0"}, "set Options.CDNHTTP or Options.CDNHTTPS"},
		{loader.Options{CDNHTTP: "http://a", Version: "1.0.0", Encrypted: true}, "Options.Encrypted needs Options.CDNHTTPS"},
		{loader.Options{CDNHTTP: "ftp://a", Version: "1.0.0"}, `Options.CDNHTTP "ftp://a" must be an http or https URL`},
		{loader.Options{CDNHTTP: "http://a", Version: "1.0.0", Mirrors: []string{"a.example"}}, `Options.Mirrors[0] "a.example"`},
		{loader.Options{CDNHTTP: "http://a", Version: "1.0.0", Suffix: "/../x"}, `Options.Suffix "/../x"`},
		{loader.Options{CDNHTTP: "http://a", Version: "1.0.0", Timeout: -1}, "Options.Timeout is -1ns"},
	}
	for _, tc := range tests {
		if err := tc.o.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.o, err, tc.want)
		}
	}
}

func TestLoadFromRealServer(t *testing.T) {
	c := newCDN(t)
	l := newLoader(t, loader.Options{CDNHTTP: "http://unused.invalid/", CDNHTTPS: c.URL + "/", Encrypted: true, Suffix: ".min"})
	got, err := l.Load(context.Background(), "pusher")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, c.file(t, "pusher.min.js")) {
		t.Error("Load returned other bytes than the published pusher.min.js")
	}
	swf, err := l.LoadFile(context.Background(), "WebSocketMain.swf")
	if err != nil || !bytes.Equal(swf, c.file(t, "WebSocketMain.swf")) {
		t.Errorf("LoadFile swf: %v", err)
	}
	// A second Load is served from memory.
	before := c.count("/2.2.3/pusher.min.js")
	l.Load(context.Background(), "pusher")
	if c.count("/2.2.3/pusher.min.js") != before || c.count("/-/meta/2.2.3") != 1 {
		t.Errorf("requests: file %d, meta %d; want the cache used", c.count("/2.2.3/pusher.min.js"), c.count("/-/meta/2.2.3"))
	}
	if _, err := l.Load(context.Background(), "nope"); !errors.Is(err, loader.ErrNotFound) || errors.Is(err, loader.ErrIntegrity) ||
		!strings.Contains(err.Error(), "nope.min.js: not found: version 2.2.3 has no such file") {
		t.Errorf("unlisted file: %v, want ErrNotFound naming it", err)
	}
}

// TestFaults runs each kind of misbehaviour against one loader setting
// and checks the outcome, the error kind, and how many requests it took.
func TestFaults(t *testing.T) {
	const file = "/2.2.3/sockjs.js"
	tests := []struct {
		name     string
		faults   []string
		opts     loader.Options
		wantErr  error // nil: success
		requests int
		minTime  time.Duration
	}{
		{"connection reset then success", []string{"reset"}, loader.Options{}, nil, 2, 0},
		{"500 then success", []string{"500", "500"}, loader.Options{}, nil, 3, 0},
		{"429 honours Retry-After", []string{"429"}, loader.Options{}, nil, 2, time.Second},
		{"5xx exhausts attempts", []string{"500", "500", "500"}, loader.Options{}, &loader.StatusError{}, 3, 0},
		{"404 is not retried", []string{"404"}, loader.Options{}, loader.ErrNotFound, 1, 0},
		{"400 is not retried", []string{"400"}, loader.Options{}, &loader.StatusError{}, 1, 0},
		{"slow past the attempt timeout", []string{"slow", "slow"}, loader.Options{AttemptTimeout: 100 * time.Millisecond, Attempts: 2}, loader.ErrTimeout, 2, 200 * time.Millisecond},
		{"overall timeout", []string{"slow", "slow", "slow"}, loader.Options{AttemptTimeout: time.Second, Timeout: 300 * time.Millisecond}, context.DeadlineExceeded, 1, 300 * time.Millisecond},
		{"corrupted bytes", []string{"corrupt"}, loader.Options{}, loader.ErrIntegrity, 1, 0},
		{"corrupted without integrity check", []string{"corrupt"}, loader.Options{SkipIntegrity: true}, nil, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCDN(t)
			c.plan(file, tc.faults...)
			o := tc.opts
			o.CDNHTTP = c.URL
			l := newLoader(t, o)
			start := time.Now()
			got, err := l.Load(context.Background(), "sockjs")
			elapsed := time.Since(start)
			switch want := tc.wantErr.(type) {
			case nil:
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if !tc.opts.SkipIntegrity && !bytes.Equal(got, c.file(t, "sockjs.js")) {
					t.Error("wrong bytes")
				}
			case *loader.StatusError:
				var se *loader.StatusError
				if !errors.As(err, &se) {
					t.Fatalf("err = %v, want a *StatusError", err)
				}
			default:
				if !errors.Is(err, want) {
					t.Fatalf("err = %v, want errors.Is %v", err, want)
				}
			}
			if n := c.count(file); n != tc.requests {
				t.Errorf("%d requests for the file, want %d", n, tc.requests)
			}
			if elapsed < tc.minTime {
				t.Errorf("took %v, want at least %v", elapsed, tc.minTime)
			}
		})
	}
}

func TestMirrorFallback(t *testing.T) {
	c := newCDN(t)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // connections to it are refused
	l := newLoader(t, loader.Options{CDNHTTP: down.URL, Mirrors: []string{c.URL}, Attempts: 2, Suffix: ".min"})
	got, err := l.Load(context.Background(), "pusher")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, c.file(t, "pusher.min.js")) {
		t.Error("wrong bytes from the mirror")
	}
	// A mirror that serves corrupted bytes is skipped for the next one.
	bad := newCDN(t)
	bad.plan("/2.2.3/sockjs.js", "corrupt")
	l = newLoader(t, loader.Options{CDNHTTP: bad.URL, Mirrors: []string{c.URL}})
	if got, err := l.Load(context.Background(), "sockjs"); err != nil || !bytes.Equal(got, c.file(t, "sockjs.js")) {
		t.Errorf("after a corrupt mirror: %v", err)
	}
}

func TestConcurrentLoadsShareOneRequest(t *testing.T) {
	c := newCDN(t)
	l := newLoader(t, loader.Options{CDNHTTP: c.URL, Suffix: ".min"})
	var wg sync.WaitGroup
	results := make([][]byte, 100)
	errs := make([]error, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = l.Load(context.Background(), "pusher")
		}()
	}
	wg.Wait()
	want := c.file(t, "pusher.min.js")
	for i := range 100 {
		if errs[i] != nil || !bytes.Equal(results[i], want) {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
	}
	if n, m := c.count("/2.2.3/pusher.min.js"), c.count("/-/meta/2.2.3"); n != 1 || m != 1 {
		t.Errorf("100 concurrent loads made %d file requests and %d meta requests, want 1 and 1", n, m)
	}
}

func TestFailuresAreNotCached(t *testing.T) {
	c := newCDN(t)
	c.plan("/2.2.3/sockjs.js", "500", "500", "500")
	l := newLoader(t, loader.Options{CDNHTTP: c.URL})
	if _, err := l.Load(context.Background(), "sockjs"); err == nil {
		t.Fatal("first load succeeded through three 500s")
	}
	got, err := l.Load(context.Background(), "sockjs")
	if err != nil || !bytes.Equal(got, c.file(t, "sockjs.js")) {
		t.Errorf("second load: %v", err)
	}
}

func TestDiskCache(t *testing.T) {
	c := newCDN(t)
	dir := t.TempDir()
	first := newLoader(t, loader.Options{CDNHTTP: c.URL, CacheDir: dir, Suffix: ".min"})
	if _, err := first.Load(context.Background(), "pusher"); err != nil {
		t.Fatal(err)
	}
	// A new process (a new Loader) with the same cache needs no request:
	// the file verifies against the cached integrity manifest.
	c.mu.Lock()
	c.hits = map[string]int{}
	c.mu.Unlock()
	second := newLoader(t, loader.Options{CDNHTTP: c.URL, CacheDir: dir, Suffix: ".min"})
	got, err := second.Load(context.Background(), "pusher")
	if err != nil || !bytes.Equal(got, c.file(t, "pusher.min.js")) {
		t.Fatalf("cached load: %v", err)
	}
	if len(c.hits) != 0 {
		t.Errorf("a verified cached file made requests: %v", c.hits)
	}
	// A cached file that no longer matches its hash is fetched again.
	os.WriteFile(filepath.Join(dir, "2.2.3/files/pusher.min.js"), []byte("tampered"), 0o644)
	third := newLoader(t, loader.Options{CDNHTTP: c.URL, CacheDir: dir, Suffix: ".min"})
	if got, err := third.Load(context.Background(), "pusher"); err != nil || !bytes.Equal(got, c.file(t, "pusher.min.js")) {
		t.Errorf("after tampering the cache: %v", err)
	}
	// Without integrity checks, the cache revalidates with If-None-Match.
	plainDir := t.TempDir()
	newLoader(t, loader.Options{CDNHTTP: c.URL, CacheDir: plainDir, SkipIntegrity: true}).Load(context.Background(), "sockjs")
	revalidating := newLoader(t, loader.Options{CDNHTTP: c.URL, CacheDir: plainDir, SkipIntegrity: true})
	if got, err := revalidating.Load(context.Background(), "sockjs"); err != nil || !bytes.Equal(got, c.file(t, "sockjs.js")) {
		t.Errorf("revalidated load: %v", err)
	}
	if c.inm.Load() != 1 {
		t.Errorf("%d requests carried If-None-Match, want 1", c.inm.Load())
	}
}

func TestPrefetch(t *testing.T) {
	c := newCDN(t)
	l := newLoader(t, loader.Options{CDNHTTP: c.URL, Suffix: ".min"})
	c.plan("/2.2.3/json2.min.js", "404")
	err := l.Prefetch(context.Background(), "pusher", "sockjs", "json2")
	if !errors.Is(err, loader.ErrNotFound) || !strings.Contains(err.Error(), "json2.min.js") {
		t.Fatalf("Prefetch err = %v, want the json2 404", err)
	}
	before := c.count("/2.2.3/sockjs.min.js")
	if _, err := l.Load(context.Background(), "sockjs"); err != nil || c.count("/2.2.3/sockjs.min.js") != before {
		t.Errorf("prefetched sockjs was not cached: %v", err)
	}
}

func TestTags(t *testing.T) {
	c := newCDN(t)
	l := newLoader(t, loader.Options{CDNHTTP: "http://unused.invalid", CDNHTTPS: c.URL, Encrypted: true, Suffix: ".min"})
	tag, err := l.ScriptTag(context.Background(), "pusher")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`<script src="%s/2.2.3/pusher.min.js" integrity="%s" crossorigin="anonymous"></script>`, c.URL, layout.SRI(c.file(t, "pusher.min.js")))
	if string(tag) != want {
		t.Errorf("ScriptTag =\n%s\nwant\n%s", tag, want)
	}
	css, err := l.StylesheetTag(context.Background(), "style")
	want = fmt.Sprintf(`<link rel="stylesheet" href="%s/2.2.3/style.min.css" integrity="%s" crossorigin="anonymous">`, c.URL, layout.SRI(c.file(t, "style.min.css")))
	if err != nil || string(css) != want {
		t.Errorf("StylesheetTag = %s (%v)\nwant %s", css, err, want)
	}
	noSRI := newLoader(t, loader.Options{CDNHTTP: "http://cdn.example", SkipIntegrity: true})
	tag, _ = noSRI.ScriptTag(context.Background(), `x" onload="alert(1)`)
	if strings.Contains(string(tag), `" onload="`) || strings.Contains(string(tag), "integrity") {
		t.Errorf("hostile name not escaped: %s", tag)
	}
}

// TestTokenForPrivateLibrary: with Options.Token, a private library
// loads; the token goes to the CDN's own host and never to a mirror.
func TestTokenForPrivateLibrary(t *testing.T) {
	c := newCDN(t)
	policy := &access.Policy{Private: []string{"pusher"}, Tokens: []access.Token{{SHA256: access.HashToken("cdns_t"), Libraries: []string{"pusher"}}}}
	srv, err := server.New(server.Config{Fs: storage.DiskFs{}, Root: c.root, Access: policy})
	if err != nil {
		t.Fatal(err)
	}
	var mirrorSawToken atomic.Bool
	mirror := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			mirrorSawToken.Store(true)
		}
		srv.ServeHTTP(w, r)
	}))
	defer mirror.Close()
	private := httptest.NewServer(srv)
	defer private.Close()
	for _, tc := range []struct {
		o    loader.Options
		want string
	}{
		{loader.Options{CDNHTTP: private.URL, Library: "pusher", Version: "2.2.4", Suffix: ".min", Token: "cdns_t"}, ""},
		{loader.Options{CDNHTTP: private.URL, Library: "pusher", Version: "2.2.4", Suffix: ".min"}, "HTTP 401"},
		{loader.Options{CDNHTTP: "http://127.0.0.1:9", Mirrors: []string{mirror.URL}, Library: "pusher", Version: "2.2.4", Suffix: ".min", Token: "cdns_t", Attempts: 1}, "HTTP 401"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			_, err := newLoader(t, tc.o).Load(context.Background(), "pusher")
			if (tc.want == "" && err != nil) || (tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want))) {
				t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
			}
		})
	}
	if mirrorSawToken.Load() {
		t.Error("the token was sent to a mirror")
	}
}

// TestOnDeprecated: a deprecated version loads, and the loader reports
// its deprecation once, with the message.
func TestOnDeprecated(t *testing.T) {
	c := newCDN(t)
	lib, _ := dist.NewTree(storage.DiskFs{}, c.root).Library("pusher")
	if err := lib.Deprecate(context.Background(), "2.2.4", "use 2.2.5", false); err != nil {
		t.Fatal(err)
	}
	c.srv.Refresh() // as serve's refresh does within --refresh
	var got []string
	l := newLoader(t, loader.Options{CDNHTTP: c.URL, Library: "pusher", Version: "2.2.4", Suffix: ".min",
		OnDeprecated: func(v, msg string) { got = append(got, v+": "+msg) }})
	for _, name := range []string{"pusher", "sockjs"} {
		if _, err := l.Load(context.Background(), name); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(got, "|") != "2.2.4: use 2.2.5" {
		t.Errorf("OnDeprecated calls: %q", got)
	}
}
