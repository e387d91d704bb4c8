package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/cdnserve/cdnserve/access"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/loaderjs"
	"github.com/labstack/echo/v4"

	"github.com/cdnserve/cdnserve/catalog"
)

// loaderETag is /-/loader.js's strong ETag.
var loaderETag = func() []string {
	sum := sha256.Sum256(loaderjs.Min)
	return []string{`"` + hex.EncodeToString(sum[:16]) + `"`}
}()

// handleLoader serves /-/loader.js: the browser dependency loader
// (package loaderjs), cached like an alias (it changes with cdnserve).
func (s *Server) handleLoader(c echo.Context) error {
	setKind(c, kindMeta)
	h := c.Response().Header()
	h["Cache-Control"] = s.policy.alias
	h["Etag"] = loaderETag
	if c.Request().Header.Get("If-None-Match") == loaderETag[0] {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, layout.ContentType("loader.js"), loaderjs.Min)
}

// ImportMap is an import map with integrity (the HTML standard's
// "integrity" key, whatwg/html #10269): each bare specifier maps to an
// exact version's ES-module entry, and a specifier with a trailing slash
// to the version's directory; each module file gets its SRI.
type ImportMap struct {
	Imports   map[string]string `json:"imports"`
	Integrity map[string]string `json:"integrity"`
}

// ImportMapError is a spec an import map cannot be made for; it says why.
type ImportMapError struct {
	Spec   string
	Reason string
	// NotFound is true when the library or version does not exist.
	NotFound bool
}

func (e *ImportMapError) Error() string { return e.Spec + ": " + e.Reason }

// ImportMap makes an import map for libraries named "name@range" (a
// version, a range or a tag; "name" alone is name@latest), optionally
// "name@range/path/to/entry.mjs" for another entry than the library's.
// URLs start with base ("https://cdn.example.com/").
func (s *Server) ImportMap(base string, specs []string) (*ImportMap, error) {
	m := &ImportMap{Imports: map[string]string{}, Integrity: map[string]string{}}
	base = strings.TrimSuffix(base, "/") + "/"
	for _, spec := range specs {
		if err := s.addImport(m, base, spec); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// addImport adds one library to an import map.
func (s *Server) addImport(m *ImportMap, base, spec string) error {
	ap := splitAssetPath("/"+spec, s.cat.Known)
	name, rng, file := ap.lib, ap.spec, ap.rest
	if !ap.at {
		rng, file = "latest", ap.rest
		if ap.lib == "" || ap.rest != "" {
			return &ImportMapError{Spec: spec, Reason: "write name@range, such as widgets@^2 (the root library has no name to import by)"}
		}
	}
	if file != "" && layout.CheckPath(file) != nil {
		return &ImportMapError{Spec: spec, Reason: "bad entry path"}
	}
	lib, err := s.cat.Library(name)
	if err != nil {
		return &ImportMapError{Spec: spec, Reason: "no library named " + name + " is published", NotFound: true}
	}
	exact := rng
	if v, err := getVersion(lib, rng); err == nil {
		exact = v.Exact
	} else if exact, err = lib.Resolve(rng); err != nil {
		var re *catalog.ResolveError
		if errors.As(err, &re) {
			return &ImportMapError{Spec: spec, Reason: re.Reason, NotFound: true}
		}
		return err
	}
	v, err := getVersion(lib, exact)
	if err != nil {
		return err
	}
	if file == "" {
		file = moduleEntry(v)
		if file == "" {
			return &ImportMapError{Spec: spec, Reason: fmt.Sprintf("version %s of %s has no ES-module file to import; name one: %s@%s/path.mjs", exact, name, name, rng), NotFound: true}
		}
	} else if v.files[file] == nil {
		return &ImportMapError{Spec: spec, Reason: fmt.Sprintf("version %s has no file %s", exact, file), NotFound: true}
	}
	dir := base + lib.Prefix()[1:] + exact + "/"
	m.Imports[name] = dir + (&url.URL{Path: file}).EscapedPath()
	m.Imports[name+"/"] = dir
	for _, mf := range v.Manifest.Files {
		if mf.IsModule() || mf.Path == file {
			m.Integrity[dir+(&url.URL{Path: mf.Path}).EscapedPath()] = mf.Integrity
		}
	}
	return nil
}

// moduleEntry is a version's ES-module entry: its manifest's entry when
// that is a module, else its minified module file, else its first module
// file; "" when it has none.
func moduleEntry(v *version) string {
	var first, min string
	for _, mf := range layout.ReadingOrder(v.Manifest.Files) {
		if !mf.IsModule() {
			continue
		}
		if mf.Path == v.Manifest.Entry {
			return mf.Path
		}
		if first == "" {
			first = mf.Path
		}
		if min == "" && strings.Contains(path.Base(mf.Path), ".min.") {
			min = mf.Path
		}
	}
	if min != "" {
		return min
	}
	return first
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
		if name := splitAssetPath("/"+spec, s.cat.Known).lib; s.cfg.Access.IsPrivate(name) {
			g := s.credential(c.Request(), name)
			if g.decision != access.Allowed {
				s.refuse(c.Response(), c.Request(), g)
				return nil
			}
			c.Response().Writer = &privateWriter{ResponseWriter: c.Response().Writer, s: s, g: g}
		}
	}
	m, err := s.ImportMap(s.tagBase(c.Request()), libs)
	var ie *ImportMapError
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
	return c.Blob(http.StatusOK, "application/importmap+json", append(body, '\n'))
}
