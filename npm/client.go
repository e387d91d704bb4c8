// Package npm fetches packages from npm registries for cdnserve: it reads
// .npmrc as npm does, resolves a range against a package's document with
// npm's rules, downloads the tarball and checks it against the
// registry's integrity string (sha512), failing closed, and extracts only
// the regular files below package/, within size limits. Add publishes a
// package into a dist tree as a named library, and Mirror does the same
// on demand for a server.
//
// Tokens go only to the registry they are configured for (Config), and
// never appear in errors or logs: registry URLs are printed redacted and
// tokens travel in headers alone.
package npm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/cdnserve/cdnserve/gate"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/redact"
	"github.com/cdnserve/cdnserve/retry"
	"github.com/spf13/afero"
)

// Errors a Client returns; each comes wrapped with the package and URL.
var (
	// ErrNotFound is a package, version or tag the registry does not have.
	// It is also fs.ErrNotExist, so a server maps it to 404 without
	// knowing this package.
	ErrNotFound error = kindError{"not found", fs.ErrNotExist}
	// ErrUnavailable is a registry that failed: refused the connection,
	// answered 5xx, or kept answering 429.
	ErrUnavailable = errors.New("registry unavailable")
	// ErrTimeout is a registry that did not answer in time. It is also
	// context.DeadlineExceeded.
	ErrTimeout error = kindError{"registry timed out", context.DeadlineExceeded}
	// ErrIntegrity is a tarball whose bytes do not match the registry's
	// integrity string, or a package document that cannot be used.
	ErrIntegrity error = integrityError{}
	// ErrDenied is a registry that refused the request (401, 403): a
	// missing or wrong token.
	ErrDenied = errors.New("registry refused access")
	// ErrOffline is a request an offline client (Client.Offline) could
	// not answer from its cache: nothing was sent. It is also
	// context.DeadlineExceeded, so a server that knows nothing of it
	// answers 504, and it has OfflineMiss, for one that says more.
	ErrOffline error = offlineError{}
)

// offlineError is ErrOffline.
type offlineError struct{}

func (offlineError) Error() string {
	return "offline: not in the cache, and the network is not used (--offline)"
}
func (offlineError) Is(target error) bool { return target == context.DeadlineExceeded }
func (offlineError) OfflineMiss() bool    { return true }

// kindError is an error that is also a standard one, for errors.Is.
type kindError struct {
	msg  string
	also error
}

func (e kindError) Error() string        { return e.msg }
func (e kindError) Is(target error) bool { return target == e.also }

// Client talks to npm registries. Make one with NewClient; its fields may
// be changed before first use.
type Client struct {
	// Config says which registry serves a package, with which token.
	Config *Config
	// HTTP sends the requests (default: a client with a 30 s timeout).
	HTTP *http.Client
	// DocTTL is how long a package document is reused before it is asked
	// for again (default 60 s).
	DocTTL time.Duration
	// CacheDir keeps verified tarballs on disk, keyed by their integrity
	// string, so a build with an exact version needs the registry only
	// for what it has never fetched. Empty keeps none.
	CacheDir string
	// Attempts is how many times a request is tried when the registry
	// answers 429 or 5xx or the connection fails (default 3); Backoff is
	// the first wait (default 200 ms), doubled each time, and a 429's
	// Retry-After is honoured up to MaxRetryAfter (default 30 s).
	Attempts      int
	Backoff       time.Duration
	MaxRetryAfter time.Duration
	// Limits bound what a package may hold (default DefaultLimits).
	Limits Limits
	// Clock is the time (default time.Now).
	Clock func() time.Time
	// Gate is the supply-chain gate every version passes before its
	// files are fetched for storage or a build (Add, File); nil admits
	// what the integrity check admits.
	Gate *gate.Gate
	// Offline never touches the network: documents and tarballs come
	// from CacheDir only, and anything else fails with ErrOffline,
	// naming what is missing (serve --offline, add --offline).
	Offline bool
	// BreakerFailures failures in a row open a registry's circuit
	// breaker (default 3), which then skips it for BreakerCooldown
	// (default 30 s) before one trial request (retry.Breaker).
	BreakerFailures int
	BreakerCooldown time.Duration

	mu       sync.Mutex
	breakers map[string]*retry.Breaker
	docs     map[string]cachedDoc
	public   map[string]publicity
	group    singleflight.Group
	// downloads counts tarball requests sent, for tests and metrics.
	downloads atomic.Int64
}

// cachedDoc is a document as fetched, or a registry's 404 for it (doc
// nil, err set): both are kept for DocTTL, so a flood of requests for
// names the registry lacks asks it once a name.
type cachedDoc struct {
	doc     *Packument
	err     error
	fetched time.Time
}

// NewClient is a Client with the defaults, for a configuration.
func NewClient(cfg *Config) *Client {
	return &Client{Config: cfg, HTTP: retry.NewHTTPClient(30 * time.Second), DocTTL: 60 * time.Second,
		Attempts: 3, Backoff: 200 * time.Millisecond, MaxRetryAfter: 30 * time.Second, Limits: DefaultLimits,
		Clock: time.Now, docs: map[string]cachedDoc{}}
}

// IsPublic reports whether a package's document can be read without a
// token: the registry serves it to anyone. A package only a token opens
// is private, and must stay so. A registry that cannot be asked counts
// as private.
//
// A registry that refuses the anonymous request (401, 403) or says it has
// no such package (404, as npm answers for a private package without a
// token) makes it private. A registry that cannot be asked (down, 5xx,
// timed out) is an error: the caller answers 502 or 504, never 404.
func (c *Client) IsPublic(ctx context.Context, name string) (bool, error) {
	registry := c.Config.RegistryFor(name)
	if c.Config.tokenFor(registry) == "" {
		return true, nil // no token is configured: what we fetch, anyone may
	}
	c.mu.Lock()
	known, ok := c.public[name]
	c.mu.Unlock()
	if ok && c.Clock().Sub(known.at) < c.DocTTL {
		return known.public, nil
	}
	anon := &Client{Config: NewConfig(registry), HTTP: c.HTTP, Attempts: 1, Limits: c.Limits, Offline: c.Offline}
	_, err := anon.fetchPackument(ctx, name)
	if err != nil && !errors.Is(err, ErrDenied) && !errors.Is(err, ErrNotFound) {
		return false, err
	}
	c.mu.Lock()
	if c.public == nil {
		c.public = map[string]publicity{}
	}
	c.public[name] = publicity{public: err == nil, at: c.Clock()}
	c.mu.Unlock()
	return err == nil, nil
}

// publicity is what IsPublic found, and when: kept for DocTTL.
type publicity struct {
	public bool
	at     time.Time
}

// Downloads is how many tarball requests the client has sent.
func (c *Client) Downloads() int { return int(c.downloads.Load()) }

// Packument is a package's document in the registry: its versions and
// its dist-tags.
type Packument struct {
	Name     string                     `json:"name"`
	DistTags map[string]string          `json:"dist-tags"`
	Versions map[string]*PackageVersion `json:"versions"`
	// Time is when each version was published (and "created",
	// "modified"), as RFC 3339 strings; the gate's minimum age and key
	// expiry read it.
	Time map[string]string `json:"time"`
	// Registry is the registry it came from.
	Registry string `json:"-"`
	// refused are the versions set aside by check, and why.
	refused map[string]string
}

// PackageVersion is one version of a package, as its document lists it.
type PackageVersion struct {
	Name       string          `json:"name"`
	Version    string          `json:"version"`
	License    json.RawMessage `json:"license"`
	Main       string          `json:"main"`
	Browser    json.RawMessage `json:"browser"`
	Unpkg      string          `json:"unpkg"`
	Jsdelivr   string          `json:"jsdelivr"`
	Deprecated json.RawMessage `json:"deprecated"`
	// Scripts and Maintainers are signals the supply-chain gate records.
	Scripts     map[string]string `json:"scripts"`
	Maintainers []struct {
		Name string `json:"name"`
	} `json:"maintainers"`
	Dist struct {
		Integrity string `json:"integrity"`
		Shasum    string `json:"shasum"`
		Tarball   string `json:"tarball"`
		// Signatures are the registry's ECDSA signatures over
		// "<name>@<version>:<integrity>"; Attestations points at the
		// version's Sigstore attestations.
		Signatures   []gate.Signature `json:"signatures"`
		Attestations *struct {
			URL string `json:"url"`
		} `json:"attestations"`
	} `json:"dist"`
}

// LicenseName is the version's license as a string: the SPDX expression,
// or an old-style {"type": …} object's type.
func (v *PackageVersion) LicenseName() string {
	var s string
	if json.Unmarshal(v.License, &s) == nil {
		return s
	}
	var o struct{ Type string }
	if json.Unmarshal(v.License, &o) == nil {
		return o.Type
	}
	return ""
}

// Entry is the file a browser should load, as jsDelivr picks it: the
// "jsdelivr" field, then "unpkg", then "browser" when it is a string,
// then "main"; "" when none is set. A leading "./" is dropped.
func (v *PackageVersion) Entry() string {
	var browser string
	json.Unmarshal(v.Browser, &browser)
	for _, e := range []string{v.Jsdelivr, v.Unpkg, browser, v.Main} {
		if e = strings.TrimPrefix(e, "./"); e != "" {
			return e
		}
	}
	return ""
}

// Packument returns a package's document: from memory when it was fetched
// less than DocTTL ago, else from its registry. Concurrent calls for one
// package share one request. When the registry fails, the last document
// fetched is returned with the error (stale is true), so a caller can
// decide to use it.
func (c *Client) Packument(ctx context.Context, name string) (doc *Packument, stale bool, err error) {
	if err := layout.CheckLibraryName(name); err != nil || name == "" {
		return nil, false, fmt.Errorf("%q is not an npm package name cdnserve can host: %w", name, ErrNotFound)
	}
	c.mu.Lock()
	cached, ok := c.docs[name]
	c.mu.Unlock()
	if ok && c.Clock().Sub(cached.fetched) < c.DocTTL {
		return cached.doc, false, cached.err
	}
	v, err, _ := c.group.Do("doc:"+name, func() (any, error) {
		return c.fetchPackument(ctx, name)
	})
	if errors.Is(err, ErrNotFound) {
		c.remember(name, cachedDoc{err: err, fetched: c.Clock()})
		return nil, false, err
	}
	if err != nil {
		if ok && cached.doc != nil {
			return cached.doc, true, err
		}
		return nil, false, err
	}
	doc = v.(*Packument)
	c.remember(name, cachedDoc{doc: doc, fetched: c.Clock()})
	return doc, false, nil
}

// maxDocs bounds the documents and 404s kept in memory; past it the
// oldest half is dropped.
const maxDocs = 10_000

// remember keeps a document or a 404 for DocTTL.
func (c *Client) remember(name string, d cachedDoc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.docs) >= maxDocs {
		for n, old := range c.docs {
			if c.Clock().Sub(old.fetched) >= c.DocTTL || len(c.docs) >= maxDocs/2 {
				delete(c.docs, n)
			}
		}
	}
	c.docs[name] = d
}

// fetchPackument asks the registries of the package's rule, in order
// (fromRule), for its document, and keeps a copy in CacheDir for
// Offline. Offline, the copy is all there is.
func (c *Client) fetchPackument(ctx context.Context, name string) (*Packument, error) {
	if c.Offline {
		p := c.docPath(name)
		kept, err := afero.ReadFile(c.cacheFs(), p)
		registry, body, ok := bytes.Cut(kept, []byte("\n"))
		if p == "" || err != nil || !ok {
			return nil, fmt.Errorf("package %s: %w: its document was never fetched into the cache", name, ErrOffline)
		}
		doc, err := parsePackument(name, body, "the cache")
		if err == nil {
			doc.Registry = string(registry)
		}
		return doc, err
	}
	return c.fromRule(name, func(registry string) (*Packument, error) {
		u := registry + strings.Replace(url.PathEscape(name), "%40", "@", 1)
		body, err := c.get(ctx, u, "application/json", 64<<20)
		if err != nil {
			return nil, fmt.Errorf("package %s: %w", name, err)
		}
		doc, err := parsePackument(name, body, u)
		if err != nil {
			return nil, err
		}
		doc.Registry = registry
		if c.CacheDir != "" {
			// A cache that cannot be written costs offline use, no more.
			layout.WriteFileAtomic(c.cacheFs(), c.docPath(name), append([]byte(registry+"\n"), body...))
		}
		return doc, nil
	})
}

// parsePackument reads a package's document, from u (for messages).
func parsePackument(name string, body []byte, u string) (*Packument, error) {
	var doc Packument
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("package %s: %s: %w: not a package document: %v", name, redact.URL(u), ErrIntegrity, err)
	}
	if doc.Name != name {
		return nil, fmt.Errorf("package %s: %s: %w: the document is for %q", name, redact.URL(u), ErrIntegrity, doc.Name)
	}
	doc.check()
	return &doc, nil
}

// get sends a GET with the token for its URL, if any, retrying 429, 5xx
// and failed connections with backoff (a 429's Retry-After honoured),
// and returns at most limit bytes of the body. Errors name the URL,
// redacted, and wrap ErrNotFound, ErrDenied, ErrUnavailable or
// ErrTimeout; never the token.
func (c *Client) get(ctx context.Context, u, accept string, limit int64) ([]byte, error) {
	var body []byte
	policy := retry.Policy{Attempts: max(1, c.Attempts), Backoff: c.Backoff, MaxRetryAfter: c.MaxRetryAfter}
	_, err := retry.Do(ctx, policy, func(ctx context.Context) error {
		b, err, again := c.getOnce(ctx, u, accept, limit)
		if err != nil && !again {
			return retry.Permanent(err)
		}
		body = b
		return err
	})
	var stopped *retry.Stopped
	if errors.As(err, &stopped) {
		return nil, timeoutOr(stopped.Cause, u)
	}
	return body, err
}

func (c *Client) getOnce(ctx context.Context, u, accept string, limit int64) (body []byte, err error, again bool) {
	resp, err, again := c.open(ctx, u, accept)
	if err != nil {
		return nil, err, again
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: reading the body: %v", redact.URL(u), ErrUnavailable, redact.Text(err.Error())), true
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%s: larger than %d MB: %w", redact.URL(u), limit>>20, ErrTooBig), false
	}
	return body, nil, false
}

// getTo is get that streams the body into w, at most limit bytes;
// reset is called before each try, to start w again.
func (c *Client) getTo(ctx context.Context, u string, w io.Writer, limit int64, reset func() error) error {
	policy := retry.Policy{Attempts: max(1, c.Attempts), Backoff: c.Backoff, MaxRetryAfter: c.MaxRetryAfter}
	_, err := retry.Do(ctx, policy, func(ctx context.Context) error {
		if err := reset(); err != nil {
			return retry.Permanent(err)
		}
		resp, err, again := c.open(ctx, u, "application/octet-stream")
		if err != nil {
			if !again {
				return retry.Permanent(err)
			}
			return err
		}
		defer resp.Body.Close()
		n, err := io.Copy(w, io.LimitReader(resp.Body, limit+1))
		switch {
		case err != nil:
			return fmt.Errorf("%s: %w: reading the body: %v", redact.URL(u), ErrUnavailable, redact.Text(err.Error()))
		case n > limit:
			return retry.Permanent(fmt.Errorf("%s: larger than %d MB: %w", redact.URL(u), limit>>20, ErrTooBig))
		}
		return nil
	})
	var stopped *retry.Stopped
	if errors.As(err, &stopped) {
		return timeoutOr(stopped.Cause, u)
	}
	return err
}

// open sends a GET with the token for its URL, if any, and returns the
// response of a 200; any other answer is an error (again: worth another
// try), wrapping ErrNotFound, ErrDenied or ErrUnavailable.
func (c *Client) open(ctx context.Context, u, accept string) (*http.Response, error, bool) {
	if c.Offline {
		return nil, fmt.Errorf("%s: %w", redact.URL(u), ErrOffline), false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", redact.URL(u), err), false
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", "cdnserve")
	if token := c.Config.tokenFor(u); token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil || isTimeout(err) {
			return nil, timeoutOr(context.DeadlineExceeded, u), ctx.Err() == nil
		}
		return nil, fmt.Errorf("%s: %w: %v", redact.URL(u), ErrUnavailable, redact.Text(err.Error())), true
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil, false
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("%s: %w (HTTP 404)", redact.URL(u), ErrNotFound), false
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("%s: %w (HTTP %d): configure a token for this registry in .npmrc (//host/path/:_authToken=${NPM_TOKEN})", redact.URL(u), ErrDenied, resp.StatusCode), false
	case resp.StatusCode == http.StatusTooManyRequests:
		err := fmt.Errorf("%s: %w (HTTP 429, rate limited)", redact.URL(u), ErrUnavailable)
		return nil, retry.After(err, retry.RetryAfter(resp.Header, time.Now())), true
	case resp.StatusCode >= 500:
		return nil, fmt.Errorf("%s: %w (HTTP %d)", redact.URL(u), ErrUnavailable, resp.StatusCode), true
	}
	return nil, fmt.Errorf("%s: %w (HTTP %d)", redact.URL(u), ErrUnavailable, resp.StatusCode), false
}

func timeoutOr(err error, u string) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", redact.URL(u), ErrTimeout)
	}
	return fmt.Errorf("%s: %w", redact.URL(u), err)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// integrityError is ErrIntegrity: a server tells its clients of it
// (IntegrityFailure) without importing this package.
type integrityError struct{}

func (integrityError) Error() string { return "integrity check failed" }

// IntegrityFailure marks a failure the client may be told of: what the
// registry sent did not match what it promised.
func (integrityError) IntegrityFailure() bool { return true }
