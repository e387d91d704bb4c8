package server

import "net/http"

// routeKind says what a response is, for its cache policy and metrics.
type routeKind int

const (
	kindExact     routeKind = iota // a file of an exact version
	kindAlias                      // a file of an alias directory
	kindRedirect                   // a range or tag resolved to a redirect
	kindMeta                       // /-/meta and /-/versions
	kindHealth                     // /-/healthz, /-/readyz, /-/metrics
	kindPreflight                  // OPTIONS
	kindOther                      // anything that matched no route
	numKinds
)

var kindNames = [numKinds]string{"exact", "alias", "redirect", "meta", "health", "preflight", "other"}

// cachePolicy is the one place that decides Cache-Control. Exact versions
// never change, so caches may keep them a year without revalidating
// (RFC 8246 immutable). Aliases move on publish, so they are short.
// Redirects and 404s are cached briefly, so a publish is seen soon. 5xx,
// other errors and health answers are never stored.
type cachePolicy struct {
	exact, alias, redirect, notFound []string
	// retry is for a version that could not be loaded (500, 503): short,
	// so an edge neither hammers storage nor keeps the error.
	retry []string
}

var noStore = []string{"no-store"}

func newCachePolicy(c Config) cachePolicy {
	return cachePolicy{exact: []string{c.ExactCacheControl}, alias: []string{c.AliasCacheControl},
		redirect: []string{c.RedirectCacheControl}, notFound: []string{c.NotFoundCacheControl}, retry: []string{"max-age=5"}}
}

// header returns the Cache-Control value for a response of this kind and
// status.
func (p cachePolicy) header(kind routeKind, status int) []string {
	switch {
	case status == http.StatusNotFound:
		return p.notFound
	case status >= 400 || kind == kindHealth:
		return noStore
	case kind == kindRedirect:
		return p.redirect
	case kind == kindExact:
		return p.exact
	}
	return p.alias
}
