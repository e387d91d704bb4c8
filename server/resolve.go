package server

import (
	"errors"
	"strings"

	"github.com/cdnserve/cdnserve/layout"
)

// errBadPath is a request path that is malformed or hostile (traversal,
// backslashes, control bytes); it maps to 400.
var errBadPath = errors.New("bad request path")

// maxSpecLen bounds the version segment of a URL: a version, an alias, a
// tag or a semver range.
const maxSpecLen = 64

// parsePath splits a decoded request path below a library,
// "<spec>/<file>" (no leading "/"), into the version spec and the file
// path inside the version. Any ".", ".." or empty segment, a backslash,
// or a control byte is errBadPath, so nothing after this point can name
// a path outside a version directory. A path with no file part
// ("1.7.1/" or "1.7.1") returns file "". A directory ("1.7.1/dist/")
// returns its path with the trailing "/".
func parsePath(p string) (spec, file string, err error) {
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "", "", errBadPath
		}
	}
	spec, file, _ = strings.Cut(p, "/")
	if spec == "" || len(spec) > maxSpecLen || spec == "." || spec == ".." {
		return "", "", errBadPath
	}
	if file == "" {
		return spec, "", nil
	}
	if layout.CheckPath(strings.TrimSuffix(file, "/")) != nil {
		return "", "", errBadPath
	}
	return spec, file, nil
}
