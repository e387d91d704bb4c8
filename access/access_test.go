package access

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func TestBearer(t *testing.T) {
	p := &Policy{Private: []string{"@corp/*", "-"}, Clock: func() time.Time { return now }, Tokens: []Token{
		{SHA256: HashToken("a"), Libraries: []string{"@corp/*"}},
		{SHA256: HashToken("b"), Libraries: []string{"-"}, Expires: now.Add(time.Minute)},
		{SHA256: HashToken("c"), Libraries: []string{"@corp/ui"}, Expires: now},
	}}
	for _, tc := range []struct {
		token, lib string
		want       Decision
	}{
		{"", "@corp/ui", NoCredential},
		{"a", "@corp/ui", Allowed},
		{"a", "@corp/x", Allowed},
		{"a", "", Denied},
		{"b", "", Allowed},
		{"c", "@corp/ui", Denied}, // expires now
		{"A", "@corp/ui", Denied},
		{strings.Repeat("a", 10000), "@corp/ui", Denied},
	} {
		t.Run(fmt.Sprintf("%.10s %s", tc.token, tc.lib), func(t *testing.T) {
			if got, _ := p.Bearer(tc.token, tc.lib); got != tc.want {
				t.Errorf("Bearer(%.10q, %q) = %d, want %d", tc.token, tc.lib, got, tc.want)
			}
		})
	}
	if !p.IsPrivate("") || !p.IsPrivate("@corp/ui") || p.IsPrivate("pusher") || (*Policy)(nil).IsPrivate("x") {
		t.Error("IsPrivate")
	}
}

func TestSignedURL(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	p := &Policy{Keys: map[string][]byte{"k1": key}, Clock: func() time.Time { return now }}
	q := Sign(key, "k1", "/a/1.0.0/x.js", now.Add(time.Hour))
	s, err := ParseSignature(q)
	if err != nil {
		t.Fatal(err)
	}
	if d, until := p.Signed("/a/1.0.0/x.js", s); d != Allowed || !until.Equal(now.Add(time.Hour)) {
		t.Errorf("good: %d %v", d, until)
	}
	if d, _ := p.Signed("/a/1.0.0/y.js", s); d != Denied {
		t.Error("another path")
	}
	late := &Policy{Keys: p.Keys, Clock: func() time.Time { return now.Add(2 * time.Hour) }}
	if d, _ := late.Signed("/a/1.0.0/x.js", s); d != Denied {
		t.Error("expired")
	}
	for _, bad := range []string{"exp=1&kid=k1", "sig=AAAA&exp=x&kid=k1", "sig=AAAA&exp=1&kid=k1", "sig=a&sig=b&exp=1&kid=k1", "%zz", "sig=" + strings.Repeat("A", 43) + "&exp=1&kid="} {
		if _, err := ParseSignature(bad); err == nil {
			t.Errorf("ParseSignature(%q) accepted", bad)
		}
	}
	if _, err := ParseSignature("v=1"); err != ErrNoSignature {
		t.Errorf("no signature: %v", err)
	}
}

// FuzzParseSignature: any query parses to an error or a signature, never
// a panic, and a parsed signature has a key id and a 32-byte MAC.
func FuzzParseSignature(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	f.Add(Sign(key, "k1", "/a/x.js", now))
	f.Add("exp=1&kid=k&sig=")
	f.Add("sig=%ff&exp=-1")
	f.Add("exp=99999999999999999999&kid=k&sig=AAAA")
	f.Fuzz(func(t *testing.T, q string) {
		s, err := ParseSignature(q)
		if err != nil {
			return
		}
		if s.KeyID == "" || len(s.Sig) != 32 || s.Expires <= 0 {
			t.Fatalf("ParseSignature(%q) = %+v", q, s)
		}
		p := &Policy{Keys: map[string][]byte{"k1": key}, Clock: func() time.Time { return now }}
		p.Signed("/a/x.js", s) // must not panic
	})
}

func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o600)
		return p
	}
	tokens := write("tokens", "# tokens\n"+`{"sha256":"`+HashToken("x")+`","libraries":["@corp/*"],"note":"ci"}`+"\n\n")
	if ts, err := LoadTokens(tokens); err != nil || len(ts) != 1 || ts[0].Note != "ci" {
		t.Errorf("LoadTokens: %v %v", ts, err)
	}
	for body, want := range map[string]string{
		`{"sha256":"abc","libraries":["x"]}`:                    ":1: sha256 must be 64 hex digits",
		`{"sha256":"` + HashToken("x") + `","libraries":[]}`:    ":1: libraries is empty",
		`{"sha256":"` + HashToken("x") + `","libraries":["["]}`: `:1: libraries "["`,
		"not json": ":1: not a token entry",
	} {
		if _, err := LoadTokens(write("bad", body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", body, err)
		}
	}
	keys := write("keys", "# keys\nk1 MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\nk2 MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWZY\n")
	if ks, newest, err := LoadKeys(keys); err != nil || len(ks) != 2 || newest != "k2" {
		t.Errorf("LoadKeys: %v %q %v", ks, newest, err)
	}
	for body, want := range map[string]string{"k1 c2hvcnQ=": "at least 32 bytes", "lonely": "expected KID SECRET", "": "no key"} {
		if _, _, err := LoadKeys(write("badkeys", body)); err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "c2hvcnQ") {
			t.Errorf("%q: %v", body, err)
		}
	}
}
