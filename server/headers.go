package server

import (
	"net/http"

	"github.com/cdnserve/cdnserve/headers"
	"github.com/labstack/echo/v4"
)

// Header values, computed once and assigned without allocating. The
// headers every response carries are package headers'.
var (
	hvStar         = []string{"*"}
	hvMethods      = []string{"GET, HEAD, OPTIONS"}
	hvAcceptRanges = []string{"bytes"}
	hvClose        = []string{"close"}
	hvHTML         = []string{"text/html; charset=utf-8"}
	hvNoReferrer   = []string{"no-referrer"}
)

// commonMiddleware sets the common headers on every response of the
// Echo routes and answers preflights.
func commonMiddleware(c headers.Common) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(ec echo.Context) error {
			r := ec.Request()
			c.Set(ec.Response().Header(), r)
			if r.Method == http.MethodOptions {
				setKind(ec, kindPreflight)
				c.Preflight(ec.Response().Writer, r)
				return nil
			}
			return next(ec)
		}
	}
}
