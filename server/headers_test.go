package server

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cdnserve/cdnserve/layout"
)

const (
	ccExact    = "public, max-age=31536000, immutable"
	ccAlias    = "public, max-age=300, stale-while-revalidate=60"
	ccShort    = "public, max-age=60"
	jsType     = "text/javascript; charset=utf-8"
	absent     = "<absent>"
	anyNonZero = "<present>"
)

// TestHeaders pins every header of every kind of response. A value of
// absent means the header must not be sent.
func TestHeaders(t *testing.T) {
	f := newFixture(t, "2.2.3")
	f.publish(t, "3.0.0", []layout.File{
		{Name: "data.json", Data: []byte(`{"a": [` + strings.Repeat(`"x", `, 100) + `"y"]}`)},
		{Name: "app.min.js.map", Data: []byte(`{"version":3}`)},
		{Name: "m.wasm", Data: []byte("\x00asm\x01\x00\x00\x00")},
		{Name: "i.svg", Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
		{Name: "blob.xyz", Data: []byte("???")},
		{Name: "notes.txt", Data: []byte("plain text")},
	})
	_, ts := f.server(t, nil)
	common := map[string]string{
		"Access-Control-Allow-Origin":  "*",
		"X-Content-Type-Options":       "nosniff",
		"Cross-Origin-Resource-Policy": "cross-origin",
		"Timing-Allow-Origin":          "*",
		"X-Request-Id":                 anyNonZero,
		"Strict-Transport-Security":    absent, // plain HTTP
	}
	tests := []struct {
		name    string
		method  string
		path    string
		req     []string
		status  int
		headers map[string]string
	}{
		{"exact identity", "GET", "/2.2.3/pusher.min.js", nil, 200, map[string]string{
			"Cache-Control": ccExact, "Content-Type": jsType, "Vary": "Accept-Encoding", "Content-Encoding": absent,
			"Content-Length": strconv.Itoa(len(f.file(t, "2.2.3/pusher.min.js"))), "Etag": anyNonZero, "Last-Modified": "Thu, 26 Nov 2026 12:00:00 GMT"}},
		{"exact br", "GET", "/2.2.3/pusher.min.js", []string{"Accept-Encoding", "gzip, deflate, br"}, 200, map[string]string{
			"Content-Encoding": "br", "Vary": "Accept-Encoding", "Cache-Control": ccExact, "Content-Type": jsType,
			"Content-Length": strconv.Itoa(len(f.file(t, "2.2.3/pusher.min.js.br")))}},
		{"gzip only", "GET", "/2.2.3/pusher.min.js", []string{"Accept-Encoding", "gzip"}, 200, map[string]string{
			"Content-Encoding": "gzip", "Content-Length": strconv.Itoa(len(f.file(t, "2.2.3/pusher.min.js.gz")))}},
		{"q prefers gzip", "GET", "/2.2.3/pusher.min.js", []string{"Accept-Encoding", "br;q=0.5, gzip;q=0.8"}, 200, map[string]string{"Content-Encoding": "gzip"}},
		{"all refused but identity", "GET", "/2.2.3/pusher.min.js", []string{"Accept-Encoding", "br;q=0, gzip;q=0"}, 200, map[string]string{"Content-Encoding": absent, "Vary": "Accept-Encoding"}},
		{"star", "GET", "/2.2.3/pusher.min.js", []string{"Accept-Encoding", "*"}, 200, map[string]string{"Content-Encoding": "br"}},
		{"alias", "GET", "/2.2/pusher.min.js", nil, 200, map[string]string{"Cache-Control": ccAlias, "Content-Type": jsType}},
		{"css", "GET", "/2.2.3/style.min.css", nil, 200, map[string]string{"Content-Type": "text/css; charset=utf-8", "Vary": "Accept-Encoding"}},
		{"swf never compressed", "GET", "/2.2.3/WebSocketMain.swf", []string{"Accept-Encoding", "br, gzip"}, 200, map[string]string{
			"Content-Type": "application/x-shockwave-flash", "Vary": absent, "Content-Encoding": absent, "Content-Length": "27"}},
		{"json", "GET", "/3.0.0/data.json", nil, 200, map[string]string{"Content-Type": "application/json"}},
		{"map", "GET", "/3.0.0/app.min.js.map", nil, 200, map[string]string{"Content-Type": "application/json"}},
		{"wasm", "GET", "/3.0.0/m.wasm", nil, 200, map[string]string{"Content-Type": "application/wasm", "Vary": "Accept-Encoding"}},
		{"svg", "GET", "/3.0.0/i.svg", nil, 200, map[string]string{"Content-Type": "image/svg+xml"}},
		{"unknown type", "GET", "/3.0.0/blob.xyz", nil, 200, map[string]string{"Content-Type": "application/octet-stream"}},
		{"txt", "GET", "/3.0.0/notes.txt", nil, 200, map[string]string{"Content-Type": "text/plain; charset=utf-8"}},
		{"head", "HEAD", "/2.2.3/pusher.js", nil, 200, map[string]string{
			"Content-Length": strconv.Itoa(len(f.file(t, "2.2.3/pusher.js"))), "Cache-Control": ccExact}},
		{"range redirect", "GET", "/2/pusher.min.js?x=1", nil, 302, map[string]string{"Location": "/2.2.3/pusher.min.js?x=1", "Cache-Control": ccShort}},
		{"latest redirect", "GET", "/latest/sockjs.js", nil, 302, map[string]string{"Location": "/3.0.0/sockjs.js", "Cache-Control": ccShort}},
		{"range 404", "GET", "/9/pusher.js", nil, 404, map[string]string{"Cache-Control": ccShort, "Content-Type": "text/plain; charset=UTF-8"}},
		{"file 404", "GET", "/2.2.3/nope.js", nil, 404, map[string]string{"Cache-Control": ccShort}},
		{"post 405", "POST", "/2.2.3/pusher.js", nil, 405, map[string]string{"Allow": "GET, HEAD, OPTIONS", "Cache-Control": "no-store"}},
		{"delete on api 405", "DELETE", "/-/versions", nil, 405, map[string]string{"Cache-Control": "no-store"}},
		{"traversal 400", "GET", "/2.2.3/a%5Cb", nil, 400, map[string]string{"Cache-Control": "no-store"}},
		{"preflight", "OPTIONS", "/2.2.3/pusher.js", []string{"Origin", "https://app.example", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "range"}, 204, map[string]string{
			"Access-Control-Max-Age": "86400", "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS", "Access-Control-Allow-Headers": "range"}},
		{"healthz", "GET", "/-/healthz", nil, 200, map[string]string{"Cache-Control": "no-store"}},
		{"versions", "GET", "/-/versions", nil, 200, map[string]string{"Cache-Control": ccAlias, "Content-Type": "application/json"}},
		{"meta exact (a deprecation changes it)", "GET", "/-/meta/2.2.3", nil, 200, map[string]string{"Cache-Control": ccAlias, "Content-Type": "application/json"}},
		{"meta alias", "GET", "/-/meta/2.2", nil, 200, map[string]string{"Cache-Control": ccAlias}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := do(t, tc.method, ts.URL+tc.path, tc.req...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			for k, want := range common {
				checkHeader(t, resp.Header, k, want)
			}
			for k, want := range tc.headers {
				checkHeader(t, resp.Header, k, want)
			}
		})
	}
}

func checkHeader(t *testing.T, h http.Header, k, want string) {
	t.Helper()
	got, ok := h[http.CanonicalHeaderKey(k)]
	switch {
	case want == absent && ok:
		t.Errorf("%s = %q, want it absent", k, got)
	case want == anyNonZero && (!ok || got[0] == ""):
		t.Errorf("%s missing", k)
	case want != absent && want != anyNonZero && strings.Join(got, ", ") != want:
		t.Errorf("%s = %q, want %q", k, got, want)
	}
}

// TestEncodedBodies checks that each encoding's bytes decode to the
// published file and that each has its own ETag.
func TestEncodedBodies(t *testing.T) {
	f := newFixture(t, "2.2.3")
	_, ts := f.server(t, nil)
	want := f.file(t, "2.2.3/pusher.min.js")
	etags := map[string]bool{}
	for _, ae := range []string{"", "br", "gzip"} {
		resp, body := do(t, "GET", ts.URL+"/2.2.3/pusher.min.js", "Accept-Encoding", ae)
		if got := decode(t, resp.Header.Get("Content-Encoding"), body); !bytes.Equal(got, want) || resp.Header.Get("Content-Encoding") != ae {
			t.Errorf("%q body (Content-Encoding %q) decodes to %d bytes that differ from the file", ae, resp.Header.Get("Content-Encoding"), len(got))
		}
		etag := resp.Header.Get("Etag")
		if !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, `W/`) || etags[etag] {
			t.Errorf("%q ETag %s is not a distinct strong ETag", ae, etag)
		}
		etags[etag] = true
	}
	// The same bytes get the same ETag from a new server (a replica or a
	// restart): it comes from the manifest's hash.
	_, ts2 := f.server(t, nil)
	r1, _ := do(t, "GET", ts.URL+"/2.2.3/pusher.min.js", "Accept-Encoding", "br")
	r2, _ := do(t, "GET", ts2.URL+"/2.2/pusher.min.js", "Accept-Encoding", "br")
	if r1.Header.Get("Etag") != r2.Header.Get("Etag") {
		t.Errorf("ETag differs between servers or between exact and alias: %s vs %s", r1.Header.Get("Etag"), r2.Header.Get("Etag"))
	}
}

// TestConditionalAndRanges exercises http.ServeContent through our
// handler: If-None-Match, If-Modified-Since, Range, If-Range.
func TestConditionalAndRanges(t *testing.T) {
	f := newFixture(t, "2.2.3")
	_, ts := f.server(t, func(c *Config) { c.MaxRanges = 3 })
	url := ts.URL + "/2.2.3/pusher.js"
	body := f.file(t, "2.2.3/pusher.js")
	first, _ := do(t, "GET", url)
	etag := first.Header.Get("Etag")
	brResp, _ := do(t, "GET", url, "Accept-Encoding", "br")
	tests := []struct {
		name   string
		req    []string
		status int
		body   string
		check  func(*testing.T, *http.Response)
	}{
		{"if-none-match", []string{"If-None-Match", etag}, 304, "", func(t *testing.T, r *http.Response) {
			checkHeader(t, r.Header, "Etag", etag)
			checkHeader(t, r.Header, "Cache-Control", ccExact)
		}},
		{"if-none-match list", []string{"If-None-Match", `"other", ` + etag}, 304, "", nil},
		{"if-none-match other encoding", []string{"If-None-Match", brResp.Header.Get("Etag")}, 200, string(body), nil},
		{"if-none-match br", []string{"If-None-Match", brResp.Header.Get("Etag"), "Accept-Encoding", "br"}, 304, "", nil},
		{"if-modified-since later", []string{"If-Modified-Since", "Fri, 27 Nov 2026 00:00:00 GMT"}, 304, "", nil},
		{"if-modified-since earlier", []string{"If-Modified-Since", "Wed, 25 Nov 2026 00:00:00 GMT"}, 200, string(body), nil},
		{"range", []string{"Range", "bytes=0-9"}, 206, string(body[:10]), func(t *testing.T, r *http.Response) {
			checkHeader(t, r.Header, "Content-Range", "bytes 0-9/"+strconv.Itoa(len(body)))
			checkHeader(t, r.Header, "Content-Length", "10")
		}},
		{"suffix range", []string{"Range", "bytes=-5"}, 206, string(body[len(body)-5:]), nil},
		{"unsatisfiable", []string{"Range", "bytes=99999-"}, 416, "", func(t *testing.T, r *http.Response) {
			checkHeader(t, r.Header, "Content-Range", "bytes */"+strconv.Itoa(len(body)))
			checkHeader(t, r.Header, "Access-Control-Allow-Origin", "*")
		}},
		{"if-range match", []string{"Range", "bytes=0-3", "If-Range", etag}, 206, string(body[:4]), nil},
		{"if-range stale", []string{"Range", "bytes=0-3", "If-Range", `"stale"`}, 200, string(body), nil},
		{"two ranges", []string{"Range", "bytes=0-1,5-6"}, 206, "", func(t *testing.T, r *http.Response) {
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/byteranges") {
				t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
			}
		}},
		{"too many ranges", []string{"Range", "bytes=0-1,2-3,4-5,6-7"}, 200, string(body), nil},
		// RFC 9110 §14.2: a range unit the server does not know is ignored;
		// units are case-insensitive.
		{"unknown unit", []string{"Range", "items=0-5"}, 200, string(body), func(t *testing.T, r *http.Response) {
			checkHeader(t, r.Header, "Content-Range", absent)
			checkHeader(t, r.Header, "Content-Length", strconv.Itoa(len(body)))
		}},
		{"unit in capitals", []string{"Range", "Bytes=0-3"}, 206, string(body[:4]), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, got := do(t, "GET", url, tc.req...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.body != "" && string(got) != tc.body {
				t.Errorf("body = %q, want %q", got, tc.body)
			}
			if tc.status == 304 && len(got) != 0 {
				t.Errorf("304 with a body")
			}
			if tc.check != nil {
				tc.check(t, resp)
			}
		})
	}
}

// TestHeadMatchesGet: a HEAD gets GET's headers on every kind of answer:
// a file, a 404 (Content-Type, Content-Length), a redirect
// (Content-Length: 0) (issue 28, item 10). An error whose body depends on
// Accept says so with Vary: Accept (item 6).
func TestHeadMatchesGet(t *testing.T) {
	f := newFixture(t, "2.2.3")
	_, ts := f.server(t, nil)
	for _, tc := range []struct {
		path   string
		status int
	}{{"/2.2.3/pusher.js", 200}, {"/2.2.3/nope.js", 404}, {"/9.9.9/pusher.js", 404}, {"/^2.2.0/pusher.js", 302}, {"/-/loader.js", 200}} {
		for _, accept := range []string{"", "application/json", "text/html"} {
			get, body := do(t, "GET", ts.URL+tc.path, "Accept", accept)
			head, hbody := do(t, "HEAD", ts.URL+tc.path, "Accept", accept)
			if get.StatusCode != tc.status || head.StatusCode != tc.status || len(hbody) != 0 {
				t.Errorf("%s (%s): GET %d, HEAD %d with %d bytes", tc.path, accept, get.StatusCode, head.StatusCode, len(hbody))
				continue
			}
			for _, k := range []string{"Content-Type", "Content-Length", "Cache-Control", "Vary", "Etag", "Location"} {
				if g, h := get.Header.Values(k), head.Header.Values(k); strings.Join(g, ",") != strings.Join(h, ",") {
					t.Errorf("%s (%s): %s: GET %q, HEAD %q", tc.path, accept, k, g, h)
				}
			}
			if want := strconv.Itoa(len(body)); get.Header.Get("Content-Length") != want {
				t.Errorf("%s (%s): Content-Length %q, the body has %s bytes", tc.path, accept, get.Header.Get("Content-Length"), want)
			}
			var vary []string
			for _, v := range strings.Split(strings.Join(get.Header.Values("Vary"), ","), ",") {
				vary = append(vary, strings.TrimSpace(v))
			}
			if tc.status == 404 && !slices.Contains(vary, "Accept") {
				t.Errorf("%s: a negotiated 404 without Vary: Accept (%q)", tc.path, get.Header.Values("Vary"))
			}
		}
	}
}
