// Package purge tells edges (Varnish, nginx, Squid, Fastly, Cloudflare,
// CloudFront, or a webhook) that an alias moved, so that they drop what
// they cached of it: its files, its page, the library's range redirects
// and pages. Exact versions are never purged: they never change.
//
// The timing is the caller's (Set.After): a purge sent while a replica
// still serves the old alias lets the edge refill with it. The publisher
// waits for the replicas' refresh interval before it purges, so that the
// one purge comes after every replica serves the new alias (see
// docs/deploy.md).
package purge

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/cdnserve/cdnserve/access"
	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/redact"
	"github.com/cdnserve/cdnserve/retry"
)

// Event is one change an edge must learn of: a library published a
// version, which moved (or created) an alias, or moved none; or a
// version was deprecated, undeprecated or removed (Kind).
type Event struct {
	// Library is the library's name; "" for the root library.
	Library string `json:"library"`
	// Kind is "" for a publish or a purge by hand, else dist's
	// ChangeDeprecate, ChangeUndeprecate or ChangeRemove.
	Kind string `json:"kind,omitempty"`
	// Alias is the major.minor alias that moved, or "" when none did (a
	// prerelease, or an older patch).
	Alias string `json:"alias"`
	// From is the version the alias held before ("" when it was
	// created); To is the version published, which the alias now holds.
	From string `json:"from"`
	To   string `json:"to"`
	// Files are the paths, inside a version, of the files the alias held
	// before and holds now.
	Files []string `json:"-"`
	// Latest is true when To is now the library's latest version.
	Latest bool `json:"-"`
}

func (e Event) String() string {
	lib := e.Library
	if lib == "" {
		lib = "the root library"
	}
	if e.Kind != "" {
		return fmt.Sprintf("%s %s %s", lib, e.Kind, e.To)
	}
	if e.Alias == "" {
		return fmt.Sprintf("%s %s", lib, e.To)
	}
	if e.From == "" {
		return fmt.Sprintf("%s alias %s (new) -> %s", lib, e.Alias, e.To)
	}
	return fmt.Sprintf("%s alias %s %s -> %s", lib, e.Alias, e.From, e.To)
}

// Tags are the cache tags (server/tags.go) of everything the event makes
// stale: the alias's responses, the library's moving responses (range
// redirects, pages, /-/versions, /-/meta, and every 404 of a version
// that did not exist, such as the new one's), and the index. Never an
// exact version's tag: its files do not change, and stay cached; only a
// removal purges it, since the version's files are gone.
func (e Event) Tags() []string {
	lib := e.Library
	var tags []string
	if e.Alias != "" {
		tags = append(tags, lib+"@"+e.Alias)
	}
	if e.Kind == dist.ChangeRemove {
		tags = append(tags, lib+"@"+e.To)
	}
	return append(tags, lib+"@*", "@index")
}

// Paths are the URL paths of what the event makes stale, for edges that
// purge by URL: each of the alias's files and its page, the latest
// redirects, the library's page, its /-/versions and the alias's
// /-/meta, /-/libraries and /. A publish (From differs from To) also
// purges the new version's own URLs, for the 404s an edge may hold from
// before it existed, and a removal the removed version's; a deprecation
// purges the version's page and /-/meta, whose bodies change; a purge by
// hand never names an exact version.
// Redirects of other ranges (/^2.2.0/…) cannot be listed: they expire
// with their short max-age (60 s), or go with the tag purge.
func (e Event) Paths() []string {
	prefix, meta, versions := "/", "/-/meta/", "/-/versions"
	if e.Library != "" {
		prefix, meta, versions = "/"+e.Library+"/", "/-/meta/"+e.Library+"/", "/-/versions/"+e.Library
	}
	var out []string
	if e.Alias != "" {
		out = append(out, prefix+e.Alias+"/")
		for _, f := range e.Files {
			out = append(out, prefix+e.Alias+"/"+escapePath(f))
		}
		out = append(out, meta+e.Alias)
	}
	if e.Kind != "" {
		out = append(out, prefix+e.To+"/", meta+e.To) // its page and /-/meta show the deprecation
	}
	if (e.Kind == "" && e.From != e.To) || e.Kind == dist.ChangeRemove {
		out = append(out, prefix+e.To+"/", meta+e.To)
		for _, f := range e.Files {
			out = append(out, prefix+e.To+"/"+escapePath(f))
		}
	}
	if e.Latest {
		for _, f := range e.Files {
			out = append(out, prefix+"latest/"+escapePath(f))
		}
	}
	out = append(out, prefix, versions, "/-/libraries")
	if e.Library != "" {
		out = append(out, "/")
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func escapePath(p string) string { return (&url.URL{Path: p}).EscapedPath() }

// Purger tells one edge about events.
type Purger interface {
	// Purge sends one event.
	Purge(ctx context.Context, e Event) error
	// String names the purger without its credentials.
	String() string
}

// Result is how one purger fared with one event.
type Result struct {
	Purger   string
	Event    Event
	Attempts int
	Err      error
}

// Set sends events to every purger, after a delay, retrying failures
// with backoff. A purge that fails never fails its caller: the publish
// has happened. Each result is logged and handed to OnResult.
type Set struct {
	Purgers []Purger
	// After is how long to wait before purging: the replicas' refresh
	// interval and a margin, so that every replica serves the new alias
	// when the edge refills.
	After time.Duration
	// Attempts is how many times each purger is tried (default 4);
	// Backoff the first wait between tries (default 500 ms), doubled
	// each time, with jitter.
	Attempts int
	Backoff  time.Duration
	// Timeout bounds each purger's whole try of one event, its retries
	// included (default DefaultTimeout); one attempt gets at most
	// AttemptTimeout of it. A purge target that hangs costs this, once.
	Timeout time.Duration
	Log     *slog.Logger
	// OnResult, if set, is called with every result (metrics).
	OnResult func(Result)
	// Private are the patterns of private libraries (serve --private).
	// Purge drops every event of one: a private library is never cached
	// at an edge, and never named to one.
	Private []string
}

// The bounds of one purger's try of one event.
const (
	DefaultTimeout = 60 * time.Second
	AttemptTimeout = 15 * time.Second
)

// Purge waits After (or until ctx ends, when it purges at once), then
// sends the events to every purger concurrently, and returns a result per
// purger and event. Events of private libraries are dropped first.
func (s *Set) Purge(ctx context.Context, events ...Event) []Result {
	return s.PurgeSince(ctx, time.Now(), events...)
}

// PurgeSince is Purge for a change made at since: it waits until After
// has passed since then (at most After from now, whatever the clocks say).
func (s *Set) PurgeSince(ctx context.Context, since time.Time, events ...Event) []Result {
	events = s.Public(events)
	if len(s.Purgers) == 0 || len(events) == 0 {
		return nil
	}
	if wait := min(time.Until(since.Add(s.After)), s.After); wait > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	ctx = context.WithoutCancel(ctx)
	results := make([]Result, len(s.Purgers)*len(events))
	var wg sync.WaitGroup
	for i, p := range s.Purgers {
		for j, e := range events {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i*len(events)+j] = s.send(ctx, p, e)
			}()
		}
	}
	wg.Wait()
	return results
}

// Public returns the events that may be sent: those of private
// libraries dropped. Purge calls it; a caller may too, to say what it
// will purge.
func (s *Set) Public(events []Event) []Event {
	if len(s.Private) == 0 {
		return events
	}
	policy := access.Policy{Private: s.Private}
	return slices.DeleteFunc(slices.Clone(events), func(e Event) bool { return policy.IsPrivate(e.Library) })
}

// send tries one purger with one event.
func (s *Set) send(ctx context.Context, p Purger, e Event) Result {
	attempts, backoff := s.Attempts, s.Backoff
	if attempts == 0 {
		attempts = 4
	}
	if backoff == 0 {
		backoff = 500 * time.Millisecond
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r := Result{Purger: p.String(), Event: e}
	r.Attempts, r.Err = retry.Do(ctx, retry.Policy{Attempts: attempts, Backoff: backoff, AttemptTimeout: min(AttemptTimeout, timeout)},
		func(ctx context.Context) error { return p.Purge(ctx, e) })
	if r.Err != nil && ctx.Err() != nil {
		r.Err = fmt.Errorf("gave up after %s (the purge timeout): %w", timeout, r.Err)
	}
	if s.Log != nil {
		if r.Err != nil {
			s.Log.Error("purge failed; the publish stands, and the edge keeps the old alias until it expires",
				"purger", r.Purger, "event", e.String(), "attempts", r.Attempts, "err", r.Err)
		} else {
			s.Log.Info("purged", "purger", r.Purger, "event", e.String(), "attempts", r.Attempts)
		}
	}
	if s.OnResult != nil {
		s.OnResult(r)
	}
	return r
}

// Parse reads one --purge URL:
//
//	http(s)://host:port          PURGE each path (Varnish, nginx, Squid, Fastly URL purge)
//	xkey+http(s)://host:port     one PURGE with xkey-purge: the tags (Varnish xkey)
//	webhook+https://…            POST the event as JSON
//	cloudflare://ZONE_ID         the Cloudflare API, by tag; CLOUDFLARE_API_TOKEN
//	fastly://SERVICE_ID          the Fastly API, by surrogate key; FASTLY_API_TOKEN
//	cloudfront://DISTRIBUTION_ID an invalidation of the paths, through the AWS SDK
//
// getenv reads the tokens. The API purgers take ?api=URL, another base
// URL for the API (a proxy, or a test server). client sends the purger's
// requests (nil: retry.NewHTTPClient with a 30 s timeout).
func Parse(raw string, getenv func(string) string, client *http.Client) (Purger, error) {
	if client == nil {
		client = retry.NewHTTPClient(30 * time.Second)
	}
	s := sender{client}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("--purge %q: not a URL; see cdnserve help for the schemes", redact.URL(raw))
	}
	api := u.Query().Get("api")
	switch u.Scheme {
	case "http", "https":
		return newURLPurger(u, s)
	case "xkey+http", "xkey+https":
		return newXkeyPurger(u, s)
	case "webhook+https", "webhook+http":
		return newWebhook(u, s)
	case "cloudflare":
		return newCloudflare(u.Host, api, getenv("CLOUDFLARE_API_TOKEN"), s)
	case "fastly":
		return newFastly(u.Host, api, getenv("FASTLY_API_TOKEN"), s)
	case "cloudfront":
		return newCloudFront(u.Host, api, s)
	}
	return nil, fmt.Errorf("--purge %q: unknown scheme %q; use http(s), xkey+http(s), webhook+https, cloudflare, fastly or cloudfront", redact.URL(raw), u.Scheme)
}
