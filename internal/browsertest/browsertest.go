// Package browsertest drives Debian's headless Chromium for the tests of
// server and devserver: a fresh browser per page, the console and the
// browser's own log collected, and pages served from another origin.
package browsertest

import (
	"context"
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
