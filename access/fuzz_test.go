package access

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzSignedURL feeds any query and Authorization header to the
// signed-URL parser and to Credential: they never panic, and nothing
// but a signature made with a known key over the path, or a known
// token, is ever Allowed.
func FuzzSignedURL(f *testing.F) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	key := []byte("0123456789abcdef0123456789abcdef")
	good := Sign(key, "k1", "/@corp/ui/1.0.0/ui.js", now.Add(time.Hour))
	for _, q := range []string{
		good, "", "sig=", "exp=1&kid=k1&sig=AAAA", "exp=-1&kid=k1&sig=" + strings.Repeat("A", 43),
		"exp=99999999999999999999&kid=k1&sig=x", "sig=a&sig=b&exp=1&kid=k", "%zz", "exp=1;kid=k1;sig=x",
		good + "&lib=@corp/other", strings.Replace(good, "kid=k1", "kid=", 1), "kid=" + strings.Repeat("k", 100),
	} {
		f.Add(q, "")
		f.Add(q, "Bearer cdns_token")
	}
	f.Add("", "bearer   cdns_token ")
	f.Add("", "Bearer")
	f.Add("", "BEARER\tx")
	p := &Policy{Private: []string{"@corp/*"}, Clock: func() time.Time { return now },
		Tokens: []Token{{SHA256: HashToken("cdns_token"), Libraries: []string{"@corp/*"}}},
		Keys:   map[string][]byte{"k1": key}}
	f.Fuzz(func(t *testing.T, query, auth string) {
		sig, err := ParseSignature(query)
		if err == nil && (sig.KeyID == "" || len(sig.KeyID) > 64 || sig.Expires <= 0 || len(sig.Sig) != 32) {
			t.Fatalf("accepted a malformed signature %+v from %q", sig, query)
		}
		r := httptest.NewRequest("GET", "/@corp/ui/1.0.0/ui.js", nil)
		r.URL.RawQuery = query
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		if err != ErrNoSignature && p.BearerOnly(r, "@corp/ui").Decision == Allowed {
			t.Fatalf("BearerOnly allowed a request carrying a signature: %q", query)
		}
		g := p.Credential(r, "@corp/ui", "")
		if g.Decision != Allowed {
			return
		}
		if err == nil {
			if d, _ := p.Signed("/@corp/ui/1.0.0/ui.js", sig); d != Allowed {
				t.Fatalf("allowed a signature that does not verify: %q", query)
			}
			return
		}
		if tok, ok := BearerToken(r); !ok || tok != "cdns_token" {
			t.Fatalf("allowed %q / %q without the token", query, auth)
		}
	})
}
