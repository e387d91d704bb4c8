// Package headers is the one owner of the headers every response of
// cdnserve carries, whichever server sends it (package server, and
// package devserver for cdnserve dev): CORS (the Fetch standard's CORS
// protocol), X-Content-Type-Options: nosniff, Cross-Origin-Resource-Policy,
// Timing-Allow-Origin, HSTS on TLS, the Vary that CORS and encodings
// need, and the answer to a CORS preflight. It imports nothing of ours.
package headers

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultCORSMaxAge is how long a browser may cache a preflight's answer.
const DefaultCORSMaxAge = 24 * time.Hour

// Header values, computed once and assigned without allocating.
var (
	hvNosniff      = []string{"nosniff"}
	hvCrossOrigin  = []string{"cross-origin"}
	hvStar         = []string{"*"}
	hvMethods      = []string{"GET, HEAD, OPTIONS"}
	hvExpose       = []string{"Content-Length, Content-Range, Content-Encoding, ETag, Last-Modified"}
	hvVaryAE       = []string{"Accept-Encoding"}
	hvVaryOrigin   = []string{"Origin"}
	hvVaryOriginAE = []string{"Origin", "Accept-Encoding"}
	hvNoStore      = []string{"no-store"}
)

// corsPolicy decides the CORS headers (Fetch standard, "CORS protocol").
// With no allow-list every origin may read ("*"), which is what a public
// CDN serves; with one, an allowed origin is echoed and caches are told
// the answer varies by Origin.
type corsPolicy struct {
	origins []string
	maxAge  []string
}

// allowed reports whether an origin is on the allow-list.
func (p corsPolicy) allowed(origin string) bool { return slices.Contains(p.origins, origin) }

// Common sets the headers every response carries, errors and redirects
// included: CORS, nosniff (so a browser never runs a file as another
// type), Cross-Origin-Resource-Policy (so pages with COEP can embed us),
// Timing-Allow-Origin, and HSTS on TLS. It also answers CORS preflights.
// The server and the dev server (package devserver) both use it, so both
// send the same headers.
type Common struct {
	cors corsPolicy
	hsts []string
}

// NewCommon makes the common headers for a CORS allow-list (empty: any
// origin), a preflight max-age, and an HSTS max-age (zero or less: no
// HSTS).
func NewCommon(corsOrigins []string, corsMaxAge, hstsMaxAge time.Duration) Common {
	c := Common{cors: corsPolicy{origins: corsOrigins, maxAge: []string{strconv.Itoa(int(corsMaxAge.Seconds()))}}}
	if hstsMaxAge > 0 {
		c.hsts = []string{"max-age=" + strconv.Itoa(int(hstsMaxAge.Seconds()))}
	}
	return c
}

// Set sets the common headers for the request.
func (c Common) Set(h http.Header, r *http.Request) {
	if len(c.cors.origins) == 0 {
		h["Access-Control-Allow-Origin"] = hvStar
	} else {
		h["Vary"] = c.Vary(false)
		if o := r.Header.Get("Origin"); o != "" && c.cors.allowed(o) {
			h["Access-Control-Allow-Origin"] = []string{o}
		}
	}
	h["Access-Control-Expose-Headers"] = hvExpose
	h["Timing-Allow-Origin"] = hvStar
	h["X-Content-Type-Options"] = hvNosniff
	h["Cross-Origin-Resource-Policy"] = hvCrossOrigin
	if r.TLS != nil && c.hsts != nil {
		h["Strict-Transport-Security"] = c.hsts
	}
}

// vary is the one place Vary is decided (RFC 9110 §12.5.5): Origin when
// CORS has an allow-list, and Accept-Encoding for a file that has encoded
// variants. Nil when neither.
func (c Common) Vary(compressible bool) []string {
	switch {
	case len(c.cors.origins) > 0 && compressible:
		return hvVaryOriginAE
	case len(c.cors.origins) > 0:
		return hvVaryOrigin
	case compressible:
		return hvVaryAE
	}
	return nil
}

// Preflight answers a CORS preflight (an OPTIONS request) with 204,
// after Set.
func (c Common) Preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Access-Control-Allow-Methods"] = hvMethods
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h["Access-Control-Allow-Headers"] = []string{req}
	}
	h["Access-Control-Max-Age"] = c.cors.maxAge
	h["Cache-Control"] = hvNoStore
	w.WriteHeader(http.StatusNoContent)
}

// CheckOrigin accepts a serialized origin: scheme://host[:port], with no
// path, as browsers send in the Origin header (RFC 6454 §6.1).
func CheckOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return errors.New("want scheme://host[:port], such as https://app.example.com")
	}
	if strings.HasSuffix(o, "/") {
		return errors.New("an origin has no trailing slash")
	}
	return nil
}
