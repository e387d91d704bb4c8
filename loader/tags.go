package loader

import (
	"context"
	"html"
	"html/template"
)

// ScriptTag returns a <script> element for the .js dependency name, with
// its SRI hash from the version's integrity manifest and
// crossorigin="anonymous", ready for an html/template page. The URL uses
// CDNHTTPS when Options.Encrypted is set. With SkipIntegrity the tag has
// no integrity attribute.
func (l *Loader) ScriptTag(ctx context.Context, name string) (template.HTML, error) {
	src, integrity, err := l.tagAttrs(ctx, l.jsFile(name))
	if err != nil {
		return "", err
	}
	return template.HTML(`<script src="` + src + `"` + integrity + ` crossorigin="anonymous"></script>`), nil
}

// StylesheetTag returns a <link rel="stylesheet"> element for the CSS file
// name + Suffix + ".css", with SRI, like ScriptTag.
func (l *Loader) StylesheetTag(ctx context.Context, name string) (template.HTML, error) {
	href, integrity, err := l.tagAttrs(ctx, name+l.opts.Suffix+".css")
	if err != nil {
		return "", err
	}
	return template.HTML(`<link rel="stylesheet" href="` + href + `"` + integrity + ` crossorigin="anonymous">`), nil
}

// tagAttrs returns the escaped URL and the integrity attribute of a file.
// Both go inside double quotes, where html.EscapeString is enough; the
// bases were checked to be http or https URLs, so no "javascript:" URL
// can appear. Base64 hashes keep their '+' and '/' literal.
func (l *Loader) tagAttrs(ctx context.Context, file string) (url, integrity string, err error) {
	url = html.EscapeString(l.PathOf(file, l.opts.Encrypted))
	if l.opts.SkipIntegrity {
		return url, "", nil
	}
	m, err := l.metadata(ctx)
	if err != nil {
		return "", "", err
	}
	sri, ok := m[file]
	if !ok {
		return "", "", &integrityError{file: file, detail: "not listed in the version's integrity manifest"}
	}
	return url, ` integrity="` + html.EscapeString(sri) + `"`, nil
}
