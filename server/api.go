package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/cdnserve/cdnserve/access"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/labstack/echo/v4"

	"github.com/cdnserve/cdnserve/catalog"
)

// libraryOf finds the library an Echo route names, for /-/versions/<name>
// and /-/meta/<name>/<version>, and records it for the metrics. On
// failure it has answered (404, or 503), and returns nil.
func (s *Server) libraryOf(c echo.Context, name string) *store {
	return s.libraryFor(c, name, s.credential)
}

// libraryByQuery is libraryOf for a library the query names
// (/-/snippet?library=): only a bearer token opens a private one there.
func (s *Server) libraryByQuery(c echo.Context, name string) *store {
	return s.libraryFor(c, name, s.bearerCredential)
}

func (s *Server) libraryFor(c echo.Context, name string, credential func(*http.Request, string) access.Grant) *store {
	lib, err := s.cat.Library(name)
	if s.isPrivate(name, lib) {
		c.Set(privateKey, true)
		g := credential(c.Request(), name)
		if g.Decision != access.Allowed {
			s.refuse(c.Response(), c.Request(), g)
			return nil
		}
		c.Response().Writer = s.private(c.Response().Writer, g)
	}
	switch {
	case errors.Is(err, catalog.ErrStorage):
		s.storageError(c.Response(), c.Request(), kindMeta, err)
	case err != nil:
		s.writeError(c.Response(), c.Request(), kindMeta, http.StatusNotFound, "no library named "+name+" is published; the libraries are listed at /-/libraries")
	default:
		c.Set(libraryKey, lib)
	}
	return lib
}

// handleMeta serves /-/meta/<version> and /-/meta/<name>/<version>: an
// exact version or an alias; a range or tag redirects to the exact
// version's document.
func (s *Server) handleMeta(c echo.Context) error {
	setKind(c, kindMeta)
	name, spec := "", c.Param("*")
	if i := strings.LastIndexByte(spec, '/'); i >= 0 {
		name, spec = spec[:i], spec[i+1:]
	}
	if _, _, err := parsePath(spec + "/"); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "bad version")
	}
	lib := s.libraryOf(c, name)
	if lib == nil {
		return nil
	}
	v, err := getVersion(lib, spec)
	if err != nil && layout.IsVersionDir(spec) {
		if _, _, _, ok := s.gone(c.Response(), c.Request(), lib, spec); !ok {
			s.versionError(c.Response(), c.Request(), lib, spec, err)
		}
		return nil
	}
	if errors.Is(err, catalog.ErrStorage) {
		s.storageError(c.Response(), c.Request(), kindMeta, err)
		return nil
	}
	if err != nil {
		exact, rerr := lib.Resolve(spec)
		if errors.Is(rerr, catalog.ErrStorage) {
			s.storageError(c.Response(), c.Request(), kindMeta, rerr)
			return nil
		}
		if rerr != nil {
			s.notFound(c.Response(), c.Request(), kindMeta, lib, rerr)
			return nil
		}
		c.Response().Header()["Cache-Control"] = s.policy.redirect
		s.setTags(c.Response().Header(), specTags(lib.Name(), spec))
		return c.Redirect(http.StatusFound, "/-/meta/"+lib.MetaPath(exact))
	}
	// Not immutable even for an exact version: a deprecation changes it.
	c.Response().Header()["Cache-Control"] = s.policy.alias
	s.setTags(c.Response().Header(), aboutVersionTags(lib.Name(), v.Exact, v.Name))
	if d := lib.Deprecated(v.Exact); d != nil {
		s.deprecationHeaders(c.Response().Header(), v, "")
		m := v.Meta()
		m.Deprecated = d
		s.sendGeneratedJSON(c.Response(), c.Request(), m)
		return nil
	}
	s.sendGenerated(c.Response(), c.Request(), "application/json", v.meta)
	return nil
}

// handleVersions serves /-/versions (the root library) and
// /-/versions/<name>.
func (s *Server) handleVersions(c echo.Context) error {
	setKind(c, kindMeta)
	lib := s.libraryOf(c, c.Param("*"))
	if lib == nil {
		return nil
	}
	c.Response().Header()["Cache-Control"] = s.policy.alias
	s.setTags(c.Response().Header(), libraryTags(lib.Name()))
	s.sendGeneratedJSON(c.Response(), c.Request(), lib.VersionList())
	return nil
}

// handleLibraries serves /-/libraries: every named library, sorted, with
// its latest version and its aliases, and the root library's as "root"
// when it has any version. The document is built once per change of the
// tree (pageCache), and reads no manifest but each library's latest and
// its aliases'.
func (s *Server) handleLibraries(c echo.Context) error {
	setKind(c, kindMeta)
	c.Response().Header()["Cache-Control"] = s.policy.alias
	s.setTags(c.Response().Header(), newTagSet(tagIndex))
	gen := s.cat.Gen()
	r := c.Request()
	cacheable := r.Header.Get("Authorization") == "" // a credential may show private libraries
	if doc, ok := s.pages.Get(gen, librariesKey); ok && cacheable {
		s.sendGenerated(c.Response(), c.Request(), "application/json", doc)
		return nil
	}
	doc := struct {
		Root      *catalog.Summary  `json:"root,omitempty"`
		Libraries []catalog.Summary `json:"libraries"`
	}{Libraries: []catalog.Summary{}}
	visible := s.visible(r)
	if len(s.cat.Root().Versions()) > 0 && visible("") {
		root := s.cat.Root().Summary()
		doc.Root = &root
	}
	for _, name := range s.cat.Libraries() {
		if lib := s.cat.Loaded(name); lib != nil && len(lib.Versions()) > 0 && visible(name) {
			doc.Libraries = append(doc.Libraries, lib.Summary())
		}
	}
	body, _ := json.Marshal(doc) // plain data: cannot fail
	if cacheable {
		s.pages.Put(gen, librariesKey, body)
	} else {
		c.Response().Header()["Cache-Control"] = []string{"private, max-age=0"}
	}
	s.sendGenerated(c.Response(), c.Request(), "application/json", body)
	return nil
}

// librariesKey is /-/libraries' key in the pageCache, which no page's
// key can be (those start with a library name).
const librariesKey = "\x00/-/libraries"

// Newest returns the public library whose versions a start-up message
// should show (the one published last), its latest version, its alias
// and its files (catalog.Catalog.Newest): never a private library, whose
// URLs would answer 401.
func (s *Server) Newest() (library, version, alias string, files []string) {
	return s.cat.Newest(func(name string) bool { return !s.isPrivate(name, s.cat.Loaded(name)) })
}

func (s *Server) handleHealthz(c echo.Context) error {
	setKind(c, kindHealth)
	c.Response().Header()["Cache-Control"] = noStore
	return c.String(http.StatusOK, "ok\n")
}

// handleReadyz answers 200 while the tree is being followed: the last
// refresh (a listing of the root, every Config.Refresh and on SIGHUP)
// succeeded, and not longer ago than three refresh intervals. A root that
// cannot be listed, or a refresh loop that stopped, is not ready.
func (s *Server) handleReadyz(c echo.Context) error {
	setKind(c, kindHealth)
	c.Response().Header()["Cache-Control"] = noStore
	if err := s.cat.Root().Ready(s.readyMaxAge()); err != nil {
		s.log.Warn("not ready", "err", err)
		return c.String(http.StatusServiceUnavailable, "not ready: storage unavailable or not refreshed\n")
	}
	return c.String(http.StatusOK, "ready\n")
}

// readyMaxAge is how old the last successful refresh may be: three
// intervals, and at least 10 s, so one slow listing is not an outage.
func (s *Server) readyMaxAge() time.Duration { return max(3*s.cfg.Refresh, 10*time.Second) }

// handleError turns an error from an Echo route into a response, through
// writeError.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, msg := http.StatusInternalServerError, "internal error"
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code = he.Code
		if m, ok := he.Message.(string); ok {
			msg = m
		}
	} else {
		s.log.Error("request failed", "err", err)
	}
	if code == http.StatusNotFound {
		msg = "not found"
	}
	s.writeError(c.Response(), c.Request(), kindOf(c), code, msg)
}
