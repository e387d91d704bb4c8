package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/server"
	"github.com/cdnserve/cdnserve/storage"
)

func TestFetch(t *testing.T) {
	t.Parallel()
	dir := seedProject(t)
	if code, _, errOut := cli(t, dir, "build", "--quiet"); code != 0 {
		t.Fatal(errOut)
	}
	// The same sources, named: the library @corp/pusher at 3.0.0.
	manifest := filepath.Join(dir, "cdnserve.yaml")
	os.WriteFile(manifest, append([]byte("name: \"@corp/pusher\"\n"), must(os.ReadFile(manifest))...), 0o644)
	if code, _, errOut := cli(t, dir, "build", "--quiet", "--version", "3.0.0"); code != 0 {
		t.Fatal(errOut)
	}
	srv, err := server.New(server.Config{Fs: storage.DiskFs{}, Root: filepath.Join(dir, "dist")})
	if err != nil {
		t.Fatal(err)
	}
	corrupt := false
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if corrupt && strings.HasSuffix(r.URL.Path, ".js") {
			w.Write([]byte("alert('not the published file')"))
			return
		}
		srv.ServeHTTP(w, r)
	}))
	defer ts.Close()
	work := t.TempDir()

	code, out, errOut := cli(t, work, "fetch", "--cdn", ts.URL, "--version", "2.2.3", "--suffix", ".min", "pusher", "sockjs", "WebSocketMain.swf", "-o", "vendor")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, f := range []string{"pusher.min.js", "sockjs.min.js", "WebSocketMain.swf"} {
		got, err := os.ReadFile(filepath.Join(work, "vendor", f))
		want, _ := os.ReadFile(filepath.Join(dir, "dist/2.2.3", f))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("vendor/%s differs from the published file (%v)", f, err)
		}
		if !strings.Contains(out, "fetched vendor/"+f+" (") {
			t.Errorf("output lacks %s:\n%s", f, out)
		}
	}
	if !strings.Contains(out, layout.SRI(must(os.ReadFile(filepath.Join(dir, "dist/2.2.3/pusher.min.js"))))) {
		t.Errorf("output lacks the SRI hash:\n%s", out)
	}

	code, _, errOut = cli(t, work, "fetch", "--cdn", ts.URL, "--version", "2.2.3", "nope")
	if code != 1 || !strings.Contains(errOut, "nope: ") || !strings.Contains(errOut, "nope.js: not found: version 2.2.3 has no such file") {
		t.Errorf("missing dependency: exit %d %q", code, errOut)
	}
	corrupt = true
	code, _, errOut = cli(t, work, "fetch", "--cdn", ts.URL, "--version", "2.2.3", "-o", "bad", "sockjs")
	if code != 1 || !strings.Contains(errOut, "integrity check failed") {
		t.Errorf("corrupted file: exit %d %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(work, "bad", "sockjs.js")); err == nil {
		t.Error("a file that failed its integrity check was written")
	}
	code, _, errOut = cli(t, work, "fetch", "--cdn", ts.URL, "pusher")
	if code != 2 || !strings.Contains(errOut, "need --cdn, --version and at least one NAME") {
		t.Errorf("no version: exit %d %q", code, errOut)
	}
	// A range, a tag or an alias is resolved by the CDN, and said.
	corrupt = false
	for _, spec := range []string{"2.2", "^2.2.0", "latest"} {
		code, out, errOut = cli(t, work, "fetch", "--cdn", ts.URL, "--version", spec, "-o", "ranged", "sockjs")
		if code != 0 || !strings.Contains(out, "resolved "+spec+" to 2.2.3\n") || !strings.Contains(out, "fetched ranged/sockjs.js") {
			t.Errorf("--version %s: exit %d\n%s%s", spec, code, out, errOut)
		}
	}
	code, _, errOut = cli(t, work, "fetch", "--cdn", ts.URL, "--version", "^9", "sockjs")
	if code != 1 || !strings.Contains(errOut, "--version ^9: ") || !strings.Contains(errOut, "answers 404") {
		t.Errorf("a range that matches nothing: exit %d %q", code, errOut)
	}
	// From a named library, by range.
	code, out, errOut = cli(t, work, "fetch", "--cdn", ts.URL, "--library", "@corp/pusher", "--version", "^3", "--suffix", ".min", "-o", "lib", "pusher")
	if code != 0 || !strings.Contains(out, "resolved ^3 to 3.0.0\n") ||
		!bytes.Equal(must(os.ReadFile(filepath.Join(work, "lib/pusher.min.js"))), must(os.ReadFile(filepath.Join(dir, "dist/@corp/pusher/3.0.0/pusher.min.js")))) {
		t.Errorf("--library: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = cli(t, work, "fetch", "--cdn", ts.URL, "--library", "@corp/pusher", "--version", "2.2.3", "pusher")
	if code != 1 || !strings.Contains(errOut, "/-/meta/@corp/pusher/2.2.3: HTTP 404") {
		t.Errorf("--library with a version only the root library has: exit %d %q", code, errOut)
	}
	code, _, errOut = cli(t, work, "fetch", "--cdn", ts.URL, "--library", "../x", "--version", "1.0.0", "pusher")
	if code != 1 || !strings.Contains(errOut, `--library: library name "../x"`) {
		t.Errorf("--library ../x: exit %d %q", code, errOut)
	}
	// Fetched files get the usual mode: 0644 under the umask, not 0600.
	umask := syscall.Umask(0)
	syscall.Umask(umask)
	if fi, err := os.Stat(filepath.Join(work, "vendor", "pusher.min.js")); err != nil || fi.Mode().Perm() != 0o644&^os.FileMode(umask) {
		t.Errorf("fetched file mode %v, want %v", fi.Mode().Perm(), 0o644&^os.FileMode(umask))
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
