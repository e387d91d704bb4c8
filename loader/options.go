// Package loader is the Go counterpart of the seed project's JavaScript
// DependencyLoader: it builds the URLs of versioned assets on a
// cdnserve deployment (or any CDN with the same layout,
// <cdn>/<version>/<name><suffix>.js), fetches and verifies them, and
// renders the tags that point browsers at them with SRI.
//
// Unlike the original, which hung forever after one failed load, it
// retries with backoff, times out, falls back across mirrors, verifies
// every file against the server's integrity manifest, and caches only
// successes.
package loader

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"
	"github.com/spf13/afero"

	"github.com/cdnserve/cdnserve/retry"
)

// Options configure a Loader. Field names follow the seed's
// {cdn_http, cdn_https, version, suffix}.
type Options struct {
	// CDNHTTP is the base URL used when not encrypted, such as
	// "http://cdn.example.com/". Trailing slashes are ignored.
	CDNHTTP string
	// CDNHTTPS is the base URL used when encrypted.
	CDNHTTPS string
	// Library is the named library the version belongs to, on a server
	// that holds many: its URLs become <cdn>/<library>/<version>/<dep>
	// and its manifest is /-/meta/<library>/<version>. Empty is the root
	// library, <cdn>/<version>/, as in the seed. A CDNHTTP that points
	// at the library itself ("https://cdn.example.com/pusher/") works
	// too, with Library empty: cdnserve answers <library>/-/meta/ there.
	Library string
	// Version is the full, exact version ("2.2.3"), so that files load
	// from the immutable directory and never from an alias. Required.
	Version string
	// Suffix is put between a dependency's name and ".js": ".min" for the
	// minified files, "" for the plain ones.
	Suffix string
	// Encrypted chooses CDNHTTPS for Load, Prefetch and the tags.
	Encrypted bool
	// Mirrors are further base URLs with the same layout, tried in order
	// when the chosen CDN fails ("CDNs do fail").
	Mirrors []string
	// OnDeprecated, if set, is called once when the version's integrity
	// manifest says it is deprecated (cdnserve deprecate), with the
	// message. Nil logs a warning with log/slog's default logger.
	OnDeprecated func(version, message string)
	// Token is a bearer token for private libraries (cdnserve token
	// create). It is sent only to the CDN's own hosts, CDNHTTP's and
	// CDNHTTPS's, never to a mirror or anywhere a redirect leads.
	Token string

	// SkipIntegrity turns off the check of each file against
	// /-/meta/<version>, for CDNs that have no such endpoint. Default:
	// verify, and fail closed.
	SkipIntegrity bool
	// CacheDir keeps fetched files on disk, with their ETags, across
	// processes. Empty disables the disk cache.
	CacheDir string
	// CacheFs is the file system CacheDir is on (default: the OS's).
	CacheFs afero.Fs

	// HTTPClient sends the requests (default: a client with no overall
	// timeout; Timeout and AttemptTimeout apply instead).
	HTTPClient *http.Client
	// Timeout bounds one Load, retries included (default 30s). The
	// caller's context can end it sooner.
	Timeout time.Duration
	// AttemptTimeout bounds one HTTP attempt (default 10s).
	AttemptTimeout time.Duration
	// Attempts is how many times one base is tried before the next mirror
	// (default 3).
	Attempts int
	// Backoff is the first retry's delay; each retry doubles it, with
	// full jitter, up to MaxBackoff (defaults 200ms and 5s). A server's
	// Retry-After overrides it, up to MaxRetryAfter (default 30s).
	Backoff, MaxBackoff, MaxRetryAfter time.Duration
}

// Validate reports the first invalid field, naming it and its value.
func (o Options) Validate() error {
	if o.Version == "" {
		return errors.New("loader: Options.Version is required")
	}
	if _, err := versioning.Parse(o.Version); err != nil {
		return fmt.Errorf("loader: Options.Version %q must be a full version such as 2.2.3, never an alias or range: %w", o.Version, err)
	}
	if o.Library != "" {
		if err := layout.CheckLibraryName(o.Library); err != nil {
			return fmt.Errorf("loader: Options.Library %q %w", o.Library, err)
		}
	}
	if o.CDNHTTP == "" && o.CDNHTTPS == "" {
		return errors.New("loader: set Options.CDNHTTP or Options.CDNHTTPS")
	}
	if o.Encrypted && o.CDNHTTPS == "" {
		return errors.New("loader: Options.Encrypted needs Options.CDNHTTPS")
	}
	if !o.Encrypted && o.CDNHTTP == "" {
		return errors.New("loader: Options.CDNHTTP is empty; set it or set Encrypted with CDNHTTPS")
	}
	bases := map[string]string{"CDNHTTP": o.CDNHTTP, "CDNHTTPS": o.CDNHTTPS}
	for i, m := range o.Mirrors {
		bases[fmt.Sprintf("Mirrors[%d]", i)] = m
	}
	for field, b := range bases {
		if b == "" {
			continue
		}
		u, err := url.Parse(b)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("loader: Options.%s %q must be an http or https URL with a host and no query", field, b)
		}
	}
	if o.Suffix != "" && !validName(o.Suffix) {
		return fmt.Errorf("loader: Options.Suffix %q must not contain '/', '\\', '?', '#' or '..'", o.Suffix)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Timeout", o.Timeout}, {"AttemptTimeout", o.AttemptTimeout}, {"Backoff", o.Backoff}, {"MaxBackoff", o.MaxBackoff}, {"MaxRetryAfter", o.MaxRetryAfter}} {
		if d.v < 0 {
			return fmt.Errorf("loader: Options.%s is %v; it must not be negative", d.name, d.v)
		}
	}
	if o.Attempts < 0 {
		return fmt.Errorf("loader: Options.Attempts is %d; it must not be negative", o.Attempts)
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.HTTPClient == nil {
		o.HTTPClient = retry.NewHTTPClient(0)
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	if o.AttemptTimeout == 0 {
		o.AttemptTimeout = 10 * time.Second
	}
	if o.Attempts == 0 {
		o.Attempts = 3
	}
	if o.Backoff == 0 {
		o.Backoff = 200 * time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.MaxRetryAfter == 0 {
		o.MaxRetryAfter = 30 * time.Second
	}
	if o.CacheDir != "" && o.CacheFs == nil {
		o.CacheFs = afero.NewOsFs()
	}
	return o
}
