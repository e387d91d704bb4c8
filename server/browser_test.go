package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/chromedp/cdproto/browser"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's Chromium. Without one the browser tests
// skip loudly, except in CI, which must have it (.ci/run installs it).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium binary, and CI must have one: .ci/run installs Debian's chromium")
	}
	t.Skip("SKIPPED LOUDLY: no Chromium binary (apt-get install -y chromium); the real-browser tests did not run")
	return ""
}

// page is one tab of a fresh headless Chromium, with the console and the
// browser's own log (CSP, SRI and MIME refusals) collected from the start.
type page struct {
	ctx  context.Context
	mu   sync.Mutex
	logs []string
}

func newPage(t *testing.T) *page {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("headless", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	p := &page{}
	ctx, cancelCtx := chromedp.NewContext(alloc, chromedp.WithListener(func(ev any) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch e := ev.(type) {
		case *cdplog.EventEntryAdded:
			p.logs = append(p.logs, e.Entry.Text)
		case *runtime.EventConsoleAPICalled:
			for _, a := range e.Args {
				p.logs = append(p.logs, string(a.Value))
			}
		}
	}))
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	p.ctx = ctx
	// The first call starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return p
}

// run runs steps in the tab, each call bounded by 30 seconds.
func (p *page) run(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v\nbrowser log:\n%s", err, p.log())
	}
}

// value runs one action that returns a value.
func value[T any](t *testing.T, p *page, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %v\nbrowser log:\n%s", err, p.log())
	}
	return v
}

func (p *page) eval(t *testing.T, expr string) string {
	t.Helper()
	return value(t, p, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
}

func (p *page) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.logs, "\n")
}

// otherOrigin serves one HTML page from a different origin (another port)
// than the CDN.
func otherOrigin(t *testing.T, html string) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, html)
	}))
	t.Cleanup(ts.Close)
	return ts.URL + "/"
}

func sriFromMeta(t *testing.T, cdn, version, file string) string {
	t.Helper()
	_, body := do(t, "GET", cdn+"/-/meta/"+version)
	var m struct {
		Files []struct{ Path, Integrity string } `json:"files"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	for _, f := range m.Files {
		if f.Path == file {
			return f.Integrity
		}
	}
	t.Fatalf("%s not in /-/meta/%s", file, version)
	return ""
}

// TestBrowserCrossOriginSRI: a page on another origin loads a script from
// cdnserve with its SRI hash and crossorigin="anonymous", and it runs.
func TestBrowserCrossOriginSRI(t *testing.T) {
	f := newFixture(t, "2.2.3")
	_, cdn := f.server(t, nil)
	p := newPage(t)
	sri := sriFromMeta(t, cdn.URL, "2.2.3", "pusher.min.js")
	pageURL := otherOrigin(t, `<!doctype html><title>sri</title>
<script src="`+cdn.URL+`/2.2.3/pusher.min.js" integrity="`+sri+`" crossorigin="anonymous"></script>`)
	if strings.HasPrefix(pageURL, cdn.URL) {
		t.Fatal("the page must come from another origin")
	}
	p.run(t, chromedp.Navigate(pageURL))
	if got := p.eval(t, `typeof window.Pusher + " " + Pusher.VERSION + " " + Pusher.dependency_suffix`); got != "function 2.2.3 .min" {
		t.Errorf("script did not run: %q\nbrowser log:\n%s", got, p.log())
	}
}

// TestBrowserEnforcesSRI: the published file is tampered with on disk,
// as an attacker with write access to the tree would. cdnserve refuses to
// send it; a mirror that does not check (a plain file server with CORS,
// standing in for a compromised cache or proxy) sends it, and the browser
// refuses to run it against the SRI hash from /-/meta.
func TestBrowserEnforcesSRI(t *testing.T) {
	f := newFixture(t, "2.2.3")
	_, origin := f.server(t, func(c *Config) { c.CacheBytes = 1024 }) // stream everything over 64 bytes
	sri := sriFromMeta(t, origin.URL, "2.2.3", "pusher.min.js")
	path := filepath.Join(f.root, "2.2.3/pusher.min.js")
	orig, _ := os.ReadFile(path)
	tampered := append(orig, []byte("\nwindow.tampered = true;\n")...)
	os.WriteFile(path, tampered, 0o644)
	if resp, _ := do(t, "GET", origin.URL+"/2.2.3/pusher.min.js"); resp.StatusCode != 500 {
		t.Errorf("cdnserve served a tampered file: %d", resp.StatusCode)
	}
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write(tampered)
	}))
	t.Cleanup(cdn.Close)
	if resp, body := do(t, "GET", cdn.URL+"/2.2.3/pusher.min.js"); resp.StatusCode != 200 || !bytes.Equal(body, tampered) {
		t.Fatalf("the mirror did not send the tampered bytes (%d), so this test would prove nothing", resp.StatusCode)
	}
	p := newPage(t)
	p.run(t, chromedp.Navigate(otherOrigin(t, `<!doctype html><title>tampered</title>
<script src="`+cdn.URL+`/2.2.3/pusher.min.js" integrity="`+sri+`" crossorigin="anonymous"></script>`)))
	if got := p.eval(t, `typeof window.Pusher + " " + typeof window.tampered`); got != "undefined undefined" {
		t.Errorf("the browser ran a script that fails its SRI hash: %q", got)
	}
	// Control: the same bytes without integrity do run.
	p.run(t, chromedp.Navigate(otherOrigin(t, `<!doctype html><script src="`+cdn.URL+`/2.2.3/pusher.min.js"></script>`)))
	if got := p.eval(t, `typeof window.tampered`); got != "boolean" {
		t.Errorf("control without integrity did not run: %q", got)
	}
}

// TestBrowserDependencyLoader: a seed-style dependency loader on another
// origin injects <cdn>/<version>/<name><suffix>.js at run time.
func TestBrowserDependencyLoader(t *testing.T) {
	f := newFixture(t, "2.2.3")
	_, cdn := f.server(t, nil)
	p := newPage(t)
	p.run(t, chromedp.Navigate(otherOrigin(t, `<!doctype html><title>loader</title><script>
function DependencyLoader(options) { this.options = options; }
DependencyLoader.prototype.getRoot = function (encrypted) {
  var cdn = encrypted ? this.options.cdn_https : this.options.cdn_http;
  return cdn.replace(/\/*$/, "") + "/" + this.options.version;
};
DependencyLoader.prototype.getPath = function (name, encrypted) {
  return this.getRoot(encrypted) + "/" + name + this.options.suffix + ".js";
};
DependencyLoader.prototype.load = function (name) {
  var src = this.getPath(name, false);
  return new Promise(function (resolve, reject) {
    var s = document.createElement("script");
    s.src = src;
    s.onload = function () { resolve(src); };
    s.onerror = function () { reject(new Error("failed to load " + src)); };
    document.head.appendChild(s);
  });
};
window.loadWith = function (suffix) {
  delete window.SockJS; delete window.JSON2;
  var l = new DependencyLoader({cdn_http: "`+cdn.URL+`/", cdn_https: "https://unused.invalid/", version: "2.2.3", suffix: suffix});
  return Promise.all([l.load("sockjs"), l.load("json2")]).then(function (srcs) {
    return srcs.join(" ") + " | " + typeof SockJS + " " + typeof JSON2.stringify;
  });
};
</script>`)))
	for _, tc := range []struct{ suffix, files string }{{".min", "sockjs.min.js json2.min.js"}, {"", "sockjs.js json2.js"}} {
		got := p.eval(t, `loadWith(`+fmt.Sprintf("%q", tc.suffix)+`)`)
		names := strings.Fields(tc.files)
		want := cdn.URL + "/2.2.3/" + names[0] + " " + cdn.URL + "/2.2.3/" + names[1] + " | function function"
		if got != want {
			t.Errorf("suffix %q: %q\nwant %q\nbrowser log:\n%s", tc.suffix, got, want, p.log())
		}
	}
}

// TestBrowserNosniff: a .txt file loaded as a script is refused because
// of X-Content-Type-Options: nosniff, while the same code as .js runs.
func TestBrowserNosniff(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "3.0.0", []layout.File{
		{Name: "evil.txt", Data: []byte("window.ranTxt = true;\n")},
		{Name: "good.js", Data: []byte("window.ranJs = true;\n")},
	})
	_, cdn := f.server(t, nil)
	p := newPage(t)
	p.run(t, chromedp.Navigate(otherOrigin(t, `<!doctype html><title>nosniff</title>
<script src="`+cdn.URL+`/3.0.0/evil.txt"></script>
<script src="`+cdn.URL+`/3.0.0/good.js"></script>`)))
	if got := p.eval(t, `String(window.ranTxt) + " " + String(window.ranJs)`); got != "undefined true" {
		t.Errorf("ranTxt ranJs = %q, want the .txt refused and the .js run", got)
	}
	// Control: the same text/plain file from a server that omits nosniff
	// does run, so it is the header that stops it.
	sniffing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("window.ranTxt = true;\n"))
	}))
	defer sniffing.Close()
	p.run(t, chromedp.Navigate(otherOrigin(t, `<!doctype html><script src="`+sniffing.URL+`/evil.txt"></script>`)))
	if got := p.eval(t, `String(window.ranTxt)`); got != "true" {
		t.Errorf("control without nosniff: ranTxt = %q; the browser refuses text/plain anyway, so the test proves nothing", got)
	}
}

// TestBrowserBrowseUI walks the browse pages as a person would: the index,
// a version page, the copy button, a file; on a desktop and a phone-width
// screen. It saves screenshots, and copies them out as artifacts in CI.
func TestBrowserBrowseUI(t *testing.T) {
	f := newFixture(t, "2.2.2", "2.2.3", "2.3.0-rc.1")
	_, cdn := f.server(t, nil)
	p := newPage(t)
	shots := t.TempDir()
	shot := func(name string) {
		png := value(t, p, chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, perm := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(p.ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: perm}, Setting: browser.PermissionSettingGranted, Origin: cdn.URL,
		}); err != nil {
			t.Fatalf("granting %s: %v", perm, err)
		}
	}
	p.run(t, chromedp.Navigate(cdn.URL+"/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	shot("index.png")
	if got := p.eval(t, `document.querySelector("h1").textContent + " | " + getComputedStyle(document.body).maxWidth`); got != "Published versions | 960px" {
		t.Errorf("index: %q (the stylesheet must be allowed by the CSP hash)", got)
	}
	p.run(t, chromedp.Click(chromedp.CSS(`#versions + ul a[href="/2.2.3/"]`)), chromedp.WaitVisible(chromedp.CSS(`button[data-copy="tag-0"]`)))
	shot("version.png")
	loc := value(t, p, chromedp.Location())
	if loc != cdn.URL+"/2.2.3/" {
		t.Errorf("location %q after clicking the version", loc)
	}
	// The copy button is shown by the page's only script, which the CSP
	// allows by hash; clicking it copies the tag.
	p.run(t, chromedp.Click(chromedp.CSS(`button[data-copy="tag-0"]`)))
	state := p.eval(t, `new Promise(function (resolve) {
  var b = document.querySelector('button[data-copy="tag-0"]');
  (function wait() { if (b.getAttribute("data-copied")) resolve(b.getAttribute("data-copied") + " " + b.textContent); else setTimeout(wait, 20); })();
})`)
	want := p.eval(t, `document.getElementById("tag-0").textContent`)
	if !strings.HasPrefix(want, `<script src="`) || !strings.Contains(want, `integrity="sha384-`) {
		t.Errorf("tag-0 = %q", want)
	}
	if state != "yes Copied" {
		t.Errorf("copy button state %q, want \"yes Copied\"\nbrowser log:\n%s", state, p.log())
	} else if clip := p.eval(t, `navigator.clipboard.readText()`); clip != want {
		t.Errorf("clipboard = %q, want %q", clip, want)
	}
	if strings.Contains(p.log(), "Content Security Policy") {
		t.Errorf("CSP violations on our own pages:\n%s", p.log())
	}
	// A phone-width screen: the page itself does not scroll sideways.
	p.run(t, chromedp.EmulateViewport(375, 812))
	shot("version-phone.png")
	if got := p.eval(t, `String(document.documentElement.scrollWidth <= 375)`); got != "true" {
		t.Errorf("the version page is wider than a phone: scrollWidth > 375")
	}
	p.run(t, chromedp.EmulateViewport(1280, 900), chromedp.Click(chromedp.CSS(`a[href="/2.2.3/pusher.min.js"]`)), chromedp.WaitReady(chromedp.CSS("body")))
	loc = value(t, p, chromedp.Location())
	if loc != cdn.URL+"/2.2.3/pusher.min.js" || !strings.Contains(p.eval(t, `document.body.innerText`), "Pusher") {
		t.Errorf("clicking the file went to %q", loc)
	}
	shot("file.png")
	saveArtifacts(t, shots)
}

func decode(t *testing.T, encoding string, body []byte) []byte {
	t.Helper()
	var r io.Reader = bytes.NewReader(body)
	switch encoding {
	case "br":
		r = brotli.NewReader(r)
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// saveArtifacts copies screenshots to .ci/artifacts/screenshots (or
// $CDNSERVE_ARTIFACTS) when CI is set.
func saveArtifacts(t *testing.T, dir string) {
	if os.Getenv("CI") == "" {
		t.Logf("screenshots in %s", dir)
		return
	}
	dst := os.Getenv("CDNSERVE_ARTIFACTS")
	if dst == "" {
		dst = "../.ci/artifacts"
	}
	dst = filepath.Join(dst, "screenshots")
	os.MkdirAll(dst, 0o755)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644)
	}
	t.Logf("screenshots saved to %s", dst)
}

// TestBrowserModuleTags: the tags the version page offers for ES modules
// (a .mjs file, and a .js file its build marked as a module) load and run
// when pasted into a page on another origin, integrity and all; and a
// classic script's tag still runs as one.
func TestBrowserModuleTags(t *testing.T) {
	f := newFixture(t)
	f.publish(t, "3.0.0", []layout.File{
		{Name: "acme.mjs", Data: []byte("export const acme = 1;\nwindow.acmeLoaded = 'mjs';\n")},
		{Name: "widget.js", Data: []byte("export default 2;\nwindow.widgetLoaded = 'esm';\n"), Module: true},
		{Name: "classic.js", Data: []byte("window.classicLoaded = 'classic';\n")},
	})
	_, cdn := f.server(t, nil)
	_, page := do(t, "GET", cdn.URL+"/3.0.0/")
	var tags []string
	for _, m := range regexp.MustCompile(`<code id="tag-\d+">(.*?)</code>`).FindAllStringSubmatch(string(page), -1) {
		tags = append(tags, html.UnescapeString(m[1]))
	}
	joined := strings.Join(tags, "\n")
	for _, want := range []string{`<script type="module" src="` + cdn.URL + `/3.0.0/acme.mjs"`, `<link rel="modulepreload" href="` + cdn.URL + `/3.0.0/widget.js"`, `<script src="` + cdn.URL + `/3.0.0/classic.js"`} {
		if !strings.Contains(joined, want) {
			t.Errorf("the page offers no %s:\n%s", want, joined)
		}
	}
	p := newPage(t)
	p.run(t, chromedp.Navigate(otherOrigin(t, "<!doctype html><title>modules</title>\n"+joined)))
	var got string
	for range 50 { // module scripts run after the document is parsed
		if got = p.eval(t, `[window.acmeLoaded, window.widgetLoaded, window.classicLoaded].join(" ")`); got == "mjs esm classic" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got != "mjs esm classic" {
		t.Errorf("pasted tags ran %q, want all three\nbrowser log:\n%s", got, p.log())
	}
}
