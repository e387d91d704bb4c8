// Package npmtest gives tests the real npm registry that
// scripts/npm-test-registry.sh starts (Verdaccio): packages published
// with the real npm CLI, a recording proxy in front of it, and the
// registry's own files, to tamper with. Without CDNSERVE_TEST_NPM_REGISTRY
// the tests skip loudly; CI always sets it.
package npmtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// RegistryVar names the variable that holds the registry's URL.
const RegistryVar = "CDNSERVE_TEST_NPM_REGISTRY"

// Registry is the running test registry.
type Registry struct {
	// URL is its base URL, with a trailing slash.
	URL string
	// Token publishes and reads @private/ packages.
	Token string
	// Storage is the directory Verdaccio keeps tarballs in.
	Storage string
}

// Start returns the test registry, or skips the test.
func Start(t testing.TB) *Registry {
	t.Helper()
	u := os.Getenv(RegistryVar)
	if u == "" {
		t.Skipf("SKIPPED LOUDLY: %s is unset, so the npm registry tests did not run; start the registry with: eval \"$(scripts/npm-test-registry.sh start)\"", RegistryVar)
	}
	return &Registry{URL: u, Token: os.Getenv("CDNSERVE_TEST_NPM_TOKEN"), Storage: os.Getenv("CDNSERVE_TEST_NPM_STORAGE")}
}

// Name makes a package name no other test (nor another run against the
// same registry) uses: "base-<random>", or "@scope/base-<random>".
func Name(base string) string {
	return fmt.Sprintf("%s-%08x", base, rand.Uint32())
}

// Package is a package to publish: its package.json fields and files.
type Package struct {
	Name, Version string
	// JSON holds more package.json fields ("license", "main", "jsdelivr").
	JSON map[string]any
	// Files maps a path in the package to its content.
	Files map[string]string
}

// Publish publishes a package with `npm publish`, as a person would.
func (r *Registry) Publish(t testing.TB, p Package) {
	t.Helper()
	dir := t.TempDir()
	pj := map[string]any{"name": p.Name, "version": p.Version}
	for k, v := range p.JSON {
		pj[k] = v
	}
	raw, _ := json.Marshal(pj)
	write(t, filepath.Join(dir, "package.json"), raw)
	for name, body := range p.Files {
		write(t, filepath.Join(dir, filepath.FromSlash(name)), []byte(body))
	}
	r.npm(t, dir, "publish", "--tag", tagFor(p.Version))
}

// PublishTarball publishes a tarball made by hand (Tarball), as
// `npm publish file.tgz` does: npm sends its bytes as they are, so a
// hostile entry (a link, "../") reaches the registry.
func (r *Registry) PublishTarball(t testing.TB, version string, tgz []byte) {
	t.Helper()
	dir := t.TempDir()
	f := filepath.Join(dir, "pkg.tgz")
	write(t, f, tgz)
	r.npm(t, dir, "publish", f, "--tag", tagFor(version))
}

// tagFor keeps a prerelease off "latest", as npm asks.
func tagFor(version string) string {
	if strings.Contains(version, "-") {
		return "next"
	}
	return "latest"
}

func (r *Registry) npm(t testing.TB, dir string, args ...string) {
	t.Helper()
	rc := filepath.Join(t.TempDir(), "npmrc")
	host := strings.TrimPrefix(strings.TrimPrefix(r.URL, "http:"), "https:")
	write(t, rc, []byte("registry="+r.URL+"\n"+host+":_authToken="+r.Token+"\n"))
	cmd := exec.Command("npm", append(args, "--userconfig", rc, "--registry", r.URL, "--loglevel", "error", "--no-audit", "--no-fund")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "npm_config_cache="+filepath.Join(t.TempDir(), "cache"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TarballFile is where the registry keeps a version's tarball, for a
// test to tamper with.
func (r *Registry) TarballFile(name, version string) string {
	return filepath.Join(r.Storage, filepath.FromSlash(name), path.Base(name)+"-"+version+".tgz")
}

// Entry is one entry of a hand-made tarball.
type Entry struct {
	Name     string
	Body     string
	Linkname string // a symbolic link to this, when set
}

// Tarball makes a gzip'd tar with the entries in order, as npm pack
// would (a package.json is the caller's to include).
func Tarball(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.Name, Mode: 0o644, Size: int64(len(e.Body)), Typeflag: tar.TypeReg, ModTime: time.Unix(499162500, 0)}
		if e.Linkname != "" {
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.Linkname, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.Linkname == "" {
			tw.Write([]byte(e.Body))
		}
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func write(t testing.TB, p string, data []byte) {
	t.Helper()
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Proxy is a recording reverse proxy in front of the registry: it counts
// requests by kind and notes which carried a token, and can be stopped
// (every request then fails to connect) or told to answer 429 first.
type Proxy struct {
	*httptest.Server
	mu        sync.Mutex
	tarballs  int
	docs      int
	withToken []string // paths of requests that carried Authorization
	limited   int      // 429s still to send
	paths     []string // every request's path, in order
	answer    int      // a status to answer every request with; 0 passes them on
}

// NewProxy starts a proxy in front of the registry. Tarball URLs in the
// documents it passes point at the proxy too (Verdaccio builds them from
// the Host it is asked at).
func (r *Registry) NewProxy(t testing.TB) *Proxy {
	t.Helper()
	target, _ := url.Parse(r.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	p := &Proxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p.mu.Lock()
		if strings.HasSuffix(req.URL.Path, ".tgz") {
			p.tarballs++
		} else {
			p.docs++
		}
		if req.Header.Get("Authorization") != "" {
			p.withToken = append(p.withToken, req.URL.Path)
		}
		limited := p.limited > 0
		if limited {
			p.limited--
		}
		p.paths = append(p.paths, req.URL.Path)
		answer := p.answer
		p.mu.Unlock()
		if answer != 0 {
			http.Error(w, http.StatusText(answer), answer)
			return
		}
		if limited {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		rp.ServeHTTP(w, req)
	}))
	t.Cleanup(p.Close)
	return p
}

// URL is the proxy's base URL, with a trailing slash.
func (p *Proxy) Base() string { return p.Server.URL + "/" }

// Counts returns the tarball and document requests seen.
func (p *Proxy) Counts() (tarballs, docs int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tarballs, p.docs
}

// WithToken lists the paths of requests that carried a token.
func (p *Proxy) WithToken() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.withToken...)
}

// Limit makes the next n requests answer 429 with Retry-After: 1.
func (p *Proxy) Limit(n int) {
	p.mu.Lock()
	p.limited = n
	p.mu.Unlock()
}

// Answer makes every request answer status (503: a registry that is
// down; 404: one that has none of the packages); 0 passes them on again.
func (p *Proxy) Answer(status int) {
	p.mu.Lock()
	p.answer = status
	p.mu.Unlock()
}

// Paths lists the paths of every request seen, in order.
func (p *Proxy) Paths() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.paths...)
}
