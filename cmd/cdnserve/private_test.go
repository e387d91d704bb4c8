package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPrivateFromTheCommandLine: token create and sign, serve with
// --private, and fetch with --token-env.
func TestPrivateFromTheCommandLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if code, _, errOut := cli(t, dir, "init", "@corp/widgets"); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := cli(t, dir, "build", "--quiet"); code != 0 {
		t.Fatal(errOut)
	}
	code, token, errOut := cli(t, dir, "token", "create", "--library", "@corp/*", "--expires", "90d", "--note", "ci")
	token = strings.TrimSpace(token)
	if code != 0 || !strings.HasPrefix(token, "cdns_") || !strings.Contains(errOut, "shown once: tokens holds only its SHA-256") {
		t.Fatalf("token create: %d %q %s", code, token, errOut)
	}
	if file, _ := os.ReadFile(filepath.Join(dir, "tokens")); strings.Contains(string(file), token) || !strings.Contains(string(file), `"libraries":["@corp/*"]`) {
		t.Errorf("the tokens file: %s", file)
	}
	os.WriteFile(filepath.Join(dir, "keys"), []byte("k1 MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n"), 0o600)
	code, signedURL, errOut := cli(t, dir, "sign", "/@corp/widgets/0.1.0/widgets.min.js", "--ttl", "1h")
	signedURL = strings.TrimSpace(signedURL)
	if code != 0 || !strings.HasPrefix(signedURL, "/@corp/widgets/0.1.0/widgets.min.js?exp=") || !strings.Contains(signedURL, "&kid=k1&sig=") {
		t.Fatalf("sign: %d %q %s", code, signedURL, errOut)
	}
	s := startServe(t, dir, nil, "--addr", "127.0.0.1:0", "--private", "@corp/*", "--tokens", "tokens", "--url-signing-keys", "keys")
	for _, tc := range []struct {
		path, auth string
		want       int
	}{
		{"/@corp/widgets/0.1.0/widgets.min.js", "", 401},
		{"/@corp/widgets/0.1.0/widgets.min.js", "Bearer " + token, 200},
		{"/@corp/widgets/0.1.0/widgets.min.js", "Bearer cdns_wrong", 403},
		{signedURL, "", 200},
	} {
		t.Run(tc.path, func(t *testing.T) {
			var h []string
			if tc.auth != "" {
				h = []string{"Authorization", tc.auth}
			}
			if r, _ := get(t, s.base+tc.path, h...); r.StatusCode != tc.want {
				t.Errorf("%s (%q): %d, want %d", tc.path, tc.auth, r.StatusCode, tc.want)
			}
		})
	}
	out := t.TempDir()
	code, stdout, errOut := cliEnv(t, out, map[string]string{"CDN_TOKEN": token}, "fetch", "--cdn", s.base, "--library", "@corp/widgets", "--version", "^0.1", "--token-env", "CDN_TOKEN", "--suffix", ".min", "widgets")
	if code != 0 || !strings.Contains(stdout, "resolved ^0.1 to 0.1.0") {
		t.Errorf("fetch with --token-env: %d %s %s", code, stdout, errOut)
	}
	if code, _, errOut := cli(t, out, "fetch", "--cdn", s.base, "--library", "@corp/widgets", "--version", "0.1.0", "--suffix", ".min", "widgets"); code != 1 || !strings.Contains(errOut, "401") {
		t.Errorf("fetch without the token: %d %s", code, errOut)
	}
	s.stop(t)
	if strings.Contains(s.stderr.String(), token) || strings.Contains(s.stderr.String(), "sig=") {
		t.Error("serve's log holds a credential")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--private", "@corp/*"}, "--private needs --tokens FILE or --url-signing-keys FILE"},
		{[]string{"serve", "--tokens", "nope"}, "--tokens: open"},
		{[]string{"serve", "--private", "@corp/*", "--tokens", "nope"}, "--tokens: open"},
		{[]string{"token", "create"}, "need at least one --library"},
		{[]string{"token", "delete"}, `unknown token command "delete"`},
		{[]string{"sign", "/x", "--ttl", "soon"}, `--ttl "soon"`},
		{[]string{"sign", "x.js"}, "sign a URL path"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if code, _, errOut := cli(t, dir, tc.args...); code == 0 || !strings.Contains(errOut, tc.want) {
				t.Errorf("%v: %d %q", tc.args, code, errOut)
			}
		})
	}
}

// TestPrivacyInStorage: build --private records the library as private
// in storage; a replica started with no flags at all refuses it (401,
// and says at start that it has no tokens), and `cdnserve public` and
// `cdnserve private` change it for every replica. /-/metrics is on the
// admin listener only.
func TestPrivacyInStorage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if code, _, errOut := cli(t, dir, "init", "@corp/widgets"); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := cli(t, dir, "build", "--quiet", "--private", "@corp/*"); code != 0 {
		t.Fatal(errOut)
	}
	if rec, err := os.ReadFile(filepath.Join(dir, "dist", "@corp", "widgets", ".access.json")); err != nil || !strings.Contains(string(rec), `"private": true`) {
		t.Fatalf("the access record: %s %v", rec, err)
	}
	if code, _, errOut := cli(t, dir, "publish", "src", "--quiet", "--version", "1.0.0", "--name", "@corp/other", "--private", "@corp/*"); code != 0 {
		t.Fatal(errOut)
	}
	if rec, err := os.ReadFile(filepath.Join(dir, "dist", "@corp", "other", ".access.json")); err != nil || !strings.Contains(string(rec), `"private": true`) {
		t.Errorf("publish --private wrote no access record: %s %v", rec, err)
	}
	s := startServe(t, dir, nil, "--addr", "127.0.0.1:0", "--refresh", "100ms")
	file := s.base + "/@corp/widgets/0.1.0/widgets.min.js"
	status := func() (int, string) { r, _ := get(t, file); return r.StatusCode, r.Header.Get("Cache-Control") }
	if code, cc := status(); code != 401 || cc != "no-store" {
		t.Errorf("a replica with no flags: %d %q", code, cc)
	}
	if r, _ := get(t, s.base+"/-/metrics"); r.StatusCode != 404 {
		t.Errorf("public /-/metrics: %d", r.StatusCode)
	}
	if r, body := get(t, s.admin+"/-/metrics"); r.StatusCode != 200 || !strings.Contains(body, "cdnserve_requests_total") {
		t.Errorf("admin /-/metrics (%q): %d", s.admin, r.StatusCode)
	}
	for _, step := range []struct {
		cmd, say string
		want     int
		cc       string
	}{
		{"public", "@corp/widgets is public", 200, "public, max-age=31536000, immutable"},
		{"private", "@corp/widgets is private", 401, "no-store"},
	} {
		if code, out, errOut := cli(t, dir, step.cmd, "@corp/widgets"); code != 0 || !strings.Contains(out, step.say) {
			t.Fatalf("%s: %d %s %s", step.cmd, code, out, errOut)
		}
		deadline := time.Now().Add(5 * time.Second)
		for code, cc := status(); code != step.want || cc != step.cc; code, cc = status() {
			if time.Now().After(deadline) {
				t.Fatalf("after %s: %d %q", step.cmd, code, cc)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	s.stop(t)
	if !strings.Contains(s.stderr.String(), "private libraries found, and no tokens") {
		t.Errorf("serve's log does not say the private library is closed:\n%s", s.stderr.String())
	}
	for _, line := range strings.Split(s.stderr.String(), "\n") {
		if strings.Contains(line, `"status":401`) && strings.Contains(line, "widgets") {
			t.Errorf("the log names the private library: %s", line)
		}
	}
}
