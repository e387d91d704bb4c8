package npm

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/npm/npmtest"
	"github.com/cdnserve/cdnserve/server"
	"github.com/cdnserve/cdnserve/storage"
	"github.com/cdnserve/cdnserve/storage/s3test"
)

// mirrored is a real server with an npm mirror over a dist tree on disk,
// fetching from the test registry through a recording proxy.
type mirrored struct {
	ts     *httptest.Server
	proxy  *npmtest.Proxy
	client *Client
	root   dist.Tree
}

func newMirrored(t *testing.T, reg *npmtest.Registry, allow ...string) *mirrored {
	m := &mirrored{proxy: reg.NewProxy(t)}
	m.client = newTestClient(t, m.proxy.Base())
	m.root = dist.NewTree(storage.DiskFs{}, filepath.Join(t.TempDir(), "dist"))
	os.MkdirAll(m.root.Root, 0o755)
	srv, err := server.New(server.Config{Fs: storage.DiskFs{}, Root: m.root.Root,
		Mirror: &Mirror{Client: m.client, Tree: m.root, Allow: allow, Tool: "cdnserve test", Log: slog.New(slog.DiscardHandler)}})
	if err != nil {
		t.Fatal(err)
	}
	m.ts = httptest.NewServer(srv)
	t.Cleanup(m.ts.Close)
	return m
}

// get fetches a path without following redirects: status, Location and
// body.
func (m *mirrored) get(t *testing.T, p string) (int, string, string) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(m.ts.URL + p)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

func TestMirrorFetchesAndKeeps(t *testing.T) {
	reg := npmtest.Start(t)
	name := npmtest.Name("cdnstest-mirror")
	other := npmtest.Name("cdnstest-notallowed")
	testPackage(t, reg, name)
	reg.Publish(t, npmtest.Package{Name: other, Version: "1.0.0", Files: map[string]string{"a.js": "1"}})
	m := newMirrored(t, reg, name, "@corp/*")
	min := "dist/" + name + ".min.js"
	for _, tc := range []struct{ path, want string }{
		{"/" + name + "@^1/" + min, "302 /" + name + "/1.1.0/" + min},
		{"/" + name + "/1.1.0/" + min, "200 window.lib='1.1.0';"},
		{"/" + name + "/1.1/" + min, "200 window.lib='1.1.0';"},
		{"/" + name + "@^1/", "302 /" + name + "/1.1.0/" + min}, // the jsdelivr entry
		{"/" + name + "@1.1.0", "302 /" + name + "/1.1.0/" + min},
		{"/" + name + "/1.0.0/lib/index.js", "200 module.exports = 1;"}, // an exact version never fetched
		{"/" + name + "@next/" + min, "302 /" + name + "/2.0.0-beta.1/" + min},
		{"/" + name + "/9.9.9/" + min, "404"},
		{"/" + name + "@^7/" + min, "404"},
		{"/" + other + "@1/a.js", "404"},
		{"/" + other + "/1.0.0/a.js", "404"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			status, loc, body := m.get(t, tc.path)
			got := strings.TrimSpace(strconv.Itoa(status) + " " + loc)
			if status == 200 {
				got = "200 " + body
			}
			if status == 404 {
				got = "404"
			}
			if got != tc.want {
				t.Errorf("%s: %q, want %q", tc.path, got, tc.want)
			}
		})
	}
	if _, docs := m.proxy.Counts(); strings.Contains(strings.Join(m.proxy.WithToken(), " "), other) || docs == 0 {
		t.Errorf("proxy saw %d documents", docs)
	}
	// Nothing of the package that is not allowed was asked for.
	tarballs, _ := m.proxy.Counts()
	if tarballs != 3 {
		t.Errorf("%d tarball downloads, want 3 (1.1.0, 1.0.0, 2.0.0-beta.1)", tarballs)
	}
	// What was fetched is in storage for good, verified.
	reports, err := m.root.VerifyAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 1 || reports[0].Library != name || !reports[0].OK() || strings.Join(reports[0].Versions, " ") != "1.0.0 1.1.0 2.0.0-beta.1" {
		t.Errorf("stored: %+v", reports[0])
	}
	if _, err := os.Stat(filepath.Join(m.root.Root, other)); err == nil {
		t.Error("a package that is not allowed was stored")
	}
}

// TestMirrorConcurrentFirstRequests sends 100 requests at once for a
// version nobody asked for before: one tarball download, one publish,
// and 100 answers with the same bytes.
func TestMirrorConcurrentFirstRequests(t *testing.T) {
	reg := npmtest.Start(t)
	name := npmtest.Name("cdnstest-herd")
	testPackage(t, reg, name)
	m := newMirrored(t, reg, name)
	urls := make([]string, 100)
	for i := range urls {
		urls[i] = m.ts.URL + "/" + name + "/1.0.0/dist/" + name + ".min.js"
	}
	for _, r := range getAll(urls) {
		if r != "200 window.lib='1.0.0';" {
			t.Errorf("answer %q", r)
		}
	}
	if tarballs, _ := m.proxy.Counts(); tarballs != 1 {
		t.Errorf("%d tarball downloads for 100 concurrent first requests, want 1", tarballs)
	}
}

// TestMirrorStaleIfError stops the registry mid-test: what storage holds
// is still served, ranges resolve against it, and a package never
// fetched gets 502. A registry that does not answer in time gives 504.
func TestMirrorStaleIfError(t *testing.T) {
	reg := npmtest.Start(t)
	name := npmtest.Name("cdnstest-stale")
	never := npmtest.Name("cdnstest-never")
	testPackage(t, reg, name)
	m := newMirrored(t, reg, name, never)
	min := "dist/" + name + ".min.js"
	if status, loc, _ := m.get(t, "/"+name+"@^1/"+min); status != 302 || loc != "/"+name+"/1.1.0/"+min {
		t.Fatalf("before: %d %s", status, loc)
	}
	m.proxy.Close()
	m.client.DocTTL = 0 // every request asks the registry, which is gone
	for _, tc := range []struct {
		path string
		want int
		loc  string
	}{
		{"/" + name + "@^1/" + min, 302, "/" + name + "/1.1.0/" + min},
		{"/" + name + "/1.1.0/" + min, 200, ""},
		{"/" + name + "/latest/" + min, 302, "/" + name + "/1.1.0/" + min},
		{"/" + name + "/1.0.0/" + min, 502, ""}, // a version never fetched
		{"/" + never + "@1/a.js", 502, ""},
	} {
		t.Run(tc.path, func(t *testing.T) {
			if status, loc, body := m.get(t, tc.path); status != tc.want || loc != tc.loc {
				t.Errorf("%s: %d %q %s, want %d %q", tc.path, status, loc, body, tc.want, tc.loc)
			}
		})
	}
	_, _, body := m.get(t, "/"+never+"@1/a.js")
	if !strings.Contains(body, "fetching "+never+"@1 from the registry failed, and nothing of it is stored") || strings.Contains(body, "127.0.0.1") {
		t.Errorf("502 body: %s", body)
	}
	// A version never fetched of a library that has others: the 502
	// names the version asked for and the versions stored.
	if _, _, body := m.get(t, "/"+name+"/1.0.0/"+min); !strings.Contains(body, "fetching "+name+"@1.0.0 from the registry failed") ||
		!strings.Contains(body, "versions stored here: 1.1.0 (/-/versions/"+name+")") || strings.Contains(body, "127.0.0.1") {
		t.Errorf("502 body for a version never fetched: %s", body)
	}

	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hanging.Close()
	slow := newMirrored(t, reg, never)
	slow.client.Config = NewConfig(hanging.URL)
	slow.client.HTTP.Timeout = 200 * time.Millisecond
	slow.client.Attempts = 1
	if status, _, body := slow.get(t, "/"+never+"@1/a.js"); status != 504 || !strings.Contains(body, "the registry did not answer in time") {
		t.Errorf("a registry that hangs: %d %s", status, body)
	}
}

// TestMirror429 makes the registry answer 429 with Retry-After: 1 once:
// the client waits the second and succeeds.
func TestMirror429(t *testing.T) {
	reg := npmtest.Start(t)
	name := npmtest.Name("cdnstest-429")
	reg.Publish(t, npmtest.Package{Name: name, Version: "1.0.0", Files: map[string]string{"a.js": "var a = 1;"}})
	m := newMirrored(t, reg, name)
	m.proxy.Limit(1)
	start := time.Now()
	if status, _, body := m.get(t, "/"+name+"/1.0.0/a.js"); status != 200 || body != "var a = 1;" {
		t.Fatalf("%d %s", status, body)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("answered in %v: Retry-After: 1 was not honoured", d)
	}
	raw, _ := os.ReadFile(filepath.Join(m.root.Root, name, "1.0.0", layout.ManifestName))
	if mf, err := layout.DecodeManifest("m", raw); err != nil || !strings.HasPrefix(mf.Provenance.Integrity, "sha512-") {
		t.Errorf("manifest: %s %v", raw, err)
	}
}

// TestMirrorReplicasOnS3: two replicas, each with its own mirror and
// client, share one bucket; first requests reach both at once. The
// tree's lock and manifest-last publishing keep them apart: every answer
// is whole, and the bucket verifies.
func TestMirrorReplicasOnS3(t *testing.T) {
	reg := npmtest.Start(t)
	bucket := s3test.Bucket(t, s3test.Endpoint(t))
	name := npmtest.Name("cdnstest-replicas")
	testPackage(t, reg, name)
	var bases []string
	var root dist.Tree
	for range 2 {
		st, err := storage.Open(context.Background(), bucket, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		root = dist.NewTree(st.Fs, st.Root)
		root.PollInterval = 20 * time.Millisecond
		client := newTestClient(t, reg.URL)
		srv, err := server.New(server.Config{Fs: st.Fs, Root: st.Root, Mirror: &Mirror{Client: client, Tree: root, Allow: []string{name}}})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(srv)
		t.Cleanup(ts.Close)
		bases = append(bases, ts.URL)
	}
	urls := make([]string, 20)
	for i := range urls {
		urls[i] = bases[i%2] + "/" + name + "/1.1.0/dist/" + name + ".min.js"
	}
	for _, a := range getAll(urls) {
		if a != "200 window.lib='1.1.0';" {
			t.Errorf("answer %q", a)
		}
	}
	reports, err := root.VerifyAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		if !r.OK() || (r.Library == name && strings.Join(r.Versions, " ") != "1.1.0") {
			t.Errorf("%s: %v %v", r.Library, r.Versions, r.Problems)
		}
	}
}

// getAll GETs every URL at once and returns "status body" for each.
func getAll(urls []string) []string {
	out := make([]string, len(urls))
	var wg sync.WaitGroup
	for i, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(u)
			if err != nil {
				out[i] = err.Error()
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			out[i] = strconv.Itoa(resp.StatusCode) + " " + string(body)
		}()
	}
	wg.Wait()
	return out
}
