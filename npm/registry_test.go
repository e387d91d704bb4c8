package npm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/npm/npmtest"
	"github.com/spf13/afero"
)

// testPackage publishes a small library with three versions, one a
// prerelease, to the real registry.
func testPackage(t *testing.T, reg *npmtest.Registry, name string) {
	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0-beta.1"} {
		reg.Publish(t, npmtest.Package{Name: name, Version: v,
			JSON: map[string]any{"license": "MIT", "main": "lib/index.js", "jsdelivr": "dist/" + filepath.Base(name) + ".min.js"},
			Files: map[string]string{
				"dist/" + filepath.Base(name) + ".min.js": "window.lib='" + v + "';",
				"dist/" + filepath.Base(name) + ".js":     strings.Repeat("/* "+v+" */ window.lib = 1;\n", 40),
				"lib/index.js":                            "module.exports = 1;",
				"README.md":                               "# readme",
			}})
	}
}

func newTestClient(t *testing.T, registry string) *Client {
	c := NewClient(NewConfig(registry))
	c.CacheDir = t.TempDir()
	c.Backoff = 10 * time.Millisecond
	return c
}

func memRoot() dist.Tree { return dist.NewTree(afero.NewMemMapFs(), "/dist") }

func TestAddFromRegistry(t *testing.T) {
	reg := npmtest.Start(t)
	name := npmtest.Name("cdnstest-lib")
	testPackage(t, reg, name)
	c := newTestClient(t, reg.URL)
	root := memRoot()
	ctx := context.Background()

	added, err := Add(ctx, c, root, Spec{Name: name, Range: "^1.0.0"}, AddOptions{Tool: "cdnserve test"})
	if err != nil {
		t.Fatal(err)
	}
	if added.Version.Version != "1.1.0" || added.Stored || added.Publish.Action != dist.Created {
		t.Fatalf("added %+v", added)
	}
	lib, _ := root.Library(name)
	for p, want := range map[string]string{
		"1.1.0/dist/" + name + ".min.js": "window.lib='1.1.0';",
		"1.1/dist/" + name + ".min.js":   "window.lib='1.1.0';",
		"1.1.0/lib/index.js":             "module.exports = 1;",
	} {
		if got, err := afero.ReadFile(root.Fs, filepath.Join(lib.Root, p)); err != nil || string(got) != want {
			t.Errorf("%s = %q, %v", p, got, err)
		}
	}
	raw, _ := afero.ReadFile(root.Fs, filepath.Join(lib.Root, "1.1.0", layout.ManifestName))
	m, err := layout.DecodeManifest("m", raw)
	if err != nil {
		t.Fatal(err)
	}
	p := m.Provenance
	if p.Registry != reg.URL || !strings.HasSuffix(p.Tarball, "/"+name+"-1.1.0.tgz") || !strings.HasPrefix(p.Integrity, "sha512-") || p.License != "MIT" ||
		m.Entry != "dist/"+name+".min.js" || p.Source != "npm "+name+"@1.1.0" {
		t.Errorf("manifest: entry %q provenance %+v", m.Entry, p)
	}
	if r, err := lib.Verify(); err != nil || !r.OK() || len(r.Versions) != 1 {
		t.Errorf("verify: %+v %v", r, err)
	}
	// Adding again is a no-op: nothing is fetched.
	before := c.Downloads()
	again, err := Add(ctx, c, root, Spec{Name: name, Range: "1.1.0"}, AddOptions{})
	if err != nil || !again.Stored || c.Downloads() != before {
		t.Errorf("adding again: %+v %v, %d downloads", again, err, c.Downloads()-before)
	}
	// --files keeps only what matches, paths kept.
	root2 := memRoot()
	if _, err := Add(ctx, c, root2, Spec{Name: name, Range: "1.0.0"}, AddOptions{Files: []string{"dist/**"}}); err != nil {
		t.Fatal(err)
	}
	lib2, _ := root2.Library(name)
	var got []string
	afero.Walk(root2.Fs, filepath.Join(lib2.Root, "1.0.0"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			got = append(got, strings.TrimPrefix(p, lib2.Root+"/1.0.0/"))
		}
		return nil
	})
	slices.Sort(got)
	want := []string{"_cdnserve.json", "dist/" + name + ".js", "dist/" + name + ".js.br", "dist/" + name + ".js.gz", "dist/" + name + ".min.js"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("--files dist/**: %q", got)
	}
	// A range that matches nothing, and a package that does not exist.
	if _, err := Add(ctx, c, root, Spec{Name: name, Range: "^3"}, AddOptions{}); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "no version matches ^3 (newest: 2.0.0-beta.1, 1.1.0, 1.0.0)") {
		t.Errorf("^3: %v", err)
	}
	if _, err := Add(ctx, c, root, Spec{Name: npmtest.Name("nosuch")}, AddOptions{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("no such package: %v", err)
	}
}

// TestIntegrityFailure tampers with a tarball in the registry's storage:
// the download fails its sha512 check, and nothing is published or kept.
func TestIntegrityFailure(t *testing.T) {
	reg := npmtest.Start(t)
	name := npmtest.Name("cdnstest-tampered")
	reg.Publish(t, npmtest.Package{Name: name, Version: "1.0.0", Files: map[string]string{"index.js": "var good = 1;"}})
	tgz := npmtest.Tarball(t, npmtest.Entry{Name: "package/package.json", Body: `{"name":"` + name + `","version":"1.0.0"}`},
		npmtest.Entry{Name: "package/index.js", Body: "alert('evil');"})
	if err := os.WriteFile(reg.TarballFile(name, "1.0.0"), tgz, 0o644); err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, reg.URL)
	root := memRoot()
	_, err := Add(context.Background(), c, root, Spec{Name: name, Range: "1.0.0"}, AddOptions{})
	if !errors.Is(err, ErrIntegrity) || !strings.Contains(err.Error(), "the registry's integrity says") || !strings.Contains(err.Error(), "nothing was kept or published") {
		t.Fatalf("err = %v", err)
	}
	if fi, err := afero.ReadDir(root.Fs, "/dist"); err == nil && len(fi) > 0 {
		t.Errorf("something was published: %v", fi)
	}
	if entries, _ := os.ReadDir(filepath.Join(c.CacheDir, "sha512")); len(entries) != 0 {
		t.Errorf("the tampered tarball was cached")
	}
}

// TestHostileTarballs publishes, with npm publish, tarballs made by hand:
// one with a symbolic link (the link is left out, the rest is published)
// and one with "../" in a path (refused whole).
func TestHostileTarballs(t *testing.T) {
	reg := npmtest.Start(t)
	c := newTestClient(t, reg.URL)
	root := memRoot()
	linked := npmtest.Name("cdnstest-link")
	reg.PublishTarball(t, "1.0.0", npmtest.Tarball(t,
		npmtest.Entry{Name: "package/package.json", Body: `{"name":"` + linked + `","version":"1.0.0"}`},
		npmtest.Entry{Name: "package/index.js", Body: "var ok = 1;"},
		npmtest.Entry{Name: "package/secret.js", Linkname: "/etc/passwd"}))
	added, err := Add(context.Background(), c, root, Spec{Name: linked, Range: "1.0.0"}, AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(added.Skipped) != 1 || added.Skipped[0].Path != "secret.js" || added.Publish.Files != 2 {
		t.Errorf("link: skipped %+v, %d files", added.Skipped, added.Publish.Files)
	}
	escaping := npmtest.Name("cdnstest-escape")
	reg.PublishTarball(t, "1.0.0", npmtest.Tarball(t,
		npmtest.Entry{Name: "package/package.json", Body: `{"name":"` + escaping + `","version":"1.0.0"}`},
		npmtest.Entry{Name: "package/../../evil.js", Body: "evil"}))
	if _, err := Add(context.Background(), c, root, Spec{Name: escaping, Range: "1.0.0"}, AddOptions{}); err == nil || !strings.Contains(err.Error(), `"package/../../evil.js" leaves the package directory`) {
		t.Errorf("escaping path: %v", err)
	}
	if ok, _ := afero.DirExists(root.Fs, "/dist/"+escaping); ok {
		t.Error("the escaping package was published")
	}
}

// TestTokenOnlyToItsRegistry puts two proxies in front of the registry:
// one is the default registry, the other the @private scope's, with a
// token for it alone. The token reaches the scope's registry, never the
// other; without it, the scope's package is refused with a hint.
func TestTokenOnlyToItsRegistry(t *testing.T) {
	reg := npmtest.Start(t)
	private := "@private/" + npmtest.Name("cdnstest")
	public := npmtest.Name("cdnstest-public")
	reg.Publish(t, npmtest.Package{Name: private, Version: "1.0.0", Files: map[string]string{"a.js": "var p = 1;"}})
	reg.Publish(t, npmtest.Package{Name: public, Version: "1.0.0", Files: map[string]string{"a.js": "var q = 1;"}})
	def, scoped := reg.NewProxy(t), reg.NewProxy(t)
	home := t.TempDir()
	os.WriteFile(filepath.Join(home, ".npmrc"), []byte("registry="+def.Base()+"\n@private:registry="+scoped.Base()+"\n"+
		strings.TrimPrefix(scoped.Base(), "http:")+":_authToken=${TEST_TOKEN}\n"), 0o644)
	cfg, err := LoadConfig(t.TempDir(), home, func(k string) string {
		if k == "TEST_TOKEN" {
			return reg.Token
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(cfg)
	root := memRoot()
	for _, n := range []string{private, public} {
		if _, err := Add(context.Background(), c, root, Spec{Name: n}, AddOptions{}); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
	}
	if got := def.WithToken(); len(got) != 0 {
		t.Errorf("the default registry got the scope's token: %q", got)
	}
	if got := scoped.WithToken(); len(got) != 2 { // the document and the tarball
		t.Errorf("the scope's registry got the token on %q, want the document and the tarball", got)
	}
	if tb, _ := scoped.Counts(); tb != 1 {
		t.Errorf("%d tarball downloads from the scope's registry", tb)
	}
	// Without a token, the scope's package is refused, and the error says
	// what to configure, and holds no token.
	noToken := NewClient(NewConfig(scoped.Base()))
	_, err = Add(context.Background(), noToken, memRoot(), Spec{Name: private}, AddOptions{})
	if !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "configure a token for this registry in .npmrc") || strings.Contains(err.Error(), reg.Token) {
		t.Errorf("without a token: %v", err)
	}
	if strings.Contains(cfg.String(), reg.Token) {
		t.Error("Config.String shows the token")
	}
}

// TestFileForBuild reads one file of an exact version, as a build's
// "from: npm:…" does; a second read needs no registry at all.
func TestFileForBuild(t *testing.T) {
	reg := npmtest.Start(t)
	name := npmtest.Name("cdnstest-dep")
	testPackage(t, reg, name)
	proxy := reg.NewProxy(t)
	c := newTestClient(t, proxy.Base())
	data, v, err := c.File(context.Background(), Spec{Name: name, Range: "1.0.0", Path: "dist/" + name + ".min.js"})
	if err != nil || string(data) != "window.lib='1.0.0';" || v.Version != "1.0.0" {
		t.Fatalf("File: %q %v", data, err)
	}
	proxy.Close() // the registry is gone: the cache has the verified tarball
	offline := newTestClient(t, proxy.Base())
	offline.CacheDir = c.CacheDir
	if data, _, err := offline.File(context.Background(), Spec{Name: name, Range: "1.0.0", Path: "dist/" + name + ".min.js"}); err != nil || string(data) != "window.lib='1.0.0';" {
		t.Errorf("offline File: %q %v", data, err)
	}
	if _, _, err := c.File(context.Background(), Spec{Name: name, Range: "^1.0.0", Path: "a.js"}); err == nil || !strings.Contains(err.Error(), "a build takes an exact version") {
		t.Errorf("a range: %v", err)
	}
	if _, _, err := offline.File(context.Background(), Spec{Name: name, Range: "1.0.0", Path: "nope.js"}); err == nil || !strings.Contains(err.Error(), "no file to publish") {
		t.Errorf("a missing file: %v", err)
	}
}
