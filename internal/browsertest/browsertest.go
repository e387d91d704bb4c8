// Package browsertest drives Debian's headless Chromium for the tests of
// server and devserver: a fresh browser per page, the console and the
// browser's own log collected, and pages served from another origin.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

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

// Page is one tab of a fresh headless Chromium, with the console and the
// browser's own log (CSP, SRI and MIME refusals) collected from the start.
type Page struct {
	// Ctx is the tab, for chromedp calls of a test's own.
	Ctx  context.Context
	mu   sync.Mutex
	logs []string
}

// NewPage starts a fresh headless Chromium with one tab.
func NewPage(t *testing.T) *Page {
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
	p := &Page{}
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
	p.Ctx = ctx
	// The first call starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return p
}

// Run runs steps in the tab, each call bounded by 30 seconds.
func (p *Page) Run(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v\nbrowser log:\n%s", err, p.Log())
	}
}

// Value runs one action that returns a value.
func Value[T any](t *testing.T, p *Page, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %v\nbrowser log:\n%s", err, p.Log())
	}
	return v
}

// Eval evaluates a JavaScript expression, awaiting a promise, as a string.
func (p *Page) Eval(t *testing.T, expr string) string {
	t.Helper()
	return Value(t, p, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
}

// Log is what the console and the browser logged so far.
func (p *Page) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.logs, "\n")
}

// OtherOrigin serves one HTML page from a different origin (another port)
// than the CDN.
func OtherOrigin(t *testing.T, html string) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, html)
	}))
	t.Cleanup(ts.Close)
	return ts.URL + "/"
}

// App is a page's module script using real packages from npm (the
// registry's, scripts/real-packages.sh), and the text it must put in
// window.result.
type App struct {
	// Name names it; Libs is the /-/importmap query of its packages.
	Name, Libs, Script, Want string
}

// RealApps are pages' module scripts, each using real packages the way
// their documentation does, and the text each must put in the page.
var RealApps = []App{
	{"react", "lib=react@^18&lib=react-dom@^18/client", `
import React, { useState, useEffect } from "react";
import { createRoot } from "react-dom/client";
function App() {
  const [n, setN] = useState(0);
  useEffect(() => { setN(1); }, []);
  return React.createElement("p", { id: "out" }, "react " + React.version + " count " + n);
}
createRoot(document.getElementById("app")).render(React.createElement(App));
// The effect runs after the first paint: wait for it (up to 5 s, on a busy machine).
for (let i = 0; i < 100 && !(document.getElementById("out")?.textContent || "").endsWith("count 1"); i++) await new Promise((r) => setTimeout(r, 50));
window.result = document.getElementById("out")?.textContent;`, "react 18.3.1 count 1"},
	{"preact", "lib=preact@^10", `
import { h, render } from "preact";
import { useState, useEffect } from "preact/hooks";
function App() {
  const [n, setN] = useState(0);
  useEffect(() => setN(2), []);
  return h("p", { id: "out" }, "preact count " + n);
}
render(h(App), document.getElementById("app"));
for (let i = 0; i < 100 && !(document.getElementById("out")?.textContent || "").endsWith("count 2"); i++) await new Promise((r) => setTimeout(r, 50));
window.result = document.getElementById("out")?.textContent;`, "preact count 2"},
	{"lit", "lib=lit@^3", `
import { LitElement, html } from "lit";
import { classMap } from "lit/directives/class-map.js";
class HelloLit extends LitElement {
  render() { return html` + "`<p class=${classMap({ on: true })}>lit works</p>`" + `; }
}
customElements.define("hello-lit", HelloLit);
const el = document.createElement("hello-lit");
document.body.append(el);
await el.updateComplete;
window.result = el.shadowRoot.querySelector("p.on").textContent;`, "lit works"},
	{"vue", "lib=vue@^3", `
import { createApp, h, ref } from "vue";
createApp({ setup() { const n = ref(3); return () => h("p", { id: "out" }, "vue count " + n.value); } }).mount("#app");
window.result = document.getElementById("out")?.textContent;`, "vue count 3"},
	{"three", "lib=three@^0.170&lib=three@^0.170/addons/controls/OrbitControls.js", `
import * as THREE from "three";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";
const camera = new THREE.PerspectiveCamera();
const controls = new OrbitControls(camera, document.body);
window.result = "three " + new THREE.Vector3(3, 4, 0).length() + " " + (typeof controls.update);`, "three 5 function"},
	{"d3", "lib=d3@^7", `
import * as d3 from "d3";
const x = d3.scaleLinear().domain([0, 10]).range([0, 100]);
d3.select("#app").append("p").attr("id", "out").text("d3 " + x(5) + " " + d3.sum([1, 2, 3]));
window.result = document.getElementById("out").textContent;`, "d3 50 6"},
	{"lodash-es", "lib=lodash-es@^4", `
import { chunk, debounce } from "lodash-es";
window.result = "lodash " + JSON.stringify(chunk([1, 2, 3, 4], 2)) + " " + typeof debounce;`, "lodash [[1,2],[3,4]] function"},
	{"floating-ui", "lib=@floating-ui/dom@^1", `
import { computePosition } from "@floating-ui/dom";
const ref = document.createElement("button"), tip = document.createElement("div");
document.body.append(ref, tip);
const pos = await computePosition(ref, tip, { placement: "bottom" });
window.result = "floating " + pos.placement;`, "floating bottom"},
}

// RunModules runs module scripts, one after the other, with an import map in
// a fresh Chromium, on another origin than the CDN, and returns what
// each put in window.result, or why it failed.
func RunModules(t *testing.T, mapJSON []byte, scripts ...string) ([]string, *Page) {
	t.Helper()
	p := NewPage(t)
	sources, _ := json.Marshal(scripts)
	p.Run(t, chromedp.Navigate(OtherOrigin(t, `<!doctype html><title>app</title>
<script type="importmap">`+string(mapJSON)+`</script>
<div id="app"></div>
<script>window.appSources = `+strings.ReplaceAll(string(sources), "</", "<\\/")+`;</script>`)))
	out := p.Eval(t, `(async function () {
  const results = [];
  for (const src of window.appSources) {
    window.result = undefined;
    document.getElementById("app").replaceWith(Object.assign(document.createElement("div"), { id: "app" }));
    const url = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
    try { await import(url); } catch (e) { window.result = window.result || "failed: " + e; }
    for (let i = 0; i < 250 && window.result === undefined; i++) await new Promise((r) => setTimeout(r, 20));
    results.push(String(window.result));
  }
  return JSON.stringify(results);
})()`)
	var got []string
	json.Unmarshal([]byte(out), &got)
	return got, p
}
