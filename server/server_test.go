package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/storage"
	"github.com/spf13/afero"
)

func TestMetrics(t *testing.T) {
	f := newFixture(t, "2.2.3")
	s, ts := f.server(t, nil)
	for range 3 {
		do(t, "GET", ts.URL+"/2.2.3/pusher.js")
	}
	do(t, "GET", ts.URL+"/2.2/pusher.js")
	do(t, "GET", ts.URL+"/2/pusher.js")
	do(t, "GET", ts.URL+"/2.2.3/missing.js")
	want := []string{
		`cdnserve_requests_total{code="2xx",kind="exact",library="-"} 3`,
		`cdnserve_requests_total{code="2xx",kind="alias",library="-"} 1`,
		`cdnserve_requests_total{code="3xx",kind="redirect",library="-"} 1`,
		`cdnserve_requests_total{code="4xx",kind="exact",library="-"} 1`,
		`cdnserve_request_duration_seconds_bucket{kind="exact",le="+Inf"} 4`,
		"cdnserve_cache_hits_total 3", // 2 repeats of pusher.js + the alias sharing its bytes
		"cdnserve_cache_misses_total 1",
		`cdnserve_response_bytes_total{library="-"} `,
	}
	// A request is counted after its response is sent (the body goes out
	// through ReadFrom before the handler returns), so a scrape right
	// after the last response may precede its count: scrape until the
	// counts settle.
	var missing []string
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		body := scrape(t, s)
		missing = missing[:0]
		for _, w := range want {
			if !strings.Contains(string(body), w) {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 {
			break
		}
	}
	if len(missing) > 0 {
		t.Errorf("metrics lack %q", missing)
	}
	// Series are made on first use: none at 0 for a kind or class never
	// answered, none for a version only listed (issue 29, polish).
	do(t, "GET", ts.URL+"/-/versions")
	body := string(scrape(t, s))
	if zeros := regexp.MustCompile(`(?m)^cdnserve_(version_)?requests_total\{.*\} 0$`).FindAllString(body, -1); len(zeros) > 0 {
		t.Errorf("series at 0: %q", zeros)
	}
	if n := strings.Count(body, "\ncdnserve_requests_total{"); n != 5 {
		t.Errorf("%d requests_total series, want the 5 answered (4 above and the listing)", n)
	}
}

func TestTLSHTTP2AndHSTS(t *testing.T) {
	f := newFixture(t, "2.2.3")
	s, err := New(Config{Fs: storage.DiskFs{}, Root: f.root})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(s)
	ts.EnableHTTP2 = true
	ts.StartTLS()
	defer ts.Close()
	resp, err := ts.Client().Get(ts.URL + "/2.2.3/pusher.js")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.Proto != "HTTP/2.0" || resp.StatusCode != 200 {
		t.Errorf("proto %s status %d, want HTTP/2.0 200", resp.Proto, resp.StatusCode)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("HSTS = %q", got)
	}
}

func TestCORSAllowList(t *testing.T) {
	f := newFixture(t, "2.2.3")
	_, ts := f.server(t, func(c *Config) { c.CORSOrigins = []string{"https://app.example"} })
	resp, _ := do(t, "GET", ts.URL+"/2.2.3/pusher.js", "Origin", "https://app.example")
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" || !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Origin") {
		t.Errorf("allowed origin: ACAO %q Vary %q", resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Values("Vary"))
	}
	resp, _ = do(t, "GET", ts.URL+"/2.2.3/pusher.js", "Origin", "https://evil.example")
	if resp.Header.Get("Access-Control-Allow-Origin") != "" || !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Origin") {
		t.Errorf("other origin: ACAO %q Vary %q", resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Values("Vary"))
	}
	resp, _ = do(t, "GET", ts.URL+"/9/x.js", "Origin", "https://app.example")
	if resp.StatusCode != 404 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Errorf("404 without CORS: %d %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

func TestConfigValidate(t *testing.T) {
	fsys := afero.NewMemMapFs()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no fs", Config{Root: "d"}, "Fs is required"},
		{"no root", Config{Fs: fsys}, "Root is required"},
		{"negative refresh", Config{Fs: fsys, Root: "d", Refresh: -time.Second}, "Refresh is -1s"},
		{"origin with path", Config{Fs: fsys, Root: "d", CORSOrigins: []string{"https://a.example/app"}}, `CORS origin "https://a.example/app"`},
		{"origin without scheme", Config{Fs: fsys, Root: "d", CORSOrigins: []string{"a.example"}}, `CORS origin "a.example"`},
		{"header injection", Config{Fs: fsys, Root: "d", AliasCacheControl: "max-age=1\r\nX-Evil: 1"}, "AliasCacheControl"},
		{"missing root dir", Config{Fs: fsys, Root: "nope"}, "dist root nope: storage unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestTamperedFileIsRefused changes a published file on disk: the server
// must not serve bytes whose hash differs from the manifest's.
func TestTamperedFileIsRefused(t *testing.T) {
	f := newFixture(t, "2.2.3")
	os.WriteFile(filepath.Join(f.root, "2.2.3/sockjs.js"), []byte("alert('tampered')"), 0o644)
	_, ts := f.server(t, nil)
	resp, body := do(t, "GET", ts.URL+"/2.2.3/sockjs.js")
	if resp.StatusCode != 500 || strings.Contains(string(body), "tampered") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("tampered file: %d %q cache %q", resp.StatusCode, body, resp.Header.Get("Cache-Control"))
	}
	if resp.Header.Get("Etag") != "" {
		t.Error("an error carried the file's ETag")
	}
}

// TestOnTheFlyCompression serves a compressible file whose manifest lists
// no sidecars (published by an older tool): it is compressed once.
func TestOnTheFlyCompression(t *testing.T) {
	f := newFixture(t)
	big := []byte(strings.Repeat("function f() { return 42; }\n", 200))
	f.publish(t, "1.0.0", []layout.File{{Name: "big.js", Data: big}})
	dir := filepath.Join(f.root, "1.0.0")
	os.Remove(filepath.Join(dir, "big.js.br"))
	os.Remove(filepath.Join(dir, "big.js.gz"))
	var m layout.Manifest
	raw, _ := os.ReadFile(filepath.Join(dir, layout.ManifestName))
	json.Unmarshal(raw, &m)
	m.Files[0].Encodings = nil
	raw, _ = json.Marshal(m)
	os.WriteFile(filepath.Join(dir, layout.ManifestName), raw, 0o644)

	_, ts := f.server(t, nil)
	for _, enc := range []string{"br", "gzip", "br"} {
		resp, body := do(t, "GET", ts.URL+"/1.0.0/big.js", "Accept-Encoding", enc)
		if resp.Header.Get("Content-Encoding") != enc || resp.Header.Get("Content-Length") != fmt.Sprint(len(body)) || len(body) >= len(big) {
			t.Fatalf("%s: CE %q CL %q len %d", enc, resp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Length"), len(body))
		}
		if got := decode(t, enc, body); !bytes.Equal(got, big) {
			t.Errorf("%s body does not decode to the file", enc)
		}
	}
}

// TestStreamsBigFiles serves a file larger than the cache allows: it is
// streamed from disk, with ranges and the sidecar still honoured.
func TestStreamsBigFiles(t *testing.T) {
	f := newFixture(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	f.publish(t, "1.0.0", []layout.File{{Name: "big.bin", Data: big}, {Name: "big.js", Data: big}})
	_, ts := f.server(t, func(c *Config) { c.CacheBytes = 64 << 10 }) // items up to 4 KiB
	resp, body := do(t, "GET", ts.URL+"/1.0.0/big.bin")
	if resp.StatusCode != 200 || !bytes.Equal(body, big) || resp.Header.Get("Content-Length") != "65536" {
		t.Errorf("streamed file: %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, body = do(t, "GET", ts.URL+"/1.0.0/big.bin", "Range", "bytes=65530-")
	if resp.StatusCode != 206 || string(body) != "abcdef" {
		t.Errorf("streamed range: %d %q", resp.StatusCode, body)
	}
	resp, body = do(t, "GET", ts.URL+"/1.0.0/big.js", "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Content-Length") != fmt.Sprint(len(body)) {
		t.Errorf("streamed sidecar: CE %q CL %q len %d", resp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Length"), len(body))
	}
}

func TestReadyz(t *testing.T) {
	f := newFixture(t, "2.2.3")
	s, ts := f.server(t, nil)
	if resp, body := do(t, "GET", ts.URL+"/-/readyz"); resp.StatusCode != 200 || string(body) != "ready\n" {
		t.Errorf("readyz: %d %q", resp.StatusCode, body)
	}
	do(t, "GET", ts.URL+"/2.2.3/pusher.js") // cache it
	os.Rename(f.root, f.root+".gone")
	s.Refresh() // as Run does every Config.Refresh
	if resp, _ := do(t, "GET", ts.URL+"/-/readyz"); resp.StatusCode != 503 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("readyz with storage gone: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", ts.URL+"/-/healthz"); resp.StatusCode != 200 {
		t.Errorf("healthz: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", ts.URL+"/2.2.3/pusher.js"); resp.StatusCode != 200 {
		t.Errorf("a cached file of an exact version stops serving with storage gone: %d", resp.StatusCode)
	}
}

// TestAliasSwitchUnderHTTPLoad reads alias files over HTTP while the alias
// moves through ten versions: every response is a 200 with the bytes of
// one whole version.
func TestAliasSwitchUnderHTTPLoad(t *testing.T) {
	f := newFixture(t, "4.0.0")
	s, ts := f.server(t, nil)
	stop := make(chan struct{})
	var reqs, bad atomic.Int64
	var firstBad atomic.Value
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, name := range []string{"pusher.min.js", "sockjs.js", "WebSocketMain.swf"} {
					resp, err := client.Get(ts.URL + "/4.0/" + name)
					if err != nil {
						bad.Add(1)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					reqs.Add(1)
					if resp.StatusCode != 200 {
						bad.Add(1)
						firstBad.CompareAndSwap(nil, fmt.Sprintf("%s: %d", name, resp.StatusCode))
					}
				}
			}
		}()
	}
	for i := 1; i <= 10; i++ {
		f.publishSeed(t, fmt.Sprintf("4.0.%d", i))
		s.Refresh()
	}
	close(stop)
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d of %d requests failed during 10 alias switches (first: %v)", bad.Load(), reqs.Load(), firstBad.Load())
	}
	t.Logf("%d requests during 10 alias switches", reqs.Load())
}
