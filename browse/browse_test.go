package browse

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/catalog"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

func TestHumanSize(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{{0, "0 B"}, {870, "870 B"}, {1023, "1023 B"}, {1024, "1 KiB"}, {1434, "1.4 KiB"}, {1 << 20, "1 MiB"}, {3 << 19, "1.5 MiB"}} {
		t.Run(tc.want, func(t *testing.T) {
			if got := humanSize(tc.n); got != tc.want {
				t.Errorf("humanSize(%d) = %q, want %q", tc.n, got, tc.want)
			}
		})
	}
}

// tree publishes manifests (no files) of a root library's versions and
// of named libraries, and returns its catalog.
func tree(t *testing.T, versions []string, libraries int) *catalog.Catalog {
	t.Helper()
	root := filepath.Join(t.TempDir(), "dist")
	write := func(dir, name, body string) {
		os.MkdirAll(filepath.Join(dir, name), 0o755)
		os.WriteFile(filepath.Join(dir, name, layout.ManifestName), []byte(body), 0o644)
	}
	for _, v := range versions {
		write(root, v, `{"format":1,"version":"`+v+`","files":[{"path":"app.mjs","size":1434,"content_type":"text/javascript; charset=utf-8","sha256":"x","integrity":"sha384-x"},{"path":"<b>.css","size":10,"content_type":"text/css; charset=utf-8","sha256":"y","integrity":"sha384-y"}]}`)
	}
	write(root, "1.2", `{"format":1,"version":"1.2.3","alias_of":"1.2.3","files":[]}`)
	for i := range libraries {
		write(filepath.Join(root, "lib-"+strconv.Itoa(1000+i)), "0.1.0", `{"format":1,"version":"0.1.0","files":[]}`)
	}
	c := catalog.New(catalog.Options{Fs: afero.NewOsFs(), Root: root, NegativeTTL: time.Minute})
	if err := c.Refresh(); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIndex(t *testing.T) {
	if got := []string{count(1, "request"), count(0, "request"), count(2, "request")}; !slices.Equal(got, []string{"1 request", "0 requests", "2 requests"}) {
		t.Errorf("counts: %q", got)
	}
	c := tree(t, []string{"1.2.3", "1.2.2", "2.0.0-rc.1"}, 0)
	requests := func(lib, v string) (int64, bool) { return 7, v == "1.2.3" }
	for _, tc := range []struct {
		name, major, page string
		want              []string // in the rendered page
		missing           bool
	}{
		{name: "every major", want: []string{"1.2.3", "1.2.2", "2.0.0-rc.1", "prerelease", "Aliases", "· 7 requests this week", "Latest stable version", "(1 version)", "(2 versions)"}},
		{name: "one major", major: "1", want: []string{"1.x", "1.2.3", "page 1 of 1"}},
		{name: "a major that does not exist", major: "9", missing: true},
		{name: "a page past the end", major: "1", page: "2", missing: true},
		{name: "a page that is not a number", major: "1", page: "x", missing: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := Index(c.Root(), tc.major, tc.page, requests)
			if tc.missing {
				if data != nil {
					t.Errorf("Index = %v, want nil", data)
				}
				return
			}
			page, err := Render("index", data)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(page), w) {
					t.Errorf("the page lacks %q", w)
				}
			}
		})
	}
}

func TestLibrariesArePaged(t *testing.T) {
	c := tree(t, nil, 150)
	all := func(string) bool { return true }
	for _, tc := range []struct {
		name, page string
		rows       int
		first      string
	}{{"first page", "", 100, "lib-1000"}, {"second page", "2", 50, "lib-1100"}} {
		t.Run(tc.name, func(t *testing.T) {
			l := Libraries(c, all, tc.page, "")
			if l == nil || len(l.Rows) != tc.rows || l.Rows[0].Name != tc.first || l.Rows[0].Latest != "0.1.0" || l.Count != 150 || l.Pages != 2 {
				t.Errorf("Libraries(%q) = %+v", tc.page, l)
			}
		})
	}
	if l := Libraries(c, all, "3", ""); l != nil {
		t.Errorf("a page past the end = %+v, want nil", l)
	}
	if l := Libraries(c, func(n string) bool { return n != "lib-1000" }, "", ""); l.Count != 149 || l.Rows[0].Name == "lib-1000" {
		t.Errorf("a hidden library is listed: %+v", l.Rows[0])
	}
}

// TestVersionPage: every name is escaped, an ES module gets a module tag
// and a preload, and the snippet is JavaScript whatever the URL holds.
func TestVersionPage(t *testing.T) {
	c := tree(t, []string{"1.2.3", "1.2.2"}, 0)
	v, err := c.Root().Get("1.2.2")
	if err != nil {
		t.Fatal(err)
	}
	data := Version(v, VersionInput{HTTPBase: `http://cdn.example/"x/`, HTTPSBase: "https://cdn.example/", TagBase: "https://cdn.example/",
		LoaderIntegrity: "sha384-L", Requests: func(string, string) (int64, bool) { return 0, false }})
	if data.Newer != "1.2.3" || data.Latest != "1.2.3" || data.Older != "" {
		t.Errorf("neighbours: newer %q latest %q older %q", data.Newer, data.Latest, data.Older)
	}
	if got := []string{data.Files.Entries[0].Path, data.Files.Entries[1].Path}; !slices.Equal(got, []string{"<b>.css", "app.mjs"}) {
		t.Errorf("files in reading order = %q", got)
	}
	page, err := Render("version", data)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"&lt;b&gt;.css", `&lt;script type=&#34;module&#34; src=&#34;https://cdn.example/1.2.2/app.mjs&#34;`, "modulepreload"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// ES modules only: no classic dependency loader is offered.
	if strings.Contains(string(page), "DependencyLoader") {
		t.Error("a version of ES modules only offers the classic DependencyLoader")
	}
	if got := Snippet(`http://cdn.example/"x/`, "https://cdn.example/", "1.2.2", ".min"); !strings.Contains(got, `cdn_http: "http://cdn.example/\"x/"`) {
		t.Errorf("the snippet is not JavaScript whatever the URL holds: %s", got)
	}
	if strings.Contains(string(page), "<b>.css") {
		t.Error("a file name is not escaped")
	}
}
