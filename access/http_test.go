package access

import (
	"net/http/httptest"
	"testing"
	"time"
)

func TestPrivateCacheControl(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		cc    string
		until time.Duration
		want  string
	}{
		{"immutable, no expiry", "public, max-age=31536000, immutable", 0, "private, max-age=31536000, immutable"},
		{"capped by a signed URL", "public, max-age=31536000, immutable", time.Hour, "private, max-age=3600"},
		{"shorter than the URL", "public, max-age=300, stale-while-revalidate=60", time.Hour, "private, max-age=300"},
		{"an expired URL", "public, max-age=60", -time.Minute, "private, max-age=0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var until time.Time
			if tc.until != 0 {
				until = now.Add(tc.until)
			}
			if got := PrivateCacheControl(tc.cc, until, now); got != tc.want {
				t.Errorf("%q until %v: %q, want %q", tc.cc, tc.until, got, tc.want)
			}
		})
	}
}

// TestCredential: a signed URL, a bearer token, or nothing, as a request
// carries them.
func TestCredential(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	token := "cdns_test-token-0123456789"
	p := &Policy{Private: []string{"@corp/*"}, Clock: func() time.Time { return now },
		Tokens: []Token{{SHA256: HashToken(token), Libraries: []string{"@corp/*"}}},
		Keys:   map[string][]byte{"k1": []byte("secret-key")}}
	signed := "/@corp/ui/1.0.0/ui.js?" + Sign([]byte("secret-key"), "k1", "/@corp/ui/1.0.0/ui.js", now.Add(time.Hour))
	for _, tc := range []struct {
		name, target, auth string
		want               Decision
	}{
		{"no credential", "/@corp/ui/1.0.0/ui.js", "", NoCredential},
		{"a bearer token", "/@corp/ui/1.0.0/ui.js", "Bearer " + token, Allowed},
		{"a wrong token", "/@corp/ui/1.0.0/ui.js", "Bearer cdns_wrong-token-000000000", Denied},
		{"a lower-case scheme (RFC 9110 §11.1)", "/@corp/ui/1.0.0/ui.js", "bearer " + token, Allowed},
		{"an upper-case scheme", "/@corp/ui/1.0.0/ui.js", "BEARER  " + token, Allowed},
		{"another scheme", "/@corp/ui/1.0.0/ui.js", "Basic dXNlcjpwdw==", Denied},
		{"a scheme alone", "/@corp/ui/1.0.0/ui.js", "Bearer", Denied},
		{"a signed URL", signed, "", Allowed},
		{"a signed URL for another path", "/@corp/ui/1.0.0/other.js?" + signed[len("/@corp/ui/1.0.0/ui.js?"):], "", Denied},
		{"a broken signature", "/@corp/ui/1.0.0/ui.js?exp=1&kid=k1&sig=%%", "", Denied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tc.target, nil)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			if g := p.Credential(r, "@corp/ui", ""); g.Decision != tc.want {
				t.Errorf("Credential = %v, want %v", g.Decision, tc.want)
			}
		})
	}
}
