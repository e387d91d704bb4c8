package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/cdnserve/cdnserve/access"
	"github.com/cdnserve/cdnserve/catalog"
	"github.com/cdnserve/cdnserve/importmap"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/stats"
	"github.com/labstack/echo/v4"
	"github.com/spf13/afero"
)

// Modules makes import maps for npm dependency graphs (esm/graph.Maker):
// each package's modules as they are when a browser can run them, or
// built once into <root>/.esm/<key>/<version>/, served at
// /-/esm/<key>/<version>/. Its errors are fs.ErrNotExist (404),
// importmap.ErrNotPackage (the library's own map is made instead),
// importmap.ErrUnsupported (422), importmap.ErrTooLarge (503), one
// with a RetryAfter method (503), context.DeadlineExceeded (504), or
// anything else (502, when fetching failed).
type Modules interface {
	Make(ctx context.Context, base string, specs []string) (*importmap.Result, error)
	// MakeFrom makes an app's map from its package.json or its
	// package-lock.json; importmap.ErrFormat when the body is neither.
	MakeFrom(ctx context.Context, base string, body []byte) (*importmap.Result, error)
}

// maxAppFile bounds a POST /-/importmap body: a lockfile of thousands of
// packages fits.
const maxAppFile = 16 << 20

// handlePostImportMap serves POST /-/importmap: the map of the app
// whose package.json or package-lock.json is the body. It is not
// cached (Cache-Control: no-store); the map's own URL
// (Content-Location) is.
func (s *Server) handlePostImportMap(c echo.Context) error {
	setKind(c, kindMeta)
	w, r := c.Response(), c.Request()
	if s.cfg.Modules == nil {
		return echo.NewHTTPError(http.StatusNotFound, "this server makes no maps of npm packages (serve --esm)")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAppFile+1))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "reading the body: "+err.Error())
	}
	if len(body) > maxAppFile {
		s.writeErrorCached(w, r, kindMeta, http.StatusRequestEntityTooLarge, "the body is over 16 MiB: send the package-lock.json or the package.json, nothing else", noStore)
		return nil
	}
	_, err = s.answerGraph(c, func() (*importmap.Result, error) { return s.cfg.Modules.MakeFrom(r.Context(), s.tagBase(r), body) })
	return err
}

// newBuilds is the catalog of the builds: each key a library with one
// exact version, counted under one metrics label.
func (s *Server) newBuilds() *catalog.Catalog {
	root := path.Join(s.cfg.Root, importmap.BuildsDir)
	return catalog.New(catalog.Options{Fs: s.cfg.Fs, Root: root, NegativeTTL: s.cfg.NegativeTTL, Clock: s.cfg.Clock, Log: s.cfg.Logger,
		NewLibrary: func(*store) any { return &libData{counts: s.metrics.library(buildsLabel)} },
		NewVersion: func(lib *store, cv *catalog.Version) any {
			return s.newVersionIn(root, lib, cv, &stats.Counter{}) // a build's use is no library version's
		},
	})
}

// buildsLabel is the library label of every build's requests.
const buildsLabel = "-esm"

// handleBuild serves /-/esm/<key>/<version>/<file>: a file of a build,
// immutable, with the headers of any exact version's file.
func (s *Server) handleBuild(c echo.Context) error {
	w, r := c.Response(), c.Request()
	setKind(c, kindExact)
	key, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, importmap.BuildPath), "/")
	exact, file, _ := strings.Cut(rest, "/")
	if !layout.IsLibraryName(key) || layout.ClassifyDir(exact) != layout.Exact || layout.CheckPath(file) != nil {
		s.writeError(w, r, kindOther, http.StatusNotFound, "no such build file: /-/esm/<key>/<version>/<file>, as an import map names them")
		return nil
	}
	lib, err := s.builds.Library(key)
	if err == nil {
		var v *version
		if v, err = getVersion(lib, exact); err == nil {
			if f := v.files[file]; f != nil {
				s.serveFile(w, r, v, f)
				return nil
			}
			err = fs.ErrNotExist
		}
	}
	if errors.Is(err, catalog.ErrStorage) {
		s.storageError(w, r, kindOther, err)
		return nil
	}
	s.writeError(w, r, kindOther, http.StatusNotFound, "no such build file: builds are made when an import map names them (/-/importmap)")
	return nil
}

// graphMap answers /-/importmap with the map of an npm dependency graph;
// false when the libraries are no npm packages (the caller maps them
// from their manifests).
func (s *Server) graphMap(c echo.Context, specs []string) (bool, error) {
	r := c.Request()
	return s.answerGraph(c, func() (*importmap.Result, error) { return s.cfg.Modules.Make(r.Context(), s.tagBase(r), specs) })
}

// answerGraph answers with the map mk makes, or why it could not.
func (s *Server) answerGraph(c echo.Context, mk func() (*importmap.Result, error)) (bool, error) {
	w, r := c.Response(), c.Request()
	res, err := mk()
	if errors.Is(err, importmap.ErrNotPackage) && r.Method != http.MethodPost {
		return false, nil
	}
	if err != nil {
		s.graphError(w, r, err)
		return true, nil
	}
	for _, name := range res.Libraries {
		lib, _ := s.cat.Library(name)
		if lib == nil {
			s.cat.Published(name)
			lib, _ = s.cat.Library(name)
		}
		if s.isPrivate(name, lib) {
			g := s.bearerCredential(r, name)
			if g.Decision != access.Allowed {
				s.refuse(w, r, g)
				return true, nil
			}
			w.Writer = s.private(w.Writer, g)
		}
	}
	for _, key := range res.Builds {
		if !s.builds.Known(key) {
			s.builds.Published(key)
		}
	}
	body, _ := json.MarshalIndent(res.Map, "", "  ")
	body = append(body, '\n')
	sum := sha256.Sum256(body)
	name := hex.EncodeToString(sum[:]) + ".json"
	if err := s.storeMap(name, body); err != nil {
		s.log.Warn("storing an import map for its own URL failed; it is answered without one", "err", err)
	} else {
		w.Header()["Content-Location"] = []string{"/-/importmap/" + name}
	}
	w.Header()["Cache-Control"] = s.policy.redirect
	if r.Method == http.MethodPost {
		w.Header()["Cache-Control"] = noStore
	}
	if c.QueryParam("format") == "html" {
		s.sendGenerated(w, r, hvHTML[0], []byte(importmap.HTMLTags(res, body)))
		return true, nil
	}
	s.sendGenerated(w, r, "application/importmap+json", body)
	return true, nil
}

// graphError answers a map that could not be made, naming the package,
// the specifier and why.
func (s *Server) graphError(w http.ResponseWriter, r *http.Request, err error) {
	var later interface{ RetryAfter() time.Duration }
	var refused refusal
	switch {
	case errors.As(err, &refused):
		s.writeRefusal(w, r, kindMeta, refused)
	case errors.As(err, &later):
		w.Header()["Retry-After"] = []string{strconv.Itoa(int(later.RetryAfter().Seconds()))}
		s.writeErrorCached(w, r, kindMeta, http.StatusServiceUnavailable, err.Error(), noStore)
	case errors.Is(err, importmap.ErrFormat):
		s.writeErrorCached(w, r, kindMeta, http.StatusBadRequest, err.Error(), noStore)
	case errors.Is(err, fs.ErrNotExist):
		s.writeError(w, r, kindMeta, http.StatusNotFound, err.Error())
	case errors.Is(err, importmap.ErrUnsupported):
		s.writeErrorCached(w, r, kindMeta, http.StatusUnprocessableEntity, err.Error(), s.policy.retry)
	case errors.Is(err, importmap.ErrTooLarge):
		s.writeErrorCached(w, r, kindMeta, http.StatusServiceUnavailable, err.Error(), noStore)
	case errors.Is(err, context.DeadlineExceeded):
		s.writeErrorCached(w, r, kindMeta, http.StatusGatewayTimeout, err.Error()+"; the build goes on, so try again shortly", s.policy.retry)
	case errors.Is(err, catalog.ErrStorage):
		s.storageError(w, r, kindMeta, err)
	default:
		s.log.Error("making an import map failed", "err", err)
		s.writeErrorCached(w, r, kindMeta, http.StatusBadGateway, "making the import map failed: "+err.Error(), s.policy.retry)
	}
}

// storeMap keeps a map's bytes under their SHA-256, once: a map answered
// again costs no look at storage.
func (s *Server) storeMap(name string, body []byte) error {
	if _, ok := s.storedMaps.Load(name); ok {
		return nil
	}
	p := path.Join(s.cfg.Root, importmap.MapsDir, name)
	if _, err := s.cfg.Fs.Stat(p); err != nil {
		if err := s.cfg.Fs.MkdirAll(path.Dir(p), 0o755); err != nil {
			return err
		}
		if err := layout.WriteFileAtomic(s.cfg.Fs, p, body); err != nil {
			return err // not remembered: the next answer tries again
		}
	}
	s.storedMaps.Store(name, true)
	return nil
}

// handleStoredMap serves /-/importmap/<sha256>.json: a map as it was
// answered, immutable, checked against its name.
func (s *Server) handleStoredMap(c echo.Context) error {
	setKind(c, kindExact)
	w, r := c.Response(), c.Request()
	name := c.Param("file")
	hexSum, ok := strings.CutSuffix(name, ".json")
	if sum, err := hex.DecodeString(hexSum); !ok || err != nil || len(sum) != sha256.Size {
		s.writeError(w, r, kindOther, http.StatusNotFound, "no such import map: /-/importmap/<sha256>.json names one by the SHA-256 of its bytes")
		return nil
	}
	body, err := afero.ReadFile(s.cfg.Fs, path.Join(s.cfg.Root, importmap.MapsDir, name))
	if err == nil {
		if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != hexSum {
			s.damage.log(s.log, "a stored import map does not match its name; storage is damaged", "map", name)
			s.writeErrorCached(w, r, kindOther, http.StatusInternalServerError, "this import map is damaged in storage", noStore)
			return nil
		}
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.writeError(w, r, kindOther, http.StatusNotFound, "no such import map: it was never answered here")
		return nil
	case err != nil:
		s.storageError(w, r, kindOther, err)
		return nil
	}
	w.Header()["Cache-Control"] = s.policy.exact
	s.sendGenerated(w, r, "application/importmap+json", body)
	return nil
}
