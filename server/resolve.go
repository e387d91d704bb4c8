package server

import (
	"errors"
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"
)

// errBadPath is a request path that is malformed or hostile (traversal,
// backslashes, control bytes); it maps to 400.
var errBadPath = errors.New("bad request path")

// maxSpecLen bounds the version segment of a URL: a version, an alias, a
// tag or a semver range.
const maxSpecLen = 64

// parsePath splits a decoded request path "/<spec>/<file>" into the
// version spec and the file path inside the version. Any ".", ".." or
// empty segment, a backslash, or a control byte is errBadPath, so nothing
// after this point can name a path outside a version directory. A path
// with no file part ("/1.7.1/") returns file "".
func parsePath(p string) (spec, file string, err error) {
	if !strings.HasPrefix(p, "/") {
		return "", "", errBadPath
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "", "", errBadPath
		}
	}
	spec, file, _ = strings.Cut(p[1:], "/")
	if spec == "" || len(spec) > maxSpecLen || spec == "." || spec == ".." {
		return "", "", errBadPath
	}
	if file == "" {
		return spec, "", nil
	}
	if layout.CheckPath(file) != nil {
		return "", "", errBadPath
	}
	return spec, file, nil
}

// resolveError says a range or tag matched no published version. It
// lists what exists, for the 404 body.
type resolveError struct {
	Spec      string   `json:"range"`
	Reason    string   `json:"error"`
	Available []string `json:"versions"`
	More      int      `json:"more_versions,omitempty"`
}

func (e *resolveError) Error() string {
	return fmt.Sprintf("%s: %s", e.Spec, e.Reason)
}

// maxListed bounds how many versions a 404 body lists.
const maxListed = 30

// resolve turns a tag ("latest") or a semver range ("1", "^1.7.0",
// "~1.7", "1.x") into the newest published version that matches. Stable
// versions only, unless the range itself names a prerelease (Masterminds
// semver constraint rules). Results are cached until the next refresh.
func (s *store) resolve(spec string) (string, error) {
	s.mu.RLock()
	exact, ok := s.resolved[spec]
	versions := s.exact
	s.mu.RUnlock()
	if ok {
		return exact, nil
	}
	match, reason := matchSpec(spec, versions)
	if match == "" {
		e := &resolveError{Spec: spec, Reason: reason}
		for _, v := range versions {
			if len(e.Available) == maxListed {
				e.More = len(versions) - maxListed
				break
			}
			e.Available = append(e.Available, v.Original())
		}
		return "", e
	}
	s.mu.Lock()
	if len(s.resolved) > 10000 {
		s.resolved = map[string]string{}
	}
	s.resolved[spec] = match
	s.mu.Unlock()
	return match, nil
}

// matchSpec finds the newest version matching spec in versions (sorted
// newest first), or returns why none does.
func matchSpec(spec string, versions []*semver.Version) (string, string) {
	if spec == "latest" {
		for _, v := range versions {
			if !versioning.IsPrerelease(v) {
				return v.Original(), ""
			}
		}
		return "", "no stable version is published"
	}
	c, err := semver.NewConstraint(spec)
	if err != nil {
		return "", "not a version, alias, tag or semver range"
	}
	for _, v := range versions {
		if c.Check(v) {
			return v.Original(), ""
		}
	}
	return "", "no published version matches"
}
