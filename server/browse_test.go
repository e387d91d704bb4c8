package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cdnserve/cdnserve/browse"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

func TestBrowseIndex(t *testing.T) {
	f := newFixture(t, "1.7.1", "2.2.3", "2.3.0-rc.1")
	_, ts := f.server(t, nil)
	resp, body := do(t, "GET", ts.URL+"/")
	page := string(body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("index: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.HasPrefix(csp, "default-src 'none'; style-src 'sha256-") || !strings.Contains(csp, "script-src 'sha256-") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP = %q", csp)
	}
	list := page[strings.Index(page, `id="major-2"`):]
	i1, i2, i3 := strings.Index(list, `href="/2.3.0-rc.1/"`), strings.Index(list, `href="/2.2.3/"`), strings.Index(list, `href="/1.7.1/"`)
	if i1 < 0 || i2 < 0 || i3 < 0 || i1 > i2 || i2 > i3 || strings.Index(list, `id="major-1"`) > i3 {
		t.Errorf("versions not listed by major, newest first: %d %d %d", i1, i2, i3)
	}
	if !regexp.MustCompile(`2\.3\.0-rc\.1</a> <span class="badge">prerelease</span>`).MatchString(page) || strings.Count(page, "prerelease</span>") != 1 {
		t.Error("the prerelease is not marked, or a stable version is")
	}
	for _, want := range []string{`Latest stable version: <a href="/2.2.3/">2.2.3</a>`, `<a href="/2.2/">2.2</a> → <a href="/2.2.3/">2.2.3</a>`,
		`<a href="/1.7/">1.7</a> → <a href="/1.7.1/">1.7.1</a>`, `<html lang="en">`, `name="viewport"`, `2.x <span class="muted">(2 versions)</span>`} {
		if !strings.Contains(page, want) {
			t.Errorf("index lacks %q", want)
		}
	}
	if strings.Contains(page, `<a href="/2.3/">`) {
		t.Error("a prerelease got an alias row")
	}
}

func TestBrowseVersionPage(t *testing.T) {
	f := newFixture(t, "2.2.3")
	f.publish(t, "3.0.0", []layout.File{{Name: `x"><img src=x onerror=alert(1)>.js`, Data: []byte("var evil;")}})
	_, ts := f.server(t, func(c *Config) { c.PublicURL = "https://cdn.example.com/assets/" })
	_, body := do(t, "GET", ts.URL+"/2.2.3/")
	page := string(body)
	sri := layout.SRI(f.file(t, "2.2.3/pusher.min.js"))
	for _, want := range []string{
		"<h1>Version 2.2.3</h1>",
		`<a href="/2.2.3/pusher.min.js">pusher.min.js</a>`,
		`<td class="type"><code>text/javascript; charset=utf-8</code>`,
		`<td class="type"><code>application/x-shockwave-flash</code>`,
		`<code class="sri">` + sri + "</code>",
		"Published 2026-11-26 12:00 UTC",
		`&lt;script src=&#34;https://cdn.example.com/assets/2.2.3/pusher.min.js&#34; integrity=&#34;` + sri + `&#34; crossorigin=&#34;anonymous&#34;&gt;&lt;/script&gt;`,
		`&lt;link rel=&#34;stylesheet&#34; href=&#34;https://cdn.example.com/assets/2.2.3/style.min.css&#34;`,
		`<button type="button" data-copy="tag-0" hidden aria-label="Copy the tag for app.js">Copy</button>`,
		`cdn_http: &#34;http://cdn.example.com/assets/&#34;`,
		`cdn_https: &#34;https://cdn.example.com/assets/&#34;`,
		`version: &#34;2.2.3&#34;`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("version page lacks %q", want)
		}
	}
	if strings.Contains(page, "WebSocketMain.swf&#34; integrity") {
		t.Error("a tag was offered for a non-script file")
	}
	_, body = do(t, "GET", ts.URL+"/2.2/")
	if !strings.Contains(string(body), `This is an alias. It now holds version <a href="/2.2.3/">2.2.3</a>`) || !strings.Contains(string(body), `version: &#34;2.2.3&#34;`) {
		t.Error("alias page does not say which version it holds, or its snippet names the alias")
	}
	_, body = do(t, "GET", ts.URL+"/3.0.0/")
	if strings.Contains(string(body), `<img src=x`) || !strings.Contains(string(body), `x&#34;&gt;&lt;img src=x onerror=alert(1)&gt;.js`) {
		t.Errorf("a hostile file name is not escaped")
	}
	resp, _ := do(t, "GET", ts.URL+"/2/")
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/2.2.3/" {
		t.Errorf("range page: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestSnippet(t *testing.T) {
	f := newFixture(t, "2.2.3")
	s, ts := f.server(t, nil)
	resp, body := do(t, "GET", ts.URL+"/-/snippet?version=2.2")
	host := strings.TrimPrefix(ts.URL, "http://")
	// No TLS listener: cdn_https is this http URL too, never an https URL
	// where nothing speaks TLS (issue 29, polish).
	want := "new DependencyLoader({\n  cdn_http: \"http://" + host + "/\",\n  cdn_https: \"http://" + host + "/\",\n  version: \"2.2.3\",\n  suffix: \".min\"\n});\n"
	if resp.StatusCode != 200 || string(body) != want || resp.Header.Get("Content-Type") != jsType {
		t.Errorf("snippet: %d %q\n%s\nwant\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body, want)
	}
	// With a TLS listener (ListenAndServe records its port), cdn_https
	// names it.
	s.ports["https"].Store(8443)
	_, body = do(t, "GET", ts.URL+"/-/snippet?version=2.2")
	if want := `cdn_https: "https://127.0.0.1:8443/"`; !strings.Contains(string(body), want) {
		t.Errorf("with a TLS listener, the snippet lacks %s:\n%s", want, body)
	}
	s.ports["https"].Store(0)
	if _, body := do(t, "GET", ts.URL+"/-/snippet?version=latest&suffix="); !strings.Contains(string(body), `suffix: ""`) {
		t.Errorf("suffix=: %s", body)
	}
	if resp, _ := do(t, "GET", ts.URL+"/-/snippet?version=2.2.3&suffix=evil"); resp.StatusCode != 400 {
		t.Errorf("bad suffix: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", ts.URL+"/-/snippet?version=9"); resp.StatusCode != 404 {
		t.Errorf("unknown version: %d", resp.StatusCode)
	}
	// Without a public URL, the tags to paste follow the request's scheme.
	if _, body := do(t, "GET", ts.URL+"/2.2.3/"); !strings.Contains(string(body), `&lt;script src=&#34;http://`+host+`/2.2.3/app.js&#34;`) {
		t.Error("tags on a plain-HTTP page do not use the request's http URL")
	}
}

// TestIndexStaysSmall: at 5,000 versions / stays under 50 KB, a major's
// page lists 100 versions with links to the next and previous pages, and
// a page that does not exist is a 404.
func TestIndexStaysSmall(t *testing.T) {
	s := manyVersionsServer(t, 5000)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	resp, body := do(t, "GET", ts.URL+"/")
	if resp.StatusCode != 200 || len(body) >= 50<<10 {
		t.Errorf("/ at 5,000 versions: %d, %d bytes (want < 50 KB)", resp.StatusCode, len(body))
	}
	for _, want := range []string{`href="/?major=4">All 1000 versions of 4.x</a>`, `<a href="/4.99/">4.99</a> → <a href="/4.99.9/">4.99.9</a>`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/ lacks %q", want)
		}
	}
	resp, body = do(t, "GET", ts.URL+"/?major=3&page=2")
	if resp.StatusCode != 200 || strings.Count(string(body), `<li><a href="/3.`) != 100 ||
		!strings.Contains(string(body), `href="/?major=3&amp;page=1" rel="prev"`) || !strings.Contains(string(body), `href="/?major=3&amp;page=3" rel="next"`) {
		t.Errorf("/?major=3&page=2: %d\n%.600s", resp.StatusCode, body)
	}
	for _, bad := range []string{"/?major=9", "/?major=3&page=11", "/?major=x", "/?major=3&page=0"} {
		if resp, _ := do(t, "GET", ts.URL+bad); resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", bad, resp.StatusCode)
		}
	}
}

// TestDirectories: a directory URL under any version answers a listing
// to browsers and JSON to Accept: application/json, varying by Accept,
// never a 400; the version page shows the root collapsed by directory
// with file counts and sizes; a version of 2,000 files in one directory
// is paged, each page under 60 KB (issue 29, item 1).
func TestDirectories(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "1.0.0", []layout.File{
		{Name: "README.md", Data: []byte("# readme\n")},
		{Name: "dist/a.js", Data: []byte("export const a = 1;\n")},
		{Name: "dist/esm/b.mjs", Data: []byte("export const b = 2;\n")},
		{Name: "dist/esm/c.mjs", Data: []byte("export const c = 3;\n")},
	})
	// 2,000 files in one directory: only the manifest is needed to list
	// them (writing it directly keeps the test fast).
	m := layout.Manifest{Format: 1, Version: "2.0.0"}
	for i := range 2000 {
		sum := strings.Repeat(fmt.Sprintf("%02x", i%256), 32)
		m.Files = append(m.Files, layout.ManifestFile{Path: fmt.Sprintf("lib/file-%04d.js", i), Size: 1000 + int64(i), ContentType: "text/javascript; charset=utf-8",
			SHA256: sum, Integrity: "sha384-" + strings.Repeat("A", 64)})
	}
	raw, _ := json.Marshal(m)
	os.MkdirAll(filepath.Join(f.root, "2.0.0"), 0o755)
	os.WriteFile(filepath.Join(f.root, "2.0.0", layout.ManifestName), raw, 0o644)
	_, ts := f.server(t, nil)
	browser := []string{"Accept", "text/html,application/xhtml+xml,*/*;q=0.8"}

	for _, p := range []string{"/1.0.0/dist/", "/1.0/dist/"} {
		resp, body := do(t, "GET", ts.URL+p, browser...)
		page := string(body)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !slices.Contains(resp.Header.Values("Vary"), "Accept") {
			t.Fatalf("%s: %d %q Vary %q", p, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Values("Vary"))
		}
		for _, want := range []string{`<a href="` + strings.TrimSuffix(p, "dist/") + `dist/esm/">esm/</a>`, `2 files</td><td class="type">directory`, `>a.js</a><code class="sri">sha384-`} {
			if !strings.Contains(page, want) {
				t.Errorf("%s lacks %q:\n%s", p, want, page)
			}
		}
	}
	resp, body := do(t, "GET", ts.URL+"/1.0.0/dist/", "Accept", "application/json")
	var doc struct {
		Version, Path string
		Entries       []struct {
			Name, Type, Integrity string
			Files                 int
			Size                  int64
		}
	}
	if err := json.Unmarshal(body, &doc); err != nil || resp.StatusCode != 200 || !slices.Contains(resp.Header.Values("Vary"), "Accept") {
		t.Fatalf("JSON listing: %d %v %s", resp.StatusCode, err, body)
	}
	if doc.Version != "1.0.0" || doc.Path != "dist/" || len(doc.Entries) != 2 || doc.Entries[0].Name != "esm/" || doc.Entries[0].Type != "directory" || doc.Entries[0].Files != 2 || doc.Entries[0].Size != 40 ||
		doc.Entries[1].Name != "a.js" || doc.Entries[1].Type != "file" || !strings.HasPrefix(doc.Entries[1].Integrity, "sha384-") {
		t.Errorf("JSON listing: %+v", doc)
	}
	for _, tc := range []struct {
		path string
		code int
		loc  string
	}{
		{"/1.0.0/nope/", 404, ""}, {"/1.0.0/dist/a.js/", 404, ""}, {"/1.0.0/dist//", 400, ""}, {"/1.0.0/dist/../", 400, ""},
		{"/^1.0.0/dist/", 302, "/1.0.0/dist/"}, {"/1.0.0/dist/?page=2", 404, ""},
	} {
		if resp, _ := do(t, "GET", ts.URL+tc.path, browser...); resp.StatusCode != tc.code || resp.Header.Get("Location") != tc.loc {
			t.Errorf("%s: %d %q, want %d %q", tc.path, resp.StatusCode, resp.Header.Get("Location"), tc.code, tc.loc)
		}
	}

	// The version page: the root, directories collapsed.
	_, body = do(t, "GET", ts.URL+"/1.0.0/", browser...)
	if page := string(body); !strings.Contains(page, `<a href="/1.0.0/dist/">dist/</a>`) || !strings.Contains(page, "3 files</td>") ||
		!strings.Contains(page, ">README.md</a>") || strings.Contains(page, "b.mjs") {
		t.Errorf("the version page does not collapse dist/:\n%s", page)
	}
	// 2,000 files: paged, each page small.
	_, body = do(t, "GET", ts.URL+"/2.0.0/lib/", browser...)
	if len(body) >= 60<<10 || strings.Count(string(body), `<code class="sri">`) != browse.ListingPage || !strings.Contains(string(body), `href="/2.0.0/lib/?page=2" rel="next"`) {
		t.Errorf("/2.0.0/lib/: %d bytes (want < 60 KB), %d rows", len(body), strings.Count(string(body), `<code class="sri">`))
	}
	if resp, body := do(t, "GET", ts.URL+"/2.0.0/lib/?page=20", browser...); resp.StatusCode != 200 || !strings.Contains(string(body), "file-1999.js") || strings.Contains(string(body), `rel="next"`) {
		t.Errorf("the last page: %d", resp.StatusCode)
	}
	if resp, body := do(t, "GET", ts.URL+"/2.0.0/", browser...); resp.StatusCode != 200 || len(body) >= 60<<10 || !strings.Contains(string(body), "2000 files</td>") {
		t.Errorf("/2.0.0/: %d, %d bytes", resp.StatusCode, len(body))
	}
}

// TestVersionSwitcher: the version and directory pages carry a form
// that opens the same path in another version, without a script; a 404
// for a file links to the same path in the versions that have it
// (issue 29, item 4).
func TestVersionSwitcher(t *testing.T) {
	f := newFixture(t)
	for _, v := range []string{"1.0.0", "1.1.0"} {
		f.publish(t, v, []layout.File{{Name: "dist/a.js", Data: []byte("var a = '" + v + "';\n")}})
	}
	f.publish(t, "2.0.0", []layout.File{{Name: "lib/a.js", Data: []byte("var a;\n")}})
	_, ts := f.server(t, nil)
	browser := []string{"Accept", "text/html"}
	_, body := do(t, "GET", ts.URL+"/1.1.0/dist/", browser...)
	for _, want := range []string{`<form class="switch" method="get" action="/-/switch">`, `<input type="hidden" name="path" value="dist/">`,
		`<label for="switch-version">Open dist/ in version</label> <select id="switch-version" name="version"><option>2.0.0</option><option selected>1.1.0</option><option>1.0.0</option></select>`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/1.1.0/dist/ lacks %q:\n%s", want, body)
		}
	}
	if _, body := do(t, "GET", ts.URL+"/1.0/", browser...); !strings.Contains(string(body), `<option selected>1.0</option>`) {
		t.Errorf("an alias's page does not offer itself")
	}
	for _, tc := range []struct{ query, loc string }{
		{"library=&version=1.0.0&path=dist/a.js", "/1.0.0/dist/a.js"},
		{"version=2.0.0&path=dist/", "/2.0.0/dist/"},
		{"library=widgets&version=1.0&path=", "/widgets/1.0/"},
		{"version=1.0.0&path=dist/a.js&view=1", "/1.0.0/dist/a.js?view"},
	} {
		if resp, _ := do(t, "GET", ts.URL+"/-/switch?"+tc.query); resp.StatusCode != 302 || resp.Header.Get("Location") != tc.loc {
			t.Errorf("/-/switch?%s: %d %q, want 302 %q", tc.query, resp.StatusCode, resp.Header.Get("Location"), tc.loc)
		}
	}
	for _, q := range []string{"version=../x", "version=1.0.0&path=../../etc/passwd", "version=1.0.0&path=a//b", "library=../x&version=1.0.0", "version="} {
		if resp, _ := do(t, "GET", ts.URL+"/-/switch?"+q); resp.StatusCode != 400 {
			t.Errorf("/-/switch?%s: %d, want 400", q, resp.StatusCode)
		}
	}
	// A missing file, in a version that exists and in one that does not.
	for _, p := range []string{"/2.0.0/dist/a.js", "/3.0.0/dist/a.js"} {
		resp, body := do(t, "GET", ts.URL+p, browser...)
		if want := `dist/a.js is in <a href="/1.1.0/dist/a.js">1.1.0</a>, <a href="/1.0.0/dist/a.js">1.0.0</a>.`; resp.StatusCode != 404 || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d, lacks %q:\n%s", p, resp.StatusCode, want, body)
		}
	}
}

// TestFileViewer: /<version>/<file>?view shows a text file highlighted
// on the server, every name and token escaped, with linkable line
// numbers, its size, type, SRI, tag, raw link, source map and the same
// file in other versions; a binary or very large file gets a summary;
// the raw URL is unchanged (issue 29, item 2).
func TestFileViewer(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "1.0.0", []layout.File{
		{Name: "dist/app.js", Data: []byte("// </script><script>alert(1)</script>\nvar a = \"x\";\nfunction f() { return a; }\n")},
		{Name: "dist/app.js.map", Data: []byte(`{"version":3,"sources":["app.ts"],"mappings":""}`)},
		{Name: "img.bin", Data: []byte("\x89PNG\x00\x01\x02")},
		{Name: "big.bin", Data: bytes.Repeat([]byte("a line of text\n"), browse.ViewMax/15+10)},
	})
	f.publish(t, "1.1.0", []layout.File{{Name: "dist/app.js", Data: []byte("var a;\n")}})
	_, ts := f.server(t, nil)
	resp, body := do(t, "GET", ts.URL+"/1.0.0/dist/app.js?view")
	page := string(body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || resp.Header.Get("Content-Security-Policy") != browse.ViewCSP[0] {
		t.Fatalf("viewer: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Security-Policy"))
	}
	for _, want := range []string{
		`<span class="ln" id="L2"><a class="lnlinks" href="#L2">`, `class="chroma"`, "&lt;/script&gt;&lt;script&gt;alert(1)",
		`<a href="/1.0.0/dist/app.js">raw</a>`, `<a href="/1.0.0/dist/app.js.map?view">source map</a>`, `<a href="/1.1.0/dist/app.js?view">1.1.0</a>`,
		`<code class="sri">sha384-`, `&lt;script src=&#34;http://` + strings.TrimPrefix(ts.URL, "http://") + `/1.0.0/dist/app.js&#34; integrity=`,
		`<input type="hidden" name="path" value="dist/app.js">`, "3 lines", `<a href="/1.0.0/dist/">dist</a>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the viewer lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>alert(1)") {
		t.Error("the file's text reached the page unescaped")
	}
	if resp, body := do(t, "GET", ts.URL+"/1.0.0/dist/app.js"); resp.Header.Get("Content-Type") != jsType || !strings.HasPrefix(string(body), "// </script>") {
		t.Errorf("the raw file: %q", resp.Header.Get("Content-Type"))
	}
	for p, want := range map[string]string{"/1.0.0/img.bin?view": "This is a binary file.", "/1.0.0/big.bin?view": "This file is too large to show here"} {
		if resp, body := do(t, "GET", ts.URL+p); resp.StatusCode != 200 || !strings.Contains(string(body), want) || strings.Contains(string(body), `class="chroma"`) {
			t.Errorf("%s: %d, lacks %q", p, resp.StatusCode, want)
		}
	}
	if _, body := do(t, "GET", ts.URL+"/1.0.0/dist/", "Accept", "text/html"); !strings.Contains(string(body), `<a href="/1.0.0/dist/app.js?view" aria-label="view app.js">view</a>`) {
		t.Error("the listing does not link the viewer")
	}
}

// TestLibrarySearch: / searches the libraries by name on the server, a
// page at a time, with no script; at 1,000 libraries too (issue 29,
// item 5; BenchmarkLibrarySearch measures it).
func TestLibrarySearch(t *testing.T) {
	f := newFixture(t)
	for _, name := range []string{"react", "react-dom", "preact", "lodash-es", "@corp/react-widgets"} {
		f.publishSeedIn(t, name, "1.0.0")
	}
	_, ts := f.server(t, nil)
	_, body := do(t, "GET", ts.URL+"/")
	if !strings.Contains(string(body), `<form class="search" method="get" action="/" role="search"><label for="search-q">Search libraries by name</label> <input id="search-q" name="q" type="search" value=""`) {
		t.Fatalf("/ has no search form:\n%s", body)
	}
	resp, body := do(t, "GET", ts.URL+"/?q=React")
	page := string(body)
	if resp.StatusCode != 200 || !strings.Contains(page, "4 of 5 libraries match <q>React</q>") {
		t.Errorf("/?q=React: %d\n%s", resp.StatusCode, page)
	}
	for name, want := range map[string]bool{"react": true, "react-dom": true, "preact": true, "@corp/react-widgets": true, "lodash-es": false} {
		if got := strings.Contains(page, `<a href="/`+name+`/">`); got != want {
			t.Errorf("/?q=React lists %s: %v, want %v", name, got, want)
		}
	}
	if _, body := do(t, "GET", ts.URL+"/?q=%3Cscript%3E"); !strings.Contains(string(body), "0 of 5 libraries match <q>&lt;script&gt;</q>") {
		t.Errorf("a search with no match, or unescaped:\n%s", body)
	}
}

// BenchmarkLibrarySearch renders a search of / over 1,000 libraries.
func BenchmarkLibrarySearch(b *testing.B) {
	fs := afero.NewMemMapFs()
	for i := range 1000 {
		afero.WriteFile(fs, fmt.Sprintf("/dist/lib-%04d/1.0.0/%s", i, layout.ManifestName), []byte(`{"format":1,"version":"1.0.0","files":[]}`), 0o644)
	}
	s, err := New(Config{Fs: fs, Root: "/dist"})
	if err != nil {
		b.Fatal(err)
	}
	w := &discard{h: http.Header{}}
	req := httptest.NewRequest("GET", "/?q=lib-01", nil)
	for b.Loop() {
		s.ServeHTTP(w, req)
	}
}

// TestPackageFacts: an npm package's version page shows its registry,
// tarball, integrity and licence, its exports map as a table of subpaths
// to files (in the order written, linked to the viewer), and its
// dependencies, linked when this server has them (issue 29, item 3).
func TestPackageFacts(t *testing.T) {
	f := newFixture(t)
	pkg := `{"name":"tinydep","version":"2.0.0","license":"MIT",
  "exports":{".":{"import":"./dist/index.mjs","require":"./dist/index.cjs"},"./utils":"./dist/utils.mjs","./package.json":"./package.json","./internal/*":null},
  "dependencies":{"react":"^18.0.0","left-pad":"1.3.0"},"peerDependencies":{"preact":">=10"}}`
	f.publishIn(t, "tinydep", "2.0.0", []layout.File{
		{Name: "package.json", Data: []byte(pkg)},
		{Name: "dist/index.mjs", Data: []byte("export default 1;\n")},
		{Name: "dist/index.cjs", Data: []byte("module.exports = 1;\n")},
		{Name: "dist/utils.mjs", Data: []byte("export const u = 1;\n")},
	})
	f.publishSeedIn(t, "react", "18.2.0")
	// Recorded as fetched from a registry, as cdnserve add records it.
	mpath := filepath.Join(f.root, "tinydep", "2.0.0", layout.ManifestName)
	var m layout.Manifest
	raw, err := os.ReadFile(mpath)
	if err != nil || json.Unmarshal(raw, &m) != nil {
		t.Fatal(err)
	}
	m.Provenance.Registry, m.Provenance.Tarball, m.Provenance.Integrity = "https://registry.npmjs.org/", "https://registry.npmjs.org/tinydep/-/tinydep-2.0.0.tgz", "sha512-AAAA"
	raw, _ = json.Marshal(m)
	os.WriteFile(mpath, raw, 0o644)
	_, ts := f.server(t, nil)
	_, body := do(t, "GET", ts.URL+"/tinydep/2.0.0/")
	page := string(body)
	for _, want := range []string{
		`<dt>Registry</dt><dd>https://registry.npmjs.org/</dd>`, `<code>tinydep-2.0.0.tgz</code>`, `<code class="sri">sha512-AAAA</code>`, `<dt>Licence</dt><dd>MIT</dd>`,
		`<tr><td><code>.</code></td><td><span class="muted">import</span> <a href="/tinydep/2.0.0/dist/index.mjs?view"><code>./dist/index.mjs</code></a><br><span class="muted">require</span> <a href="/tinydep/2.0.0/dist/index.cjs?view">`,
		`<tr><td><code>./utils</code></td><td><a href="/tinydep/2.0.0/dist/utils.mjs?view"><code>./dist/utils.mjs</code></a></td></tr>`,
		`<tr><td><code>./internal/*</code></td><td><code>(none)</code></td></tr>`,
		`<li>left-pad <code>1.3.0</code></li><li><a href="/react/">react</a> <code>^18.0.0</code></li><li>preact <code>&gt;=10</code> <span class="muted">(peer)</span></li>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the version page lacks %q", want)
		}
	}
	if i, j := strings.Index(page, "<code>./utils</code>"), strings.Index(page, "<code>./package.json</code>"); i < 0 || j < i {
		t.Error("the exports are not in the order package.json writes them")
	}
	// A built library has no package facts.
	_, body = do(t, "GET", ts.URL+"/react/18.2.0/")
	if strings.Contains(string(body), `id="package"`) {
		t.Error("a built library shows package facts")
	}
}
