package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/afero"
)

// Server serves one dist tree. Create it with New, serve it as an
// http.Handler, and run Run alongside to follow publishes.
type Server struct {
	cfg    Config
	echo   *echo.Echo
	store  *store
	cache  *bodyCache
	policy cachePolicy
	cors   corsPolicy
	hsts   []string
	// publicURL is Config.PublicURL parsed, or nil.
	publicURL *url.URL
	metrics   *metrics
	ids       *requestIDs
	log       *slog.Logger
}

var _ http.Handler = (*Server)(nil)

// New checks the config, lists the tree once, and builds the handler.
// It fails when the tree cannot be listed.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:    cfg,
		store:  newStore(cfg.Fs, cfg.Root, cfg.NegativeTTL, cfg.Clock),
		cache:  newBodyCache(cfg.CacheBytes),
		policy: newCachePolicy(cfg),
		cors:   newCORSPolicy(cfg),
		ids:    newRequestIDs(),
		log:    cfg.Logger,
	}
	if cfg.PublicURL != "" {
		s.publicURL, _ = url.Parse(cfg.PublicURL) // checked by Validate
	}
	if cfg.HSTSMaxAge > 0 {
		s.hsts = []string{"max-age=" + strconv.Itoa(int(cfg.HSTSMaxAge.Seconds()))}
	}
	s.metrics = newMetrics(s.cache)
	if err := s.store.refresh(); err != nil {
		return nil, fmt.Errorf("dist root %s: %w", cfg.Root, err)
	}
	s.echo = s.routes()
	return s, nil
}

func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.observe, commonHeaders(s.cors, s.hsts))
	get := []string{http.MethodGet, http.MethodHead}
	e.Match(get, "/-/versions", s.handleVersions)
	e.Match(get, "/-/meta/:version", s.handleMeta)
	e.Match(get, "/-/snippet", s.handleSnippet)
	e.Match(get, "/-/healthz", s.handleHealthz)
	e.Match(get, "/-/readyz", s.handleReadyz)
	metricsHandler := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
	e.Match(get, "/-/metrics", func(c echo.Context) error {
		setKind(c, kindHealth)
		c.Response().Header()["Cache-Control"] = noStore
		metricsHandler.ServeHTTP(c.Response().Writer, c.Request())
		return nil
	})
	e.Any("/*", s.handleAsset)
	return e
}

// Refresh re-reads the version list and the aliases from storage now.
func (s *Server) Refresh() error { return s.store.refresh() }

// Run refreshes every Config.Refresh until ctx ends, so that aliases and
// /latest/ follow a publish. Storage errors are logged and retried.
func (s *Server) Run(ctx context.Context) {
	every(ctx, s.cfg.Refresh, func() {
		if err := s.store.refresh(); err != nil {
			s.log.Warn("refresh failed; serving what is loaded", "err", err)
		}
	})
}

// every calls fn every interval until ctx ends.
func every(ctx context.Context, interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// handleAsset serves GET|HEAD /<spec>/<file>: a file of an exact version
// or an alias, or a redirect from a range or tag to the exact version.
func (s *Server) handleAsset(c echo.Context) error {
	r := c.Request()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		c.Response().Header()["Allow"] = hvMethods
		return echo.ErrMethodNotAllowed
	}
	if r.URL.Path == "/" {
		return s.handleIndex(c)
	}
	spec, name, err := parsePath(r.URL.Path)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "bad request path")
	}
	if spec == "-" {
		return echo.ErrNotFound
	}
	v, err := s.store.get(spec)
	switch {
	case err == nil && name == "":
		return s.handleVersionPage(c, v)
	case err == nil:
		return s.serveFile(c, v, name)
	case errors.Is(err, errStorage):
		return s.storageError(err)
	}
	exact, err := s.store.resolve(spec)
	if err != nil {
		return s.notFound(c, err)
	}
	setKind(c, kindRedirect)
	target := (&url.URL{Path: "/" + exact + "/" + name, RawQuery: r.URL.RawQuery}).String()
	c.Response().Header()["Cache-Control"] = s.policy.header(kindRedirect, http.StatusFound)
	return c.Redirect(http.StatusFound, target)
}

// serveFile answers with one file of a loaded version, in the best
// encoding the client accepts, through http.ServeContent, which handles
// If-None-Match, If-Modified-Since, Range and If-Range (RFC 9110 §13, §14).
func (s *Server) serveFile(c echo.Context, v *version, name string) error {
	kind := kindExact
	if v.alias {
		kind = kindAlias
	}
	setKind(c, kind)
	f := v.files[name]
	if f == nil {
		return echo.ErrNotFound // also: "" (no listing), internal names
	}
	r, w := c.Request(), c.Response().Writer
	vr, err := s.pickVariant(f, r.Header.Get("Accept-Encoding"))
	if err != nil {
		return s.bodyError(err)
	}
	h := w.Header()
	h["Content-Type"] = f.contentType
	h["Etag"] = vr.etag
	h["Cache-Control"] = s.policy.header(kind, http.StatusOK)
	if f.compressible {
		h.Add("Vary", "Accept-Encoding")
	}
	if rg := r.Header.Get("Range"); rg != "" && strings.Count(rg, ",") >= s.cfg.MaxRanges {
		r.Header.Del("Range") // too many ranges: send the whole file, as nginx does
	}
	if vr.ceHeader != nil {
		w = &encodingWriter{ResponseWriter: w, ce: vr.ceHeader}
	}
	data, err := s.body(vr)
	if errors.Is(err, errTooBig) {
		return s.stream(c, w, v, vr)
	}
	if err != nil {
		for _, k := range []string{"Etag", "Content-Type", "Cache-Control"} {
			h.Del(k)
		}
		return s.bodyError(err)
	}
	http.ServeContent(w, r, "", v.modTime, bytes.NewReader(data))
	return nil
}

// encodingWriter adds Content-Encoding when a 2xx status is written.
// http.ServeContent leaves out Content-Length whenever Content-Encoding is
// already set (it assumes a compressing wrapper), so the encoding is added
// only after ServeContent has set the exact length, ranges included.
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

// pickVariant chooses identity or an encoding by the client's q-values.
func (s *Server) pickVariant(f *file, acceptEncoding string) (*variant, error) {
	if !f.compressible || acceptEncoding == "" {
		return f.identity, nil
	}
	for _, enc := range parseAcceptEncoding(acceptEncoding).order() {
		if enc == "" {
			return f.identity, nil
		}
		vr, err := f.encoded(enc, func() ([]byte, error) { return s.body(f.identity) })
		if err != nil {
			return nil, err
		}
		if vr != nil {
			return vr, nil
		}
	}
	return f.identity, nil
}

var errTooBig = errors.New("too big to cache")

// body returns a variant's bytes from the cache, or reads and checks them
// against the manifest and caches them. Files too big for the cache are
// errTooBig: the caller streams them.
func (s *Server) body(vr *variant) ([]byte, error) {
	if vr.data != nil {
		return vr.data, nil
	}
	if data, ok := s.cache.get(vr.sha256); ok {
		return data, nil
	}
	if vr.size > s.cache.maxItem() {
		return nil, errTooBig
	}
	data, err := afero.ReadFile(s.cfg.Fs, vr.storage)
	if err != nil {
		return nil, err
	}
	if err := vr.checkBytes(data); err != nil {
		return nil, err
	}
	s.cache.add(vr.sha256, data)
	return data, nil
}

// stream serves a file too big for the cache straight from storage; on
// local disk, net/http sends it with sendfile(2).
func (s *Server) stream(c echo.Context, w http.ResponseWriter, v *version, vr *variant) error {
	f, err := s.cfg.Fs.Open(vr.storage)
	if err != nil {
		return s.storageError(err)
	}
	defer f.Close()
	http.ServeContent(w, c.Request(), "", v.modTime, f)
	return nil
}

// bodyError handles a file whose bytes could not be served: bytes that
// fail their manifest's hash (an alias reads its version's immutable
// files, so this is damage, never a switch in progress) are a 500;
// anything else is storage failing, a 503.
func (s *Server) bodyError(err error) error {
	if errors.Is(err, errIntegrity) {
		s.log.Error("refusing to serve bytes that fail their integrity manifest", "err", err)
		return echo.NewHTTPError(http.StatusInternalServerError, "stored file failed its integrity check")
	}
	if errors.Is(err, fs.ErrNotExist) {
		s.log.Error("a file listed in an integrity manifest is missing", "err", err)
	}
	return s.storageError(err)
}

func (s *Server) storageError(err error) error {
	s.log.Error("storage error", "err", err)
	return echo.NewHTTPError(http.StatusServiceUnavailable, "storage unavailable")
}
