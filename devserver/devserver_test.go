package devserver

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/cdnserve/cdnserve/internal/testutil"
)

const jsType = "text/javascript; charset=utf-8"

// checkHeader checks one response header's whole value.
func checkHeader(t *testing.T, h http.Header, k, want string) {
	t.Helper()
	if got := strings.Join(h.Values(k), ", "); got != want {
		t.Errorf("%s = %q, want %q", k, got, want)
	}
}

// do sends one request and returns the response and its whole body
// (testutil.Do).
func do(t *testing.T, method, url string) (*http.Response, []byte) {
	t.Helper()
	return testutil.Do(t, method, url)
}

// devProject writes a small project into a temp dir and starts the dev
// server on it.
func devProject(t *testing.T) (dir string, d *Server, ts *httptest.Server) {
	t.Helper()
	dir = t.TempDir()
	write := func(p, body string) {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, p), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("cdnserve.yaml", "version: 2.2.0\nsrc_dir: src\nbundles:\n  lib.js:\n    files: [a.js, b.js]\n  app.js:\n    entry: app/index.js\n  s.css:\n    files: [s.css]\nfiles:\n  - data.swf\nsubstitutions:\n  src:\n    <SUFFIX>: \"\"\n  min:\n    <SUFFIX>: \".min\"\n")
	write("src/a.js", "var a = 'first';\n")
	write("src/b.js", "var suffix = '<SUFFIX>';\n")
	write("src/app/index.js", "import {x} from './x.js';\nconsole.log(x);\n")
	write("src/app/x.js", "export var x = 1;\n")
	write("src/s.css", "a { color: red }\n")
	write("src/data.swf", "FWS")
	d, err := New(Config{Fs: afero.NewOsFs(), Manifest: filepath.Join(dir, "cdnserve.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	ts = httptest.NewServer(d)
	t.Cleanup(ts.Close)
	return dir, d, ts
}

// save writes a file with a modification time that differs from the
// last one, as an editor's save does even within one clock tick.
func save(t *testing.T, p, body string) {
	t.Helper()
	fi, _ := os.Stat(p)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if fi != nil {
		os.Chtimes(p, time.Now(), fi.ModTime().Add(time.Second))
	}
}

func TestDevServesCurrentSources(t *testing.T) {
	dir, d, ts := devProject(t)
	builds := d.Builds()
	for _, p := range []string{"/lib.js", "/2.2.0/lib.js", "/anything/lib.js"} {
		resp, body := do(t, "GET", ts.URL+p)
		if resp.StatusCode != 200 || body == nil || !strings.Contains(string(body), "'first'") || !strings.Contains(string(body), "suffix = ''") {
			t.Fatalf("%s: %d %q", p, resp.StatusCode, body)
		}
		checkHeader(t, resp.Header, "Cache-Control", "no-store")
		checkHeader(t, resp.Header, "Content-Type", jsType)
		checkHeader(t, resp.Header, "Access-Control-Allow-Origin", "*")
		checkHeader(t, resp.Header, "X-Content-Type-Options", "nosniff")
	}
	resp, body := do(t, "GET", ts.URL+"/2.2.0/lib.min.js")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `suffix=".min"`) {
		t.Errorf("minified: %d %q", resp.StatusCode, body)
	}
	if resp, body := do(t, "GET", ts.URL+"/x/s.min.css"); resp.StatusCode != 200 || string(body) != "a{color:red}\n" || resp.Header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("css: %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}
	if resp, body := do(t, "GET", ts.URL+"/data.swf"); resp.StatusCode != 200 || string(body) != "FWS" {
		t.Errorf("swf: %d %q", resp.StatusCode, body)
	}
	if d.Builds() != builds {
		t.Errorf("requests without changes rebuilt: %d builds, want %d", d.Builds(), builds)
	}

	// An edit is visible on the very next request, after one build.
	save(t, filepath.Join(dir, "src/a.js"), "var a = 'second';\n")
	if _, body := do(t, "GET", ts.URL+"/lib.js"); !strings.Contains(string(body), "'second'") {
		t.Errorf("edit not visible: %q", body)
	}
	if d.Builds() != builds+1 {
		t.Errorf("%d builds after one edit, want %d", d.Builds(), builds+1)
	}
	// An edit in an imported module rebuilds the entry bundle.
	save(t, filepath.Join(dir, "src/app/x.js"), "export var x = 42;\n")
	if _, body := do(t, "GET", ts.URL+"/app.js"); !strings.Contains(string(body), "42") {
		t.Errorf("module edit not visible: %q", body)
	}
	// A manifest change is visible too: a new single file.
	save(t, filepath.Join(dir, "src/extra.js"), "var extra = 1;\n")
	manifest, _ := os.ReadFile(filepath.Join(dir, "cdnserve.yaml"))
	save(t, filepath.Join(dir, "cdnserve.yaml"), strings.Replace(string(manifest), "  - data.swf\n", "  - data.swf\n  - extra.js\n", 1))
	if resp, _ := do(t, "GET", ts.URL+"/9.9.9/extra.min.js"); resp.StatusCode != 200 {
		t.Errorf("file added to the manifest: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", ts.URL+"/nope.js"); resp.StatusCode != 404 {
		t.Errorf("unknown file: %d", resp.StatusCode)
	}
}

// TestDevServesItsLibraryByName: with name: in the manifest, the files
// are served below the library's name as well, as serve serves them.
func TestDevServesItsLibraryByName(t *testing.T) {
	dir, _, ts := devProject(t)
	manifest, _ := os.ReadFile(filepath.Join(dir, "cdnserve.yaml"))
	save(t, filepath.Join(dir, "cdnserve.yaml"), "name: \"@corp/lib\"\n"+string(manifest))
	for _, p := range []string{"/@corp/lib/2.2.0/lib.js", "/@corp/lib@^2/lib.js", "/@corp/lib/lib.js", "/2.2.0/lib.js", "/lib.js"} {
		if resp, body := do(t, "GET", ts.URL+p); resp.StatusCode != 200 || !strings.Contains(string(body), "'first'") {
			t.Errorf("%s: %d %.80q", p, resp.StatusCode, body)
		}
	}
	if resp, _ := do(t, "GET", ts.URL+"/@corp/other/2.2.0/lib.js"); resp.StatusCode != 404 {
		t.Errorf("another library's path: %d", resp.StatusCode)
	}
	if _, body := do(t, "GET", ts.URL+"/"); !strings.Contains(string(body), "<code>/@corp/lib/2.2.0/app.js</code>") {
		t.Errorf("index does not show the library's URLs:\n%s", body)
	}
}

func TestDevTouchDoesNotRebuild(t *testing.T) {
	dir, d, ts := devProject(t)
	do(t, "GET", ts.URL+"/lib.js")
	builds := d.Builds()
	p := filepath.Join(dir, "src/a.js")
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(p, later, later); err != nil {
		t.Fatal(err)
	}
	do(t, "GET", ts.URL+"/lib.js")
	if d.Builds() != builds {
		t.Errorf("touching a file rebuilt: %d builds, want %d", d.Builds(), builds)
	}
	// Ten requests at once after a real change make one build.
	save(t, p, "var a = 'third';\n")
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(ts.URL + "/lib.js")
			if err == nil {
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if d.Builds() != builds+1 {
		t.Errorf("ten requests after one change made %d builds, want 1", d.Builds()-builds)
	}
}

// TestDevBuildErrorInBrowser: a bundle that fails to build answers 200
// (a browser runs no script sent with an error status), marked by
// X-Cdnserve-Build-Failed and no-store, with a script that reports the
// file, line and column on the console; every other bundle and file is
// served as built.
func TestDevBuildErrorInBrowser(t *testing.T) {
	dir, _, ts := devProject(t)
	save(t, filepath.Join(dir, "src/b.js"), "var ok = 1;\nvar broken = ;\n")
	for _, p := range []string{"/2.2.0/lib.js", "/lib.min.js"} {
		resp, body := do(t, "GET", ts.URL+p)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != jsType || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get(buildFailedHeader) != "true" {
			t.Fatalf("%s, build error: %d %q %q", p, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get(buildFailedHeader))
		}
		if !strings.HasPrefix(string(body), "console.error(") || !strings.Contains(string(body), `src/b.js:2:14: Unexpected \";\"`) {
			t.Errorf("body does not report file, line, column and message:\n%s", body)
		}
	}
	for _, p := range []string{"/s.css", "/2.2.0/app.js", "/data.swf"} {
		if resp, body := do(t, "GET", ts.URL+p); resp.StatusCode != 200 || resp.Header.Get(buildFailedHeader) != "" || strings.Contains(string(body), "build failed") {
			t.Errorf("%s while another bundle is broken: %d %q", p, resp.StatusCode, body)
		}
	}
	if _, body := do(t, "GET", ts.URL+"/"); !strings.Contains(string(body), "Build failed") || !strings.Contains(string(body), "src/b.js:2:14") {
		t.Errorf("index does not show the error")
	}
	save(t, filepath.Join(dir, "src/b.js"), "var ok = 2;\n")
	if resp, body := do(t, "GET", ts.URL+"/2.2.0/lib.js"); resp.StatusCode != 200 || !strings.Contains(string(body), "ok = 2") {
		t.Errorf("after the fix: %d %q", resp.StatusCode, body)
	}
}

func TestDevIndexAndEvents(t *testing.T) {
	dir, d, ts := devProject(t)
	resp, body := do(t, "GET", ts.URL+"/")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("index: %d", resp.StatusCode)
	}
	for _, want := range []string{`<a href="/lib.js">lib.js</a>`, `<a href="/lib.min.js">lib.min.js</a>`, `<a href="/data.swf">`, "/2.2.0/app.js", `new EventSource("/-/events")`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("index lacks %q", want)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go d.Run(ctx)
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/-/events", nil)
	sse, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer sse.Body.Close()
	if sse.Header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("events Content-Type %q", sse.Header.Get("Content-Type"))
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(sse.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	if l := <-lines; l != ": connected" {
		t.Fatalf("first line %q", l)
	}
	save(t, filepath.Join(dir, "src/a.js"), "var a = 'live';\n") // no request: the poll must notice
	deadline := time.After(5 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("stream ended")
			}
			if strings.HasPrefix(l, "data: ") {
				if !strings.Contains(l, `"ok":true`) || !strings.Contains(l, `"version":"2.2.0"`) {
					t.Errorf("event data %q", l)
				}
				return
			}
		case <-deadline:
			t.Fatal("no rebuild event within 5s of a change")
		}
	}
}
