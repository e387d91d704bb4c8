// Package browse renders cdnserve's browse pages: the index of the
// libraries, a library's versions, a version's files, and the HTML error
// page. It gathers what a page shows from the catalog, and renders it;
// the server decides the HTTP side (caching, tags, who may see what).
//
// The pages are server-rendered: html/template escapes every
// version and file name, which are untrusted. One stylesheet and one
// small script are inline; the Content-Security-Policy allows exactly
// those by hash and nothing else, so no injected markup can run or load
// anything. The pages work without JavaScript: the copy buttons are
// hidden until the script shows them.
package browse

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"path"
	"strconv"
	"strings"
)

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
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dl.facts dd{margin:0;overflow-wrap:anywhere}
form.switch,form.search{margin:.5rem 0}input[type=search]{font:inherit;padding:.2rem;max-width:100%}select{font:inherit;padding:.2rem;max-width:100%}
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
});
(function () {
  function mark() {
    var m = /^#L(\d+)(?:-L(\d+))?$/.exec(location.hash);
    document.querySelectorAll(".chroma .line.hl").forEach(function (l) { l.classList.remove("hl"); });
    if (!m) { return; }
    var a = +m[1], b = +(m[2] || m[1]);
    if (b < a) { var t = a; a = b; b = t; }
    for (var i = a; i <= b && i < a + 100000; i++) {
      var n = document.getElementById("L" + i);
      if (n && n.parentNode) { n.parentNode.classList.add("hl"); }
    }
    var first = document.getElementById("L" + a);
    if (first) { first.scrollIntoView({block: "center"}); }
  }
  var anchor = 0;
  document.querySelectorAll(".chroma a.lnlinks").forEach(function (a) {
    a.addEventListener("click", function (e) {
      var n = +a.getAttribute("href").slice(2);
      if (e.shiftKey && anchor) {
        e.preventDefault();
        location.hash = "#L" + Math.min(anchor, n) + "-L" + Math.max(anchor, n);
      } else { anchor = n; }
    });
  });
  window.addEventListener("hashchange", mark);
  mark();
})();`

// browseCSP is the pages' Content-Security-Policy: nothing but the one
// inline style and the one inline script, by hash.
// CSP is the pages' Content-Security-Policy: their own inline style and
// script, by hash, and nothing else.
var CSP = csp(browseCSS)

// ViewCSP is the file viewer's: its stylesheet adds the highlighting's.
var ViewCSP = csp(browseCSS + viewCSS)

func csp(style string) []string {
	return []string{"default-src 'none'; style-src '" + cspHash(style) + "'; script-src '" + cspHash(browseJS) +
		"'; img-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"}
}

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

var browseTemplates = template.Must(template.New("layout").Funcs(template.FuncMap{
	"size": humanSize,
	"count": func(n any, noun string) string {
		switch n := n.(type) {
		case int:
			return count(n, noun)
		case int64:
			return count(n, noun)
		}
		return fmt.Sprint(n) + " " + noun + "s"
	},
	"base": path.Base,
}).Parse(`{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title><style>` + browseCSS + `</style></head><body>
<header><p><a href="/">cdnserve</a></p></header><main>
{{end}}
{{define "viewhead"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title><style>` + browseCSS + viewCSS + `</style></head><body>
<header><p><a href="/">cdnserve</a></p></header><main>
{{end}}
{{define "view"}}{{template "viewhead" .}}
<h1>{{if .Library}}<a href="{{.Base}}">{{.Library}}</a> {{end}}<a href="{{.Base}}{{.Name}}/">{{.Name}}</a>{{range .Crumbs}} / <a href="{{.URL}}">{{.Name}}</a>{{end}} / {{.File}}</h1>
{{if ne .Name .Exact}}<p>This is an alias of <a href="{{.Base}}{{.Exact}}/">{{.Exact}}</a>.</p>{{end}}
{{template "switcher" .Switcher}}
<dl class="facts"><dt>Size</dt><dd>{{size .Size}}{{if .Lines}}, {{.Lines}} lines{{end}}</dd><dt>Type</dt><dd><code>{{.ContentType}}</code></dd><dt>SRI</dt><dd><code class="sri">{{.Integrity}}</code></dd>
<dt>Links</dt><dd><a href="{{.RawURL}}">raw</a>{{if .MapURL}} · <a href="{{.MapURL}}">source map</a>{{end}}</dd>
{{if .Elsewhere}}<dt>In other versions</dt><dd>{{range $i, $v := .Elsewhere}}{{if $i}}, {{end}}<a href="{{$v.URL}}?view">{{$v.Name}}</a>{{end}}</dd>{{end}}</dl>
{{if .Tag}}<pre><code id="view-tag">{{.Tag}}</code></pre>
<button type="button" data-copy="view-tag" hidden aria-label="Copy the tag for {{.Path}}">Copy</button>{{end}}
<h2 id="code">{{.Path}}</h2>
{{if .Code}}<p class="muted">Line numbers are links; shift-click a second one to link a range.</p>
<div aria-labelledby="code">{{.Code}}</div>{{else}}<p>{{.Why}} <a href="{{.RawURL}}">Download it</a> ({{size .Size}}).</p>{{end}}
{{template "foot" .}}{{end}}
{{define "foot"}}</main><script>` + browseJS + `</script></body></html>
{{end}}
{{define "index"}}{{template "head" .}}
{{if .One}}{{with index .Majors 0}}<h1>{{$.Heading}} {{.Major}}.x</h1>
<p>{{count .Count "version"}}, newest first; page {{.Page}} of {{.Pages}}. <a href="{{$.Base}}">All majors</a></p>
<ul class="inline" aria-label="versions">{{range .Versions}}<li><a href="{{$.Base}}{{.Name}}/">{{.Name}}</a>{{if .Pre}} <span class="badge">prerelease</span>{{end}}{{if .Deprecated}} <span class="badge">deprecated</span>{{end}}{{if ge .Requests 0}} <span class="muted">· {{count .Requests "request"}} this week</span>{{end}}</li>{{end}}</ul>
<nav class="versions" aria-label="pages">{{if .PrevURL}}<a href="{{.PrevURL}}" rel="prev">‹ newer</a>{{end}}{{if .NextURL}}<a href="{{.NextURL}}" rel="next">older ›</a>{{end}}</nav>
{{end}}{{else}}{{with .Libraries}}<h1>Libraries</h1>
<form class="search" method="get" action="/" role="search"><label for="search-q">Search libraries by name</label> <input id="search-q" name="q" type="search" value="{{.Query}}" autocomplete="off"> <button type="submit">Search</button></form>
{{if .Query}}<p>{{.Count}} of {{.All}} libraries match <q>{{.Query}}</q>{{if gt .Pages 1}}; page {{.Page}} of {{.Pages}}{{end}}. <a href="/">All libraries</a></p>{{else}}<p>{{if eq .Count 1}}1 library{{else}}{{.Count}} libraries{{end}}{{if gt .Pages 1}}; page {{.Page}} of {{.Pages}}{{end}}. Each is at <code>/&lt;name&gt;/&lt;version&gt;/</code>, or <code>/&lt;name&gt;@&lt;range&gt;/</code>.</p>{{end}}
<ul class="inline" aria-label="libraries">{{range .Rows}}<li><a href="/{{.Name}}/">{{.Name}}</a>{{if .Latest}} <span class="muted">{{.Latest}}</span>{{end}}</li>{{end}}</ul>
{{if or .PrevURL .NextURL}}<nav class="versions" aria-label="library pages">{{if .PrevURL}}<a href="{{.PrevURL}}" rel="prev">‹ previous</a>{{end}}{{if .NextURL}}<a href="{{.NextURL}}" rel="next">next ›</a>{{end}}</nav>{{end}}
{{end}}{{if or .Majors (not .Libraries)}}{{if .Libraries}}<h2>Root library</h2>{{else}}<h1>{{.Heading}}</h1>{{end}}
{{if .Latest}}<p>Latest stable version: <a href="{{.Base}}{{.Latest}}/">{{.Latest}}</a> (also at <code>{{.Base}}latest/</code>)</p>{{else}}<p>No stable version is published yet.</p>{{end}}
{{if not .Majors}}<p>None.</p>{{end}}
{{range .Majors}}<h2 id="major-{{.Major}}">{{.Major}}.x <span class="muted">({{count .Count "version"}})</span></h2>
<ul class="inline" aria-labelledby="major-{{.Major}}">{{range .Versions}}<li><a href="{{$.Base}}{{.Name}}/">{{.Name}}</a>{{if .Pre}} <span class="badge">prerelease</span>{{end}}{{if .Deprecated}} <span class="badge">deprecated</span>{{end}}{{if ge .Requests 0}} <span class="muted">· {{count .Requests "request"}} this week</span>{{end}}</li>{{end}}</ul>
{{if .More}}<p><a href="{{$.Base}}?major={{.Major}}">All {{.Count}} versions of {{.Major}}.x</a></p>{{end}}
{{if .Aliases}}<p>Aliases: {{range $i, $a := .Aliases}}{{if $i}}, {{end}}<a href="{{$.Base}}{{$a.Name}}/">{{$a.Name}}</a> → <a href="{{$.Base}}{{$a.Holds}}/">{{$a.Holds}}</a>{{end}}</p>{{end}}
{{end}}{{end}}{{end}}
<p class="muted">Machine-readable: <a href="/-/versions{{.VersionsPath}}">/-/versions{{.VersionsPath}}</a>{{if .Libraries}} · <a href="/-/libraries">/-/libraries</a>{{end}}</p>
{{template "foot" .}}{{end}}
{{define "version"}}{{template "head" .}}
<h1>{{if .Library}}<a href="{{.Base}}">{{.Library}}</a> {{else}}Version {{end}}{{.Name}}</h1>
<nav class="versions" aria-label="other versions">{{if .Newer}}<a href="{{.Base}}{{.Newer}}/" rel="prev">‹ {{.Newer}}</a>{{end}}{{if .Older}}<a href="{{.Base}}{{.Older}}/" rel="next">{{.Older}} ›</a>{{end}}{{if .Latest}}<a href="{{.Base}}{{.Latest}}/">latest: {{.Latest}}</a>{{end}}<a href="{{.Base}}?major={{.Major}}">all {{.Major}}.x</a></nav>
{{template "switcher" .Switcher}}
{{if .AliasOf}}<p>This is an alias. It now holds version <a href="{{.Base}}{{.AliasOf}}/">{{.AliasOf}}</a> and moves when a newer {{.Name}}.x is published; pin <code>{{.Base}}{{.AliasOf}}/</code> in production.</p>{{end}}
{{if .Pre}}<p><span class="badge">prerelease</span></p>{{end}}
{{if .Deprecated}}<p role="note"><span class="badge">deprecated</span> {{.Deprecated}}{{if .Successor}} Use <a href="{{.Base}}{{.Successor}}/">{{.Successor}}</a>.{{end}}</p>{{end}}
{{if .HasStats}}<p class="muted">{{count .Requests7 "request"}} in the last 7 days (all replicas, up to a minute behind; <a href="/-/stats{{.VersionsPath}}">/-/stats{{.VersionsPath}}</a>).</p>{{end}}
<p class="muted">{{if .Published}}Published {{.Published}}{{end}}{{if .Commit}} from commit <code>{{.Commit}}</code>{{if .Dirty}} (with uncommitted changes){{end}}{{end}}{{if .Tool}} by {{.Tool}}{{end}}.</p>
{{if .Registry}}<h2 id="verified">Verified at ingest</h2>
{{with .Verified}}<dl class="verified">
<dt>Registry signature</dt><dd>{{if .KeyID}}verified, key <code>{{.KeyID}}</code>{{else}}not checked (the registry publishes no keys, or the policy turns it off){{end}}</dd>
<dt>Provenance</dt><dd>{{if .Repository}}built from <a href="{{.Repository}}" rel="nofollow">{{.Repository}}</a> at commit <code>{{.Commit}}</code> by <code>{{.Workflow}}</code> (Sigstore, verified){{else}}none{{end}}</dd>
<dt>Licence</dt><dd>{{if .License}}{{.License}}{{else}}none given{{end}}</dd>
<dt>Advisories at ingest</dt><dd>{{if .Advisories}}{{range $i, $a := .Advisories}}{{if $i}}, {{end}}<code>{{$a}}</code>{{end}}{{else}}none{{end}}</dd>
<dt>Install scripts</dt><dd>{{if .Scripts}}{{range $i, $s := .Scripts}}{{if $i}}, {{end}}<code>{{$s}}</code>{{end}}{{else}}none{{end}}</dd>
{{if .NewMaintainers}}<dt>New maintainers</dt><dd>{{range $i, $m := .NewMaintainers}}{{if $i}}, {{end}}{{$m}}{{end}}</dd>{{end}}
{{if .Warnings}}<dt>Admitted with warnings</dt><dd><ul>{{range .Warnings}}<li>{{.}}</li>{{end}}</ul></dd>{{end}}
<dt>Policy</dt><dd><code>{{.Policy}}</code></dd>
</dl>{{else}}<p class="muted">Fetched from {{.Registry}} and checked against its integrity; stored before the supply-chain gate, so nothing more was verified.</p>{{end}}{{end}}
{{with .Facts}}<h2 id="package">Package</h2>
<dl class="facts"><dt>Registry</dt><dd>{{.Registry}}</dd>{{if .Tarball}}<dt>Tarball</dt><dd><code>{{base .Tarball}}</code></dd>{{end}}{{if .Integrity}}<dt>Tarball integrity</dt><dd><code class="sri">{{.Integrity}}</code></dd>{{end}}<dt>Licence</dt><dd>{{if .License}}{{.License}}{{else}}none given{{end}}</dd></dl>
{{if .Exports}}<h3 id="exports">Exports</h3>
<table aria-labelledby="exports"><thead><tr><th scope="col">Subpath</th><th scope="col">Condition and file</th></tr></thead><tbody>
{{range .Exports}}<tr><td><code>{{.Subpath}}</code></td><td>{{range $i, $t := .Targets}}{{if $i}}<br>{{end}}{{if $t.Condition}}<span class="muted">{{$t.Condition}}</span> {{end}}{{if $t.URL}}<a href="{{$t.URL}}"><code>{{$t.File}}</code></a>{{else}}<code>{{$t.File}}</code>{{end}}{{end}}</td></tr>
{{end}}</tbody></table>{{end}}
{{if .Dependencies}}<h3 id="dependencies">Dependencies</h3>
<ul class="inline" aria-labelledby="dependencies">{{range .Dependencies}}<li>{{if .URL}}<a href="{{.URL}}">{{.Name}}</a>{{else}}{{.Name}}{{end}} <code>{{.Range}}</code>{{if .Kind}} <span class="muted">({{.Kind}})</span>{{end}}</li>{{end}}</ul>{{else}}<p class="muted">No dependencies.</p>{{end}}
{{end}}<h2 id="files">Files</h2>
{{template "listing" .Files}}
{{if .Tags}}<h2 id="tags">Tags to paste</h2>
{{range $i, $t := .Tags}}<h3>{{$t.Path}}</h3>
<pre><code id="tag-{{$i}}">{{$t.Tag}}</code></pre>
<button type="button" data-copy="tag-{{$i}}" hidden aria-label="Copy the tag for {{$t.Path}}">Copy</button>
{{end}}{{if .MoreTags}}<p class="muted">{{.MoreTags}} more tags: each file's SRI is in its row, and in <a href="/-/meta/{{.MetaPath}}">/-/meta/{{.MetaPath}}</a>.</p>{{end}}{{end}}
{{if .ImportMap}}<h2 id="importmap">Import map</h2>
<p>Import this version by its bare specifier, each module pinned by its hash:</p>
<pre><code id="importmap-code">{{.ImportMap}}</code></pre>
<button type="button" data-copy="importmap-code" hidden aria-label="Copy the import map">Copy</button>
{{end}}{{if .Snippet}}<h2 id="snippet">Dependency loader</h2>
<p>This server's loader, <code>/-/loader.js</code>, has the seed's API and checks every dependency it loads against this version's integrity manifest:</p>
<pre><code id="loader-tag">{{.LoaderTag}}</code></pre>
<button type="button" data-copy="loader-tag" hidden aria-label="Copy the loader's script tag">Copy</button>
<p>Point a seed-style <code>DependencyLoader</code> at this server (<a href="{{.SnippetURL}}">as a file</a>):</p>
<pre><code id="snippet-code">{{.Snippet}}</code></pre>
<button type="button" data-copy="snippet-code" hidden aria-label="Copy the dependency loader snippet">Copy</button>
{{end}}<p class="muted">Machine-readable: <a href="/-/meta/{{.MetaPath}}">/-/meta/{{.MetaPath}}</a></p>
{{template "foot" .}}{{end}}
{{define "listing"}}<p class="muted">{{if .Dirs}}{{.Dirs}} {{if eq .Dirs 1}}directory{{else}}directories{{end}} and {{end}}{{.FileCount}} {{if eq .FileCount 1}}file{{else}}files{{end}} here; {{.Files}} {{if eq .Files 1}}file{{else}}files{{end}}, {{size .Size}} in all{{if gt .Pages 1}}; page {{.Page}} of {{.Pages}}{{end}}.</p>
<table><caption class="muted">Directories first, each with its file count and total size; then the files with their SRI</caption><thead><tr><th scope="col">Name</th><th scope="col" class="num">Size</th><th scope="col" class="num">gzip</th><th scope="col" class="num">br</th><th scope="col" class="type">Type</th></tr></thead><tbody>
{{range .Entries}}{{if .Dir}}<tr><td class="file"><a href="{{.URL}}">{{.Name}}</a></td><td class="num">{{size .Size}}</td><td class="num" colspan="2">{{.Files}} {{if eq .Files 1}}file{{else}}files{{end}}</td><td class="type">directory</td></tr>
{{else}}<tr><td class="file"><a href="{{.URL}}">{{.Name}}</a><code class="sri">{{.Integrity}}</code><a href="{{.URL}}?view" aria-label="view {{.Name}}">view</a></td><td class="num">{{size .Size}}</td><td class="num">{{if .Gzip}}{{size .Gzip}}{{else}}–{{end}}</td><td class="num">{{if .Br}}{{size .Br}}{{else}}–{{end}}</td><td class="type"><code>{{.ContentType}}</code></td></tr>
{{end}}{{end}}</tbody></table>
{{if or .PrevURL .NextURL}}<nav class="versions" aria-label="pages of this directory">{{if .PrevURL}}<a href="{{.PrevURL}}" rel="prev">‹ previous</a>{{end}}{{if .NextURL}}<a href="{{.NextURL}}" rel="next">next ›</a>{{end}}</nav>{{end}}
{{end}}
{{define "switcher"}}{{with .}}<form class="switch" method="get" action="/-/switch"><input type="hidden" name="library" value="{{.Library}}"><input type="hidden" name="path" value="{{.Path}}">{{if .View}}<input type="hidden" name="view" value="1">{{end}}
<label for="switch-version">{{if .Path}}Open {{.Path}} in version{{else}}Open version{{end}}</label> <select id="switch-version" name="version">{{range .Options}}<option{{if eq . $.Current}} selected{{end}}>{{.}}</option>{{end}}</select> <button type="submit">Open</button>{{if .More}} <span class="muted">(the newest {{len .Options}}; {{.More}} older on the library's page)</span>{{end}}</form>
{{end}}{{end}}
{{define "dir"}}{{template "head" .}}
<h1>{{if .Library}}<a href="{{.Base}}">{{.Library}}</a> {{end}}<a href="{{.Base}}{{.Name}}/">{{.Name}}</a>{{range .Crumbs}} / <a href="{{.URL}}">{{.Name}}</a>{{end}}</h1>
{{if ne .Name .Exact}}<p>This is an alias of <a href="{{.Base}}{{.Exact}}/">{{.Exact}}</a>.</p>{{end}}
{{template "switcher" .Switcher}}
{{template "listing" .Listing}}
<p class="muted">Machine-readable: this URL with <code>Accept: application/json</code>, and <a href="/-/meta/{{.MetaPath}}">/-/meta/{{.MetaPath}}</a></p>
{{template "foot" .}}{{end}}
{{define "error"}}{{template "head" .}}
<h1>{{.Status}} {{.StatusText}}</h1>
<p>{{.Message}}</p>
{{if .Versions}}<p>Published versions{{if .Library}} of {{.Library}}{{end}}, newest first: {{range $i, $v := .Versions}}{{if $i}}, {{end}}<a href="{{$.Base}}{{$v}}/">{{$v}}</a>{{end}}{{if .More}}, and {{.More}} more{{end}}.</p>{{end}}
{{if .SamePath}}<p>{{.File}} is in {{range $i, $v := .SamePath}}{{if $i}}, {{end}}<a href="{{$v.URL}}">{{$v.Name}}</a>{{end}}.</p>{{end}}
<p><a href="{{if .Base}}{{.Base}}{{else}}/{{end}}">All versions</a> · <a href="/-/versions{{.VersionsPath}}">/-/versions{{.VersionsPath}}</a></p>
{{template "foot" .}}{{end}}`))

// Render executes a page's template: "index", "version", "dir" or
// "error".
func Render(name string, data any) ([]byte, error) {
	var page bytes.Buffer
	if err := browseTemplates.ExecuteTemplate(&page, name, data); err != nil {
		return nil, err
	}
	return page.Bytes(), nil
}

// count writes n and a noun, plural but for one: "1 request", "2
// requests".
func count[N int | int64](n N, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(int64(n), 10) + " " + noun + "s"
}

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
