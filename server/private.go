package server

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/cdnserve/cdnserve/access"
)

// signedPathKey keys the path a request was made for, in its context,
// when the server routed it under another (/<name>/-/meta/…).
type signedPathKey struct{}

// privateKey marks, in an Echo context, a request for a private library:
// its path stays out of the access log.
const privateKey = "cdnserve.private"

// hvBearerChallenge is the 401's challenge.
var hvBearerChallenge = []string{`Bearer realm="cdnserve"`}

// accessPolicy is the policy in force: Config.Access, or the last good
// load of Config.AccessFiles (reloadAccess). Never nil.
func (s *Server) accessPolicy() *access.Policy { return s.access.Load() }

// isPrivate reports whether a library is private: by the policy's
// patterns (serve --private), or by its access record in storage
// (lib, when it was found), which every replica reads alike.
func (s *Server) isPrivate(name string, lib *store) bool {
	return s.accessPolicy().IsPrivate(name) || (lib != nil && lib.Private())
}

// credential decides a request's credential for a private library
// (access.Policy.Credential), over the path the client asked for. A
// client that sent too many wrong credentials is Limited first; a
// wrong one is counted against it.
func (s *Server) credential(r *http.Request, library string) access.Grant {
	signed, _ := r.Context().Value(signedPathKey{}).(string)
	return s.limit(r, func(p *access.Policy) access.Grant { return p.Credential(r, library, signed) })
}

// bearerCredential decides a request's bearer token alone, for an
// answer its query selects (/-/importmap, /-/snippet): a signature
// covers the path, never the query, so a signed URL is refused there.
func (s *Server) bearerCredential(r *http.Request, library string) access.Grant {
	return s.limit(r, func(p *access.Policy) access.Grant { return p.BearerOnly(r, library) })
}

// limit decides a credential unless the client is over its failures.
func (s *Server) limit(r *http.Request, decide func(*access.Policy) access.Grant) access.Grant {
	client := s.clientAddr(r)
	if wait, blocked := s.failures.Blocked(client); blocked {
		return access.Grant{Decision: access.Limited, RetryAfter: wait}
	}
	g := decide(s.accessPolicy())
	if g.Decision == access.Denied {
		s.failures.Fail(client)
	}
	return g
}

// clientAddr is the address a request came from, without its port: the
// key failed credentials and mirror misses are counted by. From a
// trusted proxy (Config.TrustedProxies) it is the last address of
// X-Forwarded-For that is not itself a trusted proxy: the one the
// nearest untrusted hop connected from, which a client cannot forge.
func (s *Server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if !s.trusted(host) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if _, err := netip.ParseAddr(hop); err != nil {
			break // a hop that is no address: stop at the proxy
		}
		if host = hop; !s.trusted(hop) {
			break
		}
	}
	return host
}

// trusted reports whether an address is one of Config.TrustedProxies.
func (s *Server) trusted(addr string) bool {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// visible returns whether a request may see each library in a listing.
func (s *Server) visible(r *http.Request) func(library string) bool {
	return s.accessPolicy().Visible(r, func(name string) bool { return s.isPrivate(name, s.cat.Loaded(name)) })
}

// private makes every response written to w private for a grant.
func (s *Server) private(w http.ResponseWriter, g access.Grant) http.ResponseWriter {
	return &access.PrivateWriter{ResponseWriter: w, Policy: s.accessPolicy(), Grant: g}
}

// refuse answers a request for a private library without a working
// credential: 401 with a Bearer challenge when it has none, 403 when it
// is wrong, expired or for other libraries, 429 with Retry-After when
// the client sent too many wrong ones. The answer is the same whether
// the library exists or not, and never cached.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, g access.Grant) (int, int64, routeKind) {
	h := w.Header()
	delete(h, "Surrogate-Key")
	delete(h, "Cache-Tag")
	switch g.Decision {
	case access.NoCredential:
		h["Www-Authenticate"] = hvBearerChallenge
		msg := "this library is private: send Authorization: Bearer <token>, or use a signed URL"
		if !s.accessPolicy().HasCredentials() {
			msg = "this library is private, and this server has no tokens or URL-signing keys to open it (serve --tokens, --url-signing-keys)"
		}
		return s.writeErrorCached(w, r, kindOther, http.StatusUnauthorized, msg, noStore)
	case access.Limited:
		h["Retry-After"] = []string{strconv.Itoa(int(g.RetryAfter.Seconds() + 0.999))}
		return s.writeErrorCached(w, r, kindOther, http.StatusTooManyRequests, "too many wrong credentials from this address; try again after Retry-After seconds", noStore)
	}
	if g.Why != "" {
		return s.writeErrorCached(w, r, kindOther, http.StatusForbidden, g.Why, noStore)
	}
	return s.writeErrorCached(w, r, kindOther, http.StatusForbidden, "the credential is wrong, expired, or not for this library", noStore)
}

// loadAccess puts the first policy in force: AccessFiles loaded, or
// Access, or one that makes nothing private by pattern (libraries may
// still be private by their records in storage).
func (s *Server) loadAccess() error {
	p := s.cfg.Access
	if s.cfg.AccessFiles != nil {
		var err error
		if p, err = s.cfg.AccessFiles.Load(); err != nil {
			return err
		}
	}
	if p == nil {
		p = &access.Policy{}
	}
	if p.Clock == nil {
		p.Clock = s.cfg.Clock
	}
	s.access.Store(p)
	return nil
}

// ReloadAccess loads Config.AccessFiles again (on SIGHUP, or when a
// file changed). A load that fails keeps the policy in force: a tokens
// file caught half-written never locks everyone out.
func (s *Server) ReloadAccess() error {
	if s.cfg.AccessFiles == nil {
		return nil
	}
	old := s.accessPolicy()
	if err := s.loadAccess(); err != nil {
		s.log.Warn("reloading tokens and keys failed; the ones loaded before stay in force", "err", err)
		return err
	}
	p := s.accessPolicy()
	s.log.Info("reloaded tokens and keys", "tokens", len(p.Tokens), "keys", len(p.Keys), "tokens_before", len(old.Tokens), "keys_before", len(old.Keys))
	return nil
}

// warnUnopenable says at start when libraries are private and nothing
// could open them: they answer 401 to everyone. It counts them and
// never names one (a private name stays out of the logs).
func (s *Server) warnUnopenable() {
	if s.accessPolicy().HasCredentials() {
		return
	}
	n := 0
	for _, lib := range s.cat.All() {
		if s.isPrivate(lib.Name(), lib) {
			n++
		}
	}
	if n > 0 {
		s.log.Warn("private libraries found, and no tokens or URL-signing keys: they answer 401 to every request (serve --tokens FILE, --url-signing-keys FILE)", "private_libraries", n)
	}
}
