package server

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cdnserve/cdnserve/access"
)

// signedPathKey keys the path a request was made for, in its context,
// when the server routed it under another (/<name>/-/meta/…).
type signedPathKey struct{}

// hvBearerChallenge is the 401's challenge.
var hvBearerChallenge = []string{`Bearer realm="cdnserve"`}

// grant is what a request's credential allows for a private library.
type grant struct {
	decision access.Decision
	// until caps how long the response may be kept: a signed URL's
	// expiry; zero for a bearer token.
	until time.Time
	// sig is the signed URL's signature, to sign a redirect's target.
	sig *access.Signature
}

// credential decides a request's credential for a private library: a
// signed URL (exp, kid, sig in the query) over the request's path, or a
// bearer token. A signature that does not parse is a wrong credential.
func (s *Server) credential(r *http.Request, library string) grant {
	p := s.cfg.Access
	sig, err := access.ParseSignature(r.URL.RawQuery)
	switch {
	case err == nil:
		signedPath := r.URL.Path
		if orig, ok := r.Context().Value(signedPathKey{}).(string); ok {
			signedPath = orig
		}
		d, until := p.Signed(signedPath, sig)
		return grant{decision: d, until: until, sig: &sig}
	case err != access.ErrNoSignature:
		return grant{decision: access.Denied}
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		if r.Header.Get("Authorization") != "" {
			return grant{decision: access.Denied}
		}
		return grant{decision: access.NoCredential}
	}
	d, _ := p.Bearer(strings.TrimSpace(token), library)
	return grant{decision: d}
}

// visible returns whether a request may see each library in a listing
// (/, /-/libraries): a public one, or a private one its bearer token
// opens. The token is looked up once for the whole listing.
func (s *Server) visible(r *http.Request) func(library string) bool {
	p := s.cfg.Access
	if p == nil {
		return func(string) bool { return true }
	}
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	opens := p.Opens(strings.TrimSpace(token))
	return func(library string) bool { return !p.IsPrivate(library) || opens(library) }
}

// refuse answers a request for a private library without a working
// credential: 401 with a Bearer challenge when it has none, 403 when it
// is wrong, expired or for other libraries. The answer is the same
// whether the library exists or not, and never cached.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, g grant) (int, int64, routeKind) {
	h := w.Header()
	delete(h, "Surrogate-Key")
	delete(h, "Cache-Tag")
	if g.decision == access.NoCredential {
		h["Www-Authenticate"] = hvBearerChallenge
		return s.writeErrorCached(w, r, kindOther, http.StatusUnauthorized, "this library is private: send Authorization: Bearer <token>, or use a signed URL", noStore)
	}
	return s.writeErrorCached(w, r, kindOther, http.StatusForbidden, "the credential is wrong, expired, or not for this library", noStore)
}

// privateWriter makes every response of a private library private: its
// Cache-Control says private (capped at a signed URL's expiry), it
// carries no cache tags, and a redirect's target is signed like the
// request was. It keeps io.ReaderFrom, so files still go out by
// sendfile.
type privateWriter struct {
	http.ResponseWriter
	s     *Server
	g     grant
	fixed bool
}

func (p *privateWriter) fix() {
	if p.fixed {
		return
	}
	p.fixed = true
	h := p.Header()
	delete(h, "Surrogate-Key")
	delete(h, "Cache-Tag")
	if cc := h.Get("Cache-Control"); cc != "" && cc != "no-store" {
		h["Cache-Control"] = []string{privateCacheControl(cc, p.g.until, p.s.cfg.Clock())}
	}
	if loc := h.Get("Location"); loc != "" && p.g.sig != nil {
		if u, err := url.Parse(loc); err == nil && u.Host == "" {
			u.RawQuery = access.Sign(p.s.cfg.Access.Keys[p.g.sig.KeyID], p.g.sig.KeyID, u.Path, time.Unix(p.g.sig.Expires, 0))
			h["Location"] = []string{u.String()}
		}
	}
}

func (p *privateWriter) WriteHeader(code int) {
	p.fix()
	p.ResponseWriter.WriteHeader(code)
}

func (p *privateWriter) Write(b []byte) (int, error) {
	p.fix()
	return p.ResponseWriter.Write(b)
}

func (p *privateWriter) ReadFrom(src io.Reader) (int64, error) {
	p.fix()
	if rf, ok := p.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(p.ResponseWriter, src)
}

func (p *privateWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// privateCacheControl turns a public policy private: "private", the
// policy's max-age (at most until the signed URL expires), and
// "immutable" only when nothing caps it.
func privateCacheControl(cc string, until, now time.Time) string {
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
