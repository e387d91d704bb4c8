package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The secrets the tests below put into every flag that takes a URL or a
// secret. None may appear in anything a command prints.
const (
	secretPW    = "pw-s3cret-7"
	secretToken = "tok-s3cret-9"
)

// secretURL is a URL of the given scheme that carries both secrets, and
// points at a port nothing listens on.
func secretURL(scheme string) string {
	return scheme + "://user:" + secretPW + "@127.0.0.1:1/x?token=" + secretToken
}

func assertNoSecrets(t *testing.T, what, out string) {
	t.Helper()
	if strings.Contains(out, secretPW) || strings.Contains(out, secretToken) {
		t.Errorf("%s shows a secret:\n%s", what, out)
	}
}

// TestPrintConfigRedactsEveryURL runs each flag that takes a URL or a
// secret through --print-config: the value is shown with its host, and
// its user info and query values are REDACTED.
func TestPrintConfigRedactsEveryURL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if code, _, errOut := cli(t, dir, "init", "widget"); code != 0 {
		t.Fatal(errOut)
	}
	s3 := "s3://bucket/p?endpoint=" + secretURL("http") + "&region=eu&sig=" + secretToken
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"publish --purge webhook", []string{"publish", ".", "--version", "1.0.0", "--purge", secretURL("webhook+https")}},
		{"build --purge http and xkey", []string{"build", "--purge", secretURL("http"), "--purge", secretURL("xkey+http")}},
		{"serve --purge", []string{"serve", "--purge", secretURL("webhook+https")}},
		{"serve --storage s3", []string{"serve", "--storage", s3}},
		{"serve --public-url", []string{"serve", "--public-url", secretURL("https")}},
		{"serve --npm-registry", []string{"serve", "--npm-mirror", "--npm-allow", "x", "--npm-registry", secretURL("https")}},
		{"add --npm-registry and --purge", []string{"add", "npm:x", "--npm-registry", secretURL("https"), "--purge", secretURL("https")}},
		{"prune --purge", []string{"prune", "x@1.0.0", "--purge", secretURL("https")}},
		{"purge --purge", []string{"purge", "x@1.0", "--purge", secretURL("webhook+http")}},
		{"fetch --cdn and --mirror", []string{"fetch", "--cdn", secretURL("https"), "--mirror", secretURL("https"), "--version", "1.0.0", "x"}},
		{"sign --public-url", []string{"sign", "/x/1.0.0/x.js", "--public-url", secretURL("https")}},
		{"importmap --public-url", []string{"importmap", "x@1", "--public-url", secretURL("https")}},
		{"verify --storage", []string{"verify", "--storage", s3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := cli(t, dir, append(tc.args, "--print-config")...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			assertNoSecrets(t, "--print-config", out+errOut)
			if !strings.Contains(out, "REDACTED@127.0.0.1:1") || !strings.Contains(out, "token=REDACTED") {
				t.Errorf("--print-config does not show the URL redacted:\n%s", out)
			}
		})
	}
}

// TestFailingRunsLeakNoSecret makes each command that talks to a URL
// fail against it, and reads everything it printed: errors and logs name
// the host, never the user info or a query value.
func TestFailingRunsLeakNoSecret(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, tc := range []struct {
		name     string
		setup    []string // a command run first
		args     []string
		wantCode int
		want     string // in stderr
	}{
		{"publish whose purge fails", nil, []string{"publish", "out", "--version", "1.0.0", "--storage", "dist", "--purge-after", "0", "--purge", secretURL("webhook+http")}, 0, "purge FAILED"},
		{"purge by hand that fails", []string{"publish", "out", "--version", "1.0.0", "--name", "lib"}, []string{"purge", "lib@1.0", "--purge", secretURL("http")}, 1, "purge FAILED"},
		{"add from a dead registry", nil, []string{"add", "npm:left-pad@1.3.0", "--storage", "dist", "--npm-registry", secretURL("http")}, 1, "127.0.0.1:1"},
		{"fetch from a dead CDN", nil, []string{"fetch", "--cdn", secretURL("http"), "--version", "1.0.0", "x", "-o", "vendor"}, 1, "127.0.0.1:1"},
		{"serve from an unreachable S3", nil, []string{"serve", "--addr", "127.0.0.1:0", "--storage", "s3://bucket/p?endpoint=" + secretURL("http") + "&region=eu"}, 1, "storage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(root, strings.ReplaceAll(tc.name, " ", "-"))
			os.MkdirAll(filepath.Join(dir, "out"), 0o755)
			os.WriteFile(filepath.Join(dir, "out", "a.js"), []byte("a()\n"), 0o644)
			if tc.setup != nil {
				if code, _, errOut := cli(t, dir, tc.setup...); code != 0 {
					t.Fatal(errOut)
				}
			}
			start := time.Now()
			code, out, errOut := cli(t, dir, tc.args...)
			if code != tc.wantCode || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d (want %d), stderr lacks %q:\n%s", code, tc.wantCode, tc.want, errOut)
			}
			assertNoSecrets(t, "output", out+errOut)
			t.Logf("%s in %s", tc.name, time.Since(start).Round(time.Millisecond))
		})
	}
}
