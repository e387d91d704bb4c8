// Package server serves a published dist tree over HTTP with Echo v4:
// exact versions, aliases, semver ranges, precompressed sidecars, exact
// headers, CORS, metadata, health checks and Prometheus metrics.
//
// The tree is read through an afero.Fs and only files listed in a
// version's integrity manifest are ever served, so internal names (dot
// files, staging directories, the lock, manifests, sidecars) cannot be
// reached by any URL.
package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/cdnserve/cdnserve/access"
	"github.com/cdnserve/cdnserve/headers"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/retry"
	"github.com/spf13/afero"
)

// Config configures a Server. The serve command fills it from flags and
// CDNSERVE_* environment variables.
type Config struct {
	// Fs is the storage holding the dist tree. Required.
	Fs afero.Fs
	// Root is the dist root's path in Fs. Required.
	Root string

	// ExactCacheControl is sent with files of exact versions, which never
	// change (default "public, max-age=31536000, immutable").
	ExactCacheControl string
	// AliasCacheControl is sent with files of aliases (/1.7/), /latest/
	// targets and /-/versions, which move on publish
	// (default "public, max-age=300, stale-while-revalidate=60").
	AliasCacheControl string
	// RedirectCacheControl is sent with range redirects (default
	// "public, max-age=60").
	RedirectCacheControl string
	// NotFoundCacheControl is sent with 404s (default "public, max-age=60").
	NotFoundCacheControl string

	// CORSOrigins lists the origins allowed to read responses. Empty means
	// any origin ("Access-Control-Allow-Origin: *"); otherwise a listed
	// origin is echoed back with "Vary: Origin".
	CORSOrigins []string
	// CORSMaxAge is how long a browser may cache a preflight answer
	// (default 24h; sent in seconds).
	CORSMaxAge time.Duration
	// HSTSMaxAge is the Strict-Transport-Security max-age sent on TLS
	// responses (default 365 days; negative disables it).
	HSTSMaxAge time.Duration

	// Refresh is how often the version list and the aliases are re-read
	// from storage (default 2s). A request for an unknown version checks
	// storage at once, whatever this is.
	Refresh time.Duration
	// NegativeTTL is how long a version that storage does not have is
	// remembered as absent, so a flood of misses does not hammer storage
	// (default 1s).
	NegativeTTL time.Duration
	// CacheBytes bounds the in-memory cache of file bodies (default
	// 256 MiB). Files larger than CacheBytes/16 are streamed from storage
	// instead.
	CacheBytes int64
	// MaxRanges is the most byte ranges a request may ask for; a request
	// with more gets the whole file, as nginx's max_ranges does (default 8).
	MaxRanges int

	// Access, if set, makes libraries private (access.Policy): their
	// files, pages and /-/ documents need a bearer token or a signed URL,
	// and are sent with Cache-Control: private and no cache tags. Nil:
	// everything is public.
	Access *access.Policy
	// AccessFiles, if set, is where the policy comes from instead of
	// Access: it is loaded by New, and loaded again on SIGHUP and when a
	// file changes (checked every Refresh). A load that fails keeps the
	// policy in force and is logged.
	AccessFiles *access.Files
	// TrustedProxies are the networks of the proxies in front (an edge,
	// a load balancer) whose X-Forwarded-For is believed: a request from
	// one of them is counted against the client it names, for the limits
	// of wrong credentials and of mirror misses. Default none: the peer
	// address is the client, so behind an edge every client shares it.
	TrustedProxies []netip.Prefix
	// MirrorMisses is how many requests one client address may make in
	// a minute for packages the mirror's registry does not have, before
	// it gets 429 (default 20): each costs a registry request.
	MirrorMisses int
	// FailedCredentials is how many wrong credentials one client address
	// may send in a minute before it gets 429 with Retry-After (default
	// 20).
	FailedCredentials int

	// StatsFlush is how often the usage counters are written to this
	// replica's daily stats file (default 1 min; stats package).
	StatsFlush time.Duration
	// ReplicaID names this replica's stats files (default: the host name
	// and a random suffix, new for each process).
	ReplicaID string
	// GoneFor is how long a removed exact version answers 410 Gone before
	// it answers 404 (default 7 days).
	GoneFor time.Duration

	// DisableCacheTags leaves out the Surrogate-Key and Cache-Tag headers
	// (tags.go) that edges purge by. Default: sent (serve --cache-tags).
	DisableCacheTags bool

	// CacheTagHeader, if set, sends the tags in that header alone:
	// "Surrogate-Key" (Varnish's xkey, Fastly) or "Cache-Tag"
	// (Cloudflare). Default "": both. One header fewer keeps a file
	// response's header map within the 14 entries a Go map holds before
	// it grows (docs/benchmarks.md, issue 24).
	CacheTagHeader string

	// Mirror, if set, fetches the libraries it allows when storage lacks
	// them, and publishes them into storage for good (npm.Mirror: the npm
	// mirror of serve --npm-mirror). Nil serves storage alone.
	Mirror Mirror
	// Upstreams, if set, reports the registries the mirror asks and their
	// circuit breakers (npm.Client.Upstreams): /-/upstreams on the admin
	// listener, and the cdnserve_upstream_* metrics.
	Upstreams func() []retry.Upstream
	// Modules, if set, makes /-/importmap's maps for npm packages: whole
	// dependency graphs, built where a browser cannot run the files as
	// they are (esm/graph.Maker, wired by the command). Nil maps each
	// library's own ES-module file (importmap.Make).
	Modules Modules

	// PublicURL is the base URL clients reach this server at, such as
	// "https://cdn.example.com/" (behind a proxy or CDN). The browse pages
	// and /-/snippet show it with both http and https. Empty: taken from
	// each request's Host.
	PublicURL string

	// Logger receives access logs and errors (default: discard).
	Logger *slog.Logger
	// AccessLog logs one line per request when true.
	AccessLog bool
	// Clock gives the time (default time.Now); tests set it.
	Clock func() time.Time
}

// Defaults for Config fields left zero.
const (
	DefaultExactCacheControl    = layout.DefaultExactCacheControl
	DefaultAliasCacheControl    = layout.DefaultAliasCacheControl
	DefaultRedirectCacheControl = layout.DefaultRedirectCacheControl
	DefaultNotFoundCacheControl = layout.DefaultNotFoundCacheControl
	DefaultRefresh              = 2 * time.Second
	DefaultNegativeTTL          = time.Second
	DefaultCacheBytes           = 256 << 20
	DefaultMaxRanges            = 8
	DefaultCORSMaxAge           = headers.DefaultCORSMaxAge
	DefaultHSTSMaxAge           = 365 * 24 * time.Hour
)

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	set := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	set(&c.ExactCacheControl, DefaultExactCacheControl)
	set(&c.AliasCacheControl, DefaultAliasCacheControl)
	set(&c.RedirectCacheControl, DefaultRedirectCacheControl)
	set(&c.NotFoundCacheControl, DefaultNotFoundCacheControl)
	if c.Refresh == 0 {
		c.Refresh = DefaultRefresh
	}
	if c.NegativeTTL == 0 {
		c.NegativeTTL = DefaultNegativeTTL
	}
	if c.StatsFlush == 0 {
		c.StatsFlush = time.Minute
	}
	if c.GoneFor == 0 {
		c.GoneFor = 7 * 24 * time.Hour
	}
	if c.CacheBytes == 0 {
		c.CacheBytes = DefaultCacheBytes
	}
	if c.MaxRanges == 0 {
		c.MaxRanges = DefaultMaxRanges
	}
	if c.CORSMaxAge == 0 {
		c.CORSMaxAge = DefaultCORSMaxAge
	}
	if c.HSTSMaxAge == 0 {
		c.HSTSMaxAge = DefaultHSTSMaxAge
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	return c
}

// Validate reports the first invalid field, naming it and its value.
func (c Config) Validate() error {
	switch c.CacheTagHeader {
	case "", "Surrogate-Key", "Cache-Tag":
	default:
		return fmt.Errorf("server config: CacheTagHeader %q: want Surrogate-Key, Cache-Tag or empty (both)", c.CacheTagHeader)
	}
	if c.Fs == nil {
		return errors.New("server config: Fs is required")
	}
	if c.Root == "" {
		return errors.New("server config: Root is required")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Refresh", c.Refresh}, {"NegativeTTL", c.NegativeTTL}, {"CORSMaxAge", c.CORSMaxAge}} {
		if d.v < 0 {
			return fmt.Errorf("server config: %s is %v; it must not be negative", d.name, d.v)
		}
	}
	if c.CacheBytes < 0 {
		return fmt.Errorf("server config: CacheBytes is %d; it must not be negative", c.CacheBytes)
	}
	if c.MaxRanges < 0 {
		return fmt.Errorf("server config: MaxRanges is %d; it must not be negative", c.MaxRanges)
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("server config: PublicURL %q: want an http or https URL such as https://cdn.example.com/", c.PublicURL)
		}
	}
	for _, o := range c.CORSOrigins {
		if err := headers.CheckOrigin(o); err != nil {
			return fmt.Errorf("server config: CORS origin %q: %w", o, err)
		}
	}
	for _, cc := range []struct{ name, v string }{
		{"ExactCacheControl", c.ExactCacheControl}, {"AliasCacheControl", c.AliasCacheControl},
		{"RedirectCacheControl", c.RedirectCacheControl}, {"NotFoundCacheControl", c.NotFoundCacheControl},
	} {
		if strings.ContainsAny(cc.v, "\r\n") {
			return fmt.Errorf("server config: %s %q must be one header line", cc.name, cc.v)
		}
	}
	return nil
}
