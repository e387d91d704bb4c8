// Package access decides who may read a private library: bearer tokens,
// kept as SHA-256 hashes in a tokens file, and signed URLs, HMAC-SHA256
// over the path and an expiry with keys from a keys file. Every
// comparison of a secret is constant-time, and no secret appears in an
// error.
package access

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"
)

// RootPattern names the root library in a --private pattern.
const RootPattern = "-"

// Decision is what a credential allows for one library.
type Decision int

const (
	// NoCredential: the request carries none; answer 401.
	NoCredential Decision = iota
	// Denied: a credential that is wrong, expired, or for other
	// libraries; answer 403.
	Denied
	// Allowed: serve it, privately.
	Allowed
	// Limited: the client sent too many wrong credentials (Limiter);
	// answer 429 with Retry-After, without looking at this one.
	Limited
)

// Policy says which libraries are private and which credentials open
// them. The zero Policy makes nothing private.
type Policy struct {
	// Private are the library patterns (path.Match globs, "-" for the
	// root library) that need a credential.
	Private []string
	// Tokens are the accepted bearer tokens' hashes.
	Tokens []Token
	// Keys are the URL-signing keys, by key id.
	Keys map[string][]byte
	// Clock is the time (default time.Now).
	Clock func() time.Time
}

// Token is one entry of a tokens file: a token's SHA-256, the library
// patterns it opens, and when it stops working.
type Token struct {
	SHA256    string    `json:"sha256"`
	Libraries []string  `json:"libraries"`
	Expires   time.Time `json:"expires,omitzero"`
	Created   time.Time `json:"created,omitzero"`
	Note      string    `json:"note,omitempty"`
}

func (p *Policy) now() time.Time {
	if p.Clock != nil {
		return p.Clock()
	}
	return time.Now()
}

// IsPrivate reports whether a library ("" for the root) is private.
func (p *Policy) IsPrivate(library string) bool {
	return p != nil && matchAny(p.Private, library)
}

// matchAny matches a library against patterns; "-" is the root library.
func matchAny(patterns []string, library string) bool {
	name := library
	if name == "" {
		name = RootPattern
	}
	for _, pat := range patterns {
		if ok, _ := path.Match(pat, name); ok {
			return true
		}
	}
	return false
}

// CheckPatterns checks library patterns, naming a bad one.
func CheckPatterns(flag string, patterns []string) error {
	for _, pat := range patterns {
		if _, err := path.Match(pat, ""); err != nil || pat == "" {
			return fmt.Errorf("%s %q: not a library name or a glob such as '@corp/*' ('-' for the root library)", flag, pat)
		}
	}
	return nil
}

// Bearer decides a bearer token for a library. The token's hash is
// compared with every entry in constant time.
func (p *Policy) Bearer(token, library string) (Decision, time.Time) {
	if token == "" {
		return NoCredential, time.Time{}
	}
	return p.decide(p.entry(token), library)
}

// Opens returns whether a bearer token opens each library, finding its
// entry once: for a listing that asks about many libraries.
func (p *Policy) Opens(token string) func(library string) bool {
	match := p.entry(token)
	return func(library string) bool {
		d, _ := p.decide(match, library)
		return token != "" && d == Allowed
	}
}

// entry finds a token's entry by its hash, comparing with every entry in
// constant time; nil when none matches.
func (p *Policy) entry(token string) *Token {
	want := HashToken(token)
	var match *Token
	for i := range p.Tokens {
		if subtle.ConstantTimeCompare([]byte(p.Tokens[i].SHA256), []byte(want)) == 1 {
			match = &p.Tokens[i]
		}
	}
	return match
}

// decide checks a token's entry (nil: unknown) for a library.
func (p *Policy) decide(match *Token, library string) (Decision, time.Time) {
	switch {
	case match == nil:
		return Denied, time.Time{}
	case !match.Expires.IsZero() && !p.now().Before(match.Expires):
		return Denied, time.Time{}
	case !matchAny(match.Libraries, library):
		return Denied, time.Time{}
	}
	return Allowed, match.Expires
}

// Signature is a signed URL's query: exp, kid and sig.
type Signature struct {
	Expires int64
	KeyID   string
	Sig     []byte
}

// ErrNoSignature is a query without sig.
var ErrNoSignature = errors.New("no signature")

// ParseSignature reads exp, kid and sig from a query. A query without
// sig has no signature; one with sig but a bad exp or kid, or a sig that
// is not base64url, is malformed (an error, never a panic).
func ParseSignature(rawQuery string) (Signature, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return Signature{}, errors.New("malformed query")
	}
	if len(q["sig"]) == 0 {
		return Signature{}, ErrNoSignature
	}
	if len(q["sig"]) != 1 || len(q["exp"]) != 1 || len(q["kid"]) != 1 {
		return Signature{}, errors.New("a signed URL has exactly one exp, kid and sig")
	}
	exp, err := strconv.ParseInt(q.Get("exp"), 10, 64)
	if err != nil || exp <= 0 {
		return Signature{}, errors.New("exp is not a unix time")
	}
	sig, err := base64.RawURLEncoding.DecodeString(q.Get("sig"))
	if err != nil || len(sig) != sha256.Size {
		return Signature{}, errors.New("sig is not a base64url HMAC-SHA256")
	}
	kid := q.Get("kid")
	if kid == "" || len(kid) > 64 {
		return Signature{}, errors.New("kid is empty or too long")
	}
	return Signature{Expires: exp, KeyID: kid, Sig: sig}, nil
}

// mac is the signature of a path until exp with a key.
func mac(key []byte, urlPath string, exp int64) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(urlPath))
	m.Write([]byte{'\n'})
	m.Write([]byte(strconv.FormatInt(exp, 10)))
	return m.Sum(nil)
}

// Signed decides a signed URL for a path: a known key, a signature that
// matches (constant time), and an expiry in the future. It returns the
// expiry.
func (p *Policy) Signed(urlPath string, s Signature) (Decision, time.Time) {
	key, ok := p.Keys[s.KeyID]
	exp := time.Unix(s.Expires, 0)
	if !ok || !hmac.Equal(mac(key, urlPath, s.Expires), s.Sig) || !p.now().Before(exp) {
		return Denied, time.Time{}
	}
	return Allowed, exp
}

// Sign returns the query that signs a path until exp with one key:
// "exp=…&kid=…&sig=…".
func Sign(key []byte, kid, urlPath string, exp time.Time) string {
	return "exp=" + strconv.FormatInt(exp.Unix(), 10) + "&kid=" + url.QueryEscape(kid) + "&sig=" + base64.RawURLEncoding.EncodeToString(mac(key, urlPath, exp.Unix()))
}

// NewToken makes a token: "cdns_" and 32 random bytes, base64url.
func NewToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return "cdns_" + base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is a token's SHA-256, as the tokens file keeps it.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// LoadTokens reads a tokens file: one JSON object a line (Token), blank
// lines and lines starting with # ignored. Errors name the file and line.
func LoadTokens(file string) ([]Token, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var out []Token
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		var t Token
		if err := json.Unmarshal([]byte(line), &t); err != nil {
			return nil, fmt.Errorf("%s:%d: not a token entry: %v", file, n, err)
		}
		if len(t.SHA256) != 64 {
			return nil, fmt.Errorf("%s:%d: sha256 must be 64 hex digits (the file keeps hashes, never tokens)", file, n)
		}
		if len(t.Libraries) == 0 {
			return nil, fmt.Errorf("%s:%d: libraries is empty: name the libraries the token opens", file, n)
		}
		if err := CheckPatterns("libraries", t.Libraries); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, n, err)
		}
		out = append(out, t)
	}
	return out, sc.Err()
}

// LoadKeys reads a URL-signing keys file: one "KID SECRET" a line, the
// secret base64 (std or url, at least 32 bytes); # starts a comment.
// The last key is the one to sign with (Newest): put a new key last, keep
// the old one until the URLs it signed expire, then remove it.
func LoadKeys(file string) (map[string][]byte, string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, "", err
	}
	keys := map[string][]byte{}
	newest := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		kid, secret, ok := strings.Cut(line, " ")
		secret = strings.TrimSpace(secret)
		key, err := base64.StdEncoding.DecodeString(secret)
		if err != nil {
			key, err = base64.RawURLEncoding.DecodeString(secret)
		}
		switch {
		case !ok || kid == "":
			return nil, "", fmt.Errorf("%s:%d: expected KID SECRET", file, n)
		case err != nil || len(key) < 32:
			return nil, "", fmt.Errorf("%s:%d: key %s: the secret must be base64 of at least 32 bytes (openssl rand -base64 32)", file, n, kid)
		}
		keys[kid], newest = key, kid
	}
	if len(keys) == 0 {
		return nil, "", fmt.Errorf("%s: no key", file)
	}
	return keys, newest, sc.Err()
}
