package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/server"
	"github.com/cdnserve/cdnserve/storage"
	"github.com/cdnserve/cdnserve/storage/s3test"
)

// TestTwoReplicasOverS3 runs two real `cdnserve serve` processes on one
// bucket and publishes with `cdnserve build --storage s3://…`: both serve
// the new version, and move the alias and /latest/, within one refresh
// interval, with identical bytes and ETags.
func TestTwoReplicasOverS3(t *testing.T) {
	t.Parallel()
	bucket := s3test.Bucket(t, s3test.Endpoint(t))
	dir := seedProject(t)
	if code, _, errOut := runBin(t, dir, "build", "--quiet", "--storage", bucket); code != 0 {
		t.Fatalf("build --storage: %s", errOut)
	}
	a := startServe(t, dir, nil, "--addr", "127.0.0.1:0", "--storage", bucket, "--refresh", "1s")
	b := startServe(t, dir, nil, "--addr", "127.0.0.1:0", "--storage", bucket, "--refresh", "1s")
	for _, s := range []*served{a, b} {
		if r, body := get(t, s.base+"/2.2/pusher.js"); r.StatusCode != 200 || !strings.Contains(body, "v2.2.3") {
			t.Fatalf("%s before: %d", s.base, r.StatusCode)
		}
	}
	start := time.Now()
	if code, _, errOut := runBin(t, dir, "build", "--quiet", "--storage", bucket, "--version", "2.2.4"); code != 0 {
		t.Fatalf("build 2.2.4: %s", errOut)
	}
	for _, s := range []*served{a, b} {
		if r, body := get(t, s.base+"/2.2.4/pusher.js"); r.StatusCode != 200 || !strings.Contains(body, "v2.2.4") {
			t.Errorf("%s: the new exact version is not served at once: %d", s.base, r.StatusCode)
		}
	}
	// Within one refresh interval (1s, plus the time to build), both
	// replicas move the alias and /latest/.
	moved := func(s *served) bool {
		_, body := get(t, s.base+"/2.2/pusher.js")
		r, _ := get(t, s.base+"/latest/pusher.js")
		return strings.Contains(body, "v2.2.4") && r.Header.Get("Location") == "/2.2.4/pusher.js"
	}
	for !(moved(a) && moved(b)) {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("replicas did not follow the publish within 5s (refresh 1s)")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("both replicas followed the publish %v after it started", time.Since(start).Round(time.Millisecond))
	for _, p := range []string{"/2.2.4/pusher.min.js", "/2.2/pusher.min.js", "/2.2.4/WebSocketMain.swf"} {
		for _, enc := range []string{"", "br", "gzip"} {
			ra, ba := get(t, a.base+p, "Accept-Encoding", enc)
			rb, bb := get(t, b.base+p, "Accept-Encoding", enc)
			if ra.StatusCode != 200 || ba != bb || ra.Header.Get("Etag") == "" || ra.Header.Get("Etag") != rb.Header.Get("Etag") {
				t.Errorf("%s %q: replicas differ: %d/%d etags %s %s, same bytes %v", p, enc, ra.StatusCode, rb.StatusCode, ra.Header.Get("Etag"), rb.Header.Get("Etag"), ba == bb)
			}
		}
	}
	a.stop(t)
	b.stop(t)
}

// TestSIGHUPRefreshes: with a refresh of an hour, SIGHUP makes a replica
// re-read the aliases at once.
func TestSIGHUPRefreshes(t *testing.T) {
	t.Parallel()
	bucket := s3test.Bucket(t, s3test.Endpoint(t))
	dir := seedProject(t)
	runBin(t, dir, "build", "--quiet", "--storage", bucket)
	s := startServe(t, dir, nil, "--addr", "127.0.0.1:0", "--storage", bucket, "--refresh", "1h")
	get(t, s.base+"/2.2/pusher.js") // load the alias
	runBin(t, dir, "build", "--quiet", "--storage", bucket, "--version", "2.2.7")
	if _, body := get(t, s.base+"/2.2/pusher.js"); !strings.Contains(body, "v2.2.3") {
		t.Fatal("the alias moved without a refresh")
	}
	s.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, body := get(t, s.base+"/2.2/pusher.js"); strings.Contains(body, "v2.2.7") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("SIGHUP did not refresh the alias within 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.stop(t)
}

// TestKillBuildOverS3 kills real `cdnserve build --storage s3://…`
// processes at moments spread over a build: no version is ever served
// without its manifest, and `cdnserve verify` of the bucket passes.
func TestKillBuildOverS3(t *testing.T) {
	t.Parallel()
	bucket := s3test.Bucket(t, s3test.Endpoint(t))
	dir := seedProject(t)
	start := time.Now()
	if code, _, errOut := runBin(t, dir, "build", "--quiet", "--storage", bucket, "--version", "1.0.0"); code != 0 {
		t.Fatal(errOut)
	}
	full := time.Since(start)
	st, err := storage.Open(context.Background(), bucket, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := 1; i <= 12; i++ {
		version := fmt.Sprintf("1.0.%d", i)
		cmd := exec.Command(binary(t), "build", "--quiet", "--wait", "--storage", bucket, "--version", version)
		cmd.Dir = dir
		cmd.Start()
		time.Sleep(full * time.Duration(i) / 12)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		srv, err := server.New(server.Config{Fs: st.Fs, Root: st.Root})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(srv)
		r, body := get(t, ts.URL+"/"+version+"/pusher.js")
		switch r.StatusCode {
		case 200: // finished before the kill: it must be whole
			for _, f := range seedOutputs {
				if r, _ := get(t, ts.URL+"/"+version+"/"+f); r.StatusCode != 200 {
					t.Errorf("%s is visible but %s answers %d", version, f, r.StatusCode)
				}
			}
		case 404:
		default:
			t.Errorf("%s: %d %s", version, r.StatusCode, body)
		}
		// The alias, switched file by file on S3, still serves whole files
		// of one version: they are read from its exact directory.
		if r, body := get(t, ts.URL+"/1.0/pusher.js"); r.StatusCode != 200 || !strings.Contains(body, "Pusher JavaScript Library v1.0.") {
			t.Errorf("alias 1.0 after killing %s: %d", version, r.StatusCode)
		}
		ts.Close()
		finishAfterKill(t, dir, version, bucket)
	}
}
