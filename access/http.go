package access

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Grant is what a request's credential allows for a private library.
type Grant struct {
	Decision Decision
	// Until caps how long the response may be kept: a signed URL's
	// expiry; zero for a bearer token.
	Until time.Time
	// Sig is the signed URL's signature, to sign a redirect's target.
	Sig *Signature
	// RetryAfter is how long a Limited client must wait.
	RetryAfter time.Duration
	// Why, if set, says why a Denied credential was refused, for the
	// client: a signed URL where only a bearer token opens (BearerOnly).
	Why string
}

// Credential decides a request's credential for a private library: a
// signed URL (exp, kid, sig in the query) over signedPath (the path the
// client asked for; "" is the request's own), or a bearer token. A
// signature that does not parse is a wrong credential.
func (p *Policy) Credential(r *http.Request, library, signedPath string) Grant {
	sig, err := ParseSignature(r.URL.RawQuery)
	switch {
	case err == nil:
		if signedPath == "" {
			signedPath = r.URL.Path
		}
		d, until := p.Signed(signedPath, sig)
		return Grant{Decision: d, Until: until, Sig: &sig}
	case err != ErrNoSignature:
		return Grant{Decision: Denied}
	}
	return p.bearer(r, library)
}

// BearerOnly decides a request's bearer token alone, for an answer that
// a signed URL does not select (/-/importmap and /-/snippet choose
// their libraries by query, which a signature does not cover): a
// request that carries a signature is Denied.
func (p *Policy) BearerOnly(r *http.Request, library string) Grant {
	if _, err := ParseSignature(r.URL.RawQuery); err != ErrNoSignature {
		return Grant{Decision: Denied, Why: "a signed URL does not open " + r.URL.Path + ": its query selects the libraries, which a signature does not cover; send a bearer token"}
	}
	return p.bearer(r, library)
}

// bearer decides the request's Authorization header alone.
func (p *Policy) bearer(r *http.Request, library string) Grant {
	token, ok := BearerToken(r)
	if !ok {
		if r.Header.Get("Authorization") != "" {
			return Grant{Decision: Denied}
		}
		return Grant{Decision: NoCredential}
	}
	d, _ := p.Bearer(token, library)
	return Grant{Decision: d}
}

// BearerToken is the token of a request's "Authorization: Bearer …"
// header. The scheme is case-insensitive (RFC 9110 §11.1), and one or
// more spaces may follow it (RFC 9110 §11.4).
func BearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// Visible returns whether a request may see each library in a listing
// (/, /-/libraries): a public one, or a private one its bearer token
// opens. The token is looked up once for the whole listing.
// isPrivate, if set, says which libraries are private in place of
// IsPrivate (the server adds the libraries' access records).
func (p *Policy) Visible(r *http.Request, isPrivate func(string) bool) func(library string) bool {
	if isPrivate == nil {
		isPrivate = p.IsPrivate
	}
	if p == nil {
		p = &Policy{}
	}
	token, _ := BearerToken(r)
	opens := p.Opens(token)
	return func(library string) bool { return !isPrivate(library) || opens(library) }
}

// PrivateWriter makes every response of a private library private: its
// Cache-Control says private (capped at a signed URL's expiry), it
// carries no cache tags, and a redirect's target is signed like the
// request was. It keeps io.ReaderFrom, so files still go out by
// sendfile.
type PrivateWriter struct {
	http.ResponseWriter
	Policy *Policy
	Grant  Grant
	fixed  bool
}

func (p *PrivateWriter) fix() {
	if p.fixed {
		return
	}
	p.fixed = true
	h := p.Header()
	delete(h, "Surrogate-Key")
	delete(h, "Cache-Tag")
	if cc := h.Get("Cache-Control"); cc != "" && cc != "no-store" {
		h["Cache-Control"] = []string{PrivateCacheControl(cc, p.Grant.Until, p.Policy.now())}
	}
	if loc := h.Get("Location"); loc != "" && p.Grant.Sig != nil {
		if u, err := url.Parse(loc); err == nil && u.Host == "" {
			u.RawQuery = Sign(p.Policy.Keys[p.Grant.Sig.KeyID], p.Grant.Sig.KeyID, u.Path, time.Unix(p.Grant.Sig.Expires, 0))
			h["Location"] = []string{u.String()}
		}
	}
}

// WriteHeader makes the headers private, then writes them.
func (p *PrivateWriter) WriteHeader(code int) {
	p.fix()
	p.ResponseWriter.WriteHeader(code)
}

// Write makes the headers private, then writes b.
func (p *PrivateWriter) Write(b []byte) (int, error) {
	p.fix()
	return p.ResponseWriter.Write(b)
}

// ReadFrom makes the headers private, then copies src (by sendfile where
// the writer below can).
func (p *PrivateWriter) ReadFrom(src io.Reader) (int64, error) {
	p.fix()
	if rf, ok := p.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(p.ResponseWriter, src)
}

// Unwrap is the writer below.
func (p *PrivateWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// PrivateCacheControl turns a public policy private: "private", the
// policy's max-age (at most until the signed URL expires), and
// "immutable" only when nothing caps it.
func PrivateCacheControl(cc string, until, now time.Time) string {
	maxAge, immutable := int64(0), false
	for _, d := range strings.Split(cc, ",") {
		d = strings.TrimSpace(d)
		if v, ok := strings.CutPrefix(d, "max-age="); ok {
			maxAge, _ = strconv.ParseInt(v, 10, 64)
		}
		immutable = immutable || d == "immutable"
	}
	if !until.IsZero() {
		if left := int64(until.Sub(now) / time.Second); left < maxAge {
			maxAge, immutable = max(left, 0), false
		}
	}
	out := "private, max-age=" + strconv.FormatInt(maxAge, 10)
	if immutable {
		out += ", immutable"
	}
	return out
}
