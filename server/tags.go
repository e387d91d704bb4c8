package server

import (
	"net/http"
	"strings"
)

// Cache tags name what a response is of, so that an edge (Varnish's
// xkey, Fastly, Cloudflare) can drop every response of an alias at once
// when it moves, and never an exact version's. They are sent twice:
// Surrogate-Key (space-separated: Fastly, Varnish xkey) and Cache-Tag
// (comma-separated: Cloudflare).
//
//	pusher                the library (none for the root library)
//	pusher@2.2.4          its exact version
//	pusher@2.2            the alias that was asked for
//	pusher@^2.2.0         the range or tag that was asked for (escaped)
//	pusher@*              everything that moves when the library publishes:
//	                      range redirects, 404s of ranges, its page, /-/versions
//	@index                / and /-/libraries
//
// The root library's tags have an empty name: @2.2.4, @2.2, @*. An
// exact version's file carries no tag that a publish purges (its
// library's tag is never purged), so exact versions stay cached. What is
// said about a version (its page and /-/meta, which show a deprecation)
// is not immutable, and carries @* too.

// tagIndex is the tag of / and /-/libraries, which change with every
// publish of every library.
const tagIndex = "@index"

// tagSet is one response's tags as both headers, ready to set.
type tagSet struct {
	surrogate, cacheTag []string
}

// newTagSet joins tags into the two header values. Empty tags (the root
// library's name) are left out.
func newTagSet(tags ...string) tagSet {
	kept := tags[:0:0]
	for _, t := range tags {
		if t != "" {
			kept = append(kept, t)
		}
	}
	return tagSet{surrogate: []string{strings.Join(kept, " ")}, cacheTag: []string{strings.Join(kept, ",")}}
}

// setTags writes the tags into a response's headers: both headers, or
// the one Config.CacheTagHeader names, or none when tags are off.
func (s *Server) setTags(h http.Header, t tagSet) {
	if s.cfg.DisableCacheTags || t.surrogate == nil {
		return
	}
	if s.cfg.CacheTagHeader != "Cache-Tag" {
		h["Surrogate-Key"] = t.surrogate
	}
	if s.cfg.CacheTagHeader != "Surrogate-Key" {
		h["Cache-Tag"] = t.cacheTag
	}
}

// versionTags are the tags of a version's or an alias's files and page:
// the library, the exact version, and the alias.
func versionTags(lib, exact, dir string) tagSet {
	if dir == exact {
		return newTagSet(lib, lib+"@"+exact)
	}
	return newTagSet(lib, lib+"@"+exact, lib+"@"+dir)
}

// aboutVersionTags are the tags of what is said about a version rather
// than its files (its page, its /-/meta): versionTags and the library's
// moving tag, since a deprecation or a new version changes them.
func aboutVersionTags(lib, exact, dir string) tagSet {
	if dir == exact {
		return newTagSet(lib, lib+"@"+exact, lib+"@*")
	}
	return newTagSet(lib, lib+"@"+exact, lib+"@"+dir, lib+"@*")
}

// specTags are the tags of an answer about a spec that moves with the
// library (a range's redirect or 404, a missing version's 404): the
// library, the spec asked for, and the library's moving tag.
func specTags(lib, spec string) tagSet {
	return newTagSet(lib, lib+"@"+tagEscape(spec), lib+"@*")
}

// libraryTags are the tags of a library's page and /-/versions.
func libraryTags(lib string) tagSet { return newTagSet(lib, lib+"@*") }

// tagEscape makes a spec safe in both headers: a space, a comma, a
// quote, "%" and anything not printable ASCII become %XX.
func tagEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == ',' || c == '"' || c == '%' {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
