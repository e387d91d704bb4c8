package server

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cdnserve/cdnserve/access"
	"github.com/cdnserve/cdnserve/browse"
	"github.com/cdnserve/cdnserve/content"
	"github.com/cdnserve/cdnserve/importmap"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/loaderjs"
	"github.com/cdnserve/cdnserve/stats"
	"github.com/labstack/echo/v4"
)

// handleIndex renders GET /: the named libraries, a page at a time
// (/?libraries=P), then the root library's versions as its own page
// shows them (browse.Index).
func (s *Server) handleIndex(c echo.Context) error {
	setKind(c, kindMeta)
	c.Set(libraryKey, s.cat.Root())
	s.indexPage(c.Response(), c.Request(), s.cat.Root())
	return nil
}

// libraryPage renders GET /<name>/: a library's versions, as / shows the
// root library's.
func (s *Server) libraryPage(w http.ResponseWriter, r *http.Request, lib *store) (int, int64, routeKind) {
	status, n := s.indexPage(w, r, lib)
	return status, n, kindMeta
}

// indexPage renders a library's index (/ for the root library, with the
// libraries first): the latest version, then each major line with its
// newest versions and its aliases; ?major=N&page=P lists one major's
// versions a page at a time. Pages are rendered once per change of the
// tree (browse.Cache).
func (s *Server) indexPage(w http.ResponseWriter, r *http.Request, lib *store) (int, int64) {
	if lib.Name() == "" {
		s.setTags(w.Header(), newTagSet(tagIndex, "@*"))
	} else {
		s.setTags(w.Header(), libraryTags(lib.Name()))
	}
	q := r.URL.Query()
	key := lib.Name() + "\x00" + q.Get("major") + "/" + q.Get("page") + "/" + q.Get("libraries")
	gen := s.cat.Gen()
	// A credential may show private libraries; a search is not kept (its
	// keys would be unbounded).
	cacheable := r.Header.Get("Authorization") == "" && q.Get("q") == ""
	if page, ok := s.pages.Get(gen, key); ok && cacheable {
		return s.sendPage(w, r, page)
	}
	if r.Header.Get("Authorization") != "" {
		w = s.private(w, access.Grant{})
	}
	var data map[string]any
	if lib.Name() != "" || s.visible(r)("") {
		data = browse.Index(lib, q.Get("major"), q.Get("page"), s.recentRequests())
	} else if q.Get("major") == "" {
		data = map[string]any{"Title": "cdnserve: libraries", "Heading": "Libraries", "Base": "/", "VersionsPath": ""}
	}
	if data != nil && lib.Name() == "" && q.Get("major") == "" {
		libs := browse.Libraries(s.cat, s.visible(r), q.Get("libraries"), q.Get("q"))
		if libs == nil {
			data = nil
		} else if libs.Count > 0 || libs.Query != "" {
			data["Libraries"] = libs
		}
	}
	if data == nil {
		status, n, _ := s.writeError(w, r, kindMeta, http.StatusNotFound, "no such major version or page")
		return status, n
	}
	page, err := s.render("index", data)
	if err != nil {
		status, n, _ := s.writeError(w, r, kindMeta, http.StatusInternalServerError, "internal error")
		return status, n
	}
	if cacheable {
		s.pages.Put(gen, key, page)
	}
	return s.sendPage(w, r, page)
}

// versionPage renders GET /<version>/ (browse.Version): the files with
// their sizes, types and SRI, a tag to paste for each script and
// stylesheet, and the dependency loader snippet.
func (s *Server) versionPage(w http.ResponseWriter, r *http.Request, v *version) (int, int64, routeKind) {
	httpBase, httpsBase := s.publicBases(r)
	in := browse.VersionInput{HTTPBase: httpBase, HTTPSBase: httpsBase, TagBase: s.tagBase(r), LoaderIntegrity: loaderjs.Integrity, Requests: s.recentRequests()}
	if v.Lib.Name() != "" && importmap.ModuleEntry(v.Manifest) != "" {
		if m, err := s.importMap(in.TagBase, []string{v.Lib.Name() + "@" + v.Exact}); err == nil {
			in.ImportMap = m
		}
	}
	s.setTags(w.Header(), aboutVersionTags(v.Lib.Name(), v.Exact, v.Name))
	page, ok := listingPage(r)
	in.Page = page
	if v.Manifest.Provenance.Registry != "" { // an npm package: its package.json's facts
		visible := s.visible(r)
		in.Known = func(name string) bool { return s.cat.Known(name) && visible(name) }
		if f := v.files["package.json"]; f != nil {
			in.PackageJSON, _ = s.content.Body(f.Identity) // unreadable: the facts of provenance alone
		}
	}
	data := browse.Version(v.Version, in)
	if !ok || data == nil {
		return s.writeError(w, r, kindMeta, http.StatusNotFound, "version "+v.Name+" has no page "+r.URL.Query().Get("page")+" of files")
	}
	s.deprecationHeaders(w.Header(), v, "")
	status, n := s.renderPage(w, r, "version", data)
	return status, n, kindMeta
}

// dirPage answers a directory of a version (/<name>/<version>/dist/):
// a page of its listing to a browser (browse.Dir, ?page=N), or every
// entry as JSON to a client that asks for application/json; it varies
// by Accept. A directory the version lacks is 404.
func (s *Server) dirPage(w http.ResponseWriter, r *http.Request, v *version, dir string) (int, int64, routeKind) {
	h := w.Header()
	varyAccept(h)
	s.setTags(h, aboutVersionTags(v.Lib.Name(), v.Exact, v.Name))
	missing := func() (int, int64, routeKind) {
		return s.writeError(w, r, kindMeta, http.StatusNotFound, "version "+v.Name+" has no directory "+dir+"; its files are listed at "+v.Lib.Prefix()+v.Name+"/")
	}
	if wantsJSON(r) && !wantsHTML(r) {
		all, ok := browse.ListAll(v.Version, dir)
		if !ok {
			return missing()
		}
		h["Cache-Control"] = s.policy.alias
		status, n := s.sendGeneratedJSON(w, r, struct {
			Library string         `json:"library"`
			Version string         `json:"version"`
			Path    string         `json:"path"`
			Entries []browse.Entry `json:"entries"`
		}{v.Lib.Name(), v.Exact, dir, all})
		return status, n, kindMeta
	}
	page, ok := listingPage(r)
	l, found := browse.List(v.Version, dir, page)
	if !ok || !found {
		return missing()
	}
	status, n := s.renderPage(w, r, "dir", browse.Dir(v.Version, l))
	return status, n, kindMeta
}

// viewPage answers /<name>/<version>/<file>?view: the file viewer
// (browse.View), with the file's verified bytes when it fits the viewer.
func (s *Server) viewPage(w http.ResponseWriter, r *http.Request, v *version, f *content.File) (int, int64, routeKind) {
	var mf layout.ManifestFile
	for _, m := range v.Manifest.Files {
		if m.Path == f.Path {
			mf = m
		}
	}
	var data []byte
	if mf.Size <= browse.ViewMax {
		var err error
		if data, err = s.content.Body(f.Identity); err != nil && !errors.Is(err, content.ErrTooBig) {
			return s.bodyError(w, r, kindMeta, err)
		}
	}
	h := w.Header()
	s.setTags(h, aboutVersionTags(v.Lib.Name(), v.Exact, v.Name))
	page, err := s.render("view", browse.View(v.Version, mf, data, s.tagBase(r), samePath(v.Lib, f.Path, v.Name)))
	if err != nil {
		return s.writeError(w, r, kindMeta, http.StatusInternalServerError, "internal error")
	}
	status, n := s.sendPageCSP(w, r, page, browse.ViewCSP)
	return status, n, kindMeta
}

// handleSwitch answers the version switcher's form,
// /-/switch?library=NAME&version=V&path=P: a 302 to P in version V of
// the library, so the same file or directory opens in another version.
// It checks the three by their rules and reads nothing, so it tells
// nothing of what exists (a private library included); the target
// answers for itself, a missing file with links to the versions that
// have it.
func (s *Server) handleSwitch(c echo.Context) error {
	setKind(c, kindRedirect)
	q := c.QueryParams()
	name, v, p := q.Get("library"), q.Get("version"), q.Get("path")
	switch {
	case name != "" && !layout.IsLibraryName(name):
		return echo.NewHTTPError(http.StatusBadRequest, "library: not a library name")
	case !layout.IsVersionDir(v):
		return echo.NewHTTPError(http.StatusBadRequest, "version: want a version or alias such as 1.2.3 or 1.2")
	case p != "" && layout.CheckPath(strings.TrimSuffix(p, "/")) != nil:
		return echo.NewHTTPError(http.StatusBadRequest, "path: not a path inside a version")
	}
	prefix := "/"
	if name != "" {
		prefix += name + "/"
	}
	c.Request().URL.RawQuery = "" // the form's, not the target's
	if q.Has("view") {
		c.Request().URL.RawQuery = "view" // the viewer stays the viewer
	}
	s.redirectTo(c.Response(), c.Request(), http.StatusFound, s.policy.redirect, prefix+v+"/", p)
	return nil
}

// samePath lists up to samePathMax of lib's newest versions, other than
// skip, that have the file name: where a 404 for a file points to.
func samePath(lib *store, name, skip string) []browse.Crumb {
	var out []browse.Crumb
	for i, sv := range lib.Versions() {
		if i == samePathMax || len(out) == samePathMax {
			break
		}
		if v := sv.Original(); v != skip {
			if ver, err := getVersion(lib, v); err == nil && ver.files[name] != nil {
				out = append(out, browse.Crumb{Name: v, URL: lib.Prefix() + v + "/" + (&url.URL{Path: name}).EscapedPath()})
			}
		}
	}
	return out
}

// samePathMax bounds how many versions a 404 for a file looks in.
const samePathMax = 10

// listingPage reads ?page=N (from 1; 1 when absent), and false when it
// is not a page number.
func listingPage(r *http.Request) (int, bool) {
	p := r.URL.Query().Get("page")
	if p == "" {
		return 1, true
	}
	n, err := strconv.Atoi(p)
	return n, err == nil && n >= 1
}

// recentRequests counts a version's requests in the last 7 days, from
// every replica's stats files.
func (s *Server) recentRequests() browse.Requests {
	recent := s.recentStats(7)
	return func(library, version string) (int64, bool) {
		var n int64
		found := false
		for _, day := range recent {
			if c, ok := day[stats.Key(library)][version]; ok {
				n, found = n+c.Requests, true
			}
		}
		return n, found
	}
}

// render executes a browse template, and logs a failure.
func (s *Server) render(name string, data any) ([]byte, error) {
	page, err := browse.Render(name, data)
	if err != nil {
		s.log.Error("rendering a browse page", "page", name, "err", err)
	}
	return page, err
}

// renderPage sends a browse page: HTML with a strict CSP, cached like an
// alias.
func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, name string, data any) (int, int64) {
	page, err := s.render(name, data)
	if err != nil {
		status, n, _ := s.writeError(w, r, kindMeta, http.StatusInternalServerError, "internal error")
		return status, n
	}
	return s.sendPage(w, r, page)
}

// sendPage sends a rendered browse page with its headers: a strict CSP,
// cached like an alias.
func (s *Server) sendPage(w http.ResponseWriter, r *http.Request, page []byte) (int, int64) {
	return s.sendPageCSP(w, r, page, browse.CSP)
}

// sendPageCSP is sendPage with a page's own Content-Security-Policy.
func (s *Server) sendPageCSP(w http.ResponseWriter, r *http.Request, page []byte, csp []string) (int, int64) {
	h := w.Header()
	h["Content-Type"] = hvHTML
	h["Content-Security-Policy"] = csp
	h["Cache-Control"] = s.policy.alias
	h["Referrer-Policy"] = hvNoReferrer
	return s.sendGenerated(w, r, hvHTML[0], page)
}

// publicBases returns the http and https base URLs (with a trailing
// slash) that clients should use: from Config.PublicURL, or else from the
// request's Host for its own scheme and from this server's listener for
// the other. Without a listener of the other scheme, both are the
// request's: never an https URL where nothing speaks TLS.
func (s *Server) publicBases(r *http.Request) (httpBase, httpsBase string) {
	if s.publicURL != nil {
		host, prefix := s.publicURL.Host, strings.TrimRight(s.publicURL.Path, "/")+"/"
		return "http://" + host + prefix, "https://" + host + prefix
	}
	own, otherScheme := "http://"+r.Host+"/", "https"
	if r.TLS != nil {
		own, otherScheme = "https://"+r.Host+"/", "http"
	}
	other := own
	if port := s.ports[otherScheme].Load(); port != 0 {
		host := r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			host = h
		}
		other = otherScheme + "://" + net.JoinHostPort(host, strconv.Itoa(int(port))) + "/"
	}
	if r.TLS != nil {
		return other, own
	}
	return own, other
}

// tagBase is the base URL of what a page gives to paste (tags, import
// maps): https when the public URL is configured or the request came
// over TLS, and the request's own scheme otherwise, so that what is
// pasted works as it is.
func (s *Server) tagBase(r *http.Request) string {
	httpBase, httpsBase := s.publicBases(r)
	if s.publicURL == nil && r.TLS == nil {
		return httpBase
	}
	return httpsBase
}

// handleSnippet serves GET /-/snippet?version=X[&library=NAME][&suffix=.min]
// as JavaScript. The version may be an alias, range or tag; the snippet
// always names the exact version, so dependencies load from the
// immutable directory. A named library's snippet points cdn_http and
// cdn_https at /<name>/, which a seed-style loader uses unchanged.
func (s *Server) handleSnippet(c echo.Context) error {
	setKind(c, kindMeta)
	spec := c.QueryParam("version")
	if spec == "" {
		spec = "latest"
	}
	if _, _, err := parsePath(spec + "/"); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "bad version")
	}
	lib := s.libraryByQuery(c, c.QueryParam("library"))
	if lib == nil {
		return nil
	}
	exact := ""
	if v, err := getVersion(lib, spec); err == nil {
		exact = v.Exact
	} else if r, rerr := lib.Resolve(spec); rerr == nil {
		exact = r
	} else {
		s.notFound(c.Response(), c.Request(), kindMeta, lib, rerr)
		return nil
	}
	suffix := ".min"
	if vals, ok := c.QueryParams()["suffix"]; ok {
		suffix = vals[0]
	}
	if suffix != "" && suffix != ".min" {
		return echo.NewHTTPError(http.StatusBadRequest, `suffix must be ".min" or empty`)
	}
	httpBase, httpsBase := s.publicBases(c.Request())
	c.Response().Header()["Cache-Control"] = s.policy.alias
	s.sendGenerated(c.Response(), c.Request(), layout.ContentType("snippet.js"), []byte(browse.Snippet(httpBase+lib.Prefix()[1:], httpsBase+lib.Prefix()[1:], exact, suffix)+";\n"))
	return nil
}
