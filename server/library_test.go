package server

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/catalog"
)

// librariesFixture is one dist root with the root library (1.7.1, 2.2.3)
// and two named libraries: pusher (2.2.4, 2.2.5-rc.1) and @corp/widgets
// (1.0.0), all built from the seed library.
func librariesFixture(t *testing.T) *fixture {
	f := newFixture(t, "1.7.1", "2.2.3")
	f.publishSeedIn(t, "pusher", "2.2.4")
	f.publishSeedIn(t, "pusher", "2.2.5-rc.1")
	f.publishSeedIn(t, "@corp/widgets", "1.0.0")
	return f
}

// TestLibraryURLs walks every URL form of issue 15 on one server.
func TestLibraryURLs(t *testing.T) {
	f := librariesFixture(t)
	_, ts := f.server(t, nil)
	for _, tc := range []struct {
		path     string
		status   int
		location string // for redirects
		body     string // a part of the body, for the others
		cache    string // Cache-Control, when it matters
	}{
		{"/pusher/2.2.4/pusher.js", 200, "", "Pusher", "public, max-age=31536000, immutable"},
		{"/pusher/2.2/pusher.js", 200, "", "Pusher", "public, max-age=300, stale-while-revalidate=60"},
		{"/pusher/2.2.5-rc.1/json2.js", 200, "", "JSON", ""},
		{"/pusher/^2.2.0/sockjs.js", 302, "/pusher/2.2.4/sockjs.js", "", "public, max-age=60"},
		{"/pusher/latest/sockjs.js", 302, "/pusher/2.2.4/sockjs.js", "", ""},
		{"/pusher/~2.2/", 302, "/pusher/2.2.4/", "", ""},
		{"/pusher@2.2.4/pusher.js", 301, "/pusher/2.2.4/pusher.js", "", "public, max-age=31536000, immutable"},
		{"/pusher@^2/pusher.js?v=1", 302, "/pusher/2.2.4/pusher.js?v=1", "", "public, max-age=60"},
		{"/pusher@latest/", 302, "/pusher/2.2.4/", "", ""},
		{"/pusher@2.2/sockjs.js", 302, "/pusher/2.2.4/sockjs.js", "", ""},
		{"/pusher@2.2.5-rc.1", 301, "/pusher/2.2.5-rc.1/", "", ""},
		{"/@corp/widgets/1.0.0/pusher.js", 200, "", "Pusher", "public, max-age=31536000, immutable"},
		{"/@corp/widgets/1.0/pusher.js", 200, "", "Pusher", ""},
		{"/@corp/widgets@1/pusher.js", 302, "/@corp/widgets/1.0.0/pusher.js", "", ""},
		{"/@corp/widgets@1.0.0/a/b.js", 301, "/@corp/widgets/1.0.0/a/b.js", "", ""},
		{"/pusher", 301, "/pusher/", "", ""},
		{"/@corp/widgets", 301, "/@corp/widgets/", "", ""},
		{"/2.2.3/pusher.js", 200, "", "Pusher", "public, max-age=31536000, immutable"},
		{"/latest/sockjs.js", 302, "/2.2.3/sockjs.js", "", ""},
		{"/nosuch/1.0.0/x.js", 404, "", "no library named nosuch is published", "public, max-age=60"},
		{"/@corp/nosuch@1/x.js", 404, "", "no library named @corp/nosuch", ""},
		{"/pusher/9.9.9/x.js", 404, "", "published versions: 2.2.5-rc.1, 2.2.4\n", ""},
		{"/pusher/^3/x.js", 404, "", "^3: no published version matches", ""},
		{"/pusher@^3/x.js", 404, "", "^3: no published version matches", ""},
		{"/pusher/2.2.4/nosuch.js", 404, "", "its files are listed at /pusher/2.2.4/ and /-/meta/pusher/2.2.4", ""},
		{"/pusher@/x.js", 400, "", "nothing after @", ""},
		{"/pusher/2.2.4/../../2.2.3/pusher.js", 400, "", "bad request path", ""},
		{"/pusher@2.2.4@1/x.js", 400, "", "bad request path", ""},
		{"/Pusher/2.2.4/pusher.js", 404, "", "not a version, alias, tag or semver range", ""},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := do(t, "GET", ts.URL+tc.path)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; Location %q; body %.200s", resp.StatusCode, tc.status, resp.Header.Get("Location"), body)
			}
			if tc.location != "" && resp.Header.Get("Location") != tc.location {
				t.Errorf("Location %q, want %q", resp.Header.Get("Location"), tc.location)
			}
			if !strings.Contains(string(body), tc.body) {
				t.Errorf("body lacks %q:\n%.300s", tc.body, body)
			}
			if tc.cache != "" && resp.Header.Get("Cache-Control") != tc.cache {
				t.Errorf("Cache-Control %q, want %q", resp.Header.Get("Cache-Control"), tc.cache)
			}
		})
	}
	// The bytes are the library's own, byte for byte.
	if _, body := do(t, "GET", ts.URL+"/@corp/widgets/1.0.0/pusher.min.js"); string(body) != string(f.file(t, "@corp/widgets/1.0.0/pusher.min.js")) {
		t.Error("/@corp/widgets/1.0.0/pusher.min.js differs from the published file")
	}
}

// TestLibraryHeadersMatchRootLibrary publishes the same build as a root
// version and as a library's version: every header of every variant is
// the same, for exact versions and for aliases, but for the cache tags,
// which name the library.
func TestLibraryHeadersMatchRootLibrary(t *testing.T) {
	f := newFixture(t, "2.2.4")
	f.publishSeedIn(t, "pusher", "2.2.4")
	_, ts := f.server(t, nil)
	for _, p := range []string{"2.2.4/pusher.min.js", "2.2/pusher.min.js", "2.2.4/WebSocketMain.swf"} {
		for _, enc := range []string{"", "br", "gzip"} {
			r1, b1 := do(t, "GET", ts.URL+"/"+p, "Accept-Encoding", enc, "Origin", "https://app.example")
			r2, b2 := do(t, "GET", ts.URL+"/pusher/"+p, "Accept-Encoding", enc, "Origin", "https://app.example")
			if wantTags := strings.ReplaceAll(r1.Header.Get("Surrogate-Key"), "@", "pusher@"); r2.Header.Get("Surrogate-Key") != "pusher "+wantTags {
				t.Errorf("%s: tags %q and %q", p, r1.Header.Get("Surrogate-Key"), r2.Header.Get("Surrogate-Key"))
			}
			for _, k := range []string{"X-Request-Id", "Surrogate-Key", "Cache-Tag"} {
				r1.Header.Del(k)
				r2.Header.Del(k)
			}
			h1, _ := json.Marshal(r1.Header)
			h2, _ := json.Marshal(r2.Header)
			if r1.StatusCode != 200 || string(b1) != string(b2) || string(h1) != string(h2) {
				t.Errorf("%s %q: root %d %s\nlibrary %d %s", p, enc, r1.StatusCode, h1, r2.StatusCode, h2)
			}
		}
	}
}

func TestLibraryEndpoints(t *testing.T) {
	f := librariesFixture(t)
	_, ts := f.server(t, nil)
	getJSON := func(path string, v any) *http.Response {
		t.Helper()
		resp, body := do(t, "GET", ts.URL+path)
		if resp.StatusCode == 200 {
			if err := json.Unmarshal(body, v); err != nil {
				t.Fatalf("%s: %v: %s", path, err, body)
			}
		}
		return resp
	}

	var libs struct {
		Root      *catalog.Summary  `json:"root"`
		Libraries []catalog.Summary `json:"libraries"`
	}
	getJSON("/-/libraries", &libs)
	got, _ := json.Marshal(libs)
	want := `{"root":{"name":"","latest":"2.2.3","aliases":{"1.7":"1.7.1","2.2":"2.2.3"}},"libraries":[` +
		`{"name":"@corp/widgets","latest":"1.0.0","aliases":{"1.0":"1.0.0"}},{"name":"pusher","latest":"2.2.4","aliases":{"2.2":"2.2.4"}}]}`
	if string(got) != want {
		t.Errorf("/-/libraries:\n%s\nwant\n%s", got, want)
	}

	for path, want := range map[string]string{
		"/-/versions/pusher":        `{"library":"pusher","versions":["2.2.5-rc.1","2.2.4"],"aliases":{"2.2":"2.2.4"},"latest":"2.2.4"}`,
		"/-/versions/@corp/widgets": `{"library":"@corp/widgets","versions":["1.0.0"],"aliases":{"1.0":"1.0.0"},"latest":"1.0.0"}`,
		"/@corp/widgets/-/versions": `{"library":"@corp/widgets","versions":["1.0.0"],"aliases":{"1.0":"1.0.0"},"latest":"1.0.0"}`,
		"/-/versions":               `{"versions":["2.2.3","1.7.1"],"aliases":{"1.7":"1.7.1","2.2":"2.2.3"},"latest":"2.2.3"}`,
	} {
		var doc catalog.VersionList
		getJSON(path, &doc)
		if got, _ := json.Marshal(doc); string(got) != want {
			t.Errorf("%s:\n%s\nwant\n%s", path, got, want)
		}
	}
	for path, want := range map[string]string{
		"/-/meta/pusher/2.2.4":         "pusher 2.2.4 2.2.4",
		"/pusher/-/meta/2.2.4":         "pusher 2.2.4 2.2.4",
		"/@corp/widgets/-/meta/1.0":    "@corp/widgets 1.0.0 1.0",
		"/-/meta/pusher/2.2":           "pusher 2.2.4 2.2",
		"/-/meta/@corp/widgets/1.0.0":  "@corp/widgets 1.0.0 1.0.0",
		"/-/meta/2.2.3":                " 2.2.3 2.2.3",
		"/-/meta/pusher/2.2.5-rc.1":    "pusher 2.2.5-rc.1 2.2.5-rc.1",
		"/-/meta/@corp/widgets/latest": "302 /-/meta/@corp/widgets/1.0.0",
		"/-/meta/pusher/^2":            "302 /-/meta/pusher/2.2.4",
		"/-/meta/nosuch/1.0.0":         "404",
		"/-/meta/pusher/9.9.9":         "404",
		"/-/versions/nosuch":           "404",
		"/-/versions/@corp":            "404",
	} {
		var m catalog.Meta
		resp := getJSON(path, &m)
		got := ""
		switch resp.StatusCode {
		case 200:
			got = m.Library + " " + m.Version + " " + m.Dir
		case 302:
			got = "302 " + resp.Header.Get("Location")
		default:
			got = resp.Status[:3]
		}
		if got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
	if resp, body := do(t, "GET", ts.URL+"/-/snippet?library=pusher&version=2.2"); resp.StatusCode != 200 ||
		!strings.Contains(string(body), `cdn_http: "http://`+strings.TrimPrefix(ts.URL, "http://")+`/pusher/"`) || !strings.Contains(string(body), `version: "2.2.4"`) {
		t.Errorf("snippet of a library: %d\n%s", resp.StatusCode, body)
	}
}

func TestLibraryPages(t *testing.T) {
	f := librariesFixture(t)
	_, ts := f.server(t, nil)
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/", []string{"<h1>Libraries</h1>", "2 libraries.", `<a href="/@corp/widgets/">@corp/widgets</a> <span class="muted">1.0.0</span>`,
			`<a href="/pusher/">pusher</a> <span class="muted">2.2.4</span>`, "<h2>Root library</h2>", `<a href="/2.2.3/">2.2.3</a>`, `href="/-/libraries"`}},
		{"/pusher/", []string{"<h1>pusher</h1>", `<a href="/pusher/2.2.4/">2.2.4</a>`, `<a href="/pusher/2.2/">2.2</a> → <a href="/pusher/2.2.4/">2.2.4</a>`,
			`(also at <code>/pusher/latest/</code>)`, `<a href="/-/versions/pusher">`}},
		{"/pusher/?major=2", []string{"<h1>pusher 2.x</h1>", `<a href="/pusher/2.2.5-rc.1/">2.2.5-rc.1</a>`, `<a href="/pusher/">All majors</a>`}},
		{"/pusher/2.2.4/", []string{`<h1><a href="/pusher/">pusher</a> 2.2.4</h1>`, `<a href="/pusher/2.2.4/pusher.js">pusher.js</a>`,
			`src=&#34;http://` + strings.TrimPrefix(ts.URL, "http://") + `/pusher/2.2.4/pusher.min.js&#34;`, `/pusher/&#34;`, `href="/-/meta/pusher/2.2.4"`, `href="/pusher/2.2.5-rc.1/" rel="prev"`}},
		{"/@corp/widgets/1.0/", []string{`<h1><a href="/@corp/widgets/">@corp/widgets</a> 1.0</h1>`, `href="/@corp/widgets/1.0.0/"`}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := do(t, "GET", ts.URL+tc.path)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Errorf("%s: %d %s", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			for _, w := range tc.want {
				if !strings.Contains(string(body), w) {
					t.Errorf("%s lacks %q", tc.path, w)
				}
			}
		})
	}
	// A missing version of a library, asked for by a browser, lists that
	// library's versions and links into it.
	resp, body := do(t, "GET", ts.URL+"/pusher/9.9.9/x.js", "Accept", "text/html")
	if resp.StatusCode != 404 || !strings.Contains(string(body), `Published versions of pusher, newest first: <a href="/pusher/2.2.5-rc.1/">`) ||
		!strings.Contains(string(body), `<a href="/pusher/">All versions</a>`) {
		t.Errorf("library 404 page: %d\n%s", resp.StatusCode, body)
	}
}

// TestLibraryPublishedAfterStart serves a library, and a version of a
// library, that were published after the server listed the tree: at
// once, without waiting for a refresh.
func TestLibraryPublishedAfterStart(t *testing.T) {
	f := newFixture(t, "2.2.3")
	_, ts := f.server(t, nil)
	if resp, _ := do(t, "GET", ts.URL+"/late/1.0.0/pusher.js"); resp.StatusCode != 404 {
		t.Fatalf("before publishing: %d", resp.StatusCode)
	}
	f.publishSeedIn(t, "late", "1.0.0")
	f.publishSeedIn(t, "@corp/late", "1.0.0")
	// A name asked for before it existed is remembered as absent for the
	// negative TTL (1 s by default); a name never asked for is found at once.
	if resp, _ := do(t, "GET", ts.URL+"/@corp/late/1.0.0/pusher.js"); resp.StatusCode != 200 {
		t.Errorf("a scoped library published after start: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", ts.URL+"/@corp/late@1/pusher.js"); resp.StatusCode != 302 || resp.Header.Get("Location") != "/@corp/late/1.0.0/pusher.js" {
		t.Errorf("a range of it: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	f.publishSeedIn(t, "@corp/late", "1.1.0")
	if resp, _ := do(t, "GET", ts.URL+"/@corp/late/1.1.0/pusher.js"); resp.StatusCode != 200 {
		t.Errorf("a version published after the library was loaded: %d", resp.StatusCode)
	}
}

// TestLibraryNegativeCacheExpires: a library asked for before it was
// published is found once the negative TTL has passed.
func TestLibraryNegativeCacheExpires(t *testing.T) {
	f := newFixture(t, "2.2.3")
	now := seedTime
	_, ts := f.server(t, func(c *Config) { c.Clock = func() time.Time { return now } })
	if resp, _ := do(t, "GET", ts.URL+"/late/1.0.0/pusher.js"); resp.StatusCode != 404 {
		t.Fatalf("before publishing: %d", resp.StatusCode)
	}
	f.publishSeedIn(t, "late", "1.0.0")
	if resp, _ := do(t, "GET", ts.URL+"/late/1.0.0/pusher.js"); resp.StatusCode != 404 {
		t.Errorf("within the negative TTL: %d", resp.StatusCode)
	}
	now = now.Add(DefaultNegativeTTL + time.Millisecond)
	if resp, _ := do(t, "GET", ts.URL+"/late/1.0.0/pusher.js"); resp.StatusCode != 200 {
		t.Errorf("after the negative TTL: %d", resp.StatusCode)
	}
}

// TestLibraryMetricsAreBounded: requests carry their library's label;
// a request for a library that does not exist creates no label value.
func TestLibraryMetricsAreBounded(t *testing.T) {
	f := librariesFixture(t)
	s, ts := f.server(t, nil)
	do(t, "GET", ts.URL+"/pusher/2.2.4/pusher.js")
	do(t, "GET", ts.URL+"/@corp/widgets@1/pusher.js")
	do(t, "GET", ts.URL+"/-/versions/pusher")
	for i := range 50 {
		do(t, "GET", ts.URL+"/made-up-"+strconv.Itoa(i)+"/1.0.0/x.js")
	}
	var body []byte
	want := []string{
		`cdnserve_requests_total{code="2xx",kind="exact",library="pusher"} 1`,
		`cdnserve_requests_total{code="3xx",kind="redirect",library="@corp/widgets"} 1`,
		`cdnserve_requests_total{code="2xx",kind="meta",library="pusher"} 1`,
		`cdnserve_requests_total{code="4xx",kind="other",library=""} 50`,
	}
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		body = scrape(t, s)
		missing := false
		for _, w := range want {
			missing = missing || !strings.Contains(string(body), w)
		}
		if !missing {
			break
		}
	}
	for _, w := range want {
		if !strings.Contains(string(body), w) {
			t.Errorf("metrics lack %s", w)
		}
	}
	if strings.Contains(string(body), "made-up") {
		t.Error("a request for an unknown library created a label value")
	}
}

// TestLibraryLinksAreNotLibraries: a symbolic link with a library's name,
// at the root or in a scope, is never served or listed, whether it was
// there at start or appears later.
func TestLibraryLinksAreNotLibraries(t *testing.T) {
	f := librariesFixture(t)
	os.Symlink(filepath.Join(f.root, "pusher"), filepath.Join(f.root, "linked"))
	os.Symlink(filepath.Join(f.root, "@corp/widgets"), filepath.Join(f.root, "@corp/linked"))
	_, ts := f.server(t, nil)
	os.Symlink(filepath.Join(f.root, "pusher"), filepath.Join(f.root, "later"))
	for _, p := range []string{"/linked/2.2.4/pusher.js", "/@corp/linked/1.0.0/pusher.js", "/later/2.2.4/pusher.js", "/linked@2/pusher.js"} {
		if resp, _ := do(t, "GET", ts.URL+p); resp.StatusCode != 404 {
			t.Errorf("%s through a link: %d", p, resp.StatusCode)
		}
	}
	if _, body := do(t, "GET", ts.URL+"/-/libraries"); strings.Contains(string(body), "linked") || strings.Contains(string(body), "later") {
		t.Errorf("/-/libraries lists a link: %s", body)
	}
	if resp, _ := do(t, "GET", ts.URL+"/pusher/2.2.4/pusher.js"); resp.StatusCode != 200 {
		t.Errorf("control: %d", resp.StatusCode)
	}
}

// TestLibraryFoundWhileRefreshing: first requests for a new library race
// with refreshes; all are answered, and they share one store (run with
// -race).
func TestLibraryFoundWhileRefreshing(t *testing.T) {
	f := newFixture(t, "2.2.3")
	s, ts := f.server(t, nil)
	f.publishSeedIn(t, "late", "1.0.0")
	var wg sync.WaitGroup
	statuses := make(chan int, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%8 == 0 {
				s.Refresh()
			}
			resp, _ := do(t, "GET", ts.URL+"/late/1.0.0/pusher.js")
			statuses <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	for st := range statuses {
		if st != 200 {
			t.Errorf("status %d", st)
		}
	}
	if got := s.cat.Libraries(); len(got) != 1 || got[0] != "late" || s.cat.Loaded("late") == nil {
		t.Errorf("libraries %q", got)
	}
}
