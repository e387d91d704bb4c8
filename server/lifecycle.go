package server

import (
	"net/http"
)

// deprecationHeaders adds Deprecation (RFC 9745) and, when there is a
// newer version of the same major, Link rel="successor-version" to a
// deprecated version's response. file is the file asked for ("" for a
// page).
func (s *Server) deprecationHeaders(h http.Header, v *version, file string) {
	d := v.Lib.Deprecated(v.Exact)
	if d == nil {
		return
	}
	h["Deprecation"] = d.Header
	if d.Successor != "" {
		h["Link"] = []string{"<" + v.Lib.Prefix() + d.Successor + "/" + file + `>; rel="successor-version"`}
	}
}

// gone answers 410 for an exact version removed less than GoneFor ago.
func (s *Server) gone(w http.ResponseWriter, r *http.Request, lib *store, version string) (int, int64, routeKind, bool) {
	at, ok := lib.RemovedAt(version)
	if !ok || s.cfg.Clock().Sub(at) > s.cfg.GoneFor {
		return 0, 0, 0, false
	}
	w.Header()["Cache-Control"] = s.policy.notFound
	status, n, kind := s.writeErrorCached(w, r, kindExact, http.StatusGone,
		"version "+version+" was removed on "+at.UTC().Format("2006-01-02")+"; the published versions are listed at "+lib.Prefix()+" and /-/versions"+lib.VersionsPath(), s.policy.notFound)
	return status, n, kind, true
}
