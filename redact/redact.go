// Package redact is the one owner of hiding secrets in what cdnserve
// prints: settings (--print-config), log lines and error messages.
//
// The rules it keeps:
//
//   - A URL keeps its scheme, host, port and path, which an operator needs
//     to see which endpoint is meant. Its user info (user and password)
//     becomes REDACTED, and so does every query value, except the few keys
//     that name where a service is (SafeQueryKeys); a URL in one of those
//     is redacted the same way. A fragment is dropped.
//   - A setting whose name says it holds a secret (secret, password,
//     token, credential) is REDACTED whole.
//   - A bearer token of ours ("cdns_…") and the value of an Authorization
//     header or an npm _authToken are masked wherever they appear in text.
//   - Text (a log line, an error) is scanned for URLs, each redacted as
//     above, so a transport error that quotes a request URL leaks nothing.
//
// It imports nothing of ours: every package that prints may use it.
package redact

import (
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Mask is what a hidden value is shown as.
const Mask = "REDACTED"

// SafeQueryKeys are the query keys whose values are shown: they say
// where a service is (an S3 endpoint and region, a purger's API base),
// never who may use it.
var SafeQueryKeys = []string{"endpoint", "region", "use_path_style", "disable_https", "accelerate", "ssetype", "api"}

// URL returns raw with its user info and every query value but
// SafeQueryKeys' masked, and its fragment dropped. Text that does not
// parse as a URL is masked whole: it may be a secret mistyped.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return Mask
	}
	return redactURL(u)
}

func redactURL(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User(Mask)
	}
	c.Fragment, c.RawFragment = "", ""
	if c.RawQuery == "" {
		return c.String()
	}
	q, err := url.ParseQuery(c.RawQuery)
	if err != nil {
		c.RawQuery = Mask
		return c.String()
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k))
			b.WriteByte('=')
			switch {
			case !slices.Contains(SafeQueryKeys, strings.ToLower(k)):
				b.WriteString(Mask)
			case strings.Contains(v, "://"):
				b.WriteString(URL(v)) // for a person to read, not to parse
			default:
				b.WriteString(v)
			}
		}
	}
	c.RawQuery = b.String()
	return c.String()
}

// secretName reports whether a setting's name says it holds a secret.
func secretName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"secret", "password", "passwd", "credential", "token", "apikey", "api-key"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// Setting returns a setting's value as it may be printed: REDACTED for
// a setting named like a secret (when it is set), each URL in it
// redacted, and anything else as it is. A list (comma-separated) is
// redacted item by item.
func Setting(name, value string) string {
	if secretName(name) {
		if value == "" {
			return ""
		}
		return Mask
	}
	if !strings.Contains(value, "://") {
		return value
	}
	items := strings.Split(value, ",")
	for i, item := range items {
		items[i] = Text(item)
	}
	return strings.Join(items, ",")
}

var (
	// urlPattern finds URLs in text: a scheme, ://, then everything up
	// to a space, a quote, or a closing bracket.
	urlPattern = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.\-]*://[^\s"'<>` + "`" + `)\]]+`)
	// tokenPattern finds our bearer tokens (access.NewToken).
	tokenPattern = regexp.MustCompile(`cdns_[A-Za-z0-9_\-]{8,}`)
	// headerPattern finds an Authorization header's or an _authToken's
	// value.
	headerPattern = regexp.MustCompile(`(?i)((?:authorization|_authtoken|_auth|_password)\s*[:=]\s*(?:bearer\s+|basic\s+)?)[^\s,;"']+`)
)

// Text returns s with every URL in it redacted (see URL), and every
// token of ours and every Authorization or _authToken value masked. It is
// for log lines and error messages, whose URLs come from anywhere.
func Text(s string) string {
	if strings.Contains(s, "://") {
		s = urlPattern.ReplaceAllStringFunc(s, func(m string) string {
			// A trailing comma, period or colon ends a sentence, not
			// the URL.
			trail := ""
			for len(m) > 0 && strings.ContainsRune(",.:;", rune(m[len(m)-1])) {
				trail = m[len(m)-1:] + trail
				m = m[:len(m)-1]
			}
			return redactInText(m) + trail
		})
	}
	if strings.Contains(s, "cdns_") {
		s = tokenPattern.ReplaceAllString(s, Mask)
	}
	if strings.Contains(strings.ToLower(s), "auth") || strings.Contains(strings.ToLower(s), "_password") {
		s = headerPattern.ReplaceAllString(s, "${1}"+Mask)
	}
	return s
}

// redactInText redacts one URL found in text. One that does not parse
// keeps only its scheme: the rest may be a secret.
func redactInText(m string) string {
	u, err := url.Parse(m)
	if err != nil {
		return m[:strings.Index(m, "://")+3] + Mask
	}
	return redactURL(u)
}

// Writer returns a writer that passes each write to w through Text: for
// a command's standard error, where errors and warnings are printed.
// (Standard output is not wrapped: a signed URL or a new token printed
// there is the command's answer.) It reports len(p) written when w
// took the redacted bytes whole.
func Writer(w io.Writer) io.Writer { return writer{w} }

type writer struct{ w io.Writer }

func (r writer) Write(p []byte) (int, error) {
	s := string(p)
	red := Text(s)
	if red == s {
		return r.w.Write(p)
	}
	if _, err := io.WriteString(r.w, red); err != nil {
		return 0, err
	}
	return len(p), nil
}
