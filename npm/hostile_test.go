package npm

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/internal/testutil"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/npm/npmtest"
	"github.com/cdnserve/cdnserve/server"
	"github.com/cdnserve/cdnserve/storage"
	"github.com/cdnserve/cdnserve/versioning"
	"github.com/spf13/afero"
)

// hostile is a registry that sends what an attacker would: documents
// whose entries lie about their name or version, or carry paths. It is
// a real HTTP server; its tarballs are real gzip'd tars.
type hostile struct {
	*httptest.Server
	mu    sync.Mutex
	docs  map[string]any
	tgzs  map[string][]byte
	asked atomic.Int64 // document requests
	// hold, if set, blocks tarball requests until it is closed.
	hold chan struct{}
}

func newHostile(t *testing.T) *hostile {
	h := &hostile{docs: map[string]any{}, tgzs: map[string][]byte{}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		h.mu.Lock()
		tgz, isTgz := h.tgzs[name]
		doc, isDoc := h.docs[strings.Replace(name, "%2f", "/", 1)]
		hold := h.hold
		h.mu.Unlock()
		switch {
		case isTgz:
			if hold != nil {
				<-hold
			}
			w.Write(tgz)
		case isDoc:
			h.asked.Add(1)
			json.NewEncoder(w).Encode(doc)
		default:
			h.asked.Add(1)
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(h.Close)
	return h
}

// entry adds a version entry to a package's document: asked is the
// document's name and key, name and version what the entry says, and
// files its tarball's files.
func (h *hostile) entry(t *testing.T, asked, key, name, version string, files map[string]string) {
	var entries []npmtest.Entry
	for n, body := range files {
		entries = append(entries, npmtest.Entry{Name: "package/" + n, Body: body})
	}
	tgz := npmtest.Tarball(t, entries...)
	sum := sha512.Sum512(tgz)
	file := fmt.Sprintf("%x.tgz", sum[:8])
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tgzs[file] = tgz
	doc, _ := h.docs[asked].(map[string]any)
	if doc == nil {
		doc = map[string]any{"name": asked, "dist-tags": map[string]string{}, "versions": map[string]any{}}
		h.docs[asked] = doc
	}
	doc["versions"].(map[string]any)[key] = map[string]any{"name": name, "version": version,
		"dist": map[string]string{"tarball": h.URL + "/" + file, "integrity": "sha512-" + base64.StdEncoding.EncodeToString(sum[:])}}
	doc["dist-tags"].(map[string]string)["latest"] = key
}

// TestHostileDocuments: a registry's document is trusted for nothing it
// could use to poison the cache, write outside it, or publish another
// version than the one asked (issue 25, items 7, 8 and 9).
func TestHostileDocuments(t *testing.T) {
	h := newHostile(t)
	h.entry(t, "poison", "1.0.0", "ok", "1.0.0", map[string]string{"a.js": "POISON"})
	h.entry(t, "ok", "1.0.0", "ok", "1.0.0", map[string]string{"a.js": "good"})
	h.entry(t, "liar", "1.0.0", "liar", "5.0.0", map[string]string{"a.js": "lie"})
	h.entry(t, "climb", "1.0.0", "climb", "1.0.0/../../../../escape", map[string]string{"a.js": "x"})
	h.entry(t, "climb2", "../../../../escape", "climb2", "../../../../escape", map[string]string{"a.js": "x"})
	h.entry(t, "nameclimb", "1.0.0", "../../../../escape", "1.0.0", map[string]string{"a.js": "x"})
	base := t.TempDir()
	c := newTestClient(t, h.URL+"/")
	c.CacheDir = filepath.Join(base, "cache")
	root := dist.NewTree(storage.DiskFs{Root: filepath.Join(base, "dist")}, filepath.Join(base, "dist"))
	ctx := context.Background()

	for _, tc := range []struct{ name, spec, want string }{
		{"poison", "1.0.0", `its entry says it is "ok", not "poison"`},
		{"liar", "1.0.0", `its entry says it is version "5.0.0"`},
		{"climb", "1.0.0", `its entry says it is version "1.0.0/../../../../escape"`},
		{"climb2", "latest", "which is refused"},
		{"nameclimb", "1.0.0", `its entry says it is "../../../../escape"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Add(ctx, c, root, Spec{Name: tc.name, Range: tc.spec}, AddOptions{})
			if !errors.Is(err, ErrIntegrity) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("add %s@%s: %v", tc.name, tc.spec, err)
			}
			if _, err := os.Stat(filepath.Join(base, "dist", tc.name)); err == nil {
				t.Errorf("%s was published", tc.name)
			}
		})
	}
	// A build that names ok@1.0.0 gets ok's bytes, asked of the registry.
	asked := h.asked.Load()
	data, _, err := c.File(ctx, Spec{Name: "ok", Range: "1.0.0", Path: "a.js"})
	if err != nil || string(data) != "good" || h.asked.Load() == asked {
		t.Errorf("ok@1.0.0 after the poison: %q %v (registry asked: %v)", data, err, h.asked.Load() > asked)
	}
	// add --private records the library as private before its files.
	if _, err := Add(ctx, c, root, Spec{Name: "ok", Range: "1.0.0"}, AddOptions{Private: true}); err != nil {
		t.Fatal(err)
	}
	if lib, _ := root.Library("ok"); !mustPrivate(t, lib) {
		t.Error("add with Private did not record the library as private")
	}
	// Nothing was written outside the cache and the dist root.
	entries, _ := os.ReadDir(base)
	for _, e := range entries {
		if e.Name() != "cache" && e.Name() != "dist" {
			t.Errorf("written outside: %s", e.Name())
		}
	}
	filepath.Walk(c.CacheDir, func(p string, fi os.FileInfo, err error) error {
		if rel, _ := filepath.Rel(c.CacheDir, p); strings.Contains(rel, "ok") || strings.Contains(rel, "escape") {
			t.Errorf("a cache path made from registry data: %s", rel)
		}
		return nil
	})
}

// mirrorOver is a server whose mirror fetches from a registry URL, with
// its log.
func mirrorOver(t *testing.T, registry string, m *Mirror, cfg func(*server.Config)) (*httptest.Server, *bytes.Buffer, dist.Tree) {
	var logs bytes.Buffer
	root := dist.NewTree(storage.DiskFs{}, filepath.Join(t.TempDir(), "dist"))
	os.MkdirAll(root.Root, 0o755)
	if m.Client == nil {
		m.Client = newTestClient(t, registry)
	}
	m.Tree, m.Tool = root, "cdnserve test"
	m.Log = slog.New(slog.NewTextHandler(&logs, nil))
	c := server.Config{Fs: storage.DiskFs{}, Root: root.Root, Mirror: m, Logger: m.Log, AccessLog: true}
	if cfg != nil {
		cfg(&c)
	}
	srv, err := server.New(c)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts, &logs, root
}

func status(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, body := testutil.Do(t, "GET", u)
	return resp, string(body)
}

// TestMirrorRegistryDown: a registry that is down is a 502 or 504,
// never a 404 that says only a token opens the package (item 12).
func TestMirrorRegistryDown(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	c := newTestClient(t, dead.URL+"/")
	c.Config.SetToken(dead.URL+"/", "npm_secret-token")
	c.Attempts = 1
	ts, logs, _ := mirrorOver(t, dead.URL+"/", &Mirror{Client: c, Allow: []string{"*"}}, nil)
	resp, body := status(t, ts.URL+"/left-pad@1/index.js")
	if resp.StatusCode != 502 && resp.StatusCode != 504 || strings.Contains(body, "token") || strings.Contains(resp.Header.Get("Cache-Control"), "31536000") {
		t.Errorf("registry down: %d %q %s", resp.StatusCode, resp.Header.Get("Cache-Control"), body)
	}
	if !strings.Contains(logs.String(), "fetching a library from upstream failed") || strings.Contains(logs.String(), "npm_secret-token") {
		t.Errorf("the log:\n%s", logs.String())
	}
}

// TestMirrorMissesBounded: a registry's 404 is kept for the document
// TTL, and one client may cause only so many misses (item 11).
func TestMirrorMissesBounded(t *testing.T) {
	h := newHostile(t)
	ts, _, _ := mirrorOver(t, h.URL+"/", &Mirror{Allow: []string{"*"}}, func(c *server.Config) { c.MirrorMisses = 10 })
	for range 5 {
		if resp, _ := status(t, ts.URL+"/nosuch-package@1/a.js"); resp.StatusCode != 404 {
			t.Fatalf("a missing package: %d", resp.StatusCode)
		}
	}
	if got := h.asked.Load(); got != 1 {
		t.Errorf("5 requests for one missing name asked the registry %d times, want 1", got)
	}
	codes := map[int]int{}
	for i := range 100 {
		resp, _ := status(t, fmt.Sprintf("%s/random-%d@1/a.js", ts.URL, i))
		codes[resp.StatusCode]++
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if got := h.asked.Load(); got != 6 || codes[404] != 5 || codes[429] != 95 {
		t.Errorf("100 random names: %v, registry asked %d times", codes, got)
	}
}

// TestMirrorBounded: fetches beyond Concurrent wait QueueWait, then get
// 503 with Retry-After; a tarball with too many entries is refused at
// once (item 10).
func TestMirrorBounded(t *testing.T) {
	h := newHostile(t)
	h.entry(t, "slow", "1.0.0", "slow", "1.0.0", map[string]string{"a.js": "slow"})
	h.entry(t, "other", "1.0.0", "other", "1.0.0", map[string]string{"a.js": "other"})
	many := map[string]string{}
	for i := range 30 {
		many[fmt.Sprintf("f%d.js", i)] = "x"
	}
	h.entry(t, "many", "1.0.0", "many", "1.0.0", many)
	h.hold = make(chan struct{})
	c := newTestClient(t, h.URL+"/")
	c.Limits.Entries = 20
	ts, logs, _ := mirrorOver(t, h.URL+"/", &Mirror{Client: c, Allow: []string{"*"}, Concurrent: 1, QueueWait: 200 * time.Millisecond}, nil)
	first := make(chan int)
	go func() { resp, _ := status(t, ts.URL+"/slow/1.0.0/a.js"); first <- resp.StatusCode }()
	time.Sleep(100 * time.Millisecond)
	resp, body := status(t, ts.URL+"/other/1.0.0/a.js")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("with the one slot taken: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	close(h.hold)
	if code := <-first; code != 200 {
		t.Errorf("the first fetch: %d", code)
	}
	if resp, body := status(t, ts.URL+"/other/1.0.0/a.js"); resp.StatusCode != 200 || body != "other" {
		t.Errorf("once the slot is free: %d %s", resp.StatusCode, body)
	}
	start := time.Now()
	if resp, _ := status(t, ts.URL+"/many/1.0.0/f1.js"); resp.StatusCode != 502 || time.Since(start) > 5*time.Second || !strings.Contains(logs.String(), "the tarball has more than 20 entries") {
		t.Errorf("30 entries over a limit of 20: %d after %v; log:\n%s", resp.StatusCode, time.Since(start), logs.String())
	}
}

// TestMirrorNeverExtendsOurLibrary: a library published here is never
// taken over by a registry package of the same name (item 13).
func TestMirrorNeverExtendsOurLibrary(t *testing.T) {
	h := newHostile(t)
	h.entry(t, "widgets", "99.0.0", "widgets", "99.0.0", map[string]string{"w.js": "TAKEN OVER"})
	ts, logs, root := mirrorOver(t, h.URL+"/", &Mirror{Allow: []string{"widgets"}}, nil)
	lib, _ := root.Library("widgets")
	if _, err := lib.Publish(context.Background(), dist.Request{Version: mustVersion(t, "1.0.0"), Files: []layout.File{{Name: "w.js", Data: []byte("ours")}}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/widgets@latest/w.js", "/widgets@99/w.js", "/widgets/99.0.0/w.js", "/widgets/1.0.0/w.js"} {
		resp, body := status(t, ts.URL+p)
		if strings.Contains(body, "TAKEN OVER") || strings.Contains(resp.Header.Get("Location"), "99") {
			t.Errorf("%s: %d %q %s", p, resp.StatusCode, resp.Header.Get("Location"), body)
		}
	}
	if resp, _ := status(t, ts.URL+"/widgets@latest/w.js"); resp.Header.Get("Location") != "/widgets/1.0.0/w.js" {
		t.Errorf("latest: %q", resp.Header.Get("Location"))
	}
	if h.asked.Load() != 0 {
		t.Errorf("the registry was asked %d times", h.asked.Load())
	}
	if !strings.Contains(logs.String(), "dependency confusion") {
		t.Errorf("the collision is not logged:\n%s", logs.String())
	}
	if exists, _ := afero.DirExists(root.Fs, filepath.Join(root.Root, "widgets", "99.0.0")); exists {
		t.Error("99.0.0 was stored")
	}
}

func mustVersion(t *testing.T, s string) *semver.Version {
	t.Helper()
	v, err := versioning.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustPrivate(t *testing.T, tree dist.Tree) bool {
	t.Helper()
	p, err := tree.Private()
	if err != nil {
		t.Fatal(err)
	}
	return p
}
