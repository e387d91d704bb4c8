package browse

import (
	"bytes"
	"html/template"
	"net/url"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/chroma/v2"
	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/lexers"
	"github.com/alecthomas/chroma/v2/styles"
	"github.com/cdnserve/cdnserve/catalog"
	"github.com/cdnserve/cdnserve/layout"
)

// The file viewer, /<name>/<version>/<file>?view, shows a text file
// highlighted on the server by chroma (the highlighter Hugo uses), with
// line numbers that are links (#L10, and #L10-L20 by a shift-click),
// and the file's facts. A binary file, or one over ViewMax bytes, gets a
// summary instead.

// ViewMax is the largest file the viewer highlights.
const ViewMax = 512 << 10

// viewStyle is the highlighting's colours: chroma's "github" style, whose
// colours keep WCAG AA contrast on white.
var viewStyle = styles.Get("github")

// highlighter writes classes, not inline styles: the page's one
// stylesheet (viewCSS) colours them, and the CSP allows nothing else.
var highlighter = chromahtml.New(chromahtml.WithClasses(true), chromahtml.WithLineNumbers(true),
	chromahtml.WithLinkableLineNumbers(true, "L"), chromahtml.TabWidth(4), chromahtml.WithCSSComments(false))

// viewCSS is the highlighting's stylesheet, with the rule that marks the
// lines of a #L10-L20 range.
var viewCSS = func() string {
	var b bytes.Buffer
	highlighter.WriteCSS(&b, viewStyle)
	return b.String() + `.chroma{overflow-x:auto;white-space:pre;word-break:normal}.chroma .line.hl{background:#fff3b0}.chroma .lnlinks{color:#555;text-decoration:none}.chroma .ln{user-select:none}`
}()

// ViewData is what the viewer's page shows.
type ViewData struct {
	Title, Library, Base, Name, Exact, Path, File string
	Crumbs                                        []Crumb
	RawURL, MapURL, ContentType, Integrity, Tag   string
	Size                                          int64
	Lines                                         int
	// Code is the highlighted file; empty with Why, which says why it is
	// not shown (binary, too big).
	Code     template.HTML
	Why      string
	Switcher *Switcher
	// Elsewhere links the same path in other versions.
	Elsewhere []Crumb
}

// View gathers the viewer's page of one file of a version, whose bytes
// (verified) are data, or nil when they were not read (too big).
func View(v *catalog.Version, mf layout.ManifestFile, data []byte, tagBase string, elsewhere []Crumb) *ViewData {
	base := v.Lib.Prefix() + v.Name + "/"
	d := &ViewData{Title: "cdnserve: " + v.Lib.MetaPath(v.Name) + "/" + mf.Path, Library: v.Lib.Name(), Base: v.Lib.Prefix(),
		Name: v.Name, Exact: v.Exact, Path: mf.Path, File: path.Base(mf.Path), RawURL: base + escapePath(mf.Path),
		ContentType: mf.ContentType, Integrity: mf.Integrity, Size: mf.Size, Switcher: NewSwitcher(v.Lib, v.Name, mf.Path), Elsewhere: elsewhere}
	d.Switcher.View = true
	at := base
	dirs := strings.Split(mf.Path, "/")
	for _, seg := range dirs[:len(dirs)-1] {
		at += escapePath(seg) + "/"
		d.Crumbs = append(d.Crumbs, Crumb{seg, at})
	}
	for _, other := range v.Manifest.Files {
		if other.Path == mf.Path+".map" {
			d.MapURL = base + escapePath(other.Path) + "?view"
		}
	}
	abs := tagBase + v.Lib.Prefix()[1:] + v.Exact + "/" + (&url.URL{Path: mf.Path}).EscapedPath()
	switch {
	case mf.IsModule():
		d.Tag = `<script type="module" src="` + abs + `" integrity="` + mf.Integrity + `" crossorigin="anonymous"></script>`
	case strings.HasSuffix(mf.Path, ".js"):
		d.Tag = `<script src="` + abs + `" integrity="` + mf.Integrity + `" crossorigin="anonymous"></script>`
	case strings.HasSuffix(mf.Path, ".css"):
		d.Tag = `<link rel="stylesheet" href="` + abs + `" integrity="` + mf.Integrity + `" crossorigin="anonymous">`
	}
	switch {
	case data == nil || mf.Size > ViewMax:
		d.Why = "This file is too large to show here (over " + humanSize(ViewMax) + ")."
	case !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0:
		d.Why = "This is a binary file."
	default:
		code, err := highlight(mf.Path, data)
		if err != nil {
			d.Why = "This file could not be highlighted."
			break
		}
		d.Code, d.Lines = code, bytes.Count(data, []byte{'\n'})
		if len(data) > 0 && data[len(data)-1] != '\n' {
			d.Lines++ // a last line without its newline
		}
	}
	return d
}

// highlight renders text as highlighted HTML by its file name; chroma
// escapes every token.
func highlight(name string, data []byte) (template.HTML, error) {
	lexer := lexers.Match(path.Base(name))
	if lexer == nil {
		lexer = lexers.Get("plaintext")
	}
	it, err := chroma.Coalesce(lexer).Tokenise(nil, string(data))
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := highlighter.Format(&b, viewStyle, it); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil // chroma escapes what it writes
}
