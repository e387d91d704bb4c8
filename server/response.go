package server

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cdnserve/cdnserve/browse"
	"github.com/cdnserve/cdnserve/catalog"
)

// writeError is the one place an error becomes a response, for the asset
// path and for Echo's routes alike. Client-facing text is generic and
// never names a storage path. A client that asks for JSON gets
// {"error", "status"}.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, kind routeKind, code int, msg string) (int, int64, routeKind) {
	return s.writeErrorCached(w, r, kind, code, msg, s.policy.header(kind, code))
}

// writeErrorCached is writeError with a Cache-Control of the caller's.
func (s *Server) writeErrorCached(w http.ResponseWriter, r *http.Request, kind routeKind, code int, msg string, cacheControl []string) (int, int64, routeKind) {
	return s.writeErrorIn(w, r, kind, code, msg, cacheControl, nil)
}

// writeErrorIn is writeErrorCached for an error inside a library: its
// page links the library, and, for a missing file, the versions that
// have it (errorPage).
func (s *Server) writeErrorIn(w http.ResponseWriter, r *http.Request, kind routeKind, code int, msg string, cacheControl []string, lib *store) (int, int64, routeKind) {
	h := w.Header()
	h["Cache-Control"] = cacheControl
	if code == http.StatusMethodNotAllowed && h.Get("Allow") == "" {
		h["Allow"] = hvMethods
	}
	varyAccept(h)
	if wantsJSON(r) {
		status, n := writeJSON(w, r, code, map[string]any{"error": msg, "status": code})
		return status, n, kind
	}
	if wantsHTML(r) {
		status, n := s.errorPage(w, r, code, msg, lib, nil)
		return status, n, kind
	}
	status, n := writeText(w, r, code, http.StatusText(code)+": "+msg+"\n")
	return status, n, kind
}

// notFound answers 404 for a range or tag that matched nothing, naming
// it and the versions that exist; any other error is a plain 404.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request, kind routeKind, lib *store, err error) (int, int64, routeKind) {
	var re *catalog.ResolveError
	if !errors.As(err, &re) {
		return s.writeError(w, r, kind, http.StatusNotFound, "not found")
	}
	if lib != nil {
		s.setTags(w.Header(), specTags(lib.Name(), re.Spec))
	}
	w.Header()["Cache-Control"] = s.policy.notFound
	varyAccept(w.Header())
	if wantsJSON(r) {
		status, n := writeJSON(w, r, http.StatusNotFound, re)
		return status, n, kind
	}
	if wantsHTML(r) {
		status, n := s.errorPage(w, r, http.StatusNotFound, re.Spec+": "+re.Reason, lib, re)
		return status, n, kind
	}
	msg := "404 not found: " + re.Spec + ": " + re.Reason + "\npublished versions: " + strings.Join(re.Available, ", ")
	if re.More > 0 {
		msg += ", and more (see /-/versions" + lib.VersionsPath() + ")"
	}
	status, n := writeText(w, r, http.StatusNotFound, msg+"\n")
	return status, n, kind
}

// versionError answers for an exact version or alias that could not be
// loaded: 404 when it is absent, 500 when its manifest is damaged, 503
// when storage failed. The 5xx are cached briefly (policy.retry), so an
// edge neither hammers storage nor keeps the error.
func (s *Server) versionError(w http.ResponseWriter, r *http.Request, lib *store, name string, err error) (int, int64, routeKind) {
	switch {
	case errors.Is(err, catalog.ErrDamaged):
		s.damage.log(s.log, "a version's integrity manifest is damaged", "library", lib.Name(), "version", name, "err", err)
		s.metrics.damaged.Inc()
		return s.writeErrorCached(w, r, kindExact, http.StatusInternalServerError, "the integrity manifest of "+name+" is damaged", s.policy.retry)
	case errors.Is(err, catalog.ErrStorage):
		s.log.Error("storage error", "err", err)
		return s.writeErrorCached(w, r, kindExact, http.StatusServiceUnavailable, "storage unavailable", s.policy.retry)
	}
	return s.notFound(w, r, kindExact, lib, catalog.NewResolveError(name, "not published", lib.Versions()))
}

// storageError answers 503: storage could not be read.
func (s *Server) storageError(w http.ResponseWriter, r *http.Request, kind routeKind, err error) (int, int64, routeKind) {
	s.log.Error("storage error", "err", err)
	return s.writeError(w, r, kind, http.StatusServiceUnavailable, "storage unavailable")
}

// errorPage sends an error as a browse page, in the pages' style: a
// person who follows a link to a missing version sees where to go next.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, code int, msg string, lib *store, re *catalog.ResolveError) (int, int64) {
	data := map[string]any{"Title": "cdnserve: " + http.StatusText(code), "Status": code, "StatusText": http.StatusText(code), "Message": msg}
	if lib != nil {
		data["Base"], data["Library"], data["VersionsPath"] = lib.Prefix(), lib.Name(), lib.VersionsPath()
		if re != nil {
			data["Versions"], data["More"] = re.Available, re.More
		}
		// A missing file: the newest versions that have the same path.
		if spec, file := s.fileOf(r); code == http.StatusNotFound && file != "" && !strings.HasSuffix(file, "/") {
			if same := samePath(lib, file, spec); len(same) > 0 {
				data["File"], data["SamePath"] = file, same
			}
		}
	}
	page, err := s.render("error", data)
	if err != nil {
		return writeText(w, r, code, http.StatusText(code)+": "+msg+"\n")
	}
	h := w.Header()
	h["Content-Security-Policy"] = browse.CSP
	h["Referrer-Policy"] = hvNoReferrer
	return writeBody(w, r, code, hvHTML[0], page)
}

// fileOf is the version spec and the file (or directory) an asset
// request names, or "" when it names none.
func (s *Server) fileOf(r *http.Request) (spec, file string) {
	ap := splitAssetPath(r.URL.Path, s.cat.Known)
	rest := ap.rest
	if ap.at {
		rest = ap.spec + "/" + ap.rest
	}
	spec, file, err := parsePath(rest)
	if err != nil {
		return "", ""
	}
	return spec, file
}

// varyAccept adds Accept to Vary: an answer whose body is text, JSON or
// a page by the request's Accept must say so, or a cache gives a
// browser's page to a JSON client.
func varyAccept(h http.Header) { addVary(h, "Accept") }

// wantsHTML reports a browser: a client that asks for HTML.
func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// writeJSON sends v as JSON with a trailing newline; a HEAD gets the
// headers only.
func writeJSON(w http.ResponseWriter, r *http.Request, code int, v any) (int, int64) {
	b, _ := json.Marshal(v) // plain data: cannot fail
	return writeBody(w, r, code, "application/json", append(b, '\n'))
}

func writeText(w http.ResponseWriter, r *http.Request, code int, text string) (int, int64) {
	return writeBody(w, r, code, "text/plain; charset=UTF-8", []byte(text))
}

func writeBody(w http.ResponseWriter, r *http.Request, code int, contentType string, body []byte) (int, int64) {
	w.Header()["Content-Type"] = []string{contentType}
	w.Header()["Content-Length"] = []string{strconv.Itoa(len(body))} // a HEAD's too: it gets GET's headers
	w.WriteHeader(code)
	if r.Method == http.MethodHead {
		return code, 0
	}
	n, _ := w.Write(body)
	return code, int64(n)
}

// requestID sets X-Request-Id: the client's, when it is safe to echo,
// or a new one. It returns the id for the access log.
func (s *Server) requestID(h http.Header, r *http.Request) string {
	id := r.Header.Get("X-Request-Id")
	if !validRequestID(id) {
		id = s.ids.next()
	}
	h["X-Request-Id"] = []string{id}
	return id
}

// hiddenPath stands for the path of a request for a private library in
// the access log: a private name never reaches a log.
const hiddenPath = "(a private library)"

// finish records a served request in the metrics and the access log.
// The path of a request for a private library is not logged.
func (s *Server) finish(r *http.Request, id string, counts *libraryMetrics, kind routeKind, status int, bytes int64, start time.Time, private bool) {
	elapsed := time.Since(start)
	s.metrics.observe(counts, kind, status, bytes, elapsed)
	if s.cfg.AccessLog {
		p := r.URL.Path
		if private {
			p = hiddenPath
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", p),
			slog.Int("status", status), slog.Int64("bytes", bytes), slog.Duration("duration", elapsed),
			slog.String("kind", kindNames[kind]))
	}
}
