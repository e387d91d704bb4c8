package devserver

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/internal/browsertest"
	"github.com/chromedp/chromedp"
)

// TestBrowserShowsBuildErrorInConsole: in Chromium, a page that loads a
// bundle that fails to build gets the error on its console with the
// file, line and column, while the page's other bundle still runs.
func TestBrowserShowsBuildErrorInConsole(t *testing.T) {
	dir, _, ts := devProject(t)
	save(t, filepath.Join(dir, "src/b.js"), "var ok = 1;\nvar broken = ;\n")
	p := browsertest.NewPage(t)
	p.Run(t, chromedp.Navigate(browsertest.OtherOrigin(t, `<!doctype html><title>dev</title>
<script src="`+ts.URL+`/2.2.0/lib.js"></script>
<script src="`+ts.URL+`/2.2.0/app.js"></script>`)))
	var log string
	appRan := func() bool { return slices.Contains(strings.Split(log, "\n"), "1") } // app.js logs x, which is 1
	for range 50 {
		if log = p.Log(); strings.Contains(log, "cdnserve dev: build failed") && appRan() {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(log, "cdnserve dev: build failed:") || !strings.Contains(log, `src/b.js:2:14: Unexpected`) {
		t.Errorf("the console lacks the build error with its file, line and column:\n%s", log)
	}
	if !appRan() {
		t.Errorf("the other bundle (app.js logs 1) did not run:\n%s", log)
	}
}
