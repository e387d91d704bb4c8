package server

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cdnserve/cdnserve/access"
	"github.com/cdnserve/cdnserve/content"
	"github.com/cdnserve/cdnserve/headers"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"

	"github.com/cdnserve/cdnserve/catalog"
)

// isAssetPath reports whether a path names something below a library or
// a version, as opposed to / and the /-/ routes.
func isAssetPath(p string) bool {
	return len(p) > 1 && p[0] == '/' && !(p[1] == '-' && (len(p) == 2 || p[2] == '/'))
}

// serveAsset is the one way through for every request below a library
// or a version: a file of an exact version or an alias, a library's or a
// version's page, or a redirect from a range, a tag or a name@spec to
// the exact version. It sets the common headers and the request id,
// answers, and records the request against its library.
func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	h := w.Header()
	id := s.requestID(h, r)
	s.common.Set(h, r)
	ap := splitAssetPath(r.URL.Path, s.cat.Known)
	lib, err := s.cat.Library(ap.lib)
	private := s.isPrivate(ap.lib, lib)
	if private && r.Method != http.MethodOptions {
		// A library private by a pattern that does not exist is refused
		// the same as one that does.
		g := s.credential(r, ap.lib)
		if g.Decision != access.Allowed {
			status, sent, kind := s.refuse(w, r, g)
			s.finish(r, id, nil, kind, status, sent, start, true)
			return
		}
		if g.Sig != nil {
			h["Access-Control-Allow-Origin"] = hvStar // a signed URL works from any origin
		}
		w = s.private(w, g)
	}
	var status int
	var sent int64
	var kind routeKind
	var upstream error
	if s.cfg.Mirror != nil && ap.lib != "" && (r.Method == http.MethodGet || r.Method == http.MethodHead) && s.cfg.Mirror.Allowed(ap.lib) {
		lib, err, upstream = s.mirrored(r, &ap, lib, err)
	}
	if upstream != nil {
		status, sent, kind = s.upstreamError(w, r, ap, upstream)
	} else {
		status, sent, kind = s.asset(w, r, ap, lib, err)
	}
	var counts *libraryMetrics
	if lib != nil {
		counts = dataOf(lib).counts
	}
	s.finish(r, id, counts, kind, status, sent, start, private)
}

// asset answers an asset request below library lib (libErr when it
// could not be found) and returns the status and body bytes sent, and
// the kind of answer, for the metrics and the access log.
func (s *Server) asset(w http.ResponseWriter, r *http.Request, ap assetPath, lib *store, libErr error) (int, int64, routeKind) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		s.common.Preflight(w, r)
		return http.StatusNoContent, 0, kindPreflight
	default:
		w.Header()["Allow"] = hvMethods
		return s.writeError(w, r, kindOther, http.StatusMethodNotAllowed, "method not allowed")
	}
	switch {
	case errors.Is(libErr, catalog.ErrStorage):
		return s.storageError(w, r, kindOther, libErr)
	case libErr != nil:
		s.setTags(w.Header(), libraryTags(ap.lib))
		return s.writeError(w, r, kindOther, http.StatusNotFound, "no library named "+ap.lib+" is published; the libraries are listed at / and /-/libraries")
	case ap.bare:
		s.setTags(w.Header(), libraryTags(lib.Name()))
		return s.redirectTo(w, r, http.StatusMovedPermanently, s.policy.exact, lib.Prefix(), "")
	case ap.at:
		return s.atForm(w, r, lib, ap)
	}
	// A file of a loaded version is found by two lookups: version names
	// and manifest paths are clean (layout.CheckPath), so no hostile path
	// (.., //, NUL, a backslash) can be a key. Whatever misses is parsed
	// and checked in full.
	if spec, name, ok := strings.Cut(ap.rest, "/"); ok {
		if v := loadedVersion(lib, spec); v != nil {
			if f := v.files[name]; f != nil {
				return s.serveFile(w, r, v, f)
			}
		}
	}
	if ap.rest == "" {
		return s.libraryPage(w, r, lib)
	}
	spec, name, err := parsePath(ap.rest)
	if err != nil {
		return s.writeError(w, r, kindOther, http.StatusBadRequest, "bad request path")
	}
	v, err := getVersion(lib, spec)
	switch {
	case err == nil && name == "":
		return s.versionPage(w, r, v)
	case err == nil && strings.HasSuffix(name, "/"):
		return s.dirPage(w, r, v, name)
	case err == nil && v.files[name] == nil:
		s.setTags(w.Header(), v.tags)
		return s.writeErrorIn(w, r, v.kind(), http.StatusNotFound, // also: internal names
			"version "+v.Name+" has no file "+name+"; its files are listed at "+lib.Prefix()+v.Name+"/ and /-/meta/"+lib.MetaPath(v.Name),
			s.policy.header(v.kind(), http.StatusNotFound), lib)
	case err == nil:
		return s.serveFile(w, r, v, v.files[name])
	case layout.IsVersionDir(spec):
		if status, n, kind, ok := s.gone(w, r, lib, spec); ok {
			return status, n, kind
		}
		return s.versionError(w, r, lib, spec, err) // an exact version or alias never redirects, least of all to itself
	case errors.Is(err, catalog.ErrStorage):
		return s.storageError(w, r, kindOther, err)
	}
	return s.resolveTo(w, r, lib, spec, ap.resolved, name)
}

// resolveTo answers a range or tag of a library with a 302 to the file
// (or page) of the exact version it resolves to (the one a mirror
// resolved it to upstream, when given), or 404.
func (s *Server) resolveTo(w http.ResponseWriter, r *http.Request, lib *store, spec, upstream, file string) (int, int64, routeKind) {
	s.setTags(w.Header(), specTags(lib.Name(), spec))
	if upstream != "" {
		return s.redirectTo(w, r, http.StatusFound, s.policy.redirect, lib.Prefix()+upstream+"/", file)
	}
	exact, err := lib.Resolve(spec)
	if errors.Is(err, catalog.ErrStorage) {
		return s.storageError(w, r, kindRedirect, err)
	}
	if err != nil {
		return s.notFound(w, r, kindRedirect, lib, err)
	}
	return s.redirectTo(w, r, http.StatusFound, s.policy.redirect, lib.Prefix()+exact+"/", file)
}

// atForm answers the form unpkg's and jsDelivr's users type,
// /<name>@<spec>/<file>: an exact version is 301 to its canonical URL
// /<name>/<version>/<file> (the mapping never changes); a range or tag is
// resolved, and 302 to the exact version.
func (s *Server) atForm(w http.ResponseWriter, r *http.Request, lib *store, ap assetPath) (int, int64, routeKind) {
	if ap.spec == "" {
		return s.writeError(w, r, kindOther, http.StatusBadRequest, "nothing after @: ask for "+ap.lib+"@<version, range or tag>")
	}
	spec, file, err := parsePath(ap.spec + "/" + ap.rest)
	if err != nil || strings.Contains(spec, "@") {
		return s.writeError(w, r, kindOther, http.StatusBadRequest, "bad request path")
	}
	_, perr := versioning.Parse(spec)
	if file == "" {
		// No file: the version's entry (an npm package's browser entry),
		// as jsDelivr does, or else its page.
		exact := spec
		if ap.resolved != "" {
			exact = ap.resolved
		} else if perr != nil {
			exact, _ = lib.Resolve(spec)
		}
		if v, err := getVersion(lib, exact); err == nil && v.Manifest.Entry != "" && v.files[v.Manifest.Entry] != nil {
			s.setTags(w.Header(), specTags(lib.Name(), spec))
			return s.redirectTo(w, r, http.StatusFound, s.policy.redirect, lib.Prefix()+exact+"/", v.Manifest.Entry)
		}
	}
	if perr == nil {
		s.setTags(w.Header(), versionTags(lib.Name(), spec, spec))
		return s.redirectTo(w, r, http.StatusMovedPermanently, s.policy.exact, lib.Prefix()+spec+"/", file)
	}
	return s.resolveTo(w, r, lib, spec, ap.resolved, file)
}

var hvZero = []string{"0"}

// redirectTo answers code (301 or 302) to dir + file, keeping the query,
// with the given Cache-Control.
func (s *Server) redirectTo(w http.ResponseWriter, r *http.Request, code int, cacheControl []string, dir, file string) (int, int64, routeKind) {
	h := w.Header()
	h["Cache-Control"] = cacheControl
	h["Location"] = []string{(&url.URL{Path: dir + file, RawQuery: r.URL.RawQuery}).String()}
	h["Content-Length"] = hvZero // a HEAD gets it too, as GET does
	w.WriteHeader(code)
	return code, 0, kindRedirect
}

// serveFile answers with one file of a loaded version, in the best
// encoding the client accepts. Its headers come from fileHeaders alone.
// A GET or HEAD with no precondition but an exact If-None-Match is
// answered from memory; anything else (ranges, date preconditions, lists
// of ETags, files too big for the cache) goes to http.ServeContent with
// the same headers (RFC 9110 §13, §14).
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, v *version, f *content.File) (int, int64, routeKind) {
	if r.URL.RawQuery != "" && r.URL.Query().Has("view") {
		return s.viewPage(w, r, v, f)
	}
	kind := v.kind()
	byteRanges(r.Header)
	vr, err := s.pickVariant(f, r.Header.Get("Accept-Encoding"))
	if err != nil {
		return s.bodyError(w, r, kind, err)
	}
	data, err := s.content.Body(vr)
	var big *content.VerifyingFile
	if errors.Is(err, content.ErrTooBig) {
		big, err = s.content.Open(vr, !isRange(r))
	}
	if err != nil {
		return s.bodyError(w, r, kind, err)
	}
	h := w.Header()
	if big == nil && simplePreconditions(r.Header) {
		if status, ok := memoryStatus(r, vr); ok {
			s.fileHeaders(h, v, f, vr, kind, status)
			status, n := writeFromMemory(w, r, status, data)
			v.use.Add(n)
			return status, n, kind
		}
	}
	s.fileHeaders(h, v, f, vr, kind, http.StatusOK)
	// http.ServeContent sets Content-Length and Accept-Ranges to fit the
	// status it chooses (a range's length; none on 304), and leaves
	// Content-Length out whenever Content-Encoding is set, so the encoding
	// is added only when it writes a 2xx (encodingWriter).
	for _, k := range [...]string{"Content-Length", "Content-Encoding", "Accept-Ranges"} {
		delete(h, k)
	}
	if rg := r.Header.Get("Range"); rg != "" && strings.Count(rg, ",") >= s.cfg.MaxRanges {
		r.Header.Del("Range") // too many ranges: send the whole file, as nginx does
	}
	rec := &recorder{ResponseWriter: w}
	var out http.ResponseWriter = rec
	if vr.CE != nil {
		out = &encodingWriter{ResponseWriter: rec, ce: vr.CE}
	}
	if big != nil {
		defer big.Close()
		http.ServeContent(out, r, "", v.ModTime, big)
		s.abortIfMismatched(big)
	} else {
		http.ServeContent(out, r, "", v.ModTime, bytes.NewReader(data))
	}
	v.use.Add(rec.bytes)
	return rec.status, rec.bytes, kind
}

// fileHeaders sets the complete header set of an answer with one
// variant of a file, beyond the common headers: for a 200, every header;
// for a 304, only those a 200 would carry that RFC 9110 §15.4.5 asks for
// (Cache-Control, ETag, Vary), as http.ServeContent sends it. It is the
// only place that decides a file's headers; every value was computed
// when the version's manifest was loaded.
func (s *Server) fileHeaders(h http.Header, v *version, f *content.File, vr *content.Variant, kind routeKind, status int) {
	h["Etag"] = vr.ETag
	h["Cache-Control"] = s.policy.header(kind, http.StatusOK)
	s.setTags(h, v.tags)
	if kind != kindExact {
		// An exact file is immutable for a year: a header that a
		// deprecation adds later would never reach a cache that holds
		// it. Aliases, /-/meta and pages carry it.
		s.deprecationHeaders(h, v, f.Path)
	}
	if vary := s.common.Vary(f.Compressible); vary != nil {
		h["Vary"] = vary
	}
	if status == http.StatusNotModified {
		return
	}
	h["Content-Type"] = f.ContentType
	if v.lastModified != nil {
		h["Last-Modified"] = v.lastModified
	}
	h["Accept-Ranges"] = hvAcceptRanges
	h["Content-Length"] = vr.Length
	if vr.CE != nil {
		h["Content-Encoding"] = vr.CE
	}
}

// byteRanges keeps a Range header only in the one unit served, bytes, in
// any case ("Bytes=0-9" is "bytes=0-9"): RFC 9110 §14.2 says a range
// unit the server does not know is ignored (200, not 416), and range
// units are case-insensitive.
func byteRanges(h http.Header) {
	vs := h["Range"] // the key as net/http stores it: no canonicalising on the hot path
	if len(vs) == 0 {
		return
	}
	rg := vs[0]
	if unit, spec, ok := strings.Cut(rg, "="); ok && strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		h.Set("Range", "bytes="+spec)
		return
	}
	h.Del("Range")
}

// isRange reports whether a request may get a part of a file.
func isRange(r *http.Request) bool { return r.Header.Get("Range") != "" }

// simplePreconditions reports whether a request carries only what the
// memory path answers itself: at most an If-None-Match. Range, If-Range,
// If-Match and the date preconditions go to http.ServeContent.
func simplePreconditions(h http.Header) bool {
	for _, k := range [...]string{"Range", "If-Range", "If-Match", "If-Modified-Since", "If-Unmodified-Since"} {
		if len(h[k]) > 0 {
			return false
		}
	}
	return true
}

// memoryStatus decides the status of a request without preconditions
// (200), or with an If-None-Match that is exactly this variant's ETag
// (RFC 9110 §13.1.2: the client holds it, 304). It reports false for any
// other If-None-Match (a list, "*", a weak tag), which
// http.ServeContent evaluates.
func memoryStatus(r *http.Request, vr *content.Variant) (int, bool) {
	inm := r.Header["If-None-Match"]
	switch {
	case len(inm) == 0:
		return http.StatusOK, true
	case len(inm) == 1 && inm[0] == vr.ETag[0]:
		return http.StatusNotModified, true
	}
	return 0, false
}

// writeFromMemory sends the status and, for a GET answered 200, the
// bytes, and returns the status and the bytes sent.
func writeFromMemory(w http.ResponseWriter, r *http.Request, status int, data []byte) (int, int64) {
	w.WriteHeader(status)
	if status != http.StatusOK || r.Method == http.MethodHead {
		return status, 0
	}
	n, _ := w.Write(data)
	return status, int64(n)
}

// encodingWriter adds Content-Encoding when a 2xx status is written.
type encodingWriter struct {
	http.ResponseWriter
	ce []string
}

func (w *encodingWriter) WriteHeader(code int) {
	if code >= 200 && code < 300 {
		w.Header()["Content-Encoding"] = w.ce
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *encodingWriter) ReadFrom(src io.Reader) (int64, error) {
	return w.ResponseWriter.(io.ReaderFrom).ReadFrom(src) // always a *recorder
}

func (w *encodingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// errNotAcceptable is a request whose Accept-Encoding refuses identity
// and every encoding the file has: 406 (RFC 9110 §12.5.3, §15.5.7).
var errNotAcceptable = errors.New("no acceptable content coding")

// pickVariant chooses identity or an encoding by the client's q-values.
func (s *Server) pickVariant(f *content.File, acceptEncoding string) (*content.Variant, error) {
	if acceptEncoding == "" {
		return f.Identity, nil
	}
	p := headers.ParseAcceptEncoding(acceptEncoding)
	if f.Compressible {
		for _, enc := range p.Order() {
			if enc == "" {
				break // identity, or nothing more that is acceptable
			}
			vr, err := f.Encoded(enc, func() ([]byte, error) { return s.content.Body(f.Identity) })
			if err != nil {
				return nil, err
			}
			if vr != nil {
				return vr, nil
			}
		}
	}
	if p.IdentityOK() {
		return f.Identity, nil
	}
	return nil, errNotAcceptable
}

// bodyError answers for a file whose bytes could not be served: no
// acceptable encoding is 406 (varying by Accept-Encoding); bytes
// that fail their manifest's hash (an alias reads its version's immutable
// files, so this is damage, never a switch in progress) are a 500;
// anything else is storage failing, a 503.
func (s *Server) bodyError(w http.ResponseWriter, r *http.Request, kind routeKind, err error) (int, int64, routeKind) {
	if errors.Is(err, errNotAcceptable) {
		w.Header()["Vary"] = s.common.Vary(true)
		return s.writeError(w, r, kind, http.StatusNotAcceptable, "no acceptable content coding: this file is available as identity, br and gzip")
	}
	if errors.Is(err, content.ErrIntegrity) {
		s.damage.log(s.log, "refusing to serve bytes that fail their integrity manifest", "err", err)
		s.metrics.damaged.Inc()
		return s.writeError(w, r, kind, http.StatusInternalServerError, "stored file failed its integrity check")
	}
	if errors.Is(err, fs.ErrNotExist) {
		// Storage answered: the tree is damaged, as /-/readyz (which
		// speaks of storage) agrees. Retrying will not help.
		s.damage.log(s.log, "a file listed in an integrity manifest is missing", "err", err)
		s.metrics.damaged.Inc()
		return s.writeError(w, r, kind, http.StatusInternalServerError, "stored file is missing")
	}
	return s.storageError(w, r, kind, err)
}
