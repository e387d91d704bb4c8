package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/content"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/storage"
	"github.com/spf13/afero"
)

// logBuffer is a logger that tests can read, safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func withLog(l *logBuffer) func(*Config) {
	return func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(l, nil)) }
}

// TestLinksAreNeverServedOrListed: a version directory, a manifest or a
// file that is a symbolic link is never served and never listed, /latest/
// does not move to it, and each is logged once.
func TestLinksAreNeverServedOrListed(t *testing.T) {
	f := newFixture(t, "2.2.3")
	elsewhere := newFixture(t, "9.9.9", "9.9.8")
	if err := os.Symlink(filepath.Join(elsewhere.root, "9.9.9"), filepath.Join(f.root, "9.9.9")); err != nil {
		t.Fatal(err)
	}
	// 9.9.8 is a real directory whose manifest is a link.
	os.MkdirAll(filepath.Join(f.root, "9.9.8"), 0o755)
	os.Symlink(filepath.Join(elsewhere.root, "9.9.8", layout.ManifestName), filepath.Join(f.root, "9.9.8", layout.ManifestName))
	// A file of 2.2.3 replaced by a link to the same bytes elsewhere.
	same := filepath.Join(t.TempDir(), "json2.js")
	os.WriteFile(same, f.file(t, "2.2.3/json2.js"), 0o644)
	os.Remove(filepath.Join(f.root, "2.2.3/json2.js"))
	os.Symlink(same, filepath.Join(f.root, "2.2.3/json2.js"))
	var logs logBuffer
	s, ts := f.server(t, withLog(&logs))
	for range 3 {
		for _, tc := range []struct {
			path string
			code int
		}{
			{"/9.9.9/pusher.js", 404}, {"/9.9.9/", 404}, {"/-/meta/9.9.9", 404}, {"/9.9.8/pusher.js", 404},
			{"/2.2.3/json2.js", 500}, {"/2.2.3/pusher.js", 200},
		} {
			t.Run(tc.path, func(t *testing.T) {
				if resp, body := do(t, "GET", ts.URL+tc.path); resp.StatusCode != tc.code {
					t.Errorf("GET %s: %d, want %d: %s", tc.path, resp.StatusCode, tc.code, body)
				}
			})
		}
		if resp, _ := do(t, "GET", ts.URL+"/latest/pusher.js"); resp.Header.Get("Location") != "/2.2.3/pusher.js" {
			t.Errorf("/latest/ moved to %q", resp.Header.Get("Location"))
		}
		if _, body := do(t, "GET", ts.URL+"/-/versions"); strings.Contains(string(body), "9.9.") {
			t.Errorf("/-/versions lists a link: %s", body)
		}
		if err := s.Refresh(); err != nil {
			t.Fatal(err)
		}
	}
	for _, entry := range []string{"entry=9.9.9 why=\"a symbolic link\"", "entry=9.9.8/_cdnserve.json why=\"a symbolic link\""} {
		if n := strings.Count(logs.String(), entry); n != 1 {
			t.Errorf("%q logged %d times, want once:\n%s", entry, n, logs.String())
		}
	}
	// Each link once, under its own name (issue 28, item 14: a linked
	// version was logged again as 9.9.9/9.9.9 when first asked for).
	if n := strings.Count(logs.String(), `why="a symbolic link"`); n != 2 {
		t.Errorf("%d entries logged as links, want 2 (9.9.9 and 9.9.8's manifest):\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "2.2.3/json2.js is a symbolic link") {
		t.Errorf("the linked file is not named in the log:\n%s", logs.String())
	}
}

// brokenFs fails every read below one path with EIO while broken is set,
// as a disk or a bucket that is failing does.
type brokenFs struct {
	afero.Fs
	bad    string
	broken *atomic.Bool
}

func (b brokenFs) fail(name string) bool { return b.broken.Load() && strings.Contains(name, b.bad) }

func (b brokenFs) Open(name string) (afero.File, error) {
	if b.fail(name) {
		return nil, &os.PathError{Op: "open", Path: name, Err: syscall.EIO}
	}
	return b.Fs.Open(name)
}

func (b brokenFs) Stat(name string) (os.FileInfo, error) {
	if b.fail(name) {
		return nil, &os.PathError{Op: "stat", Path: name, Err: syscall.EIO}
	}
	return b.Fs.Stat(name)
}

// TestExactVersionNeverRedirects: an exact version or alias that cannot
// be loaded answers 404, 500 or 503, never a redirect (to itself or
// anywhere); ranges skip it; /-/versions does not list it.
func TestExactVersionNeverRedirects(t *testing.T) {
	f := newFixture(t, "2.2.2", "2.2.3", "2.2.4", "2.2.5")
	var logs logBuffer
	var broken atomic.Bool
	s, ts := f.server(t, func(c *Config) {
		withLog(&logs)(c)
		c.Fs = brokenFs{Fs: storage.DiskFs{}, bad: "2.2.5", broken: &broken}
	})
	broken.Store(true)
	os.RemoveAll(filepath.Join(f.root, "2.2.4"))                                              // removed after the listing
	os.WriteFile(filepath.Join(f.root, "2.2.3", layout.ManifestName), []byte("{oops"), 0o644) // damaged
	for _, tc := range []struct {
		path  string
		code  int
		cache string
	}{
		{"/2.2.4/pusher.js", 404, DefaultNotFoundCacheControl},
		{"/2.2.4/", 404, DefaultNotFoundCacheControl},
		{"/-/meta/2.2.4", 404, DefaultNotFoundCacheControl},
		{"/2.2.3/pusher.js", 500, "max-age=5"},
		{"/2.2.3/", 500, "max-age=5"},
		{"/-/meta/2.2.3", 500, "max-age=5"},
		{"/2.2.5/pusher.js", 503, "max-age=5"},
		{"/-/meta/2.2.5", 503, "max-age=5"},
		{"/9.9.9/pusher.js", 404, DefaultNotFoundCacheControl},
		{"/9.9/pusher.js", 404, DefaultNotFoundCacheControl},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := do(t, "GET", ts.URL+tc.path)
			if resp.StatusCode != tc.code || resp.Header.Get("Location") != "" || resp.Header.Get("Cache-Control") != tc.cache {
				t.Errorf("GET %s: %d Location %q Cache-Control %q, want %d %q: %s", tc.path, resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("Cache-Control"), tc.code, tc.cache, body)
			}
		})
	}
	// ^2.2.0 would be 2.2.5 (unreadable: 503), else 2.2.4 (gone), 2.2.3
	// (damaged): it resolves past them once 2.2.5 is readable again.
	if resp, _ := do(t, "GET", ts.URL+"/^2.2.0/pusher.js"); resp.StatusCode != 503 {
		t.Errorf("a range over unreadable storage: %d, want 503", resp.StatusCode)
	}
	broken.Store(false)
	os.RemoveAll(filepath.Join(f.root, "2.2.5"))
	if resp, _ := do(t, "GET", ts.URL+"/^2.2.0/pusher.js"); resp.StatusCode != 302 || resp.Header.Get("Location") != "/2.2.2/pusher.js" {
		t.Errorf("^2.2.0: %d %q, want 302 to 2.2.2", resp.StatusCode, resp.Header.Get("Location"))
	}
	if err := s.Refresh(); err != nil {
		t.Fatal(err)
	}
	if _, body := do(t, "GET", ts.URL+"/-/versions", "Accept", "application/json"); !strings.Contains(string(body), `"versions":["2.2.2"]`) {
		t.Errorf("/-/versions lists versions that cannot be served: %s", body)
	}
	if !strings.Contains(logs.String(), "2.2.3") || !strings.Contains(logs.String(), "not a valid integrity manifest") {
		t.Errorf("the damaged manifest is not logged:\n%s", logs.String())
	}
	// Logged once, however often it is asked for (issue 28, item 14);
	// counted on every refusal.
	for range 3 {
		do(t, "GET", ts.URL+"/2.2.3/pusher.js")
	}
	if n := strings.Count(logs.String(), `msg="a version's integrity manifest is damaged"`); n != 1 {
		t.Errorf("the damaged manifest was logged %d times, want once:\n%s", n, logs.String())
	}
	if m := string(scrape(t, s)); !strings.Contains(m, "cdnserve_integrity_failures_total 6\n") {
		t.Errorf("refusals of the damaged manifest not each counted:\n%s", m)
	}
}

// TestReadyzTellsTheTruth: ready means the last refresh listed the root,
// and recently.
func TestReadyzTellsTheTruth(t *testing.T) {
	f := newFixture(t, "2.2.3")
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, ts := f.server(t, func(c *Config) { c.Clock = clock })
	ready := func() int { resp, _ := do(t, "GET", ts.URL+"/-/readyz"); return resp.StatusCode }
	if got := ready(); got != 200 {
		t.Fatalf("readyz: %d", got)
	}
	// The root can be stat'ed but not listed.
	os.Rename(f.root, f.root+".real")
	os.WriteFile(f.root, []byte("not a directory"), 0o644)
	if err := s.Refresh(); err == nil {
		t.Fatal("refresh listed a file as the root")
	}
	if got := ready(); got != 503 {
		t.Errorf("readyz after a failed refresh: %d, want 503", got)
	}
	os.Remove(f.root)
	os.Rename(f.root+".real", f.root)
	s.Refresh()
	if got := ready(); got != 200 {
		t.Errorf("readyz after a good refresh: %d", got)
	}
	// No refresh for longer than three intervals (the loop stopped).
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	if got := ready(); got != 503 {
		t.Errorf("readyz a minute after the last refresh: %d, want 503", got)
	}
}

// TestMissingFileAgreesWithReadyz: a file the manifest lists but storage
// lacks is damage (500, logged by name), while storage itself is ready.
func TestMissingFileAgreesWithReadyz(t *testing.T) {
	f := newFixture(t, "2.2.3")
	var logs logBuffer
	s, ts := f.server(t, withLog(&logs))
	os.Remove(filepath.Join(f.root, "2.2.3/sockjs.js"))
	if resp, _ := do(t, "GET", ts.URL+"/2.2.3/sockjs.js"); resp.StatusCode != 500 {
		t.Errorf("missing file: %d, want 500", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", ts.URL+"/-/readyz"); resp.StatusCode != 200 {
		t.Errorf("readyz: %d", resp.StatusCode)
	}
	if !strings.Contains(logs.String(), "2.2.3/sockjs.js") {
		t.Errorf("the missing file is not named in the log:\n%s", logs.String())
	}
	if body := scrape(t, s); !strings.Contains(string(body), "cdnserve_integrity_failures_total 1") {
		t.Error("the refusal is not counted in cdnserve_integrity_failures_total")
	}
}

// TestStreamedFilesAreChecked: a file too big for the cache must be a
// regular file of the manifest's size whose bytes hash right by the end;
// otherwise the response is cut short (no client keeps it whole), and
// the file answers 500 until it changes.
func TestStreamedFilesAreChecked(t *testing.T) {
	f := newFixture(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	f.publish(t, "1.0.0", []layout.File{{Name: "big.bin", Data: big}})
	var logs logBuffer
	s, ts := f.server(t, func(c *Config) { c.CacheBytes = 64 << 10; withLog(&logs)(c) }) // items up to 4 KiB
	p := filepath.Join(f.root, "1.0.0/big.bin")
	get := func(headers ...string) (int, []byte, error) { return getCut(ts.URL+"/1.0.0/big.bin", headers...) }
	if code, body, err := get(); code != 200 || !bytes.Equal(body, big) || err != nil {
		t.Fatalf("good file: %d, %d bytes, %v", code, len(body), err)
	}
	// Same size, one byte changed at the very end.
	tampered := bytes.Clone(big)
	tampered[len(tampered)-1] = 'X'
	os.WriteFile(p, tampered, 0o644)
	code, body, err := get()
	if code != 200 || err == nil || len(body) >= len(big) {
		t.Errorf("tampered stream: %d, %d of %d bytes, err %v: the client must not get it whole", code, len(body), len(big), err)
	}
	for _, h := range [][]string{nil, {"Range", "bytes=0-9"}} {
		if code, _, _ := get(h...); code != 500 {
			t.Errorf("tampered file again (%v): %d, want 500", h, code)
		}
	}
	// A link to another file is refused even before a byte is read.
	os.Remove(p)
	os.Symlink("/etc/passwd", p)
	if code, body, _ := get(); code != 500 || bytes.Contains(body, []byte("root:")) {
		t.Errorf("link to /etc/passwd: %d %q", code, body)
	}
	// Fixed: served again.
	os.Remove(p)
	os.WriteFile(p, big, 0o644)
	if code, body, err := get("Range", "bytes=65530-"); code != 206 || string(body) != "abcdef" || err != nil {
		t.Errorf("fixed file, range: %d %q %v", code, body, err)
	}
	if !strings.Contains(logs.String(), "aborted a response") {
		t.Errorf("the aborted response is not logged:\n%s", logs.String())
	}
	// The cut stream, the two 500s after it and the link: four refusals.
	if body := scrape(t, s); !strings.Contains(string(body), "cdnserve_integrity_failures_total 4") {
		t.Errorf("refusals not counted:\n%s", regexp.MustCompile(`(?m)^cdnserve_integrity.*$`).FindString(string(body)))
	}
}

// getCut sends a GET on a connection of its own, and returns what
// arrived and the error of a response cut short (which testutil.Do
// would fail the test on).
func getCut(url string, headers ...string) (int, []byte, error) {
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// TestStreamedRangesAreChecked: a range of a streamed file is checked
// too, chunk by chunk, against the hashes recorded when the whole file
// last matched its manifest: bytes changed in place with the file's size
// and modification time kept are never sent as a complete 206, whether
// the whole file was served before or the range comes first (issue 28,
// item 13).
func TestStreamedRangesAreChecked(t *testing.T) {
	f := newFixture(t)
	big := make([]byte, 3*content.ChunkSize-1000) // three chunks, the last short
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	f.publish(t, "1.0.0", []layout.File{{Name: "big.bin", Data: big}})
	p := filepath.Join(f.root, "1.0.0/big.bin")
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	tamper := func(at int) {
		data := bytes.Clone(big)
		data[at] ^= 0x20
		os.WriteFile(p, data, 0o644)
		os.Chtimes(p, fi.ModTime(), fi.ModTime()) // the size and mtime say nothing changed
	}
	restore := func() {
		os.WriteFile(p, big, 0o644)
		os.Chtimes(p, fi.ModTime(), fi.ModTime())
	}
	get := func(url, rg string) (int, []byte, error) {
		if rg == "" {
			return getCut(url + "/1.0.0/big.bin")
		}
		return getCut(url+"/1.0.0/big.bin", "Range", rg)
	}
	at := content.ChunkSize + 5000 // in the second chunk
	rg := fmt.Sprintf("bytes=%d-%d", at-5, at+5)
	for _, first := range []string{"whole", "range"} {
		t.Run("served "+first+" first", func(t *testing.T) {
			restore()
			_, ts := f.server(t, func(c *Config) { c.CacheBytes = 64 << 10 })
			if first == "whole" {
				if code, body, err := get(ts.URL, ""); code != 200 || !bytes.Equal(body, big) || err != nil {
					t.Fatalf("the good file: %d, %d bytes, %v", code, len(body), err)
				}
			}
			// Good ranges: within a chunk, across two, several, from 0.
			for _, r := range []string{rg, fmt.Sprintf("bytes=%d-%d", content.ChunkSize-3, content.ChunkSize+2), "bytes=0-3,-4", "bytes=0-"} {
				code, body, err := get(ts.URL, r)
				if code != 206 || err != nil || len(body) == 0 {
					t.Errorf("good range %s: %d, %d bytes, %v", r, code, len(body), err)
				}
				if r == rg && !bytes.Equal(body, big[at-5:at+6]) {
					t.Errorf("range %s: %q", r, body)
				}
			}
			tamper(at)
			if code, body, err := get(ts.URL, rg); code == 206 && err == nil && len(body) == 11 {
				t.Errorf("a range over bytes changed in place was sent whole: %q", body)
			}
			// Refused from then on, wherever asked, until the file changes.
			for _, r := range []string{"bytes=0-9", ""} {
				if code, _, _ := get(ts.URL, r); code != 500 {
					t.Errorf("the damaged file, Range %q: %d, want 500", r, code)
				}
			}
		})
	}
}

// TestSmugglingClosesTheConnection: a request with Content-Length and
// Transfer-Encoding is answered once, and its connection is closed, so
// a request hidden in its body is never read (RFC 9112 §6.1).
func TestSmugglingClosesTheConnection(t *testing.T) {
	f := newFixture(t, "2.2.3")
	_, ts := f.server(t, nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hidden := "GET /2.2.3/sockjs.js HTTP/1.1\r\nHost: x\r\n\r\n"
	body := "0\r\n\r\n" + hidden
	req := "GET /2.2.3/pusher.js HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" + body
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	all, _ := io.ReadAll(conn) // returns when the server closes
	if n := strings.Count(string(all), "HTTP/1.1 "); n != 1 {
		t.Errorf("%d responses, want 1 and a closed connection:\n%.400s", n, all)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(all)), nil)
	if err != nil || resp.StatusCode != 200 || !resp.Close {
		t.Errorf("response: %v, close %v", err, resp != nil && resp.Close)
	}
}

// TestNotAcceptable: an Accept-Encoding that refuses identity and every
// coding the file has gets 406; one that still allows something does not.
func TestNotAcceptable(t *testing.T) {
	f := newFixture(t, "2.2.3")
	_, ts := f.server(t, nil)
	for _, tc := range []struct {
		path, ae string
		code     int
	}{
		{"/2.2.3/pusher.js", "identity;q=0", 406},
		{"/2.2.3/pusher.js", "*;q=0", 406},
		{"/2.2.3/pusher.js", "compress, identity;q=0", 406},
		{"/2.2.3/WebSocketMain.swf", "gzip, identity;q=0", 406}, // not compressible
		{"/2.2.3/pusher.js", "br, identity;q=0", 200},
		{"/2.2.3/pusher.js", "*;q=0, identity", 200},
		{"/2.2.3/pusher.js", "compress", 200},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, _ := do(t, "GET", ts.URL+tc.path, "Accept-Encoding", tc.ae)
			if resp.StatusCode != tc.code {
				t.Errorf("%s with %q: %d, want %d", tc.path, tc.ae, resp.StatusCode, tc.code)
			}
			if tc.code == 406 && !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("406 without Vary: Accept-Encoding: %q", resp.Header.Get("Vary"))
			}
		})
	}
}

// TestMissingFileNamesItsVersion: a file an existing version lacks gets
// a 404 that says the version exists and where its files are listed.
func TestMissingFileNamesItsVersion(t *testing.T) {
	f := newFixture(t, "2.2.3")
	_, ts := f.server(t, nil)
	resp, body := do(t, "GET", ts.URL+"/2.2/nope.js")
	if resp.StatusCode != 404 || !strings.Contains(string(body), "version 2.2 has no file nope.js; its files are listed at /2.2/ and /-/meta/2.2") {
		t.Errorf("%d %q", resp.StatusCode, body)
	}
}
