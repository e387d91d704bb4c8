package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/layout"
)

// rawGet sends a request line byte for byte, so that no client cleans or
// re-encodes the path, and returns the status and body.
func rawGet(t *testing.T, addr, target string) (int, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(conn, "GET "+target+" HTTP/1.1\r\nHost: cdn.test\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%q: %v", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestHostilePaths sends every traversal form we know, and asks for every
// internal file; each must get 400 or 404 and never a secret byte.
func TestHostilePaths(t *testing.T) {
	f := newFixture(t, "2.2.3")
	parent := filepath.Dir(f.root)
	os.WriteFile(filepath.Join(parent, "secret.txt"), []byte("SECRET-OUTSIDE"), 0o644)
	os.WriteFile(filepath.Join(f.root, "2.2.3", ".hidden.js"), []byte("SECRET-DOTFILE"), 0o644)
	os.MkdirAll(filepath.Join(f.root, ".tmp-abc"), 0o755)
	os.WriteFile(filepath.Join(f.root, ".tmp-abc", "a.js"), []byte("SECRET-STAGING"), 0o644)
	os.WriteFile(filepath.Join(f.root, ".lock"), []byte(`{"pid":1,"host":"SECRET-LOCK"}`), 0o644)
	os.WriteFile(filepath.Join(f.root, "2.2.3", "unlisted.js"), []byte("SECRET-UNLISTED"), 0o644)
	_, ts := f.server(t, nil)
	addr := strings.TrimPrefix(ts.URL, "http://")

	paths := []string{
		"/../secret.txt",
		"/2.2.3/../../secret.txt",
		"/2.2.3/../../../../../../etc/passwd",
		"/%2e%2e/secret.txt",
		"/2.2.3/%2e%2e/%2e%2e/secret.txt",
		"/2.2.3/%2E%2E/%2E%2E/secret.txt",
		"/%252e%252e/secret.txt",
		"/2.2.3/%252e%252e%252fsecret.txt",
		"/2.2.3/..%2f..%2fsecret.txt",
		"/2.2.3/..%252f..%252fsecret.txt",
		`/2.2.3/..\..\secret.txt`,
		"/2.2.3/%5c..%5c..%5csecret.txt",
		"/2.2.3/pusher.js%00.txt",
		"/2.2.3/%00",
		"//etc/passwd",
		"/2.2.3//etc/passwd",
		"/2.2.3/./pusher.js",
		"/./2.2.3/pusher.js",
		"http://cdn.test/../secret.txt",
		"/2.2.3/_cdnserve.json",
		"/2.2/_cdnserve.json",
		"/2.2.3/pusher.js.br",
		"/2.2.3/pusher.js.gz",
		"/2.2.3/.hidden.js",
		"/2.2.3/unlisted.js",
		"/.tmp-abc/a.js",
		"/.lock",
		"/.tmp-abc/",
		"/-/meta/..%2f..%2fsecret.txt",
		"/-/meta/%2e%2e",
		"/" + strings.Repeat("a", 5000) + "/x.js",
	}
	for _, p := range paths {
		status, body := rawGet(t, addr, p)
		if status != 400 && status != 404 {
			t.Errorf("%q: status %d, want 400 or 404", p, status)
		}
		if strings.Contains(body, "SECRET") || strings.Contains(body, "root:") {
			t.Errorf("%q: body leaks %q", p, body)
		}
		if strings.Contains(body, f.root) {
			t.Errorf("%q: body names the storage path: %q", p, body)
		}
	}
	// The browse pages list only what the manifest lists.
	for _, p := range []string{"/", "/2.2.3/", "/2.2.3", "/2.2/"} {
		status, body := rawGet(t, addr, p)
		if status != 200 || strings.Contains(body, "SECRET") || strings.Contains(body, ".hidden.js") ||
			strings.Contains(body, "unlisted.js") || strings.Contains(body, "_cdnserve.json") || strings.Contains(body, ".tmp-") {
			t.Errorf("%q: status %d, or it lists an internal file", p, status)
		}
	}
	// The well-formed path still works, so the test is not passing because
	// everything fails.
	if status, body := rawGet(t, addr, "/2.2.3/pusher.js"); status != 200 || !strings.Contains(body, "Pusher") {
		t.Errorf("control request: %d", status)
	}
}

// FuzzAssetPath splits any path into its library and the path below it,
// as a request does: whatever is accepted names a file inside one
// version directory of one library, and never anything outside it.
func FuzzAssetPath(f *testing.F) {
	for _, s := range []string{"/2.2.3/pusher.js", "/../x", "/a/../../b", "/1/./x", "//x", "/1.7/a/b/c.js", "/^1.0.0/x.js", "/x\\y", "/a/\x00", "/-/meta/1",
		"/pusher/2.2.3/pusher.js", "/@corp/ui/1.0.0/a.css", "/pusher@^2/x.js", "/@corp/ui@1/x", "/@../../x", "/@corp/..@1/x", "/pusher/../1.0.0/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if !strings.HasPrefix(p, "/") {
			return
		}
		ap := splitAssetPath(p, func(string) bool { return false })
		if ap.lib != "" && !layout.IsLibraryName(ap.lib) {
			return // the catalog refuses it before reading anything: 404
		}
		rest := ap.rest
		if ap.at {
			rest = ap.spec + "/" + ap.rest
		}
		spec, file, err := parsePath(rest)
		if err != nil {
			return
		}
		if spec == "" || spec == "." || spec == ".." || strings.ContainsAny(spec, "/\\\x00") {
			t.Fatalf("parsePath(%q) spec %q", p, spec)
		}
		dir := filepath.Join("/srv/dist", ap.lib)
		if ap.lib != "" && dir != "/srv/dist/"+ap.lib {
			t.Fatalf("%q: library %q leaves the dist root (%s)", p, ap.lib, dir)
		}
		if file == "" {
			return
		}
		joined := filepath.Join(dir, spec, file)
		if !strings.HasPrefix(joined, dir+"/"+spec+"/") || strings.Contains(file, "..") && !strings.Contains(filepath.Base(file), "..") {
			t.Fatalf("parsePath(%q) = %q, %q escapes the version directory (%s)", p, spec, file, joined)
		}
		for _, seg := range strings.Split(file, "/") {
			if seg == "" || seg == "." || seg == ".." {
				t.Fatalf("parsePath(%q) file %q has segment %q", p, file, seg)
			}
		}
	})
}
