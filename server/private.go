package server

import (
	"net/http"

	"github.com/cdnserve/cdnserve/access"
)

// signedPathKey keys the path a request was made for, in its context,
// when the server routed it under another (/<name>/-/meta/…).
type signedPathKey struct{}

// hvBearerChallenge is the 401's challenge.
var hvBearerChallenge = []string{`Bearer realm="cdnserve"`}

// credential decides a request's credential for a private library
// (access.Policy.Credential), over the path the client asked for.
func (s *Server) credential(r *http.Request, library string) access.Grant {
	signed, _ := r.Context().Value(signedPathKey{}).(string)
	return s.cfg.Access.Credential(r, library, signed)
}

// visible returns whether a request may see each library in a listing.
func (s *Server) visible(r *http.Request) func(library string) bool { return s.cfg.Access.Visible(r) }

// private makes every response written to w private for a grant.
func (s *Server) private(w http.ResponseWriter, g access.Grant) http.ResponseWriter {
	return &access.PrivateWriter{ResponseWriter: w, Policy: s.cfg.Access, Grant: g}
}

// refuse answers a request for a private library without a working
// credential: 401 with a Bearer challenge when it has none, 403 when it
// is wrong, expired or for other libraries. The answer is the same
// whether the library exists or not, and never cached.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, g access.Grant) (int, int64, routeKind) {
	h := w.Header()
	delete(h, "Surrogate-Key")
	delete(h, "Cache-Tag")
	if g.Decision == access.NoCredential {
		h["Www-Authenticate"] = hvBearerChallenge
		return s.writeErrorCached(w, r, kindOther, http.StatusUnauthorized, "this library is private: send Authorization: Bearer <token>, or use a signed URL", noStore)
	}
	return s.writeErrorCached(w, r, kindOther, http.StatusForbidden, "the credential is wrong, expired, or not for this library", noStore)
}
