package server

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"
)

// Header values set on every response, computed once.
var (
	hvNosniff     = []string{"nosniff"}
	hvCrossOrigin = []string{"cross-origin"}
	hvStar        = []string{"*"}
	hvMethods     = []string{"GET, HEAD, OPTIONS"}
	hvExpose      = []string{"Content-Length, Content-Range, Content-Encoding, ETag, Last-Modified"}
	hvOrigin      = "Origin"
)

// corsPolicy decides the CORS headers (Fetch standard, "CORS protocol").
// With no allow-list every origin may read ("*"), which is what a public
// CDN serves; with one, an allowed origin is echoed and caches are told
// the answer varies by Origin.
type corsPolicy struct {
	origins []string
	maxAge  []string
}

func newCORSPolicy(c Config) corsPolicy {
	return corsPolicy{origins: c.CORSOrigins, maxAge: []string{strconv.Itoa(int(c.CORSMaxAge.Seconds()))}}
}

// apply sets the CORS response headers for the request's Origin.
func (p corsPolicy) apply(h http.Header, r *http.Request) {
	if len(p.origins) == 0 {
		h["Access-Control-Allow-Origin"] = hvStar
	} else {
		h.Add("Vary", hvOrigin)
		if o := r.Header.Get("Origin"); o != "" && p.allowed(o) {
			h["Access-Control-Allow-Origin"] = []string{o}
		}
	}
	h["Access-Control-Expose-Headers"] = hvExpose
	h["Timing-Allow-Origin"] = hvStar
}

// allowed reports whether an origin is on the allow-list.
func (p corsPolicy) allowed(origin string) bool { return slices.Contains(p.origins, origin) }

// commonHeaders sets what every response carries, errors and redirects
// included: CORS, nosniff (so a browser never runs a file as another
// type), Cross-Origin-Resource-Policy (so pages with COEP can embed us),
// and HSTS on TLS. It answers OPTIONS preflights itself with 204. The dev
// server uses it too, so both send the same headers.
func commonHeaders(cors corsPolicy, hsts []string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			h := c.Response().Header()
			cors.apply(h, r)
			h["X-Content-Type-Options"] = hvNosniff
			h["Cross-Origin-Resource-Policy"] = hvCrossOrigin
			if r.TLS != nil && hsts != nil {
				h["Strict-Transport-Security"] = hsts
			}
			if r.Method == http.MethodOptions {
				setKind(c, kindPreflight)
				h["Access-Control-Allow-Methods"] = hvMethods
				if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
					h["Access-Control-Allow-Headers"] = []string{req}
				}
				h["Access-Control-Max-Age"] = cors.maxAge
				h["Cache-Control"] = noStore
				c.Response().Writer.WriteHeader(http.StatusNoContent)
				return nil
			}
			return next(c)
		}
	}
}
