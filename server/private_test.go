package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/access"
	"github.com/cdnserve/cdnserve/internal/browsertest"
	"github.com/chromedp/chromedp"
)

var (
	privNow   = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	goodToken = "cdns_good-token-for-corp"
	keyOld    = []byte("0123456789abcdef0123456789abcdef-old")
	keyNew    = []byte("0123456789abcdef0123456789abcdef-new")
)

// privatePolicy makes @corp/* and internal private, with three tokens
// (good for @corp/*, expired, and one for internal only) and two keys.
func privatePolicy() *access.Policy {
	return &access.Policy{
		Private: []string{"@corp/*", "internal"},
		Tokens: []access.Token{
			{SHA256: access.HashToken(goodToken), Libraries: []string{"@corp/*"}},
			{SHA256: access.HashToken("cdns_expired"), Libraries: []string{"@corp/*"}, Expires: privNow.Add(-time.Hour)},
			{SHA256: access.HashToken("cdns_internal-only"), Libraries: []string{"internal"}},
		},
		Keys:  map[string][]byte{"k1": keyOld, "k2": keyNew},
		Clock: func() time.Time { return privNow },
	}
}

// privateServer serves public pusher 2.2.4 and private @corp/widgets
// 1.0.0, with an access log into logs.
func privateServer(t *testing.T, mod func(*Config)) (string, *bytes.Buffer) {
	f := newFixture(t, "2.2.3")
	f.publishSeedIn(t, "pusher", "2.2.4")
	f.publishSeedIn(t, "@corp/widgets", "1.0.0")
	var logs bytes.Buffer
	_, ts := f.server(t, func(c *Config) {
		c.Access = privatePolicy()
		c.Clock = func() time.Time { return privNow }
		c.FailedCredentials = 1 << 20 // these tests send many wrong ones on purpose
		c.AccessLog = true
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
		if mod != nil {
			mod(c)
		}
	})
	return ts.URL, &logs
}

func signed(p string, kid string, key []byte, exp time.Time) string {
	return p + "?" + access.Sign(key, kid, p, exp)
}

// TestPrivateRoutes: every route of a private library, with no
// credential (401), a good token or signed URL (private answers), an
// expired one, one for other libraries and a tampered signature (403).
func TestPrivateRoutes(t *testing.T) {
	base, logs := privateServer(t, nil)
	routes := []struct{ path, ok string }{
		{"/@corp/widgets/1.0.0/pusher.js", "200"},
		{"/@corp/widgets/1.0/pusher.js", "200"},
		{"/@corp/widgets/^1/pusher.js", "302"},
		{"/@corp/widgets@1/pusher.js", "302"},
		{"/@corp/widgets/", "200"},
		{"/@corp/widgets/1.0.0/", "200"},
		{"/-/meta/@corp/widgets/1.0.0", "200"},
		{"/-/versions/@corp/widgets", "200"},
		{"/@corp/widgets/-/meta/1.0.0", "200"},
		{"/-/snippet?library=@corp/widgets&version=1.0.0", "200"},
		{"/@corp/nosuch/1.0.0/x.js", "404"}, // exists or not: the same 401 without a credential
	}
	for _, rt := range routes {
		p, _, _ := strings.Cut(rt.path, "?")
		for _, cred := range []struct {
			name, url, auth, want string
		}{
			{"none", rt.path, "", "401"},
			{"token", rt.path, "Bearer " + goodToken, rt.ok},
			{"expired token", rt.path, "Bearer cdns_expired", "403"},
			{"wrong scope", rt.path, "Bearer cdns_internal-only", "403"},
			{"unknown token", rt.path, "Bearer cdns_nope", "403"},
			{"basic auth", rt.path, "Basic dXNlcjpwdw==", "403"},
			{"signed", signed(p, "k2", keyNew, privNow.Add(time.Hour)), "", rt.ok},
			{"signed, old key", signed(p, "k1", keyOld, privNow.Add(time.Hour)), "", rt.ok},
			{"signed, expired", signed(p, "k2", keyNew, privNow.Add(-time.Second)), "", "403"},
			{"signed, other path", p + "?" + access.Sign(keyNew, "k2", "/@corp/widgets/1.0.0/other.js", privNow.Add(time.Hour)), "", "403"},
			{"signed, tampered", strings.Replace(signed(p, "k2", keyNew, privNow.Add(time.Hour)), "exp=", "exp=1", 1), "", "403"},
			{"signed, unknown key", signed(p, "k9", keyNew, privNow.Add(time.Hour)), "", "403"},
			{"signed, garbage", p + "?exp=1&kid=k1&sig=%%%", "", "403"},
		} {
			if strings.Contains(rt.path, "?") && strings.HasPrefix(cred.name, "signed") {
				continue // a query of its own: signed URLs are for paths
			}
			var headers []string
			if cred.auth != "" {
				headers = []string{"Authorization", cred.auth}
			}
			resp, body := do(t, "GET", base+cred.url, headers...)
			if got := strconv.Itoa(resp.StatusCode); got != cred.want {
				t.Errorf("%s with %s: %s, want %s: %.120s", rt.path, cred.name, got, cred.want, body)
				continue
			}
			cc := resp.Header.Get("Cache-Control")
			switch {
			case cred.want == "401" && resp.Header.Get("Www-Authenticate") != `Bearer realm="cdnserve"`:
				t.Errorf("%s 401 without WWW-Authenticate", rt.path)
			case (cred.want == "401" || cred.want == "403") && cc != "no-store":
				t.Errorf("%s %s: Cache-Control %q", rt.path, cred.want, cc)
			case cred.want[0] == '2' || cred.want[0] == '3':
				if !strings.HasPrefix(cc, "private, max-age=") || resp.Header.Get("Surrogate-Key") != "" || resp.Header.Get("Cache-Tag") != "" {
					t.Errorf("%s with %s: Cache-Control %q, tags %q", rt.path, cred.name, cc, resp.Header.Get("Surrogate-Key"))
				}
				if strings.HasPrefix(cred.name, "signed") {
					if age, _ := strconv.Atoi(strings.TrimPrefix(strings.Split(cc, ",")[1], " max-age=")); age > 3600 || strings.Contains(cc, "immutable") {
						t.Errorf("%s signed: Cache-Control %q outlives the URL", rt.path, cc)
					}
				}
			}
		}
	}
	// A signed redirect leads to a signed target, which works.
	resp, _ := do(t, "GET", base+signed("/@corp/widgets/^1/pusher.js", "k2", keyNew, privNow.Add(time.Hour)))
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Path != "/@corp/widgets/1.0.0/pusher.js" || loc.Query().Get("kid") != "k2" {
		t.Fatalf("Location %q", resp.Header.Get("Location"))
	}
	if r, _ := do(t, "GET", base+loc.String()); r.StatusCode != 200 {
		t.Errorf("following the signed redirect: %d", r.StatusCode)
	}
	// Public libraries are as before: public, with tags.
	if r, _ := do(t, "GET", base+"/pusher/2.2.4/pusher.js"); r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Cache-Control"), "public") || r.Header.Get("Surrogate-Key") == "" {
		t.Errorf("a public library: %d %v", r.StatusCode, r.Header)
	}
	// No token or signature reaches the access log.
	if strings.Contains(logs.String(), goodToken) || strings.Contains(logs.String(), "sig=") || strings.Contains(logs.String(), "cdns_") {
		t.Errorf("the access log holds a credential:\n%.2000s", logs.String())
	}
	// Nor does a private library's name: its requests are logged without
	// their path.
	if strings.Contains(logs.String(), "@corp/widgets") || !strings.Contains(logs.String(), `"path":"`+hiddenPath+`"`) {
		t.Errorf("the access log names the private library, or has no line for it:\n%.2000s", logs.String())
	}
}

// TestPrivateLibrariesAreNotListed: /, /-/libraries and a version of
// the index name private libraries only for a credential that opens them.
func TestPrivateLibrariesAreNotListed(t *testing.T) {
	base, _ := privateServer(t, nil)
	for _, p := range []string{"/", "/-/libraries"} {
		_, body := do(t, "GET", base+p)
		if strings.Contains(string(body), "@corp/widgets") || !strings.Contains(string(body), "pusher") {
			t.Errorf("%s without a credential lists the private library", p)
		}
		resp, body := do(t, "GET", base+p, "Authorization", "Bearer "+goodToken)
		if !strings.Contains(string(body), "@corp/widgets") || strings.HasPrefix(resp.Header.Get("Cache-Control"), "public") {
			t.Errorf("%s with a credential: %q, lists it: %v", p, resp.Header.Get("Cache-Control"), strings.Contains(string(body), "@corp/widgets"))
		}
		// and the listing without a credential is not one cached from it
		if _, body := do(t, "GET", base+p); strings.Contains(string(body), "@corp/widgets") {
			t.Errorf("%s: a listing made for a credential was served without one", p)
		}
		// A signed URL opens its own path, never a listing.
		if _, body := do(t, "GET", base+signed(p, "k2", keyNew, privNow.Add(time.Hour))); strings.Contains(string(body), "@corp/widgets") {
			t.Errorf("%s with a signed URL lists the private library", p)
		}
	}
	if resp, body := do(t, "GET", base+"/-/importmap?lib=@corp/widgets@1"); resp.StatusCode != 401 {
		t.Errorf("an import map of a private library without a credential: %d %s", resp.StatusCode, body)
	}
}

// TestPrivateCORS: a signed URL works from any origin, even with
// --cors-origins; a bearer request follows --cors-origins, and its
// preflight for Authorization is answered.
func TestPrivateCORS(t *testing.T) {
	base, _ := privateServer(t, func(c *Config) { c.CORSOrigins = []string{"https://app.example"} })
	p := "/@corp/widgets/1.0.0/pusher.js"
	resp, _ := do(t, "GET", base+signed(p, "k2", keyNew, privNow.Add(time.Hour)), "Origin", "https://elsewhere.example")
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("signed URL from another origin: %d %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	resp, _ = do(t, "GET", base+p, "Origin", "https://app.example", "Authorization", "Bearer "+goodToken)
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Errorf("bearer from an allowed origin: %d %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	resp, _ = do(t, "GET", base+p, "Origin", "https://elsewhere.example", "Authorization", "Bearer "+goodToken)
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("bearer from another origin: ACAO %q", resp.Header.Get("Access-Control-Allow-Origin"))
	}
	resp, _ = do(t, "OPTIONS", base+p, "Origin", "https://app.example", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Headers") != "authorization" || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}

// TestKeyRotation: a URL signed with the old key works while the key is
// in the file, and stops when it is removed; the new key keeps working.
func TestKeyRotation(t *testing.T) {
	f := newFixture(t, "2.2.3")
	f.publishSeedIn(t, "@corp/widgets", "1.0.0")
	p := "/@corp/widgets/1.0.0/pusher.js"
	oldURL, newURL := signed(p, "k1", keyOld, privNow.Add(time.Hour)), signed(p, "k2", keyNew, privNow.Add(time.Hour))
	for _, tc := range []struct {
		keys         map[string][]byte
		oldOK, newOK bool
	}{
		{map[string][]byte{"k1": keyOld}, true, false},
		{map[string][]byte{"k1": keyOld, "k2": keyNew}, true, true},
		{map[string][]byte{"k2": keyNew}, false, true},
	} {
		policy := privatePolicy()
		policy.Keys = tc.keys
		_, ts := f.server(t, func(c *Config) { c.Access = policy; c.Clock = func() time.Time { return privNow } })
		for _, u := range []struct {
			url string
			ok  bool
		}{{oldURL, tc.oldOK}, {newURL, tc.newOK}} {
			if r, _ := do(t, "GET", ts.URL+u.url); (r.StatusCode == 200) != u.ok {
				t.Errorf("keys %v: %s answered %d", len(tc.keys), u.url[strings.Index(u.url, "kid="):][:6], r.StatusCode)
			}
		}
	}
}

// TestBrowserSignedURL: a page on another origin loads a private script
// through a signed URL in a <script src>, which cannot send headers; the
// same script without the signature fails.
func TestBrowserSignedURL(t *testing.T) {
	now := time.Now()
	f := newFixture(t, "2.2.3")
	f.publishSeedIn(t, "@corp/widgets", "1.0.0")
	policy := privatePolicy()
	policy.Clock = time.Now
	_, cdn := f.server(t, func(c *Config) { c.Access = policy })
	p := browsertest.NewPage(t)
	for _, tc := range []struct {
		src, want string
	}{
		{cdn.URL + signed("/@corp/widgets/1.0.0/pusher.min.js", "k2", keyNew, now.Add(time.Hour)), "loaded function"},
		{cdn.URL + "/@corp/widgets/1.0.0/pusher.min.js", "failed undefined"},
	} {
		t.Run(tc.src, func(t *testing.T) {
			p.Run(t, chromedp.Navigate(browsertest.OtherOrigin(t, `<!doctype html><title>private</title>
	<script>window.result = new Promise(function (resolve) {
	  var s = document.createElement("script");
	  s.src = "`+tc.src+`";
	  s.onload = function () { resolve("loaded " + typeof window.Pusher); };
	  s.onerror = function () { resolve("failed " + typeof window.Pusher); };
	  document.head.appendChild(s);
	});</script>`)))
			if got := p.Eval(t, `window.result`); got != tc.want {
				t.Errorf("%s: %q, want %q\n%s", tc.src, got, tc.want, p.Log())
			}
		})
	}
	// /-/loader.js takes a function that signs each URL it fetches: here
	// a map of URLs signed ahead of time, as a page's backend would.
	signedURLs := map[string]string{}
	for _, path := range []string{"/-/meta/@corp/widgets/1.0.0", "/@corp/widgets/1.0.0/sockjs.min.js"} {
		signedURLs[cdn.URL+path] = cdn.URL + signed(path, "k2", keyNew, now.Add(time.Hour))
	}
	table, _ := json.Marshal(signedURLs)
	p.Run(t, chromedp.Navigate(browsertest.OtherOrigin(t, `<!doctype html><title>signed loader</title>
<script src="`+cdn.URL+`/-/loader.js"></script>
<script>var signedURLs = `+string(table)+`;</script>`)))
	for _, tc := range []struct{ sign, want string }{
		{`function (u) { return signedURLs[u] || u; }`, "ok function"},
		// unsigned: the manifest is the one the page already holds; the script is refused
		{`function (u) { return u; }`, "cdnserve: " + cdn.URL + "/@corp/widgets/1.0.0/sockjs.min.js failed to load or failed its integrity check"},
	} {
		t.Run(tc.sign, func(t *testing.T) {
			got := p.Eval(t, `new Promise(function (resolve) {
	  delete window.SockJS;
	  new DependencyLoader({cdn_http: "`+cdn.URL+`/", library: "@corp/widgets", version: "1.0.0", suffix: ".min", sign: `+tc.sign+`})
	    .load("sockjs", {}, function (err) { resolve(err ? err.message : "ok " + typeof SockJS); });
	})`)
			if got != tc.want {
				t.Errorf("sign %s: %q, want %q\n%s", tc.sign, got, tc.want, p.Log())
			}
		})
	}
}

// TestPrivateRootLibrary: "-" makes the root library private, / shows
// only the public libraries without a credential.
func TestPrivateRootLibrary(t *testing.T) {
	f := newFixture(t, "2.2.3")
	f.publishSeedIn(t, "pusher", "2.2.4")
	policy := privatePolicy()
	policy.Private = []string{"-"}
	policy.Tokens = []access.Token{{SHA256: access.HashToken(goodToken), Libraries: []string{"-"}}}
	_, ts := f.server(t, func(c *Config) { c.Access = policy; c.Clock = func() time.Time { return privNow } })
	for _, tc := range []struct {
		path string
		auth bool
		want int
	}{
		{"/2.2.3/pusher.js", false, 401}, {"/2.2.3/pusher.js", true, 200}, {"/latest/pusher.js", false, 401},
		{"/-/versions", false, 401}, {"/-/meta/2.2.3", true, 200}, {"/pusher/2.2.4/pusher.js", false, 200},
	} {
		t.Run(tc.path, func(t *testing.T) {
			var h []string
			if tc.auth {
				h = []string{"Authorization", "Bearer " + goodToken}
			}
			if r, _ := do(t, "GET", ts.URL+tc.path, h...); r.StatusCode != tc.want {
				t.Errorf("%s (token %v): %d, want %d", tc.path, tc.auth, r.StatusCode, tc.want)
			}
		})
	}
	if _, body := do(t, "GET", ts.URL+"/"); strings.Contains(string(body), "2.2.3") || !strings.Contains(string(body), "pusher") {
		t.Errorf("/ shows the private root library's versions")
	}
}
