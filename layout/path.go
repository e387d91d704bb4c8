package layout

import (
	"errors"
	"path"
	"strings"
)

// CheckPath accepts a slash-separated path that stays below its root: not
// empty, relative, clean (no "..", ".", "//" or trailing "/"), and without
// backslashes or NUL bytes. Everything written into a tree, and every path
// a manifest names, passes this check; a server may use a manifest's
// paths as lookup keys because of it.
func CheckPath(p string) error {
	switch {
	case p == "":
		return errors.New("must not be empty")
	case strings.ContainsAny(p, "\\\x00"):
		return errors.New("must use forward slashes and no NUL bytes")
	case path.IsAbs(p):
		return errors.New("must be relative")
	case path.Clean(p) != p || p == "." || p == ".." || strings.HasPrefix(p, "../"):
		return errors.New("must be a clean path below its directory (no '..', '.', '//' or trailing '/')")
	}
	return nil
}
