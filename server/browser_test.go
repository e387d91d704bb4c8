package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/cdnserve/cdnserve/internal/browsertest"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

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
	p := browsertest.NewPage(t)
	sri := sriFromMeta(t, cdn.URL, "2.2.3", "pusher.min.js")
	pageURL := browsertest.OtherOrigin(t, `<!doctype html><title>sri</title>
<script src="`+cdn.URL+`/2.2.3/pusher.min.js" integrity="`+sri+`" crossorigin="anonymous"></script>`)
	if strings.HasPrefix(pageURL, cdn.URL) {
		t.Fatal("the page must come from another origin")
	}
	p.Run(t, chromedp.Navigate(pageURL))
	if got := p.Eval(t, `typeof window.Pusher + " " + Pusher.VERSION + " " + Pusher.dependency_suffix`); got != "function 2.2.3 .min" {
		t.Errorf("script did not run: %q\nbrowser log:\n%s", got, p.Log())
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
	p := browsertest.NewPage(t)
	p.Run(t, chromedp.Navigate(browsertest.OtherOrigin(t, `<!doctype html><title>tampered</title>
<script src="`+cdn.URL+`/2.2.3/pusher.min.js" integrity="`+sri+`" crossorigin="anonymous"></script>`)))
	if got := p.Eval(t, `typeof window.Pusher + " " + typeof window.tampered`); got != "undefined undefined" {
		t.Errorf("the browser ran a script that fails its SRI hash: %q", got)
	}
	// Control: the same bytes without integrity do run.
	p.Run(t, chromedp.Navigate(browsertest.OtherOrigin(t, `<!doctype html><script src="`+cdn.URL+`/2.2.3/pusher.min.js"></script>`)))
	if got := p.Eval(t, `typeof window.tampered`); got != "boolean" {
		t.Errorf("control without integrity did not run: %q", got)
	}
}

// TestBrowserDependencyLoader: a seed-style dependency loader on another
// origin injects <cdn>/<version>/<name><suffix>.js at run time, from the
// root library, and unchanged from a named library when its cdn_http is
// the library's URL (<cdn>/pusher/).
func TestBrowserDependencyLoader(t *testing.T) {
	f := newFixture(t, "2.2.3")
	f.publishSeedIn(t, "pusher", "2.2.4")
	_, cdn := f.server(t, nil)
	p := browsertest.NewPage(t)
	p.Run(t, chromedp.Navigate(browsertest.OtherOrigin(t, `<!doctype html><title>loader</title><script>
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
window.loadWith = function (cdn, version, suffix) {
  delete window.SockJS; delete window.JSON2;
  var l = new DependencyLoader({cdn_http: cdn, cdn_https: "https://unused.invalid/", version: version, suffix: suffix});
  return Promise.all([l.load("sockjs"), l.load("json2")]).then(function (srcs) {
    return srcs.join(" ") + " | " + typeof SockJS + " " + typeof JSON2.stringify;
  });
};
</script>`)))
	for _, tc := range []struct{ base, version, suffix, files string }{
		{cdn.URL + "/", "2.2.3", ".min", "sockjs.min.js json2.min.js"},
		{cdn.URL + "/", "2.2.3", "", "sockjs.js json2.js"},
		{cdn.URL + "/pusher/", "2.2.4", ".min", "sockjs.min.js json2.min.js"},
		{cdn.URL + "/pusher/", "2.2.4", "", "sockjs.js json2.js"},
	} {
		t.Run(tc.base, func(t *testing.T) {
			got := p.Eval(t, fmt.Sprintf("loadWith(%q, %q, %q)", tc.base, tc.version, tc.suffix))
			names := strings.Fields(tc.files)
			root := tc.base + tc.version + "/"
			want := root + names[0] + " " + root + names[1] + " | function function"
			if got != want {
				t.Errorf("%s %s suffix %q: %q\nwant %q\nbrowser log:\n%s", tc.base, tc.version, tc.suffix, got, want, p.Log())
			}
		})
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
	p := browsertest.NewPage(t)
	p.Run(t, chromedp.Navigate(browsertest.OtherOrigin(t, `<!doctype html><title>nosniff</title>
<script src="`+cdn.URL+`/3.0.0/evil.txt"></script>
<script src="`+cdn.URL+`/3.0.0/good.js"></script>`)))
	if got := p.Eval(t, `String(window.ranTxt) + " " + String(window.ranJs)`); got != "undefined true" {
		t.Errorf("ranTxt ranJs = %q, want the .txt refused and the .js run", got)
	}
	// Control: the same text/plain file from a server that omits nosniff
	// does run, so it is the header that stops it.
	sniffing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("window.ranTxt = true;\n"))
	}))
	defer sniffing.Close()
	p.Run(t, chromedp.Navigate(browsertest.OtherOrigin(t, `<!doctype html><script src="`+sniffing.URL+`/evil.txt"></script>`)))
	if got := p.Eval(t, `String(window.ranTxt)`); got != "true" {
		t.Errorf("control without nosniff: ranTxt = %q; the browser refuses text/plain anyway, so the test proves nothing", got)
	}
}

// TestBrowserBrowseUI walks the browse pages as a person would: the index,
// a version page, the copy button, a file; on a desktop and a phone-width
// screen. It saves screenshots, and copies them out as artifacts in CI.
func TestBrowserBrowseUI(t *testing.T) {
	f := newFixture(t, "2.2.2", "2.2.3", "2.3.0-rc.1")
	_, cdn := f.server(t, nil)
	p := browsertest.NewPage(t)
	shots := t.TempDir()
	shot := func(name string) {
		png := browsertest.Value(t, p, chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, perm := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(p.Ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: perm}, Setting: browser.PermissionSettingGranted, Origin: cdn.URL,
		}); err != nil {
			t.Fatalf("granting %s: %v", perm, err)
		}
	}
	p.Run(t, chromedp.Navigate(cdn.URL+"/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	shot("index.png")
	if got := p.Eval(t, `document.querySelector("h1").textContent + " | " + getComputedStyle(document.body).maxWidth`); got != "Published versions | 1024px" {
		t.Errorf("index: %q (the stylesheet must be allowed by the CSP hash)", got)
	}
	p.Run(t, chromedp.Click(chromedp.CSS(`#major-2 + ul a[href="/2.2.3/"]`)), chromedp.WaitVisible(chromedp.CSS(`button[data-copy="tag-0"]`)))
	shot("version.png")
	loc := browsertest.Value(t, p, chromedp.Location())
	if loc != cdn.URL+"/2.2.3/" {
		t.Errorf("location %q after clicking the version", loc)
	}
	// The copy button is shown by the page's only script, which the CSP
	// allows by hash; clicking it copies the tag.
	p.Run(t, chromedp.Click(chromedp.CSS(`button[data-copy="tag-0"]`)))
	state := p.Eval(t, `new Promise(function (resolve) {
  var b = document.querySelector('button[data-copy="tag-0"]');
  (function wait() { if (b.getAttribute("data-copied")) resolve(b.getAttribute("data-copied") + " " + b.textContent); else setTimeout(wait, 20); })();
})`)
	want := p.Eval(t, `document.getElementById("tag-0").textContent`)
	if !strings.HasPrefix(want, `<script src="`) || !strings.Contains(want, `integrity="sha384-`) {
		t.Errorf("tag-0 = %q", want)
	}
	if state != "yes Copied" {
		t.Errorf("copy button state %q, want \"yes Copied\"\nbrowser log:\n%s", state, p.Log())
	} else if clip := p.Eval(t, `navigator.clipboard.readText()`); clip != want {
		t.Errorf("clipboard = %q, want %q", clip, want)
	}
	if strings.Contains(p.Log(), "Content Security Policy") {
		t.Errorf("CSP violations on our own pages:\n%s", p.Log())
	}
	// At 1280 px the Type column never wraps inside a type.
	if got := p.Eval(t, `String(Array.from(document.querySelectorAll("td.type code")).every(function (c) {
  return c.getClientRects().length === 1; }))`); got != "true" {
		t.Errorf("a content type wraps at 1280 px")
	}
	// A phone (390 px): nothing scrolls sideways or is clipped, and each
	// file row stays short enough to scan.
	for _, pg := range []string{"/2.2.3/", "/", "/9.9.9/x.js"} {
		p.Run(t, chromedp.EmulateViewport(390, 844), chromedp.Navigate(cdn.URL+pg), chromedp.WaitVisible(chromedp.CSS("h1")))
		shot("phone-" + strings.NewReplacer("/", "_", ".", "-").Replace(pg) + ".png")
		if got := p.Eval(t, `String(document.documentElement.scrollWidth <= 390 && Array.from(document.querySelectorAll("table")).every(function (t) { return t.scrollWidth <= t.parentElement.clientWidth; }))`); got != "true" {
			t.Errorf("%s is wider than a 390 px phone, or a table is clipped", pg)
		}
	}
	p.Run(t, chromedp.EmulateViewport(390, 844), chromedp.Navigate(cdn.URL+"/2.2.3/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	tallest, err := strconv.ParseFloat(p.Eval(t, `String(Math.max.apply(null, Array.from(document.querySelectorAll("tbody tr")).map(function (r) { return r.getBoundingClientRect().height; })))`), 64)
	if err != nil || tallest > 120 {
		t.Errorf("the tallest file row at 390 px is %.0f px (%v): too tall to scan", tallest, err)
	}
	// The error page has the pages' style.
	p.Run(t, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(cdn.URL+"/9.9.9/x.js"), chromedp.WaitVisible(chromedp.CSS("h1")))
	shot("error.png")
	if got := p.Eval(t, `document.querySelector("h1").textContent + " | " + getComputedStyle(document.body).maxWidth`); got != "404 Not Found | 1024px" {
		t.Errorf("error page: %q", got)
	}
	p.Run(t, chromedp.Navigate(cdn.URL+"/2.2.3/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	p.Run(t, chromedp.EmulateViewport(1280, 900), chromedp.Click(chromedp.CSS(`a[href="/2.2.3/pusher.min.js"]`)), chromedp.WaitReady(chromedp.CSS("body")))
	loc = browsertest.Value(t, p, chromedp.Location())
	if loc != cdn.URL+"/2.2.3/pusher.min.js" || !strings.Contains(p.Eval(t, `document.body.innerText`), "Pusher") {
		t.Errorf("clicking the file went to %q", loc)
	}
	shot("file.png")
	// The file viewer: highlighted by the page's own stylesheet (allowed
	// by its CSP hash), a #L3-L5 range marked, nothing sideways on a
	// phone but the code itself, and the version switcher keeping the
	// file and the viewer.
	p.Run(t, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(cdn.URL+"/2.2.3/pusher.js?view#L3-L5"), chromedp.WaitVisible(chromedp.CSS("h1")))
	shot("viewer.png")
	if got := p.Eval(t, `document.querySelectorAll(".chroma .line.hl").length + " " + document.querySelector(".chroma .line.hl .ln").id + " " + getComputedStyle(document.querySelector(".chroma")).whiteSpace`); got != "3 L3 pre" {
		t.Errorf("viewer at #L3-L5: %q, want 3 marked lines from L3, and the highlighting's stylesheet", got)
	}
	p.Run(t, chromedp.EmulateViewport(390, 844), chromedp.Navigate(cdn.URL+"/2.2.3/pusher.js?view"), chromedp.WaitVisible(chromedp.CSS("h1")))
	shot("phone-viewer.png")
	if got := p.Eval(t, `String(document.documentElement.scrollWidth <= 390)`); got != "true" {
		t.Errorf("the viewer is wider than a 390 px phone")
	}
	p.Run(t, chromedp.SetValue(chromedp.CSS("#switch-version"), "2.2.2"), chromedp.Click(chromedp.CSS("form.switch button")))
	loc = ""
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if loc = browsertest.Value(t, p, chromedp.Location()); loc == cdn.URL+"/2.2.2/pusher.js?view" {
			break
		}
	}
	if loc != cdn.URL+"/2.2.2/pusher.js?view" {
		t.Errorf("the switcher went to %q", loc)
	}
	if strings.Contains(p.Log(), "Content Security Policy") {
		t.Errorf("CSP violations on the viewer:\n%s", p.Log())
	}
	// Big packages: a 300-file version collapses by directory, and a
	// 2,000-file directory's page renders in under a second (issue 29,
	// items 1 and 6).
	writeManifest(t, f.root, "3.0.0", 300, func(i int) string { return fmt.Sprintf("dist/part-%d/file-%03d.js", i%12, i) })
	writeManifest(t, f.root, "4.0.0", 2000, func(i int) string { return fmt.Sprintf("lib/file-%04d.js", i) })
	for _, vp := range []struct {
		w, h       int
		path, name string
		rows       string
	}{
		{1280, 900, "/3.0.0/", "version-300.png", "1"}, {390, 844, "/3.0.0/", "phone-version-300.png", "1"},
		{1280, 900, "/3.0.0/dist/", "directory-300.png", "12"}, {390, 844, "/3.0.0/dist/", "phone-directory-300.png", "12"},
	} {
		p.Run(t, chromedp.EmulateViewport(int64(vp.w), int64(vp.h)), chromedp.Navigate(cdn.URL+vp.path), chromedp.WaitVisible(chromedp.CSS("h1")))
		shot(vp.name)
		if got := p.Eval(t, `String(document.documentElement.scrollWidth <= `+strconv.Itoa(vp.w)+`) + " " + document.querySelectorAll("tbody tr").length`); got != "true "+vp.rows {
			t.Errorf("%s at %d px: %q, want no sideways scroll and %s directory rows", vp.path, vp.w, got, vp.rows)
		}
	}
	p.Run(t, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(cdn.URL+"/4.0.0/lib/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	ms, err := strconv.ParseFloat(p.Eval(t, `String(performance.getEntriesByType("navigation")[0].loadEventEnd - performance.getEntriesByType("navigation")[0].startTime)`), 64)
	t.Logf("a 2,000-file directory's first page loaded in %.0f ms", ms)
	if err != nil || ms >= 1000 {
		t.Errorf("a 2,000-file directory's page took %.0f ms (%v) to load, want < 1 s", ms, err)
	}
	shot("directory-2000.png")
	// Keyboard: the first thing a tab reaches on / is the home link, then
	// the search field, each with a visible focus outline.
	p.Run(t, chromedp.Navigate(cdn.URL+"/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if got := p.Eval(t, `String(!!document.querySelector("label[for=search-q]") === !!document.getElementById("search-q"))`); got != "true" {
		t.Errorf("the search field has no label")
	}
	saveArtifacts(t, shots)
}

// writeManifest writes a version of n files named by name straight into
// a tree (the pages list manifests; no file needs its bytes).
func writeManifest(t *testing.T, root, version string, n int, name func(int) string) {
	t.Helper()
	m := layout.Manifest{Format: 1, Version: version}
	for i := range n {
		m.Files = append(m.Files, layout.ManifestFile{Path: name(i), Size: 1000 + int64(i), ContentType: "text/javascript; charset=utf-8",
			SHA256: strings.Repeat(fmt.Sprintf("%02x", i%256), 32), Integrity: "sha384-" + strings.Repeat("A", 64)})
	}
	raw, _ := json.Marshal(m)
	os.MkdirAll(filepath.Join(root, version), 0o755)
	if err := os.WriteFile(filepath.Join(root, version, layout.ManifestName), raw, 0o644); err != nil {
		t.Fatal(err)
	}
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
	p := browsertest.NewPage(t)
	p.Run(t, chromedp.Navigate(browsertest.OtherOrigin(t, "<!doctype html><title>modules</title>\n"+joined)))
	var got string
	for range 50 { // module scripts run after the document is parsed
		if got = p.Eval(t, `[window.acmeLoaded, window.widgetLoaded, window.classicLoaded].join(" ")`); got == "mjs esm classic" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got != "mjs esm classic" {
		t.Errorf("pasted tags ran %q, want all three\nbrowser log:\n%s", got, p.Log())
	}
}

// TestBrowserAccessibility checks the keyboard and screen-reader basics
// of every kind of page in Chromium, at 1280 and 390 px, and saves a
// screenshot of each (issue 29, item 6): one h1 and no skipped heading
// level; a label for every field and a name for every button; no
// positive tabindex (the focus order is the reading order) and a visible
// focus outline; text contrast of at least 4.5:1 (3:1 for large text,
// WCAG AA) against its own background; nothing scrolling sideways.
func TestBrowserAccessibility(t *testing.T) {
	f := newFixture(t, "2.2.2", "2.2.3")
	for i := range 150 {
		writeManifest(t, filepath.Join(f.root, fmt.Sprintf("lib-%03d", i)), "1.0.0", 2, func(j int) string { return fmt.Sprintf("lib-%d.js", j) })
	}
	writeManifest(t, f.root, "3.0.0", 300, func(i int) string { return fmt.Sprintf("dist/part-%d/file-%03d.js", i%12, i) })
	_, cdn := f.server(t, nil)
	p := browsertest.NewPage(t)
	// A headless page has no window focus: :focus would never match.
	if _, err := chromedp.Call(p.Ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	shots := t.TempDir()
	const audit = `(function () {
  var out = [];
  var h1 = document.querySelectorAll("h1").length;
  if (h1 !== 1) { out.push(h1 + " h1 elements"); }
  var last = 0;
  document.querySelectorAll("h1, h2, h3, h4, h5, h6").forEach(function (h) {
    var n = +h.tagName[1];
    if (n > last + 1) { out.push("heading " + h.tagName + " after h" + last + ": " + h.textContent.slice(0, 30)); }
    last = n;
  });
  document.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(function (e) {
    if (!(e.id && document.querySelector("label[for='" + e.id + "']")) && !e.getAttribute("aria-label")) { out.push("unlabelled " + e.tagName + " " + e.name); }
  });
  document.querySelectorAll("button").forEach(function (b) {
    if (!b.hidden && !b.textContent.trim() && !b.getAttribute("aria-label")) { out.push("a button with no name"); }
  });
  document.querySelectorAll("[tabindex]").forEach(function (e) {
    if (+e.getAttribute("tabindex") > 0) { out.push("positive tabindex on " + e.tagName); }
  });
  var link = document.querySelector("main a, header a");
  if (link) { link.focus(); if (getComputedStyle(link).outlineStyle === "none") { out.push("no focus outline on links"); } }
  function rgba(c) { var m = c.match(/[\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; }
  function lum(c) { var v = c.slice(0, 3).map(function (x) { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); }); return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; }
  function bg(e) { for (; e; e = e.parentElement) { var c = rgba(getComputedStyle(e).backgroundColor); if (c[3] > 0) { return c; } } return [255, 255, 255, 1]; }
  document.querySelectorAll("body *").forEach(function (e) {
    if (!e.getClientRects().length) { return; }
    if (!Array.from(e.childNodes).some(function (n) { return n.nodeType === 3 && n.textContent.trim(); })) { return; }
    var st = getComputedStyle(e), a = lum(rgba(st.color)), b = lum(bg(e));
    var ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    var size = parseFloat(st.fontSize), large = size >= 24 || (parseInt(st.fontWeight, 10) >= 700 && size >= 18.66);
    if (ratio < (large ? 3 : 4.5)) { out.push("contrast " + ratio.toFixed(2) + " of " + st.color + " (" + e.tagName + "." + e.className + ": " + e.textContent.trim().slice(0, 20) + ")"); }
  });
  return out.join("\n");
})()`
	for _, pg := range []string{"/", "/?q=lib-01", "/lib-000/", "/2.2.3/", "/3.0.0/", "/3.0.0/dist/part-1/", "/2.2.3/pusher.js?view", "/9.9.9/x.js"} {
		for _, w := range []int{1280, 390} {
			name := fmt.Sprintf("%d%s.png", w, strings.NewReplacer("/", "_", ".", "-", "?", "_", "=", "-").Replace(pg))
			p.Run(t, chromedp.EmulateViewport(int64(w), 900), chromedp.Navigate(cdn.URL+pg), chromedp.WaitVisible(chromedp.CSS("h1")))
			png := browsertest.Value(t, p, chromedp.FullScreenshot(100))
			os.WriteFile(filepath.Join(shots, name), png, 0o644)
			if got := p.Eval(t, audit); got != "" {
				t.Errorf("%s at %d px:\n%s", pg, w, got)
			}
			if got := p.Eval(t, `String(document.documentElement.scrollWidth <= `+strconv.Itoa(w)+`)`); got != "true" {
				t.Errorf("%s scrolls sideways at %d px", pg, w)
			}
			// No control is clipped: each lies whole inside the page's width.
			if got := p.Eval(t, `Array.from(document.querySelectorAll("input:not([type=hidden]), select, button:not([hidden])")).filter(function (e) {
  var r = e.getBoundingClientRect(); return r.left < 0 || r.right > document.documentElement.clientWidth || r.width < 20; }).map(function (e) { return e.outerHTML.slice(0, 60); }).join("\n")`); got != "" {
				t.Errorf("%s at %d px: clipped controls:\n%s", pg, w, got)
			}
		}
	}
	saveArtifacts(t, shots)
}
