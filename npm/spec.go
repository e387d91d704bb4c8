package npm

import (
	"fmt"
	"strings"

	"github.com/cdnserve/cdnserve/layout"
)

// Spec is what "npm:name@range/path" names: a package, a version range
// or dist-tag (or an exact version), and optionally one file in it.
type Spec struct {
	Name  string // "sockjs-client", "@corp/widgets"
	Range string // "^1.6.0", "1.6.1", "latest"; "" means "latest"
	Path  string // "dist/sockjs.min.js", or ""
}

func (s Spec) String() string {
	out := "npm:" + s.Name
	if s.Range != "" {
		out += "@" + s.Range
	}
	if s.Path != "" {
		out += "/" + s.Path
	}
	return out
}

// ParseSpec reads "npm:name[@range][/path]". The name must be one
// cdnserve can host as a library (layout.CheckLibraryName): npm's rules
// for new packages, lowercase, and not like a version.
func ParseSpec(s string) (Spec, error) {
	rest, ok := strings.CutPrefix(s, "npm:")
	if !ok {
		return Spec{}, fmt.Errorf("%q: an npm package is written npm:NAME@RANGE, such as npm:sockjs-client@^1.6.0", s)
	}
	nameEnd := 0
	if strings.HasPrefix(rest, "@") {
		slash := strings.IndexByte(rest, '/')
		if slash < 0 {
			return Spec{}, fmt.Errorf("%q: a scoped package is npm:@scope/name", s)
		}
		nameEnd = slash + 1
	}
	if i := strings.IndexAny(rest[nameEnd:], "@/"); i >= 0 {
		nameEnd += i
	} else {
		nameEnd = len(rest)
	}
	sp := Spec{Name: rest[:nameEnd]}
	rest = rest[nameEnd:]
	if r, ok := strings.CutPrefix(rest, "@"); ok {
		sp.Range, rest, _ = strings.Cut(r, "/")
		if sp.Range == "" {
			return Spec{}, fmt.Errorf("%q: nothing after @: give a version, a range or a dist-tag", s)
		}
		if rest != "" || strings.HasSuffix(r, "/") {
			rest = "/" + rest
		}
	}
	if p, ok := strings.CutPrefix(rest, "/"); ok {
		if err := layout.CheckPath(p); err != nil {
			return Spec{}, fmt.Errorf("%q: file %q %w", s, p, err)
		}
		sp.Path = p
	}
	if err := layout.CheckLibraryName(sp.Name); err != nil {
		return Spec{}, fmt.Errorf("%q: package name %q %w (cdnserve hosts each package as a library of that name)", s, sp.Name, err)
	}
	return sp, nil
}
