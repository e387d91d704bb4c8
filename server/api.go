package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"
	"github.com/labstack/echo/v4"
)

// meta is the /-/meta/<version> document: the version's files with their
// sizes, types and SRI strings, from its integrity manifest.
type meta struct {
	Version    string                `json:"version"`
	Dir        string                `json:"dir"`
	AliasOf    string                `json:"alias_of,omitempty"`
	Files      []layout.ManifestFile `json:"files"`
	Provenance layout.Provenance     `json:"provenance"`
}

func metaOf(v *version) meta {
	return meta{Version: v.exact, Dir: v.name, AliasOf: v.manifest.AliasOf, Files: v.manifest.Files, Provenance: v.manifest.Provenance}
}

// handleMeta serves /-/meta/<version>: an exact version or an alias; a
// range or tag redirects to the exact version's document.
func (s *Server) handleMeta(c echo.Context) error {
	setKind(c, kindMeta)
	spec := c.Param("version")
	if _, _, err := parsePath("/" + spec + "/"); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "bad version")
	}
	v, err := s.store.get(spec)
	if err != nil && layout.IsVersionDir(spec) {
		s.versionError(c.Response(), c.Request(), spec, err)
		return nil
	}
	if errors.Is(err, errStorage) {
		s.storageError(c.Response(), c.Request(), kindMeta, err)
		return nil
	}
	if err != nil {
		exact, rerr := s.store.resolve(spec)
		if errors.Is(rerr, errStorage) {
			s.storageError(c.Response(), c.Request(), kindMeta, rerr)
			return nil
		}
		if rerr != nil {
			s.notFound(c.Response(), c.Request(), kindMeta, rerr)
			return nil
		}
		c.Response().Header()["Cache-Control"] = s.policy.redirect
		return c.Redirect(http.StatusFound, "/-/meta/"+exact)
	}
	c.Response().Header()["Cache-Control"] = s.policy.header(v.kind(), http.StatusOK)
	return c.JSONBlob(http.StatusOK, v.meta)
}

// versionsDoc is the /-/versions document.
type versionsDoc struct {
	Versions []string          `json:"versions"`
	Aliases  map[string]string `json:"aliases"`
	Latest   string            `json:"latest,omitempty"`
}

// handleVersions lists every published version (newest first), each
// alias with the version it holds, and latest.
func (s *Server) handleVersions(c echo.Context) error {
	setKind(c, kindMeta)
	doc := versionsDoc{Versions: []string{}, Aliases: map[string]string{}}
	aliases := map[string]bool{}
	for _, v := range s.store.servable() {
		doc.Versions = append(doc.Versions, v.Original())
		aliases[versioning.AliasDir(v)] = true
	}
	for name := range aliases {
		if a, err := s.store.get(name); err == nil && a.alias {
			doc.Aliases[name] = a.exact
		}
	}
	doc.Latest, _ = s.store.resolve("latest")
	c.Response().Header()["Cache-Control"] = s.policy.alias
	return c.JSON(http.StatusOK, doc)
}

// Newest returns the newest stable version (or the newest version, when
// none is stable), the alias that holds it, if any, and its files, for
// start-up messages. All are empty when nothing is published.
func (s *Server) Newest() (version, alias string, files []string) {
	version, err := s.store.resolve("latest")
	if err != nil {
		if vs := s.store.versions(); len(vs) > 0 {
			version = vs[0].Original()
		}
	}
	v, err := s.store.get(version)
	if err != nil {
		return "", "", nil
	}
	if sv, err := versioning.Parse(version); err == nil {
		if a, err := s.store.get(versioning.AliasDir(sv)); err == nil && a.exact == version {
			alias = a.name
		}
	}
	for _, f := range v.manifest.Files {
		files = append(files, f.Path)
	}
	return version, alias, files
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
	if err := s.store.ready(s.readyMaxAge()); err != nil {
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
