package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/versioning"
	"github.com/labstack/echo/v4"
)

// meta is the /-/meta/<version> document: the version's files with their
// sizes, types and SRI strings, from its integrity manifest.
type meta struct {
	Version    string              `json:"version"`
	Dir        string              `json:"dir"`
	AliasOf    string              `json:"alias_of,omitempty"`
	Files      []dist.ManifestFile `json:"files"`
	Provenance dist.Provenance     `json:"provenance"`
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
	if errors.Is(err, errStorage) {
		return s.storageError(err)
	}
	if err != nil {
		exact, rerr := s.store.resolve(spec)
		if rerr != nil {
			return s.notFound(c, rerr)
		}
		c.Response().Header()["Cache-Control"] = s.policy.redirect
		return c.Redirect(http.StatusFound, "/-/meta/"+exact)
	}
	kind := kindExact
	if v.alias {
		kind = kindAlias
	}
	c.Response().Header()["Cache-Control"] = s.policy.header(kind, http.StatusOK)
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
	for _, v := range s.store.versions() {
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

func (s *Server) handleHealthz(c echo.Context) error {
	setKind(c, kindHealth)
	c.Response().Header()["Cache-Control"] = noStore
	return c.String(http.StatusOK, "ok\n")
}

// handleReadyz answers 200 while the dist root can be read.
func (s *Server) handleReadyz(c echo.Context) error {
	setKind(c, kindHealth)
	c.Response().Header()["Cache-Control"] = noStore
	if _, err := s.cfg.Fs.Stat(s.cfg.Root); err != nil {
		s.log.Warn("not ready: storage unreadable", "err", err)
		return c.String(http.StatusServiceUnavailable, "storage unavailable\n")
	}
	return c.String(http.StatusOK, "ready\n")
}

// notFound answers 404 for a range or tag that matched nothing, naming
// it and the versions that exist.
func (s *Server) notFound(c echo.Context, err error) error {
	var re *resolveError
	if !errors.As(err, &re) {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	h["Cache-Control"] = s.policy.notFound
	if wantsJSON(c.Request()) {
		return c.JSON(http.StatusNotFound, re)
	}
	msg := "404 not found: " + re.Spec + ": " + re.Reason + "\npublished versions: " + strings.Join(re.Available, ", ")
	if re.More > 0 {
		msg += ", and more (see /-/versions)"
	}
	return c.String(http.StatusNotFound, msg+"\n")
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// handleError is the one place errors become responses. Client-facing
// text is generic and never names a storage path.
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
	h := c.Response().Header()
	h["Cache-Control"] = s.policy.header(kindOf(c), code)
	if code == http.StatusMethodNotAllowed && h.Get("Allow") == "" {
		h["Allow"] = hvMethods
	}
	if wantsJSON(c.Request()) {
		c.JSON(code, map[string]any{"error": msg, "status": code})
		return
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(code)
		return
	}
	c.String(code, http.StatusText(code)+": "+msg+"\n")
}
