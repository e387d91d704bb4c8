package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/build"
	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/storage"
	"github.com/cdnserve/cdnserve/versioning"
	"github.com/spf13/afero"

	"github.com/cdnserve/cdnserve/internal/testutil"
)

var seedTime = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// fixture is a dist tree on real disk with the seed library published
// by the real build and publish code.
type fixture struct {
	root string
	tree dist.Tree
}

func newFixture(t testing.TB, versions ...string) *fixture {
	t.Helper()
	f := &fixture{root: filepath.Join(t.TempDir(), "dist")}
	f.tree = dist.NewTree(storage.DiskFs{}, f.root)
	f.tree.Clock = func() time.Time { return seedTime }
	for _, v := range versions {
		f.publishSeed(t, v)
	}
	return f
}

func (f *fixture) publishSeed(t testing.TB, version string) {
	t.Helper()
	f.publishSeedIn(t, "", version)
}

// publishSeedIn publishes the seed library's build as a version of a
// library ("": the root library).
func (f *fixture) publishSeedIn(t testing.TB, lib, version string) {
	t.Helper()
	raw, err := os.ReadFile("../testdata/seedlib/cdnserve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := build.Decode("cdnserve.yaml", raw)
	if err != nil {
		t.Fatal(err)
	}
	src := afero.NewReadOnlyFs(afero.NewBasePathFs(afero.NewOsFs(), "../testdata/seedlib/src"))
	res, err := build.Build(context.Background(), build.Options{Manifest: m, Src: src, Version: version})
	if err != nil {
		t.Fatal(err)
	}
	f.publishIn(t, lib, version, res.Artifacts)
}

func (f *fixture) publish(t testing.TB, version string, files []layout.File) {
	t.Helper()
	f.publishIn(t, "", version, files)
}

func (f *fixture) publishIn(t testing.TB, lib, version string, files []layout.File) {
	t.Helper()
	sv, err := versioning.Parse(version)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := f.tree.Library(lib)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.Publish(context.Background(), dist.Request{Version: sv, Files: files}); err != nil {
		t.Fatal(err)
	}
}

// file returns a published file's bytes.
func (f *fixture) file(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.root, p))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fixture) server(t *testing.T, mod func(*Config)) (*Server, *httptest.Server) {
	t.Helper()
	cfg := Config{Fs: storage.DiskFs{}, Root: f.root}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

// do sends one request without following redirects and returns the
// response with its body read (testutil.Do).
func do(t *testing.T, method, url string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	return testutil.Do(t, method, url, headers...)
}

// scrape reads a server's /-/metrics from its admin handler, as the
// operator's listener serves it.
func scrape(t *testing.T, s *Server) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	s.AdminHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/-/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/-/metrics on the admin handler: %d", rec.Code)
	}
	return rec.Body.Bytes()
}

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}
