package server

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// ServeHTTP serves one request. A GET or HEAD for a file of a version the
// server has already loaded, with no range and no date precondition,
// takes the fast path: a map lookup, header values computed when the
// manifest was loaded, and bytes from memory, with almost no allocation.
// Everything else goes through Echo and http.ServeContent. Both paths
// send the same headers (TestFastPathMatchesSlowPath).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.serveFast(w, r) {
		s.echo.ServeHTTP(w, r)
	}
}

// Header values the fast path sends, computed once.
var (
	hvAcceptRanges = []string{"bytes"}
	hvVaryAE       = []string{"Accept-Encoding"}
	hvVaryOrigin   = []string{"Origin"}
	hvVaryOriginAE = []string{"Origin", "Accept-Encoding"}
)

// serveFast answers the request and reports true, or changes nothing and
// reports false.
func (s *Server) serveFast(w http.ResponseWriter, r *http.Request) bool {
	start := time.Now()
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || r.URL.RawPath != "" {
		return false
	}
	p := r.URL.Path
	if len(p) < 3 || p[1] == '-' {
		return false
	}
	spec, name, ok := strings.Cut(p[1:], "/")
	if !ok || name == "" {
		return false
	}
	v := s.store.loadedVersion(spec)
	if v == nil {
		return false
	}
	// Manifest paths are clean (dist.CheckPath), so no hostile name (..,
	// //, NUL) can be a key: the lookup is the safety check.
	f := v.files[name]
	if f == nil || !simplePreconditions(r.Header) {
		return false
	}
	vr, err := s.pickVariant(f, r.Header.Get("Accept-Encoding"))
	if err != nil {
		return false
	}
	// RFC 9110 §13.1.2: an If-None-Match that is exactly this ETag means
	// the client holds this representation: 304. Any other If-None-Match
	// (a list, "*", a weak tag) is left to http.ServeContent.
	notModified := false
	if inm := r.Header["If-None-Match"]; len(inm) > 0 {
		if len(inm) != 1 || inm[0] != vr.etag[0] {
			return false
		}
		notModified = true
	}
	data, err := s.body(vr)
	if err != nil {
		return false // too big, or a storage error: the slow path handles it
	}
	kind := kindExact
	if v.alias {
		kind = kindAlias
	}
	h := w.Header()
	id := s.commonHeadersFast(h, r)
	h["Etag"] = vr.etag
	h["Cache-Control"] = s.policy.header(kind, http.StatusOK)
	switch {
	case len(s.cors.origins) > 0 && f.compressible:
		h["Vary"] = hvVaryOriginAE
	case len(s.cors.origins) > 0:
		h["Vary"] = hvVaryOrigin
	case f.compressible:
		h["Vary"] = hvVaryAE
	}
	status, sent := http.StatusOK, 0
	if notModified {
		// Headers as http.ServeContent's writeNotModified leaves them.
		status = http.StatusNotModified
		w.WriteHeader(status)
	} else {
		h["Content-Type"] = f.contentType
		h["Last-Modified"] = v.lastModified
		h["Accept-Ranges"] = hvAcceptRanges
		h["Content-Length"] = vr.length
		if vr.ceHeader != nil {
			h["Content-Encoding"] = vr.ceHeader
		}
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			n, _ := w.Write(data)
			sent = n
		}
	}
	s.finish(r, id, kind, status, int64(sent), start)
	return true
}

// simplePreconditions reports whether a request carries only what the
// fast path answers itself: at most an If-None-Match. Range, If-Range,
// If-Match and the date preconditions go to http.ServeContent.
func simplePreconditions(h http.Header) bool {
	for _, k := range [...]string{"Range", "If-Range", "If-Match", "If-Modified-Since", "If-Unmodified-Since"} {
		if len(h[k]) > 0 {
			return false
		}
	}
	return true
}

// commonHeadersFast sets what commonHeaders sets, for the fast path, and
// the request id, which it returns.
func (s *Server) commonHeadersFast(h http.Header, r *http.Request) string {
	if len(s.cors.origins) == 0 {
		h["Access-Control-Allow-Origin"] = hvStar
	} else if o := r.Header.Get("Origin"); o != "" && s.cors.allowed(o) {
		h["Access-Control-Allow-Origin"] = []string{o}
	}
	h["Access-Control-Expose-Headers"] = hvExpose
	h["Timing-Allow-Origin"] = hvStar
	h["X-Content-Type-Options"] = hvNosniff
	h["Cross-Origin-Resource-Policy"] = hvCrossOrigin
	if r.TLS != nil && s.hsts != nil {
		h["Strict-Transport-Security"] = s.hsts
	}
	id := r.Header.Get("X-Request-Id")
	if !validRequestID(id) {
		id = s.ids.next()
	}
	h["X-Request-Id"] = []string{id}
	return id
}

// finish records a served request in the metrics and the access log.
func (s *Server) finish(r *http.Request, id string, kind routeKind, status int, bytes int64, start time.Time) {
	elapsed := time.Since(start)
	s.metrics.observe(kind, status, bytes, elapsed)
	if s.cfg.AccessLog {
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", status), slog.Int64("bytes", bytes), slog.Duration("duration", elapsed),
			slog.String("kind", kindNames[kind]))
	}
}
