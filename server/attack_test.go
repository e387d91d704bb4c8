package server

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/access"
)

// The breaks an attack found in private libraries (issue 25), each
// answered here.

// TestMetricsOnlyOnAdmin: /-/metrics names private libraries, so the
// public handler never serves it; the admin handler does. Nothing an
// anonymous client reads names a private library.
func TestMetricsOnlyOnAdmin(t *testing.T) {
	f := newFixture(t, "2.2.3")
	f.publishSeedIn(t, "@corp/widgets", "1.0.0")
	s, ts := f.server(t, func(c *Config) { c.Access = privatePolicy(); c.Clock = func() time.Time { return privNow } })
	do(t, "GET", ts.URL+"/@corp/widgets/1.0.0/pusher.js", "Authorization", "Bearer "+goodToken)
	if r, body := do(t, "GET", ts.URL+"/-/metrics"); r.StatusCode != 404 || bytes.Contains(body, []byte("corp")) {
		t.Errorf("public /-/metrics: %d %q", r.StatusCode, body)
	}
	for _, p := range []string{"/-/healthz", "/-/readyz"} {
		if r, _ := do(t, "GET", ts.URL+p); r.StatusCode != 200 {
			t.Errorf("public %s: %d", p, r.StatusCode)
		}
	}
	for _, p := range []string{"/", "/-/libraries", "/-/stats", "/-/versions", "/-/metrics", "/-/importmap?lib=pusher@2", "/@corp/", "/@corp/widgets/"} {
		if _, body := do(t, "GET", ts.URL+p); bytes.Contains(body, []byte("widgets")) {
			t.Errorf("anonymous %s names the private library:\n%.300s", p, body)
		}
	}
	if m := scrape(t, s); !bytes.Contains(m, []byte(`library="@corp/widgets"`)) {
		t.Errorf("the admin handler's metrics lack the library")
	}
}

// TestSignedURLDoesNotOpenQueryEndpoints: a signature covers the path,
// and /-/importmap and /-/snippet answer what their query selects, so a
// signed URL is refused there; a bearer token opens them.
func TestSignedURLDoesNotOpenQueryEndpoints(t *testing.T) {
	base, _ := privateServer(t, nil)
	exp := privNow.Add(time.Hour)
	for _, tc := range []struct{ name, path, query string }{
		{"importmap", "/-/importmap", "&lib=@corp/widgets@1.0.0/pusher.js"},
		{"snippet", "/-/snippet", "&library=@corp/widgets&version=1.0.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, body := do(t, "GET", base+signed(tc.path, "k2", keyNew, exp)+tc.query)
			if r.StatusCode != 403 || !strings.Contains(string(body), "a signed URL does not open") || bytes.Contains(body, []byte("1.0.0/")) {
				t.Errorf("signed %s: %d %s", tc.path, r.StatusCode, body)
			}
			r, body = do(t, "GET", base+tc.path+"?"+tc.query[1:], "Authorization", "Bearer "+goodToken)
			if r.StatusCode != 200 || !strings.Contains(r.Header.Get("Cache-Control"), "private") {
				t.Errorf("with a token %s: %d %q %s", tc.path, r.StatusCode, r.Header.Get("Cache-Control"), body)
			}
		})
	}
}

// TestBearerSchemeCaseInsensitive: RFC 9110 §11.1.
func TestBearerSchemeCaseInsensitive(t *testing.T) {
	base, _ := privateServer(t, nil)
	for _, scheme := range []string{"bearer", "BEARER", "Bearer"} {
		if r, _ := do(t, "GET", base+"/@corp/widgets/1.0.0/pusher.js", "Authorization", scheme+" "+goodToken); r.StatusCode != 200 {
			t.Errorf("%s: %d", scheme, r.StatusCode)
		}
	}
}

// TestFailedCredentialsLimited: after the limit of wrong credentials, a
// client address gets 429 with Retry-After, even for a good one, until
// its window ends.
func TestFailedCredentialsLimited(t *testing.T) {
	now := privNow
	base, _ := privateServer(t, func(c *Config) {
		c.FailedCredentials = 3
		c.Clock = func() time.Time { return now }
	})
	file := base + "/@corp/widgets/1.0.0/pusher.js"
	for i := range 3 {
		if r, _ := do(t, "GET", file, "Authorization", "Bearer cdns_guess"); r.StatusCode != 403 {
			t.Fatalf("guess %d: %d", i, r.StatusCode)
		}
	}
	for _, auth := range []string{"Bearer cdns_guess", "Bearer " + goodToken} {
		r, body := do(t, "GET", file, "Authorization", auth)
		if r.StatusCode != 429 || r.Header.Get("Retry-After") != "60" || r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("after 3 guesses (%s): %d Retry-After %q %q %s", auth[:10], r.StatusCode, r.Header.Get("Retry-After"), r.Header.Get("Cache-Control"), body)
		}
	}
	if r, _ := do(t, "GET", base+"/pusher/2.2.4/pusher.js"); r.StatusCode == 429 {
		t.Error("a public library is limited too")
	}
	now = now.Add(61 * time.Second)
	if r, _ := do(t, "GET", file, "Authorization", "Bearer "+goodToken); r.StatusCode != 200 {
		t.Errorf("after the window: %d", r.StatusCode)
	}
}

// TestAccessFilesReload: a token added to the tokens file works without
// a restart, once the file changes; a broken file keeps the old tokens.
func TestAccessFilesReload(t *testing.T) {
	f := newFixture(t, "2.2.3")
	f.publishSeedIn(t, "@corp/widgets", "1.0.0")
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	line := func(tok string) string {
		return `{"sha256":"` + access.HashToken(tok) + `","libraries":["@corp/*"]}` + "\n"
	}
	os.WriteFile(tokens, []byte(line(goodToken)), 0o600)
	var logs bytes.Buffer
	s, ts := f.server(t, func(c *Config) {
		c.AccessFiles = &access.Files{Private: []string{"@corp/*"}, TokensFile: tokens}
		c.Refresh = 20 * time.Millisecond
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	file := ts.URL + "/@corp/widgets/1.0.0/pusher.js"
	status := func(tok string) int { r, _ := do(t, "GET", file, "Authorization", "Bearer "+tok); return r.StatusCode }
	if status("cdns_new-token") != 403 || status(goodToken) != 200 {
		t.Fatal("before the change")
	}
	os.WriteFile(tokens, []byte(line(goodToken)+line("cdns_new-token")), 0o600)
	waitFor(t, func() bool { return status("cdns_new-token") == 200 })
	os.WriteFile(tokens, []byte("{broken\n"), 0o600)
	waitFor(t, func() bool { return strings.Contains(logs.String(), "reloading tokens and keys failed") })
	if status("cdns_new-token") != 200 {
		t.Error("a broken tokens file dropped the tokens in force")
	}
	if strings.Contains(logs.String(), "cdns_new-token") {
		t.Error("a token is in the log")
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met in 5 s")
}

// TestPrivacyRecordedInStorage: privacy is the library's record in
// storage, so two replicas, one started with no access flags at all,
// answer alike: 401, never a public cacheable response; the one with
// tokens opens it privately, the one without says it has none.
func TestPrivacyRecordedInStorage(t *testing.T) {
	f := newFixture(t, "2.2.3")
	f.publishSeedIn(t, "@corp/widgets", "1.0.0")
	lib, _ := f.tree.Library("@corp/widgets")
	if err := lib.SetPrivate(context.Background(), true, false); err != nil {
		t.Fatal(err)
	}
	withTokens := privatePolicy()
	withTokens.Private = nil // no pattern: only the record makes it private
	sA, tsA := f.server(t, func(c *Config) { c.Access = withTokens; c.Clock = func() time.Time { return privNow } })
	var logs bytes.Buffer
	sB, tsB := f.server(t, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	if !strings.Contains(logs.String(), "private libraries found, and no tokens") || strings.Contains(logs.String(), "widgets") {
		t.Errorf("replica B's start log:\n%s", logs.String())
	}
	paths := []string{"/@corp/widgets/1.0.0/pusher.js", "/@corp/widgets/1.0/pusher.js", "/@corp/widgets@1/pusher.js", "/@corp/widgets/", "/@corp/widgets/-/versions", "/-/versions/@corp/widgets", "/-/meta/@corp/widgets/1.0.0", "/-/stats/@corp/widgets"}
	for _, ts := range []string{tsA.URL, tsB.URL} {
		for _, p := range paths {
			r, body := do(t, "GET", ts+p)
			if r.StatusCode != 401 || r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Surrogate-Key") != "" {
				t.Errorf("%s%s: %d %q %s", ts, p, r.StatusCode, r.Header.Get("Cache-Control"), body)
			}
		}
		for _, p := range []string{"/", "/-/libraries"} {
			if _, body := do(t, "GET", ts+p); bytes.Contains(body, []byte("widgets")) {
				t.Errorf("%s%s lists the private library", ts, p)
			}
		}
	}
	if _, body := do(t, "GET", tsB.URL+paths[0]); !strings.Contains(string(body), "no tokens or URL-signing keys") {
		t.Errorf("replica B does not say why: %s", body)
	}
	r, _ := do(t, "GET", tsA.URL+paths[0], "Authorization", "Bearer "+goodToken)
	if r.StatusCode != 200 || r.Header.Get("Cache-Control") != "private, max-age=31536000, immutable" {
		t.Errorf("with a token: %d %q", r.StatusCode, r.Header.Get("Cache-Control"))
	}
	if err := lib.SetPrivate(context.Background(), false, false); err != nil {
		t.Fatal(err)
	}
	sA.Refresh()
	sB.Refresh()
	for _, ts := range []string{tsA.URL, tsB.URL} {
		if r, _ := do(t, "GET", ts+paths[0]); r.StatusCode != 200 || r.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("made public again: %d %q", r.StatusCode, r.Header.Get("Cache-Control"))
		}
	}
}

// TestFailedCredentialsBehindProxy: from a trusted proxy, the client is
// the last untrusted address of X-Forwarded-For, so one guesser behind
// an edge does not lock every client out, and a forged entry on the
// left does not let it escape its own count. Without trusted proxies
// the header is ignored.
func TestFailedCredentialsBehindProxy(t *testing.T) {
	file := "/@corp/widgets/1.0.0/pusher.js"
	guess := func(base, xff string) int {
		r, _ := do(t, "GET", base+file, "Authorization", "Bearer cdns_guess", "X-Forwarded-For", xff)
		return r.StatusCode
	}
	good := func(base, xff string) int {
		r, _ := do(t, "GET", base+file, "Authorization", "Bearer "+goodToken, "X-Forwarded-For", xff)
		return r.StatusCode
	}
	base, _ := privateServer(t, func(c *Config) {
		c.FailedCredentials = 3
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
	for i := range 3 {
		// The guesser forges a new left-most entry each time; the edge
		// appends the address it really came from.
		if code := guess(base, fmt.Sprintf("10.9.9.%d, 198.51.100.7, 127.0.0.2", i)); code != 403 {
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	if code := guess(base, "10.9.9.99, 198.51.100.7"); code != 429 {
		t.Errorf("the guesser, after 3: %d", code)
	}
	if code := good(base, "203.0.113.5"); code != 200 {
		t.Errorf("another client behind the same edge: %d", code)
	}
	untrusted, _ := privateServer(t, func(c *Config) { c.FailedCredentials = 3 })
	for i := range 3 {
		guess(untrusted, fmt.Sprintf("198.51.100.%d", i))
	}
	if code := good(untrusted, "203.0.113.5"); code != 429 {
		t.Errorf("X-Forwarded-For from an untrusted peer was believed: %d", code)
	}
}
