package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"
	"github.com/labstack/echo/v4"
)

// The browse pages are server-rendered: html/template escapes every
// version and file name, which are untrusted. One stylesheet and one
// small script are inline; the Content-Security-Policy allows exactly
// those by hash and nothing else, so no injected markup can run or load
// anything. The pages work without JavaScript: the copy buttons are
// hidden until the script shows them.
const browseCSS = `:root{color-scheme:light}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1a1a1a;background:#fff}
a{color:#0645ad}a:focus,button:focus{outline:3px solid #f90;outline-offset:2px}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ccc;vertical-align:top}
.scroll{overflow-x:auto}.num{text-align:right;white-space:nowrap}
code,pre{font:14px/1.4 ui-monospace,Menlo,Consolas,monospace}
pre{background:#f4f4f4;border:1px solid #ccc;padding:.5rem;white-space:pre-wrap;word-break:break-all;margin:.25rem 0}
.badge{display:inline-block;padding:0 .4rem;border-radius:.3rem;background:#6b3e00;color:#fff;font-size:.8rem}
button{font:inherit;padding:.2rem .8rem;border:1px solid #333;border-radius:.3rem;background:#fff;color:#1a1a1a;cursor:pointer}
.muted{color:#555}td code{word-break:break-all}`

const browseJS = `document.querySelectorAll("button[data-copy]").forEach(function (b) {
  b.hidden = false;
  b.addEventListener("click", function () {
    var text = document.getElementById(b.getAttribute("data-copy")).textContent;
    function done(ok) { b.textContent = ok ? "Copied" : "Select and press Ctrl+C"; b.setAttribute("data-copied", ok ? "yes" : "no"); }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
    } else { done(false); }
  });
});`

// browseCSP is the pages' Content-Security-Policy: nothing but the one
// inline style and the one inline script, by hash.
var browseCSP = []string{"default-src 'none'; style-src '" + cspHash(browseCSS) + "'; script-src '" + cspHash(browseJS) +
	"'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"}

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

var browseTemplates = template.Must(template.New("layout").Funcs(template.FuncMap{
	"size": humanSize,
}).Parse(`{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title><style>` + browseCSS + `</style></head><body>
<header><p><a href="/">cdnserve</a></p></header><main>
{{end}}
{{define "foot"}}</main><script>` + browseJS + `</script></body></html>
{{end}}
{{define "index"}}{{template "head" .}}
<h1>Published versions</h1>
{{if .Latest}}<p>Latest stable version: <a href="/{{.Latest}}/">{{.Latest}}</a> (also at <code>/latest/</code>)</p>{{else}}<p>No stable version is published yet.</p>{{end}}
<h2 id="versions">Versions, newest first</h2>
{{if .Versions}}<ul aria-labelledby="versions">{{range .Versions}}<li><a href="/{{.Name}}/">{{.Name}}</a>{{if .Pre}} <span class="badge">prerelease</span>{{end}}</li>{{end}}</ul>{{else}}<p>None.</p>{{end}}
<h2 id="aliases">Aliases</h2>
{{if .Aliases}}<div class="scroll"><table aria-labelledby="aliases"><thead><tr><th scope="col">Alias</th><th scope="col">Holds</th></tr></thead><tbody>
{{range .Aliases}}<tr><td><a href="/{{.Name}}/">{{.Name}}</a></td><td><a href="/{{.Holds}}/">{{.Holds}}</a></td></tr>{{end}}
</tbody></table></div>{{else}}<p>None.</p>{{end}}
<p class="muted">Machine-readable: <a href="/-/versions">/-/versions</a></p>
{{template "foot" .}}{{end}}
{{define "version"}}{{template "head" .}}
<h1>Version {{.Name}}</h1>
{{if .AliasOf}}<p>This is an alias. It now holds version <a href="/{{.AliasOf}}/">{{.AliasOf}}</a> and moves when a newer {{.Name}}.x is published; pin <code>/{{.AliasOf}}/</code> in production.</p>{{end}}
{{if .Pre}}<p><span class="badge">prerelease</span></p>{{end}}
<h2 id="files">Files</h2>
<div class="scroll"><table aria-labelledby="files"><thead><tr><th scope="col">File</th><th scope="col" class="num">Size</th><th scope="col" class="num">gzip</th><th scope="col" class="num">br</th><th scope="col">Type</th><th scope="col">SRI</th></tr></thead><tbody>
{{range .Files}}<tr><td><a href="{{.URL}}">{{.Path}}</a></td><td class="num">{{size .Size}}</td><td class="num">{{if .Gzip}}{{size .Gzip}}{{else}}–{{end}}</td><td class="num">{{if .Br}}{{size .Br}}{{else}}–{{end}}</td><td><code>{{.ContentType}}</code></td><td><code>{{.Integrity}}</code></td></tr>
{{end}}</tbody></table></div>
{{if .Tags}}<h2 id="tags">Tags to paste</h2>
{{range $i, $t := .Tags}}<h3>{{$t.Path}}</h3>
<pre><code id="tag-{{$i}}">{{$t.Tag}}</code></pre>
<button type="button" data-copy="tag-{{$i}}" hidden aria-label="Copy the tag for {{$t.Path}}">Copy</button>
{{end}}{{end}}
<h2 id="snippet">Dependency loader</h2>
<p>Point a seed-style <code>DependencyLoader</code> at this server (<a href="{{.SnippetURL}}">as a file</a>):</p>
<pre><code id="snippet-code">{{.Snippet}}</code></pre>
<button type="button" data-copy="snippet-code" hidden aria-label="Copy the dependency loader snippet">Copy</button>
<p class="muted">Machine-readable: <a href="/-/meta/{{.Name}}">/-/meta/{{.Name}}</a></p>
{{template "foot" .}}{{end}}`))

// humanSize writes a byte count as the version page shows it: "870 B",
// "1.4 KiB", "2 MiB".
func humanSize(n int64) string {
	unit, div := "B", 1.0
	switch {
	case n >= 1<<20:
		unit, div = "MiB", 1<<20
	case n >= 1024:
		unit, div = "KiB", 1024
	}
	if unit == "B" {
		return strconv.FormatInt(n, 10) + " B"
	}
	return strings.TrimSuffix(strconv.FormatFloat(float64(n)/div, 'f', 1, 64), ".0") + " " + unit
}

// handleIndex renders GET /: every published version newest first, the
// aliases, and latest.
func (s *Server) handleIndex(c echo.Context) error {
	setKind(c, kindMeta)
	type ver struct {
		Name string
		Pre  bool
	}
	type alias struct{ Name, Holds string }
	data := struct {
		Title    string
		Latest   string
		Versions []ver
		Aliases  []alias
	}{Title: "cdnserve: published versions"}
	seen := map[string]bool{}
	for _, v := range s.store.versions() {
		data.Versions = append(data.Versions, ver{v.Original(), versioning.IsPrerelease(v)})
		name := versioning.AliasDir(v)
		if seen[name] {
			continue
		}
		seen[name] = true
		if a, err := s.store.get(name); err == nil && a.alias {
			data.Aliases = append(data.Aliases, alias{name, a.exact})
		}
	}
	data.Latest, _ = s.store.resolve("latest")
	s.renderPage(c.Response(), c.Request(), "index", data)
	return nil
}

// browseFile is one row of a version page.
type browseFile struct {
	Path, URL, ContentType, Integrity string
	Size, Gzip, Br                    int64
}

// versionPage renders GET /<version>/: the files with their sizes,
// types and SRI, a tag to paste for each script and stylesheet, and the
// dependency loader snippet.
func (s *Server) versionPage(w http.ResponseWriter, r *http.Request, v *version) (int, int64, routeKind) {
	type tag struct{ Path, Tag string }
	data := struct {
		Title, Name, AliasOf, Snippet, SnippetURL string
		Pre                                       bool
		Files                                     []browseFile
		Tags                                      []tag
	}{Title: "cdnserve: " + v.name, Name: v.name}
	if v.alias {
		data.AliasOf = v.exact
	}
	if sv, err := versioning.Parse(v.exact); err == nil {
		data.Pre = versioning.IsPrerelease(sv)
	}
	httpBase, httpsBase := s.publicBases(r)
	// Tags to paste use https when the public URL is configured or the
	// page came over TLS, and the request's own scheme otherwise, so that
	// a pasted tag works as it is.
	tagBase := httpsBase
	if s.publicURL == nil && r.TLS == nil {
		tagBase = httpBase
	}
	for _, mf := range v.manifest.Files {
		u := "/" + v.name + "/" + (&url.URL{Path: mf.Path}).EscapedPath()
		data.Files = append(data.Files, browseFile{Path: mf.Path, URL: u, ContentType: mf.ContentType, Integrity: mf.Integrity,
			Size: mf.Size, Gzip: mf.Encodings["gzip"].Size, Br: mf.Encodings["br"].Size})
		abs := tagBase + v.exact + "/" + (&url.URL{Path: mf.Path}).EscapedPath()
		switch {
		case mf.IsModule():
			// An ES module runs only as type="module"; modulepreload lets a
			// page fetch it (and check it) before an import needs it.
			data.Tags = append(data.Tags,
				tag{mf.Path, `<script type="module" src="` + abs + `" integrity="` + mf.Integrity + `" crossorigin="anonymous"></script>`},
				tag{mf.Path + " (preload)", `<link rel="modulepreload" href="` + abs + `" integrity="` + mf.Integrity + `" crossorigin="anonymous">`})
		case strings.HasSuffix(mf.Path, ".js"):
			data.Tags = append(data.Tags, tag{mf.Path, `<script src="` + abs + `" integrity="` + mf.Integrity + `" crossorigin="anonymous"></script>`})
		case strings.HasSuffix(mf.Path, ".css"):
			data.Tags = append(data.Tags, tag{mf.Path, `<link rel="stylesheet" href="` + abs + `" integrity="` + mf.Integrity + `" crossorigin="anonymous">`})
		}
	}
	data.Snippet = snippet(httpBase, httpsBase, v.exact, ".min")
	data.SnippetURL = "/-/snippet?version=" + url.QueryEscape(v.exact)
	status, n := s.renderPage(w, r, "version", data)
	return status, n, kindMeta
}

// renderPage sends a browse page: HTML with a strict CSP, cached like an
// alias.
func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, name string, data any) (int, int64) {
	h := w.Header()
	h["Content-Type"] = []string{"text/html; charset=utf-8"}
	h["Content-Security-Policy"] = browseCSP
	h["Cache-Control"] = s.policy.alias
	h["Referrer-Policy"] = []string{"no-referrer"}
	var page bytes.Buffer
	if err := browseTemplates.ExecuteTemplate(&page, name, data); err != nil {
		s.log.Error("rendering a browse page", "page", name, "err", err)
		status, n, _ := s.writeError(w, r, kindMeta, http.StatusInternalServerError, "internal error")
		return status, n
	}
	return writeBody(w, r, http.StatusOK, h.Get("Content-Type"), page.Bytes())
}

// publicBases returns the http and https base URLs (with a trailing
// slash) that clients should use: from Config.PublicURL, or from the
// request's Host.
func (s *Server) publicBases(r *http.Request) (httpBase, httpsBase string) {
	host, prefix := r.Host, "/"
	if s.publicURL != nil {
		host, prefix = s.publicURL.Host, strings.TrimRight(s.publicURL.Path, "/")+"/"
	}
	return "http://" + host + prefix, "https://" + host + prefix
}

// snippet is the JavaScript that points a seed-style dependency loader
// at this server, like the seed README's new DependencyLoader({...}).
// Values are JSON string literals, so they are safe JavaScript.
func snippet(httpBase, httpsBase, version, suffix string) string {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	return "new DependencyLoader({\n" +
		"  cdn_http: " + q(httpBase) + ",\n" +
		"  cdn_https: " + q(httpsBase) + ",\n" +
		"  version: " + q(version) + ",\n" +
		"  suffix: " + q(suffix) + "\n" +
		"})"
}

// handleSnippet serves GET /-/snippet?version=X[&suffix=.min] as
// JavaScript. The version may be an alias, range or tag; the snippet
// always names the exact version, so dependencies load from the
// immutable directory.
func (s *Server) handleSnippet(c echo.Context) error {
	setKind(c, kindMeta)
	spec := c.QueryParam("version")
	if spec == "" {
		spec = "latest"
	}
	if _, _, err := parsePath("/" + spec + "/"); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "bad version")
	}
	exact := ""
	if v, err := s.store.get(spec); err == nil {
		exact = v.exact
	} else if r, rerr := s.store.resolve(spec); rerr == nil {
		exact = r
	} else {
		s.notFound(c.Response(), c.Request(), kindMeta, rerr)
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
	return c.Blob(http.StatusOK, layout.ContentType("snippet.js"), []byte(snippet(httpBase, httpsBase, exact, suffix)+";\n"))
}
