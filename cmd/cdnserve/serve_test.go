package main

import (
	"bufio"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/internal/testutil"
)

// served is a running `cdnserve serve` process.
type served struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port from its startup line
	admin  string // http://127.0.0.1:port of --admin-addr, or ""
	stdout string // the startup lines
	stderr *strings.Builder
	done   chan error
}

// startServe runs the real binary with args in dir and waits for its
// startup line.
func startServe(t *testing.T, dir string, env []string, args ...string) *served {
	t.Helper()
	if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--admin-addr") }) {
		args = append(args, "--admin-addr", "127.0.0.1:0") // tests run side by side
	}
	cmd := exec.Command(binary(t), append([]string{"serve"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &served{cmd: cmd, stderr: &strings.Builder{}, done: make(chan error, 1)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	var out strings.Builder
	deadline := time.After(20 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("serve exited before it was ready:\n%s\nstderr:\n%s", out.String(), s.stderr.String())
			}
			out.WriteString(line + "\n")
			if base, ok := strings.CutPrefix(line, "  Local:    "); ok {
				s.base = strings.TrimSuffix(base, "/")
				// Collect the rest of the startup text: it ends when no line
				// follows for 300ms.
				for quiet := false; !quiet; {
					select {
					case l, ok := <-lines:
						if !ok {
							quiet = true
						} else {
							out.WriteString(l + "\n")
						}
					case <-time.After(300 * time.Millisecond):
						quiet = true
					}
				}
				s.stdout = out.String()
				if _, after, ok := strings.Cut(s.stdout, "operator endpoints on "); ok {
					s.admin, _, _ = strings.Cut(after, "/-/metrics")
				}
				go func() {
					for range lines {
					}
				}()
				return s
			}
		case <-deadline:
			t.Fatalf("no startup line in 20s:\n%s\nstderr:\n%s", out.String(), s.stderr.String())
		}
	}
}

// stop sends SIGTERM and returns the exit error.
func (s *served) stop(t *testing.T) error {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		return err
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not exit after SIGTERM")
		return nil
	}
}

func get(t *testing.T, url string, headers ...string) (*http.Response, string) {
	t.Helper()
	resp, body := testutil.Do(t, http.MethodGet, url, headers...)
	return resp, string(body)
}

func TestServeBuiltTree(t *testing.T) {
	t.Parallel()
	dir := seedProject(t)
	if code, _, errOut := cli(t, dir, "build", "--quiet"); code != 0 {
		t.Fatal(errOut)
	}
	s := startServe(t, dir, nil, "--addr", "127.0.0.1:0", "--log-format", "json")
	if strings.Contains(s.stdout, "embedded demo") {
		t.Errorf("served the demo although ./dist holds a version:\n%s", s.stdout)
	}
	port := s.base[strings.LastIndex(s.base, ":")+1:]
	for _, want := range []string{
		"cdnserve is listening on 127.0.0.1:" + port + " (http)\n", "  Local:    " + s.base + "/\n",
		"Serving 2.2.3 (the public library published last)", s.base + "/2.2.3/", s.base + "/2.2/", s.base + "/latest/", s.base + "/-/meta/2.2.3\n",
	} {
		if !strings.Contains(s.stdout, want) {
			t.Errorf("startup text lacks %q:\n%s", want, s.stdout)
		}
	}
	if strings.Contains(s.stdout, "Network:") {
		t.Errorf("a loopback listener shows network URLs:\n%s", s.stdout)
	}
	resp, body := get(t, s.base+"/2.2.3/pusher.min.js", "Accept-Encoding", "br")
	want, _ := os.ReadFile(filepath.Join(dir, "dist/2.2.3/pusher.min.js.br"))
	if resp.StatusCode != 200 || body != string(want) || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("GET: %d, %d bytes, %q", resp.StatusCode, len(body), resp.Header.Get("Cache-Control"))
	}
	resp, _ = get(t, s.base+"/2/sockjs.js")
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/2.2.3/sockjs.js" {
		t.Errorf("range: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A version built while the server runs is served at once.
	if code, _, errOut := cli(t, dir, "build", "--quiet", "--version", "2.2.4"); code != 0 {
		t.Fatal(errOut)
	}
	if resp, body := get(t, s.base+"/2.2.4/pusher.js"); resp.StatusCode != 200 || !strings.Contains(body, "v2.2.4") {
		t.Errorf("new version: %d", resp.StatusCode)
	}
	if err := s.stop(t); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, s.stderr)
	}
	// The access log is JSON with the request id, method, path, status,
	// bytes and duration.
	var entry map[string]any
	for _, line := range strings.Split(s.stderr.String(), "\n") {
		if strings.Contains(line, `"msg":"request"`) && strings.Contains(line, "/2.2.3/pusher.min.js") {
			json.Unmarshal([]byte(line), &entry)
		}
	}
	for _, k := range []string{"request_id", "method", "path", "status", "bytes", "duration"} {
		if _, ok := entry[k]; !ok {
			t.Errorf("access log entry lacks %q: %v", k, entry)
		}
	}
	// Durations are seconds, not nanoseconds (issue 28, item 14): a local
	// request takes well under a second, and more than nothing.
	if d, ok := entry["duration"].(float64); !ok || d <= 0 || d >= 1 {
		t.Errorf("access log duration %v: want seconds", entry["duration"])
	}
	// The last line says that the drain ended and the process stopped.
	lines := strings.Split(strings.TrimSpace(s.stderr.String()), "\n")
	var last struct {
		Level, Msg string
		Drained    *float64
	}
	if json.Unmarshal([]byte(lines[len(lines)-1]), &last); last.Msg != "drain ended; stopped" || last.Level != "INFO" || last.Drained == nil {
		t.Errorf("the last log line is %s, want the drain's end", lines[len(lines)-1])
	}
}

func TestServeDemoWhenNothingPublished(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "dist"), 0o755) // like this repository: ./dist without versions
	os.WriteFile(filepath.Join(dir, "dist", "dist.go"), []byte("package dist\n"), 0o644)
	s := startServe(t, dir, nil, "--addr", "127.0.0.1:0")
	for _, want := range []string{"serving the embedded demo (versions 1.0.0, 1.1.0)", s.base + "/1.1.0/demo.min.js", s.base + "/latest/widget.min.js", s.base + "/-/versions"} {
		if !strings.Contains(s.stdout, want) {
			t.Errorf("startup text lacks %q:\n%s", want, s.stdout)
		}
	}
	resp, _ := get(t, s.base+"/latest/demo.min.js")
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/1.1.0/demo.min.js" {
		t.Fatalf("latest: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := get(t, s.base+"/1.1.0/demo.min.js")
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "/*!\n * cdnserve demo library v1.1.0") || !strings.Contains(body, `suffix:".min"`) {
		t.Errorf("demo file: %d\n%s", resp.StatusCode, body)
	}
	if resp, body := get(t, s.base+"/1.0/demo.js"); resp.StatusCode != 200 || !strings.Contains(body, `VERSION: "1.0.0"`) {
		t.Errorf("demo alias 1.0: %d", resp.StatusCode)
	}
	s.stop(t)
}

// TestServeEnvironment checks that CDNSERVE_* variables configure serve
// and that a flag beats its variable.
func TestServeEnvironment(t *testing.T) {
	t.Parallel()
	dir := seedProject(t)
	if code, _, errOut := cli(t, dir, "build", "--quiet", "-f", "cdnserve.yaml"); code != 0 {
		t.Fatal(errOut)
	}
	other := t.TempDir()
	s := startServe(t, other, []string{
		"CDNSERVE_STORAGE=" + filepath.Join(dir, "dist"), "CDNSERVE_ADDR=127.0.0.1:1", "CDNSERVE_CACHE_ALIAS=public, max-age=5",
		"CDNSERVE_CORS_ORIGINS=https://app.example",
	}, "--addr", "127.0.0.1:0")
	resp, _ := get(t, s.base+"/2.2/pusher.js", "Origin", "https://app.example")
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=5" || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Errorf("env config not applied: %d %q %q", resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("Access-Control-Allow-Origin"))
	}
	s.stop(t)

	code, _, errOut := runBinEnv(t, other, []string{"CDNSERVE_REFRESH=soon"}, "serve", "--addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errOut, `CDNSERVE_REFRESH="soon": invalid value`) && !strings.Contains(errOut, `CDNSERVE_REFRESH="soon"`) {
		t.Errorf("bad env: exit %d %q", code, errOut)
	}
}

func runBinEnv(t *testing.T, dir string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errb.String()
	}
	return 0, out.String(), errb.String()
}

// TestServeTLSAndPlainTogether runs an HTTP and an HTTPS listener at once;
// HTTPS speaks HTTP/2 and sends HSTS.
func TestServeTLSAndPlainTogether(t *testing.T) {
	t.Parallel()
	dir := seedProject(t)
	if code, _, errOut := cli(t, dir, "build", "--quiet"); code != 0 {
		t.Fatal(errOut)
	}
	certFile, keyFile, pool := selfSigned(t)
	tlsPort := freePort(t)
	s := startServe(t, dir, nil, "--addr", "127.0.0.1:0", "--tls-addr", "127.0.0.1:"+tlsPort, "--tls-cert", certFile, "--tls-key", keyFile)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	resp, err := client.Get("https://127.0.0.1:" + tlsPort + "/2.2.3/sockjs.js")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Proto != "HTTP/2.0" || resp.Header.Get("Strict-Transport-Security") != "max-age=31536000" {
		t.Errorf("https: %d %s HSTS %q", resp.StatusCode, resp.Proto, resp.Header.Get("Strict-Transport-Security"))
	}
	if resp, _ := get(t, s.base+"/2.2.3/sockjs.js"); resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("http: %d HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	s.stop(t)
}

// TestServeGracefulShutdown sends SIGTERM while a large file is being
// downloaded: the download completes and the process exits 0.
func TestServeGracefulShutdown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	os.MkdirAll(out, 0o755)
	big := make([]byte, 32<<20)
	rand.Read(big)
	os.WriteFile(filepath.Join(out, "big.bin"), big, 0o644)
	if code, _, errOut := cli(t, dir, "publish", "out", "--version", "1.0.0", "--quiet"); code != 0 {
		t.Fatal(errOut)
	}
	s := startServe(t, dir, nil, "--addr", "127.0.0.1:0", "--cache-mb", "16")
	resp, err := http.Get(s.base + "/1.0.0/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	head := make([]byte, 1<<20)
	if _, err := io.ReadFull(resp.Body, head); err != nil {
		t.Fatal(err)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond) // let the signal land mid-download
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("download cut off by shutdown after %d bytes: %v", len(head)+len(rest), err)
	}
	if got := append(head, rest...); len(got) != len(big) || string(got) != string(big) {
		t.Errorf("downloaded %d bytes, want %d identical", len(got), len(big))
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("exit: %v\n%s", err, s.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit after the download finished")
	}
	if _, err := http.Get(s.base + "/-/healthz"); err == nil {
		t.Error("still accepting connections after shutdown")
	}
}

func TestServeBadSettings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"serve", "--log-format", "xml"}, 1, `--log-format "xml": want text or json`},
		{[]string{"serve", "--tls-addr", ":8443"}, 1, "--tls-addr needs --tls-cert and --tls-key"},
		{[]string{"serve", "--root", "missing"}, 1, "--storage " + filepath.Join(dir, "missing") + ": no such directory; publish into it first"},
		{[]string{"serve", "--addr", ""}, 1, "nothing to listen on"},
		{[]string{"serve", "--cors-origins", "app.example"}, 1, `CORS origin "app.example"`},
		{[]string{"serve", "--refresh", "often"}, 2, `--refresh "often": not a duration`},
		{[]string{"serve", "--trusted-proxies", "10.0.0.0/8,edge"}, 1, `--trusted-proxies "edge": not a network such as 10.0.0.0/8`},
		{[]string{"serve", "--admin-addr", "nope:x:1"}, 1, "--admin-addr"},
		{[]string{"serve", "extra"}, 2, `unexpected argument "extra"`},
	}
	for _, tc := range tests {
		code, _, errOut := runBin(t, dir, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("cdnserve %q: exit %d stderr %q, want %d with %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

func freePort(t *testing.T) string { return testutil.FreePort(t) }

// selfSigned writes a certificate for 127.0.0.1 (testutil.SelfSigned).
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	return testutil.SelfSigned(t)
}

// TestDevCommand runs the real `cdnserve dev` on a project: it serves
// the sources rebuilt, and warns when bound beyond loopback.
func TestDevCommand(t *testing.T) {
	dir := seedProject(t)
	cmd := exec.Command(binary(t), "dev", "--addr", "127.0.0.1:0")
	cmd.Dir = dir
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "cdnserve dev is serving on http://127.0.0.1:") {
		t.Fatalf("startup line %q (%v)\n%s", line, err, stderr.String())
	}
	base := strings.TrimSuffix(strings.Fields(line)[5], "/")
	resp, body := get(t, base+"/2.2.0/pusher.min.js")
	if resp.StatusCode != 200 || !strings.Contains(body, `dependency_suffix=".min"`) || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("dev file: %d %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	os.WriteFile(filepath.Join(dir, "src/json2.js"), []byte("var JSON2 = 'edited';\n"), 0o644)
	if _, body := get(t, base+"/json2.js"); !strings.Contains(body, "'edited'") {
		t.Errorf("edit not served: %q", body)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), "WARNING") {
		t.Errorf("warned on loopback:\n%s", stderr.String())
	}

	wide := exec.Command(binary(t), "dev", "--addr", "0.0.0.0:0")
	wide.Dir = dir
	wout, _ := wide.StdoutPipe()
	var werr strings.Builder
	wide.Stderr = &werr
	wide.Start()
	defer wide.Process.Kill()
	bufio.NewReader(wout).ReadString('\n')
	wide.Process.Signal(syscall.SIGTERM)
	wide.Wait()
	if !strings.Contains(werr.String(), "WARNING: cdnserve dev is listening on 0.0.0.0:") || !strings.Contains(werr.String(), "never meant for production") {
		t.Errorf("no warning for a non-loopback address:\n%s", werr.String())
	}
}

// TestServeCapsHeaderSize: request headers over 64 KiB are refused with
// 431 before any handler runs.
func TestServeCapsHeaderSize(t *testing.T) {
	t.Parallel()
	s := startServe(t, t.TempDir(), nil, "--addr", "127.0.0.1:0")
	defer s.stop(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET /1.1.0/demo.js HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", strings.Repeat("a", 80<<10))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("an 80 KiB header: %d, want 431", resp.StatusCode)
	}
}

// TestServeSaysWhereItListens: on every interface, the startup text says
// so, and gives the URL to open on this machine.
func TestServeSaysWhereItListens(t *testing.T) {
	t.Parallel()
	s := startServe(t, t.TempDir(), nil, "--addr", ":0")
	port := s.base[strings.LastIndex(s.base, ":")+1:]
	for _, want := range []string{"cdnserve is listening on [::]:" + port + " (http, every interface)\n", "  Local:    http://127.0.0.1:" + port + "/\n"} {
		if !strings.Contains(s.stdout, want) {
			t.Errorf("startup text lacks %q:\n%s", want, s.stdout)
		}
	}
	if resp, _ := get(t, s.base+"/-/healthz"); resp.StatusCode != 200 {
		t.Errorf("the Local URL does not answer: %d", resp.StatusCode)
	}
}

// TestCacheTagsFlag: --cache-tags names the tag headers, and still takes
// true and false, and stands alone, as the boolean it was.
func TestCacheTagsFlag(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"default", nil, `cache-tags: "both"  # default`},
		{"alone", []string{"--cache-tags"}, `cache-tags: "both"  # flag`},
		{"false", []string{"--cache-tags=false"}, `cache-tags: "off"  # flag`},
		{"one header", []string{"--cache-tags=surrogate-key"}, `cache-tags: "surrogate-key"  # flag`},
		{"Cloudflare's", []string{"--cache-tags=cache-tag"}, `cache-tags: "cache-tag"  # flag`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := cli(t, dir, append([]string{"serve", "--print-config"}, tc.args...)...)
			if code != 0 || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, want %q in:\n%s%s", code, tc.want, out, errOut)
			}
		})
	}
	if code, _, errOut := cli(t, dir, "serve", "--print-config", "--cache-tags=xkey"); code != 2 || !strings.Contains(errOut, "want both, surrogate-key, cache-tag or off") {
		t.Errorf("a bad value: exit %d, %s", code, errOut)
	}
}

// TestServeMissingStorage: a dist root that does not exist is created for
// the npm mirror, whose store starts empty; without the mirror the error
// says what to run (issue 28, item 15).
func TestServeMissingStorage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, _, errOut := cli(t, dir, "serve", "--storage", "nodir", "--addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errOut, "--storage "+filepath.Join(dir, "nodir")+": no such directory; publish into it first") || !strings.Contains(errOut, "mkdir -p") {
		t.Errorf("without the mirror: %d %s", code, errOut)
	}
	s := startServe(t, dir, nil, "--storage", "nodir", "--addr", "127.0.0.1:0", "--npm-mirror", "--npm-allow", "left-pad", "--npm-registry", "http://127.0.0.1:9/")
	if fi, err := os.Stat(filepath.Join(dir, "nodir")); err != nil || !fi.IsDir() {
		t.Errorf("the mirror's store was not created: %v", err)
	}
	if r, _ := get(t, s.base+"/-/libraries"); r.StatusCode != 200 {
		t.Errorf("/-/libraries: %d", r.StatusCode)
	}
	s.stop(t)
	if !strings.Contains(s.stderr.String(), "created the empty dist root for the npm mirror to fill") {
		t.Errorf("the log:\n%s", s.stderr.String())
	}
}
