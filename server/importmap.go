package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/cdnserve/cdnserve/access"
	"github.com/cdnserve/cdnserve/importmap"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/loaderjs"
	"github.com/labstack/echo/v4"

	"github.com/cdnserve/cdnserve/catalog"
)

// loaderSum is /-/loader.js's SHA-256, its ETag's source.
var loaderSum = sha256.Sum256(loaderjs.Min)

// handleLoader serves /-/loader.js: the browser dependency loader
// (package loaderjs), cached like an alias (it changes with cdnserve).
func (s *Server) handleLoader(c echo.Context) error {
	setKind(c, kindMeta)
	c.Response().Header()["Cache-Control"] = s.policy.alias
	s.sendGeneratedSum(c.Response(), c.Request(), layout.ContentType("loader.js"), loaderjs.Min, loaderSum)
	return nil
}

// serveBytes answers with bytes whose ETag and Content-Type are set,
// through http.ServeContent, as files are when they have preconditions:
// If-None-Match compared weakly, lists and "*" (RFC 9110 §13.1.2),
// ranges, HEAD, and a Content-Length.
func serveBytes(w http.ResponseWriter, r *http.Request, body []byte) {
	byteRanges(r.Header)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// importMap makes an import map with integrity of libraries of the
// tree (importmap.Make).
func (s *Server) importMap(base string, specs []string) (*importmap.Map, error) {
	return importmap.Make(s.cat, base, specs)
}

// handleImportMap serves /-/importmap?lib=name@range&lib=…: an import map
// with integrity, cached like a redirect (a range moves on publish).
func (s *Server) handleImportMap(c echo.Context) error {
	setKind(c, kindMeta)
	libs := c.QueryParams()["lib"]
	if len(libs) == 0 {
		return echo.NewHTTPError(http.StatusBadRequest, "name at least one library: /-/importmap?lib=name@range&lib=other@1.2.3")
	}
	for _, spec := range libs {
		name, _, _, _ := importmap.SplitSpec(spec)
		if lib, _ := s.cat.Library(name); s.isPrivate(name, lib) {
			g := s.bearerCredential(c.Request(), name)
			if g.Decision != access.Allowed {
				s.refuse(c.Response(), c.Request(), g)
				return nil
			}
			c.Response().Writer = s.private(c.Response().Writer, g)
		}
	}
	if s.cfg.Modules != nil && !importmap.Published(s.cat, libs) {
		if done, err := s.graphMap(c, libs); done || err != nil {
			return err
		}
	}
	m, err := s.importMap(s.tagBase(c.Request()), libs)
	var ie *importmap.Error
	switch {
	case errors.As(err, &ie) && ie.NotFound:
		s.writeError(c.Response(), c.Request(), kindMeta, http.StatusNotFound, ie.Error())
		return nil
	case errors.As(err, &ie):
		return echo.NewHTTPError(http.StatusBadRequest, ie.Error())
	case errors.Is(err, catalog.ErrStorage):
		s.storageError(c.Response(), c.Request(), kindMeta, err)
		return nil
	case err != nil:
		return err
	}
	body, _ := json.MarshalIndent(m, "", "  ")
	c.Response().Header()["Cache-Control"] = s.policy.redirect
	s.sendGenerated(c.Response(), c.Request(), "application/importmap+json", append(body, '\n'))
	return nil
}
