package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/loaderjs"
	"github.com/cdnserve/cdnserve/stats"
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
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:64rem;padding:1rem;color:#1a1a1a;background:#fff}
a{color:#0645ad}a:focus,button:focus{outline:3px solid #f90;outline-offset:2px}
h1{font-size:1.6rem;overflow-wrap:anywhere}h2{font-size:1.25rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ccc;vertical-align:top}
.num{text-align:right;white-space:nowrap}.type{white-space:nowrap}
code,pre{font:14px/1.4 ui-monospace,Menlo,Consolas,monospace}
pre{background:#f4f4f4;border:1px solid #ccc;padding:.5rem;white-space:pre-wrap;word-break:break-all;margin:.25rem 0}
.badge{display:inline-block;padding:0 .4rem;border-radius:.3rem;background:#6b3e00;color:#fff;font-size:.8rem}
button{font:inherit;padding:.2rem .8rem;border:1px solid #333;border-radius:.3rem;background:#fff;color:#1a1a1a;cursor:pointer}
.muted{color:#555}.sri{display:block;font-size:12px;color:#555;word-break:break-all}
.file{overflow-wrap:anywhere}nav.versions a{margin-right:.75rem;white-space:nowrap}
ul.inline{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
@media (max-width:40rem){body{padding:.5rem}.type,th.type{display:none}th,td{padding:.3rem .25rem}}`

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
{{if .One}}{{with index .Majors 0}}<h1>{{$.Heading}} {{.Major}}.x</h1>
<p>{{.Count}} versions, newest first; page {{.Page}} of {{.Pages}}. <a href="{{$.Base}}">All majors</a></p>
<ul class="inline" aria-label="versions">{{range .Versions}}<li><a href="{{$.Base}}{{.Name}}/">{{.Name}}</a>{{if .Pre}} <span class="badge">prerelease</span>{{end}}{{if .Deprecated}} <span class="badge">deprecated</span>{{end}}{{if ge .Requests 0}} <span class="muted" title="requests in the last 7 days">· {{.Requests}}</span>{{end}}</li>{{end}}</ul>
<nav class="versions" aria-label="pages">{{if .PrevURL}}<a href="{{.PrevURL}}" rel="prev">‹ newer</a>{{end}}{{if .NextURL}}<a href="{{.NextURL}}" rel="next">older ›</a>{{end}}</nav>
{{end}}{{else}}{{with .Libraries}}<h1>Libraries</h1>
<p>{{.Count}} libraries{{if gt .Pages 1}}; page {{.Page}} of {{.Pages}}{{end}}. Each is at <code>/&lt;name&gt;/&lt;version&gt;/</code>, or <code>/&lt;name&gt;@&lt;range&gt;/</code>.</p>
<ul class="inline" aria-label="libraries">{{range .Rows}}<li><a href="/{{.Name}}/">{{.Name}}</a>{{if .Latest}} <span class="muted">{{.Latest}}</span>{{end}}</li>{{end}}</ul>
{{if or .PrevURL .NextURL}}<nav class="versions" aria-label="library pages">{{if .PrevURL}}<a href="{{.PrevURL}}" rel="prev">‹ previous</a>{{end}}{{if .NextURL}}<a href="{{.NextURL}}" rel="next">next ›</a>{{end}}</nav>{{end}}
{{end}}{{if or .Majors (not .Libraries)}}{{if .Libraries}}<h2>Root library</h2>{{else}}<h1>{{.Heading}}</h1>{{end}}
{{if .Latest}}<p>Latest stable version: <a href="{{.Base}}{{.Latest}}/">{{.Latest}}</a> (also at <code>{{.Base}}latest/</code>)</p>{{else}}<p>No stable version is published yet.</p>{{end}}
{{if not .Majors}}<p>None.</p>{{end}}
{{range .Majors}}<h2 id="major-{{.Major}}">{{.Major}}.x <span class="muted">({{.Count}} versions)</span></h2>
<ul class="inline" aria-labelledby="major-{{.Major}}">{{range .Versions}}<li><a href="{{$.Base}}{{.Name}}/">{{.Name}}</a>{{if .Pre}} <span class="badge">prerelease</span>{{end}}{{if .Deprecated}} <span class="badge">deprecated</span>{{end}}{{if ge .Requests 0}} <span class="muted" title="requests in the last 7 days">· {{.Requests}}</span>{{end}}</li>{{end}}</ul>
{{if .More}}<p><a href="{{$.Base}}?major={{.Major}}">All {{.Count}} versions of {{.Major}}.x</a></p>{{end}}
{{if .Aliases}}<p>Aliases: {{range $i, $a := .Aliases}}{{if $i}}, {{end}}<a href="{{$.Base}}{{$a.Name}}/">{{$a.Name}}</a> → <a href="{{$.Base}}{{$a.Holds}}/">{{$a.Holds}}</a>{{end}}</p>{{end}}
{{end}}{{end}}{{end}}
<p class="muted">Machine-readable: <a href="/-/versions{{.VersionsPath}}">/-/versions{{.VersionsPath}}</a>{{if .Libraries}} · <a href="/-/libraries">/-/libraries</a>{{end}}</p>
{{template "foot" .}}{{end}}
{{define "version"}}{{template "head" .}}
<h1>{{if .Library}}<a href="{{.Base}}">{{.Library}}</a> {{else}}Version {{end}}{{.Name}}</h1>
<nav class="versions" aria-label="other versions">{{if .Newer}}<a href="{{.Base}}{{.Newer}}/" rel="prev">‹ {{.Newer}}</a>{{end}}{{if .Older}}<a href="{{.Base}}{{.Older}}/" rel="next">{{.Older}} ›</a>{{end}}{{if .Latest}}<a href="{{.Base}}{{.Latest}}/">latest: {{.Latest}}</a>{{end}}<a href="{{.Base}}?major={{.Major}}">all {{.Major}}.x</a></nav>
{{if .AliasOf}}<p>This is an alias. It now holds version <a href="{{.Base}}{{.AliasOf}}/">{{.AliasOf}}</a> and moves when a newer {{.Name}}.x is published; pin <code>{{.Base}}{{.AliasOf}}/</code> in production.</p>{{end}}
{{if .Pre}}<p><span class="badge">prerelease</span></p>{{end}}
{{if .Deprecated}}<p role="note"><span class="badge">deprecated</span> {{.Deprecated}}{{if .Successor}} Use <a href="{{.Base}}{{.Successor}}/">{{.Successor}}</a>.{{end}}</p>{{end}}
{{if .HasStats}}<p class="muted">{{.Requests7}} requests in the last 7 days (all replicas, up to a minute behind; <a href="/-/stats{{.VersionsPath}}">/-/stats{{.VersionsPath}}</a>).</p>{{end}}
<p class="muted">{{if .Published}}Published {{.Published}}{{end}}{{if .Commit}} from commit <code>{{.Commit}}</code>{{if .Dirty}} (with uncommitted changes){{end}}{{end}}{{if .Tool}} by {{.Tool}}{{end}}.</p>
<h2 id="files">Files</h2>
<table aria-labelledby="files"><thead><tr><th scope="col">File and SRI</th><th scope="col" class="num">Size</th><th scope="col" class="num">gzip</th><th scope="col" class="num">br</th><th scope="col" class="type">Type</th></tr></thead><tbody>
{{range .Files}}<tr><td class="file"><a href="{{.URL}}">{{.Path}}</a><code class="sri">{{.Integrity}}</code></td><td class="num">{{size .Size}}</td><td class="num">{{if .Gzip}}{{size .Gzip}}{{else}}–{{end}}</td><td class="num">{{if .Br}}{{size .Br}}{{else}}–{{end}}</td><td class="type"><code>{{.ContentType}}</code></td></tr>
{{end}}</tbody></table>
{{if .Tags}}<h2 id="tags">Tags to paste</h2>
{{range $i, $t := .Tags}}<h3>{{$t.Path}}</h3>
<pre><code id="tag-{{$i}}">{{$t.Tag}}</code></pre>
<button type="button" data-copy="tag-{{$i}}" hidden aria-label="Copy the tag for {{$t.Path}}">Copy</button>
{{end}}{{end}}
{{if .ImportMap}}<h2 id="importmap">Import map</h2>
<p>Import this version by its bare specifier, each module pinned by its hash:</p>
<pre><code id="importmap-code">{{.ImportMap}}</code></pre>
<button type="button" data-copy="importmap-code" hidden aria-label="Copy the import map">Copy</button>
{{end}}<h2 id="snippet">Dependency loader</h2>
<p>This server's loader, <code>/-/loader.js</code>, has the seed's API and checks every dependency it loads against this version's integrity manifest:</p>
<pre><code id="loader-tag">{{.LoaderTag}}</code></pre>
<button type="button" data-copy="loader-tag" hidden aria-label="Copy the loader's script tag">Copy</button>
<p>Point a seed-style <code>DependencyLoader</code> at this server (<a href="{{.SnippetURL}}">as a file</a>):</p>
<pre><code id="snippet-code">{{.Snippet}}</code></pre>
<button type="button" data-copy="snippet-code" hidden aria-label="Copy the dependency loader snippet">Copy</button>
<p class="muted">Machine-readable: <a href="/-/meta/{{.MetaPath}}">/-/meta/{{.MetaPath}}</a></p>
{{template "foot" .}}{{end}}
{{define "error"}}{{template "head" .}}
<h1>{{.Status}} {{.StatusText}}</h1>
<p>{{.Message}}</p>
{{if .Versions}}<p>Published versions{{if .Library}} of {{.Library}}{{end}}, newest first: {{range $i, $v := .Versions}}{{if $i}}, {{end}}<a href="{{$.Base}}{{$v}}/">{{$v}}</a>{{end}}{{if .More}}, and {{.More}} more{{end}}.</p>{{end}}
<p><a href="{{if .Base}}{{.Base}}{{else}}/{{end}}">All versions</a> · <a href="/-/versions{{.VersionsPath}}">/-/versions{{.VersionsPath}}</a></p>
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

// Index page sizes: each major shows its newest indexRecent versions on
// /, and all of them, indexPage a page, on /?major=N&page=P. So / stays
// small at 5,000 versions.
const (
	indexRecent = 8
	indexPage   = 100
)

// indexVersion is one version in the index.
type indexVersion struct {
	Name       string
	Pre        bool
	Deprecated bool
	// Requests are its requests in the last 7 days; -1 when none are
	// recorded.
	Requests int64
}

// indexMajor is one major line in the index: its newest versions (or a
// page of them) and its aliases.
type indexMajor struct {
	Major            uint64
	Count            int
	Versions         []indexVersion
	Aliases          []indexAlias
	More             bool // more versions than shown: link to the major's pages
	Page, Pages      int  // on a major's own page
	PrevURL, NextURL string
}

type indexAlias struct{ Name, Holds string }

// indexLibraries is the libraries part of /: a page of them.
type indexLibraries struct {
	Count, Page, Pages int
	Rows               []libraryRow
	PrevURL, NextURL   string
}

type libraryRow struct{ Name, Latest string }

// handleIndex renders GET /: the named libraries, a page at a time
// (/?libraries=P), then the root library's versions as its own page
// shows them (indexData).
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
// tree (pageCache).
func (s *Server) indexPage(w http.ResponseWriter, r *http.Request, lib *store) (int, int64) {
	if lib.Name() == "" {
		s.setTags(w.Header(), newTagSet(tagIndex, "@*"))
	} else {
		s.setTags(w.Header(), libraryTags(lib.Name()))
	}
	q := r.URL.Query()
	key := lib.Name() + "\x00" + q.Get("major") + "/" + q.Get("page") + "/" + q.Get("libraries")
	gen := s.cat.Gen()
	cacheable := r.Header.Get("Authorization") == "" // a credential may show private libraries
	if page, ok := s.pages.get(gen, key); ok && cacheable {
		return s.sendPage(w, r, page)
	}
	if !cacheable {
		w = &privateWriter{ResponseWriter: w, s: s}
	}
	var data map[string]any
	if lib.Name() != "" || s.visible(r)("") {
		data = s.indexData(lib, q.Get("major"), q.Get("page"))
	} else if q.Get("major") == "" {
		data = map[string]any{"Title": "cdnserve: libraries", "Heading": "Libraries", "Base": "/", "VersionsPath": ""}
	}
	if data != nil && lib.Name() == "" && q.Get("major") == "" {
		libs := s.libraryList(r, q.Get("libraries"))
		if libs == nil {
			data = nil
		} else if libs.Count > 0 {
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
		s.pages.put(gen, key, page)
	}
	return s.sendPage(w, r, page)
}

// librariesPage is how many libraries / lists a page: 100 rows keep it
// near 10 KB, however many libraries there are.
const librariesPage = 100

// libraryList is one page of the named libraries, each with its latest
// version; nil when the page does not exist.
func (s *Server) libraryList(r *http.Request, pageParam string) *indexLibraries {
	var names []string
	visible := s.visible(r)
	for _, name := range s.cat.Libraries() {
		if visible(name) {
			names = append(names, name)
		}
	}
	out := &indexLibraries{Count: len(names), Page: 1, Pages: max(1, (len(names)+librariesPage-1)/librariesPage)}
	if pageParam != "" {
		p, err := strconv.Atoi(pageParam)
		if err != nil || p < 1 || p > out.Pages {
			return nil
		}
		out.Page = p
	}
	for _, name := range names[min(len(names), (out.Page-1)*librariesPage):min(len(names), out.Page*librariesPage)] {
		row := libraryRow{Name: name}
		if lib := s.cat.Loaded(name); lib != nil {
			row.Latest, _ = lib.Resolve("latest")
		}
		out.Rows = append(out.Rows, row)
	}
	if out.Page > 1 {
		out.PrevURL = fmt.Sprintf("/?libraries=%d", out.Page-1)
	}
	if out.Page < out.Pages {
		out.NextURL = fmt.Sprintf("/?libraries=%d", out.Page+1)
	}
	return out
}

// indexData gathers a library's index, or one major's page of it; nil
// when the major or page does not exist.
func (s *Server) indexData(lib *store, majorParam, pageParam string) map[string]any {
	versions := lib.Servable()
	var majors []*indexMajor
	byMajor := map[uint64]*indexMajor{}
	for _, v := range versions {
		m := byMajor[v.Major()]
		if m == nil {
			m = &indexMajor{Major: v.Major()}
			byMajor[v.Major()] = m
			majors = append(majors, m)
		}
		m.Count++
	}
	heading, title := "Published versions", "cdnserve: published versions"
	if lib.Name() != "" {
		heading, title = lib.Name(), "cdnserve: "+lib.Name()
	}
	data := map[string]any{"Title": title, "Heading": heading, "Total": len(versions), "Base": lib.Prefix(), "VersionsPath": versionsPath(lib)}
	data["Latest"], _ = lib.Resolve("latest")
	if majorParam != "" {
		n, err := strconv.ParseUint(majorParam, 10, 64)
		m := byMajor[n]
		if err != nil || m == nil {
			return nil
		}
		page := 1
		if pageParam != "" {
			if page, err = strconv.Atoi(pageParam); err != nil || page < 1 {
				return nil
			}
		}
		m.Pages = (m.Count + indexPage - 1) / indexPage
		if page > m.Pages {
			return nil
		}
		m.Page = page
		s.fillMajor(lib, m, versions, (page-1)*indexPage, indexPage)
		if page > 1 {
			m.PrevURL = fmt.Sprintf("%s?major=%d&page=%d", lib.Prefix(), n, page-1)
		}
		if page < m.Pages {
			m.NextURL = fmt.Sprintf("%s?major=%d&page=%d", lib.Prefix(), n, page+1)
		}
		data["Title"] = fmt.Sprintf("%s: versions %d.x", title, n)
		if lib.Name() == "" {
			data["Heading"] = "Versions"
		}
		data["Majors"] = []*indexMajor{m}
		data["One"] = true
		return data
	}
	for _, m := range majors {
		s.fillMajor(lib, m, versions, 0, indexRecent)
		m.More = m.Count > indexRecent
	}
	data["Majors"] = majors
	return data
}

// fillMajor lists versions skip..skip+n of a major (newest first), and
// the aliases of the minors shown.
func (s *Server) fillMajor(lib *store, m *indexMajor, versions []*semver.Version, skip, n int) {
	recent := s.recentStats(7)
	seen := map[string]bool{}
	for _, v := range versions {
		if v.Major() != m.Major {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if len(m.Versions) == n {
			break
		}
		iv := indexVersion{Name: v.Original(), Pre: versioning.IsPrerelease(v), Deprecated: lib.Deprecated(v.Original()) != nil, Requests: -1}
		for _, day := range recent {
			if c, ok := day[stats.Key(lib.Name())][v.Original()]; ok {
				iv.Requests = max(iv.Requests, 0) + c.Requests
			}
		}
		m.Versions = append(m.Versions, iv)
		name := versioning.AliasDir(v)
		if seen[name] {
			continue
		}
		seen[name] = true
		if a, err := getVersion(lib, name); err == nil && a.Alias {
			m.Aliases = append(m.Aliases, indexAlias{name, a.Exact})
		}
	}
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
		Library, Base, MetaPath                   string
		LoaderTag, ImportMap                      string
		Deprecated, Successor, VersionsPath       string
		HasStats                                  bool
		Requests7                                 int64
		Pre, Dirty                                bool
		Published, Commit, Tool                   string
		Newer, Older, Latest                      string
		Major                                     uint64
		Files                                     []browseFile
		Tags                                      []tag
	}{Title: "cdnserve: " + metaPath(v.Lib, v.Name), Name: v.Name, Library: v.Lib.Name(), Base: v.Lib.Prefix(), MetaPath: metaPath(v.Lib, v.Name)}
	if v.Alias {
		data.AliasOf = v.Exact
	}
	prov := v.Manifest.Provenance
	if !prov.BuiltAt.IsZero() {
		data.Published = prov.BuiltAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	data.Commit, data.Dirty, data.Tool = shortCommit(prov.GitCommit), prov.GitDirty, prov.Tool
	if sv, err := versioning.Parse(v.Exact); err == nil {
		data.Pre, data.Major = versioning.IsPrerelease(sv), sv.Major()
		data.Newer, data.Older = neighbours(v.Lib, sv)
	}
	if latest, err := v.Lib.Resolve("latest"); err == nil && latest != v.Exact {
		data.Latest = latest
	}
	httpBase, httpsBase := s.publicBases(r)
	tagBase := s.tagBase(r)
	for _, mf := range readingOrder(v.Manifest.Files) {
		u := v.Lib.Prefix() + v.Name + "/" + (&url.URL{Path: mf.Path}).EscapedPath()
		data.Files = append(data.Files, browseFile{Path: mf.Path, URL: u, ContentType: mf.ContentType, Integrity: mf.Integrity,
			Size: mf.Size, Gzip: mf.Encodings["gzip"].Size, Br: mf.Encodings["br"].Size})
		abs := tagBase + v.Lib.Prefix()[1:] + v.Exact + "/" + (&url.URL{Path: mf.Path}).EscapedPath()
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
	data.LoaderTag = `<script src="` + tagBase + `-/loader.js" integrity="` + loaderjs.Integrity + `" crossorigin="anonymous"></script>`
	if v.Lib.Name() != "" && moduleEntry(v) != "" {
		if m, err := s.ImportMap(tagBase, []string{v.Lib.Name() + "@" + v.Exact}); err == nil {
			raw, _ := json.MarshalIndent(m, "", "  ")
			data.ImportMap = `<script type="importmap">` + "\n" + string(raw) + "\n</script>"
		}
	}
	data.Snippet = snippet(httpBase+v.Lib.Prefix()[1:], httpsBase+v.Lib.Prefix()[1:], v.Exact, ".min")
	data.SnippetURL = "/-/snippet?version=" + url.QueryEscape(v.Exact)
	if v.Lib.Name() != "" {
		data.SnippetURL += "&library=" + url.QueryEscape(v.Lib.Name())
	}
	if d := v.Lib.Deprecated(v.Exact); d != nil {
		data.Deprecated, data.Successor = d.Message, d.Successor
	}
	data.VersionsPath = versionsPath(v.Lib)
	for _, day := range s.recentStats(7) {
		if c, ok := day[stats.Key(v.Lib.Name())][v.Exact]; ok {
			data.HasStats, data.Requests7 = true, data.Requests7+c.Requests
		}
	}
	s.setTags(w.Header(), v.tags)
	s.deprecationHeaders(w.Header(), v, "")
	status, n := s.renderPage(w, r, "version", data)
	return status, n, kindMeta
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

// render executes a browse template.
func (s *Server) render(name string, data any) ([]byte, error) {
	var page bytes.Buffer
	if err := browseTemplates.ExecuteTemplate(&page, name, data); err != nil {
		s.log.Error("rendering a browse page", "page", name, "err", err)
		return nil, err
	}
	return page.Bytes(), nil
}

// sendPage sends a rendered browse page with its headers: a strict CSP,
// cached like an alias.
func (s *Server) sendPage(w http.ResponseWriter, r *http.Request, page []byte) (int, int64) {
	h := w.Header()
	h["Content-Type"] = hvHTML
	h["Content-Security-Policy"] = browseCSP
	h["Cache-Control"] = s.policy.alias
	h["Referrer-Policy"] = hvNoReferrer
	return writeBody(w, r, http.StatusOK, hvHTML[0], page)
}

// pageCache keeps rendered index pages until the tree changes
// (treeEnv.gen), so / costs a map lookup between refreshes, whatever the
// number of versions.
type pageCache struct {
	mu    sync.Mutex
	gen   uint64
	pages map[string][]byte
}

func (c *pageCache) get(gen uint64, key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return nil, false
	}
	p, ok := c.pages[key]
	return p, ok
}

func (c *pageCache) put(gen uint64, key string, page []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen || c.pages == nil || len(c.pages) > 1000 {
		c.gen, c.pages = gen, map[string][]byte{}
	}
	c.pages[key] = page
}

// neighbours are the published versions just newer and just older than
// v, for the version switcher.
func neighbours(lib *store, v *semver.Version) (newer, older string) {
	versions := lib.Versions() // newest first
	i, found := slices.BinarySearchFunc(versions, v, func(a, b *semver.Version) int { return b.Compare(a) })
	if i > 0 {
		newer = versions[i-1].Original()
	}
	if found {
		i++
	}
	if i < len(versions) {
		older = versions[i].Original()
	}
	return newer, older
}

// shortCommit is the first 12 hex digits of a commit.
func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// readingOrder sorts a version's files as people read them: by name
// without case, each bundle before its .min twin and then its sourcemap
// ("pusher.js", "pusher.min.js", "pusher.min.js.map", "sockjs.js").
func readingOrder(files []layout.ManifestFile) []layout.ManifestFile {
	out := slices.Clone(files)
	key := func(p string) (string, int) {
		l, rank := strings.ToLower(p), 0
		if base, ok := strings.CutSuffix(l, ".map"); ok {
			l, rank = base, 2
		}
		ext := path.Ext(l)
		if base, ok := strings.CutSuffix(strings.TrimSuffix(l, ext), ".min"); ok {
			l, rank = base+ext, max(rank, 1)
		}
		return l, rank
	}
	slices.SortStableFunc(out, func(a, b layout.ManifestFile) int {
		ka, ra := key(a.Path)
		kb, rb := key(b.Path)
		if c := strings.Compare(ka, kb); c != 0 {
			return c
		}
		return ra - rb
	})
	return out
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
	lib := s.libraryOf(c, c.QueryParam("library"))
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
	return c.Blob(http.StatusOK, layout.ContentType("snippet.js"), []byte(snippet(httpBase+lib.Prefix()[1:], httpsBase+lib.Prefix()[1:], exact, suffix)+";\n"))
}
