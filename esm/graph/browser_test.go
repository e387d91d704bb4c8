package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/importmap"
	"github.com/cdnserve/cdnserve/internal/browsertest"
	"github.com/cdnserve/cdnserve/npm"
	"github.com/cdnserve/cdnserve/npm/npmtest"
	"github.com/cdnserve/cdnserve/server"
	"github.com/cdnserve/cdnserve/storage"
)

// cdn is a real server with the npm mirror (fetching from the test
// registry, which holds the real packages of scripts/real-packages.sh)
// and a Maker, behind an edge that can change one byte of one file.
type cdn struct {
	origin *httptest.Server
	edge   *httptest.Server
	root   string
	// tamper, when set, is the path whose body the edge changes.
	tamper atomic.Pointer[string]
}

func newCDN(t *testing.T, allow ...string) *cdn {
	t.Helper()
	reg := npmtest.Start(t)
	c := &cdn{root: filepath.Join(t.TempDir(), "dist")}
	os.MkdirAll(c.root, 0o755)
	client := npm.NewClient(npm.NewConfig(reg.URL))
	client.CacheDir = t.TempDir()
	log := slog.New(slog.DiscardHandler)
	mirror := &npm.Mirror{Client: client, Tree: dist.NewTree(storage.DiskFs{}, c.root), Allow: allow, AllowDependencies: true, Tool: "cdnserve test", Log: log}
	maker, err := New(Options{Fs: storage.DiskFs{}, Root: c.root, Fetch: mirror, Tool: "cdnserve test", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { maker.Close() })
	srv, err := server.New(server.Config{Fs: storage.DiskFs{}, Root: c.root, Mirror: mirror, Modules: maker})
	if err != nil {
		t.Fatal(err)
	}
	c.origin = httptest.NewServer(srv)
	t.Cleanup(c.origin.Close)
	u, _ := url.Parse(c.origin.URL)
	rp := &proxy{target: u, tamper: &c.tamper}
	c.edge = httptest.NewServer(rp)
	t.Cleanup(c.edge.Close)
	return c
}

// proxy forwards to the origin, changing one byte of the body of the
// path tamper names.
type proxy struct {
	target *url.URL
	tamper *atomic.Pointer[string]
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, _ := http.NewRequestWithContext(r.Context(), r.Method, p.target.String()+r.URL.RequestURI(), r.Body)
	for k, v := range r.Header {
		if k != "Accept-Encoding" {
			req.Header[k] = v
		}
	}
	req.Host = r.Host // maps name the edge, as they name a CDN's public host
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if t := p.tamper.Load(); t != nil && r.URL.Path == *t && len(body) > 100 {
		body = bytes.Clone(body)
		i := bytes.LastIndexByte(body[:len(body)-1], ';')
		body[i] = ' ' // one byte: still valid JavaScript, other bytes
	}
	for k, v := range resp.Header {
		if k != "Content-Length" && k != "Etag" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(body)
}

// importMap asks the edge for a graph's map.
func (c *cdn) importMap(t *testing.T, query string) (*importmap.Map, []byte) {
	t.Helper()
	resp, err := http.Get(c.edge.URL + "/-/importmap?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/importmap+json" {
		t.Fatalf("/-/importmap?%s: %d %s\n%s", query, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var m importmap.Map
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return &m, body
}

// post sends an app's file to POST /-/importmap.
func (c *cdn) post(t *testing.T, body []byte) (int, []byte) {
	t.Helper()
	resp, err := http.Post(c.edge.URL+"/-/importmap", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return strings.ReplaceAll(string(b), "</", "<\\/")
}

// TestRealPackagesInChromium: real packages from npm, fetched through
// the mirror, run in Chromium from a page on another origin that uses
// only the import map of their graph: made from the app's lockfile
// (POST), and from ranges (GET, three with an addon); and a byte
// changed in any module of a graph, one served as it is or one built,
// makes Chromium refuse it.
func TestRealPackagesInChromium(t *testing.T) {
	t.Parallel()
	c := newCDN(t, "react", "react-dom", "preact", "lit", "vue", "three", "d3", "lodash-es", "@floating-ui/dom")
	t.Run("lockfile", func(t *testing.T) {
		lock, err := os.ReadFile("../../testdata/realpkgs/package-lock.json")
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		status, body := c.post(t, lock)
		t.Logf("the map of a %d-package lockfile: %v", 78, time.Since(start).Round(time.Millisecond))
		var m importmap.Map
		if status != 200 || json.Unmarshal(body, &m) != nil {
			t.Fatalf("%d %s", status, body)
		}
		for spec, file := range map[string]string{"three": "/three/0.170.0/build/three.module.js", "lodash-es": "/lodash-es/4.18.1/lodash.js", "d3": "/d3/7.9.2/dist/d3.mjs"} {
			if !strings.HasSuffix(m.Imports[spec], file) {
				t.Errorf("imports[%q] = %q, want the lockfile's version: …%s", spec, m.Imports[spec], file)
			}
		}
		// Every app but three's, which imports an addon by a pattern
		// subpath (below), in one page with the lockfile's map.
		var scripts, names, wants []string
		for _, app := range browsertest.RealApps {
			if app.Name != "three" {
				scripts, names, wants = append(scripts, app.Script), append(names, app.Name), append(wants, app.Want)
			}
		}
		got, p := browsertest.RunModules(t, body, scripts...)
		if !slices.Equal(got, wants) {
			t.Errorf("%q with the lockfile's map:\n got %q\nwant %q\nbrowser log:\n%s", names, got, wants, p.Log())
		}
		// One integrity changed in the lockfile: the stored package is
		// not the one the app was tested with.
		bad := bytes.Replace(lock, []byte(`"integrity": "sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ=="`),
			[]byte(`"integrity": "sha512-AAAAAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ=="`), 1)
		if bytes.Equal(bad, lock) {
			t.Fatal("react's integrity is not in the lockfile")
		}
		if status, body := c.post(t, bad); status != 422 || !strings.Contains(string(body), "react@18.3.1: the lockfile says its integrity is sha512-AAAA") {
			t.Errorf("a lockfile whose react integrity differs: %d %s", status, body)
		}
		if status, body := c.post(t, []byte(`{"name": "app", "dependencies": {"preact": "^10.20.0"}}`)); status != 200 || !strings.Contains(string(body), `"preact/hooks": "`) {
			t.Errorf("a package.json: %d %s", status, body)
		}
		if status, body := c.post(t, []byte("lockfileVersion: '9.0'\n")); status != 400 || !strings.Contains(string(body), "pnpm lockfiles are not read yet") {
			t.Errorf("a pnpm-lock.yaml: %d %s", status, body)
		}
	})
	t.Run("ranges", func(t *testing.T) {
		for _, app := range browsertest.RealApps {
			if app.Name != "three" {
				continue
			}
			_, body := c.importMap(t, app.Libs)
			if got, p := browsertest.RunModules(t, body, app.Script); len(got) != 1 || got[0] != app.Want {
				t.Errorf("%s: %q, want %q\nmap: %s\nbrowser log:\n%s", app.Name, got, app.Want, body, p.Log())
			}
		}
	})
	for _, tc := range []struct {
		app string
		// module picks the module whose byte the edge changes: one deep
		// in the graph, not an entry point the page names.
		module func(m *importmap.Map) string
	}{
		{"react", func(m *importmap.Map) string { return m.Imports["scheduler"] }}, // built: react-dom's dependency
		{"d3", func(m *importmap.Map) string { return m.Imports["d3-array"] }},     // as it is: d3's dependency
		{"lodash-es", func(m *importmap.Map) string { // as it is: a module the entry imports
			for u := range m.Integrity {
				if strings.HasSuffix(u, "/chunk.js") {
					return u
				}
			}
			return ""
		}},
	} {
		t.Run("changed byte/"+tc.app, func(t *testing.T) {
			var app = browsertest.RealApps[0]
			for _, a := range browsertest.RealApps {
				if a.Name == tc.app {
					app = a
				}
			}
			m, body := c.importMap(t, app.Libs)
			target := tc.module(m)
			if target == "" || m.Integrity[target] == "" {
				t.Fatalf("no module to change, or it has no integrity: %q\n%s", target, body)
			}
			u, _ := url.Parse(target)
			c.tamper.Store(&u.Path)
			defer c.tamper.Store(nil)
			got, p := browsertest.RunModules(t, body, app.Script)
			if len(got) != 1 || !strings.HasPrefix(got[0], "failed") || !strings.Contains(p.Log(), "integrity") {
				t.Errorf("with one byte of %s changed: %q, want a failure on integrity\nbrowser log:\n%s", u.Path, got, p.Log())
			}
		})
	}
}

// TestServedMaps: through a real server, a graph's map has an immutable
// URL of its own with the same bytes; its build files are served
// immutable, as JavaScript, to any origin; ?format=html gives the tags
// for a page's head; a map that cannot be made says why, with its
// status.
func TestServedMaps(t *testing.T) {
	t.Parallel()
	c := newCDN(t, "react", "react-dom")
	resp, err := http.Get(c.origin.URL + "/-/importmap?lib=react@^18&lib=react-dom@^18/client")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Content-Location")
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=60" || !strings.HasPrefix(loc, "/-/importmap/") {
		t.Fatalf("%d %v\n%s", resp.StatusCode, resp.Header, body)
	}
	for _, tc := range []struct {
		path, status, cacheControl, contentType string
		body                                    []byte
	}{
		{loc, "200 OK", "public, max-age=31536000, immutable", "application/importmap+json", body},
		{"/-/importmap/" + strings.Repeat("0", 64) + ".json", "404 Not Found", "public, max-age=60", "", nil},
		{"/-/importmap/../../etc/passwd", "404 Not Found", "", "", nil},
		{"/-/esm/" + strings.Repeat("m", 21) + "/1.0.0/index.js", "404 Not Found", "public, max-age=60", "", nil},
		{"/-/esm/x/../../react/18.3.1/package.json", "404 Not Found", "", "", nil},
	} {
		resp, err := http.Get(c.origin.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Status != tc.status || tc.cacheControl != "" && resp.Header.Get("Cache-Control") != tc.cacheControl ||
			tc.contentType != "" && resp.Header.Get("Content-Type") != tc.contentType || tc.body != nil && !bytes.Equal(got, tc.body) {
			t.Errorf("%s: %s %q %q\n%.300s", tc.path, resp.Status, resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type"), got)
		}
	}
	var m importmap.Map
	json.Unmarshal(body, &m)
	req, _ := http.NewRequest("GET", m.Imports["react-dom/client"], nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Accept-Encoding", "br")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != 200 || h.Get("Cache-Control") != "public, max-age=31536000, immutable" || h.Get("Content-Type") != "text/javascript; charset=utf-8" ||
		h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Content-Encoding") != "br" || h.Get("Etag") == "" {
		t.Errorf("a build's file: %d %v", resp.StatusCode, h)
	}
	resp, err = http.Get(c.origin.URL + "/-/importmap?lib=react@^18&format=html")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || !bytes.HasPrefix(html, []byte(`<script type="importmap">`)) ||
		!bytes.Contains(html, []byte(`<link rel="modulepreload" href="`+m.Imports["react"]+`" integrity="`+m.Integrity[m.Imports["react"]]+`" crossorigin="anonymous">`)) {
		t.Errorf("format=html:\n%s", html)
	}
	for q, want := range map[string]string{
		"lib=react@^99":         "404 Not Found",
		"lib=vue@^3":            "404 Not Found", // not allowed
		"lib=react@^18/nothing": "404 Not Found",
	} {
		resp, err := http.Get(c.origin.URL + "/-/importmap?" + q)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Status != want || !bytes.Contains(msg, []byte(strings.Split(strings.TrimPrefix(q, "lib="), "@")[0])) {
			t.Errorf("%s: %s %s", q, resp.Status, msg)
		}
	}
}
