package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cdnserve/cdnserve/internal/browsertest"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/loaderjs"
	"github.com/chromedp/chromedp"
)

// tamperingEdge is a cache in front of the CDN that an attacker has
// written to: while tamper is set, it answers every script with other
// bytes (whatever encoding is asked), and passes everything else (the
// integrity manifests, the import maps) through untouched.
type tamperingEdge struct {
	*httptest.Server
	tamper atomic.Bool
}

func newTamperingEdge(t *testing.T, origin string) *tamperingEdge {
	u, _ := url.Parse(origin)
	rp := httputil.NewSingleHostReverseProxy(u)
	e := &tamperingEdge{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.tamper.Load() && (strings.HasSuffix(r.URL.Path, ".js") || strings.HasSuffix(r.URL.Path, ".mjs")) && !strings.HasPrefix(r.URL.Path, "/-/") {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			io.WriteString(w, "window.tampered = true; export {};\n")
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(e.Close)
	return e
}

// loaderPage is a page on another origin that loads /-/loader.js from the
// CDN with its integrity, and offers loadWith(options, names) to the test.
func loaderPage(t *testing.T, cdn string) *browsertest.Page {
	p := browsertest.NewPage(t)
	p.Run(t, chromedp.Navigate(browsertest.OtherOrigin(t, `<!doctype html><title>loader</title>
<script src="`+cdn+`/-/loader.js" integrity="`+loaderjs.Integrity+`" crossorigin="anonymous"></script>
<script>
window.loadWith = function (options, names) {
  delete window.SockJS; delete window.JSON2;
  var deps = new DependencyLoader(options);
  var results = [];
  return names.reduce(function (p, name) {
    return p.then(function () {
      return deps.loadAsync(name).then(function () { results.push(name + ":ok"); }, function (e) { results.push(name + ":" + e.message); });
    });
  }, Promise.resolve()).then(function () {
    var tags = [].slice.call(document.querySelectorAll("script[integrity]")).filter(function (s) { return s.src.indexOf("/-/loader.js") < 0; });
    return results.join(" ") + " | " + tags.map(function (s) { return s.src.replace(/^.*\/\/[^/]+/, "") + " " + (s.integrity ? "sri" : "none") + " " + s.crossOrigin; }).join(" ; ");
  });
};
</script>`)))
	if got := p.Eval(t, `typeof DependencyLoader`); got != "function" {
		t.Fatalf("/-/loader.js did not run: %s\n%s", got, p.Log())
	}
	return p
}

// TestBrowserLoader: /-/loader.js, from a page on another origin, loads
// dependencies with .min and with "", from the root library and from a
// named one, each checked against /-/meta and tagged with integrity.
func TestBrowserLoader(t *testing.T) {
	f := newFixture(t, "2.2.3")
	f.publishSeedIn(t, "pusher", "2.2.4")
	_, cdn := f.server(t, nil)
	p := loaderPage(t, cdn.URL)
	for _, tc := range []struct{ options, want string }{
		{`{cdn_http: "` + cdn.URL + `/", cdn_https: "https://unused.invalid/", version: "2.2.3", suffix: ".min"}`,
			"sockjs:ok json2:ok | /2.2.3/sockjs.min.js sri anonymous ; /2.2.3/json2.min.js sri anonymous"},
		{`{cdn_http: "` + cdn.URL + `", version: "2.2.3", suffix: ""}`,
			"sockjs:ok json2:ok | /2.2.3/sockjs.js sri anonymous ; /2.2.3/json2.js sri anonymous"},
		{`{cdn_http: "` + cdn.URL + `/", version: "2.2.4", suffix: ".min", library: "pusher"}`,
			"sockjs:ok json2:ok | /pusher/2.2.4/sockjs.min.js sri anonymous ; /pusher/2.2.4/json2.min.js sri anonymous"},
		{`{cdn_http: "` + cdn.URL + `/pusher/", version: "2.2.4", suffix: ""}`, // the seed's way: cdn_http at the library
			"sockjs:ok json2:ok | /pusher/2.2.4/sockjs.js sri anonymous ; /pusher/2.2.4/json2.js sri anonymous"},
		{`{cdn_http: "http://127.0.0.1:9/", mirrors: ["` + cdn.URL + `/"], version: "2.2.3", suffix: ".min", timeout: 2000}`,
			"sockjs:ok json2:ok | /2.2.3/sockjs.min.js sri anonymous ; /2.2.3/json2.min.js sri anonymous"},
	} {
		t.Run(tc.options, func(t *testing.T) {
			p.Eval(t, `document.querySelectorAll("script[integrity]").forEach(function (s) { if (s.src.indexOf("/-/loader.js") < 0) s.remove(); }); "cleared"`)
			got := p.Eval(t, "loadWith("+tc.options+`, ["sockjs", "json2"])`)
			if got != tc.want {
				t.Errorf("%s:\n got %q\nwant %q\n%s", tc.options, got, tc.want, p.Log())
			}
		})
	}
	if got := p.Eval(t, `loadWith({cdn_http: "`+cdn.URL+`/", version: "2.2.3", suffix: ".min"}, ["nope"]).then(function (r) { return r.split(" | ")[0]; })`); got != "nope:cdnserve: version 2.2.3 has no file nope.min.js" {
		t.Errorf("a file the version lacks: %q", got)
	}
	// A CDN that never answers: the load times out, and says so.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		<-r.Context().Done()
	}))
	defer hang.Close()
	if got := p.Eval(t, `loadWith({cdn_http: "`+hang.URL+`/", version: "2.2.3", suffix: ".min", timeout: 300}, ["sockjs"]).then(function (r) { return r.split(" | ")[0]; })`); got != "sockjs:cdnserve: "+hang.URL+"/-/meta/2.2.3 timed out" {
		t.Errorf("a CDN that hangs: %q", got)
	}
}

// TestBrowserLoaderRefusesTampering: an edge in front of the CDN serves
// other bytes for a dependency (every encoding); the browser refuses
// them against the integrity from /-/meta, and the callback gets the
// error. Once the edge is honest again, a second load retries and works.
// Two loads at once share one tag.
func TestBrowserLoaderRefusesTampering(t *testing.T) {
	f := newFixture(t, "2.2.3")
	_, cdn := f.server(t, nil)
	edge := newTamperingEdge(t, cdn.URL)
	edge.tamper.Store(true)
	p := loaderPage(t, cdn.URL)
	p.Eval(t, `window.deps = new DependencyLoader({cdn_http: "`+edge.URL+`/", version: "2.2.3", suffix: ".min"}); "made"`)
	got := p.Eval(t, `new Promise(function (resolve) {
  deps.load("sockjs", {}, function (err) { resolve((err ? err.message : "loaded") + " | tampered ran: " + (window.tampered === true) + " | SockJS: " + typeof window.SockJS); });
})`)
	if !strings.Contains(got, "sockjs.min.js failed to load or failed its integrity check | tampered ran: false | SockJS: undefined") || !strings.Contains(p.Log(), "integrity") {
		t.Errorf("tampered dependency: %q\n%s", got, p.Log())
	}
	edge.tamper.Store(false)
	got = p.Eval(t, `Promise.all([deps.loadAsync("sockjs"), deps.loadAsync("sockjs")]).then(function () {
  return "retried: " + typeof window.SockJS + ", tags: " + document.querySelectorAll('script[src$="sockjs.min.js"]').length;
}, function (e) { return "failed again: " + e.message; })`)
	if got != "retried: function, tags: 1" {
		t.Errorf("after the failure: %q\n%s", got, p.Log())
	}
}

// esmFixture publishes an ES-module library, widget, at 1.0.0 and 1.1.0.
func esmFixture(t *testing.T) *fixture {
	f := newFixture(t, "2.2.3")
	for _, v := range []string{"1.0.0", "1.1.0"} {
		f.publishIn(t, "widget", v, []layout.File{
			{Name: "widget.mjs", Data: []byte("export const answer = 42;\nexport const version = \"" + v + "\";\n"), Module: true},
			{Name: "widget.min.mjs", Data: []byte("export const answer=42,version=\"" + v + "\";\n"), Module: true},
			{Name: "readme.txt", Data: []byte("widget")},
		})
	}
	return f
}

// TestBrowserImportMap: a page with the import map from /-/importmap
// imports the library by its bare specifier, and the module runs; with a
// tampered module file behind the map, the import fails.
func TestBrowserImportMap(t *testing.T) {
	f := esmFixture(t)
	_, cdn := f.server(t, nil)
	edge := newTamperingEdge(t, cdn.URL)
	for _, tc := range []struct {
		tamper bool
		want   string
	}{{false, "42 1.1.0"}, {true, "failed"}} {
		p := browsertest.NewPage(t) // a fresh browser: nothing cached from the other run
		edge.tamper.Store(tc.tamper)
		resp, body := do(t, "GET", edge.URL+"/-/importmap?lib=widget@^1")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/importmap+json" || !bytes.Contains(body, []byte(`"integrity"`)) {
			t.Fatalf("import map: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		p.Run(t, chromedp.Navigate(browsertest.OtherOrigin(t, `<!doctype html><title>importmap</title>
<script type="importmap">`+string(body)+`</script>
<script type="module">
import("widget").then(function (m) { window.result = m.answer + " " + m.version; }, function (e) { window.result = "failed"; window.why = String(e); });
</script>`)))
		got := p.Eval(t, `new Promise(function (resolve) { (function wait() { if (window.result) return resolve(window.result); setTimeout(wait, 20); })(); })`)
		if got != tc.want {
			t.Errorf("tamper %v: %q, want %q\n%s", tc.tamper, got, tc.want, p.Log())
		}
		if tc.tamper && p.Eval(t, `String(window.tampered)`) != "undefined" {
			t.Error("the tampered module ran")
		}
		if tc.tamper && !strings.Contains(p.Log(), "integrity") {
			t.Errorf("the import failed, but not on integrity:\n%s", p.Log())
		}
	}
}

// TestBrowserSeedFlowThroughLoader is the pusher-js README's flow, with
// the library published by cdnserve build: after pusher.min.js loads,
// the page replaces Pusher.Dependencies with a loader pointed at this
// server (through /-/loader.js), and Pusher's dependencies load from the
// version's directory, checked against its integrity manifest.
func TestBrowserSeedFlowThroughLoader(t *testing.T) {
	f := newFixture(t, "2.2.3")
	_, cdn := f.server(t, nil)
	sri := sriFromMeta(t, cdn.URL, "2.2.3", "pusher.min.js")
	p := browsertest.NewPage(t)
	p.Run(t, chromedp.Navigate(browsertest.OtherOrigin(t, `<!doctype html><title>seed flow</title>
<script src="`+cdn.URL+`/-/loader.js" integrity="`+loaderjs.Integrity+`" crossorigin="anonymous"></script>
<script src="`+cdn.URL+`/2.2.3/pusher.min.js" integrity="`+sri+`" crossorigin="anonymous"></script>
<script>
Pusher.Dependencies = new DependencyLoader({
  cdn_http: "`+cdn.URL+`/",
  cdn_https: "https://unused.invalid/",
  version: Pusher.VERSION,
  suffix: Pusher.dependency_suffix
});
</script>`)))
	got := p.Eval(t, `new Promise(function (resolve) {
  Pusher.Dependencies.load("sockjs", {encrypted: false}, function (err) {
    resolve((err ? err.message : "ok") + " " + Pusher.Dependencies.getPath("sockjs") + " " + typeof SockJS);
  });
})`)
	if want := fmt.Sprintf("ok %s/2.2.3/sockjs.min.js function", cdn.URL); got != want {
		t.Errorf("%q, want %q\n%s", got, want, p.Log())
	}
}
