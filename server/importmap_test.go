package server

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/cdnserve/cdnserve/importmap"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/loaderjs"
)

func TestLoaderEndpoint(t *testing.T) {
	f := newFixture(t, "2.2.3")
	_, ts := f.server(t, nil)
	resp, body := do(t, "GET", ts.URL+"/-/loader.js")
	if resp.StatusCode != 200 || string(body) != string(loaderjs.Min) || resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" ||
		resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Cache-Control") != DefaultAliasCacheControl || layout.SRI(body) != loaderjs.Integrity {
		t.Fatalf("/-/loader.js: %d %v", resp.StatusCode, resp.Header)
	}
	etag := resp.Header.Get("Etag")
	// The same preconditions as files (RFC 9110 §13.1.2): weak
	// comparison, lists and "*" (issue 28, item 11).
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		if r, body := do(t, "GET", ts.URL+"/-/loader.js", "If-None-Match", inm); r.StatusCode != 304 || len(body) != 0 || r.Header.Get("Etag") != etag {
			t.Errorf("If-None-Match %s: %d", inm, r.StatusCode)
		}
	}
	if r, _ := do(t, "GET", ts.URL+"/-/loader.js", "If-None-Match", `"other"`); r.StatusCode != 200 || r.Header.Get("Content-Length") != strconv.Itoa(len(loaderjs.Min)) {
		t.Errorf("another ETag: %d, Content-Length %q", r.StatusCode, r.Header.Get("Content-Length"))
	}
	_, page := do(t, "GET", ts.URL+"/2.2.3/")
	if !strings.Contains(string(page), `-/loader.js&#34; integrity=&#34;`+strings.ReplaceAll(loaderjs.Integrity, "+", "&#43;")+`&#34; crossorigin=&#34;anonymous&#34;`) {
		t.Errorf("the version page lacks the loader's tag with its SRI")
	}
}

func TestImportMapEndpoint(t *testing.T) {
	f := esmFixture(t)
	f.publishSeedIn(t, "pusher", "2.2.4")
	_, ts := f.server(t, nil)
	resp, body := do(t, "GET", ts.URL+"/-/importmap?lib=widget@^1.0.0&lib=widget@1.0.0/widget.mjs")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/importmap+json" || resp.Header.Get("Cache-Control") != DefaultRedirectCacheControl {
		t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, body)
	}
	var m importmap.Map
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	// The second lib of the same name wins: an import map has one entry a
	// specifier.
	if m.Imports["widget"] != ts.URL+"/widget/1.0.0/widget.mjs" || m.Imports["widget/"] != ts.URL+"/widget/1.0.0/" {
		t.Errorf("imports %v", m.Imports)
	}
	for _, u := range []string{ts.URL + "/widget/1.1.0/widget.min.mjs", ts.URL + "/widget/1.0.0/widget.mjs", ts.URL + "/widget/1.0.0/widget.min.mjs"} {
		if !strings.HasPrefix(m.Integrity[u], "sha384-") {
			t.Errorf("no integrity for %s: %v", u, m.Integrity)
		}
	}
	if _, ok := m.Integrity[ts.URL+"/widget/1.1.0/readme.txt"]; ok {
		t.Error("integrity for a file that is not a module")
	}
	_, body = do(t, "GET", ts.URL+"/-/importmap?lib=widget")
	json.Unmarshal(body, &m)
	if m.Imports["widget"] != ts.URL+"/widget/1.1.0/widget.min.mjs" {
		t.Errorf("a library's own entry, latest: %v", m.Imports)
	}
	for _, tc := range []struct {
		q    string
		code int
		want string
	}{
		{"", 400, "name at least one library"},
		{"lib=nosuch@1", 404, "no library named nosuch"},
		{"lib=widget@^9", 404, "no published version matches"},
		{"lib=pusher@2.2.4", 404, "has no ES-module file to import"},
		{"lib=widget@1.0.0/nope.mjs", 404, "has no file nope.mjs"},
		{"lib=2.2.3", 400, "the root library has no name to import by"},
	} {
		t.Run(tc.q, func(t *testing.T) {
			resp, body := do(t, "GET", ts.URL+"/-/importmap?"+tc.q)
			if resp.StatusCode != tc.code || !strings.Contains(string(body), tc.want) {
				t.Errorf("%s: %d %s", tc.q, resp.StatusCode, body)
			}
		})
	}
	// The version page of an ES-module library shows its import map.
	_, page := do(t, "GET", ts.URL+"/widget/1.1.0/")
	if !strings.Contains(string(page), `<h2 id="importmap">Import map</h2>`) || !strings.Contains(string(page), `&#34;widget&#34;: &#34;`+ts.URL+`/widget/1.1.0/widget.min.mjs&#34;`) {
		t.Errorf("the version page lacks the import map")
	}
	if _, page := do(t, "GET", ts.URL+"/pusher/2.2.4/"); strings.Contains(string(page), `id="importmap"`) {
		t.Error("a library without modules shows an import map")
	}
}
