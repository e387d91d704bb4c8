package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/cdnserve/cdnserve/access"
	"github.com/cdnserve/cdnserve/browse"
	"github.com/cdnserve/cdnserve/catalog"
	"github.com/cdnserve/cdnserve/content"
	"github.com/cdnserve/cdnserve/headers"
	"github.com/cdnserve/cdnserve/internal/loop"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/stats"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server serves one dist tree: its root library and every named library. Create it with New, serve it as an
// http.Handler, and run Run alongside to follow publishes.
type Server struct {
	cfg  Config
	echo *echo.Echo
	cat  *catalog.Catalog
	// builds is the catalog of the ES-module builds (modules.go), and
	// storedMaps the maps known to be kept in storage.
	builds     *catalog.Catalog
	storedMaps sync.Map
	cache      *content.Cache
	// content reads files' bytes through cache, checked.
	content *content.Store
	policy  cachePolicy
	common  headers.Common
	pages   browse.Cache // rendered index pages
	// generated keeps the compressed forms of generated bodies.
	generated generatedCache
	// damage logs each damage of the tree once.
	damage onceLog
	// ports are the bound ports of the http and https listeners (0:
	// none), for the base URLs the pages offer (publicBases).
	ports map[string]*atomic.Int32
	// publicURL is Config.PublicURL parsed, or nil.
	publicURL *url.URL
	metrics   *metrics
	ids       *requestIDs
	usage     *stats.Recorder
	log       *slog.Logger
	// access is the policy in force (accessPolicy), swapped whole by a
	// reload; failures counts wrong credentials per client.
	access   atomic.Pointer[access.Policy]
	failures *access.Limiter
	// misses counts, per client, requests the mirror found nothing for.
	misses *access.Limiter
}

var _ http.Handler = (*Server)(nil)

// ServeHTTP serves one request. Every request below a version (a file, a
// version's page, a range's redirect) takes one way through, serveAsset;
// Echo routes the rest: /, the /-/ endpoints, and their 404s and 405s.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if len(r.TransferEncoding) > 0 {
		// A request with a body in Transfer-Encoding, which no GET or HEAD
		// to a CDN needs, may be smuggling a second request past a proxy
		// that read its Content-Length (net/http drops that header before
		// we see it). RFC 9112 §6.1: close the connection after answering.
		w.Header()["Connection"] = hvClose
	}
	if isAssetPath(r.URL.Path) {
		if p, ok := s.libraryAPIPath(r.URL.Path); ok {
			// A signed URL signs the path the client asked for.
			r = r.WithContext(context.WithValue(r.Context(), signedPathKey{}, r.URL.Path))
			r.URL.Path = p
			s.echo.ServeHTTP(w, r)
			return
		}
		s.serveAsset(w, r)
		return
	}
	s.echo.ServeHTTP(w, r)
}

// newLibrary makes the server's data of a library the catalog found: its
// metrics, under the root library's label "-" or its name.
func (s *Server) newLibrary(lib *store) any {
	label := lib.Name()
	if label == "" {
		label = layout.RootLibrary
	}
	return &libData{counts: s.metrics.library(label)}
}

// New checks the config, lists the tree once, and builds the handler.
// It fails when the tree cannot be listed.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:    cfg,
		cache:  content.NewCache(cfg.CacheBytes),
		policy: newCachePolicy(cfg),
		common: headers.NewCommon(cfg.CORSOrigins, cfg.CORSMaxAge, cfg.HSTSMaxAge),
		ids:    newRequestIDs(),
		log:    cfg.Logger,
		ports:  map[string]*atomic.Int32{"http": {}, "https": {}},
	}
	if cfg.PublicURL != "" {
		s.publicURL, _ = url.Parse(cfg.PublicURL) // checked by Validate
	}
	if err := s.loadAccess(); err != nil {
		return nil, err
	}
	s.failures = &access.Limiter{Max: cfg.FailedCredentials, Clock: cfg.Clock}
	s.misses = &access.Limiter{Max: cfg.MirrorMisses, Clock: cfg.Clock}
	s.content = content.NewStore(cfg.Fs, s.cache)
	s.metrics = newMetrics(s.cache)
	if cfg.Upstreams != nil {
		s.metrics.reg.MustRegister(newUpstreamCollector(cfg.Upstreams))
	}
	s.cat = catalog.New(catalog.Options{Fs: cfg.Fs, Root: cfg.Root, NegativeTTL: cfg.NegativeTTL, Clock: cfg.Clock, Log: cfg.Logger,
		NewLibrary:    s.newLibrary,
		NewVersion:    s.newVersion,
		ForgetLibrary: s.metrics.forget,
	})
	s.builds = s.newBuilds()
	s.usage = stats.NewRecorder(cfg.Fs, cfg.Root, cfg.ReplicaID, cfg.StatsFlush, cfg.Clock)
	s.metrics.reg.MustRegister(newVersionCollector(s))
	if err := s.cat.Refresh(); err != nil {
		return nil, fmt.Errorf("dist root %s: %w", cfg.Root, err)
	}
	s.echo = s.routes()
	s.warnUnopenable()
	return s, nil
}

func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.observe, commonMiddleware(s.common))
	get := []string{http.MethodGet, http.MethodHead}
	e.Match(get, "/", s.handleIndex)
	e.Match(get, "/-/libraries", s.handleLibraries)
	e.Match(get, "/-/versions", s.handleVersions)
	e.Match(get, "/-/versions/*", s.handleVersions)
	e.Match(get, "/-/meta/*", s.handleMeta)
	e.Match(get, "/-/snippet", s.handleSnippet)
	e.Match(get, "/-/switch", s.handleSwitch)
	e.Match(get, "/-/loader.js", s.handleLoader)
	e.Match(get, "/-/stats", s.handleStats)
	e.Match(get, "/-/stats/*", s.handleStats)
	e.Match(get, "/-/importmap", s.handleImportMap)
	e.POST("/-/importmap", s.handlePostImportMap)
	e.Match(get, "/-/importmap/:file", s.handleStoredMap)
	e.Match(get, "/-/esm/*", s.handleBuild)
	e.Match(get, "/-/healthz", s.handleHealthz)
	e.Match(get, "/-/readyz", s.handleReadyz)
	return e
}

// AdminHandler serves the operator's endpoints, for a listener of their
// own (ListenOptions.AdminAddr, loopback by default): /-/metrics, whose
// labels name every library, private ones too, and /-/healthz and
// /-/readyz for probes that live there. The public handler never
// serves /-/metrics.
func (s *Server) AdminHandler() http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	get := []string{http.MethodGet, http.MethodHead}
	e.Match(get, "/-/healthz", s.handleHealthz)
	e.Match(get, "/-/readyz", s.handleReadyz)
	if s.cfg.Upstreams != nil {
		e.Match(get, "/-/upstreams", s.handleUpstreams)
	}
	metricsHandler := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
	e.Match(get, "/-/metrics", func(c echo.Context) error {
		setKind(c, kindHealth)
		c.Response().Header()["Cache-Control"] = noStore
		metricsHandler.ServeHTTP(c.Response().Writer, c.Request())
		return nil
	})
	return e
}

// CountPurge counts a purge sent to an edge (err nil) or given up on, in
// cdnserve_purges_total.
func (s *Server) CountPurge(err error) {
	result := "ok"
	if err != nil {
		result = "failed"
	}
	s.metrics.purges.WithLabelValues(result).Inc()
}

// Refresh re-reads the libraries, their version lists and their aliases
// from storage now.
func (s *Server) Refresh() error { return s.cat.Refresh() }

// Run refreshes every Config.Refresh until ctx ends, so that aliases and
// /latest/ follow a publish. Storage errors are logged and retried.
func (s *Server) Run(ctx context.Context) {
	go loop.Every(ctx, s.cfg.StatsFlush, func() {
		if err := s.FlushStats(); err != nil {
			s.log.Warn("flushing usage stats failed; the counts are kept for the next flush", "err", err)
		}
	})
	loop.Every(ctx, s.cfg.Refresh, func() {
		if err := s.cat.Refresh(); err != nil {
			s.log.Warn("refresh failed; serving what is loaded", "err", err)
		}
		if s.cfg.AccessFiles.Changed() {
			s.ReloadAccess()
		}
	})
}
