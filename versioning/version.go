// Package versioning holds cdnserve's semver rules: which version strings a
// manifest may name, how versions order, and which dist directories a
// published version is written to.
//
// Parsing and ordering come from github.com/Masterminds/semver/v3; this
// package only adds the stricter rules a CDN needs (no build metadata, no
// "v" prefix, no partial versions) and the directory layout inherited from
// the JBundle tool the seed project used.
package versioning

import (
	"errors"
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// ErrInvalidVersion is wrapped by every error Parse returns, so callers can
// test for it with errors.Is.
var ErrInvalidVersion = errors.New("invalid version")

// MaxLength bounds the length of a version string. A version becomes a
// directory name and a URL segment, so an unbounded one is refused early.
const MaxLength = 128

// Parse accepts exactly MAJOR.MINOR.PATCH with an optional -PRERELEASE, as
// semver.org 2.0.0 §2 and §9 define them. It rejects build metadata
// ("+..."), because two versions that differ only in metadata have equal
// precedence (semver §10) and would collide in one dist directory. It also
// rejects a "v" prefix and partial versions such as "1.7", which are
// alias directory names, not versions.
func Parse(s string) (*semver.Version, error) {
	if len(s) > MaxLength {
		return nil, fmt.Errorf("%w %.20q...: longer than %d characters", ErrInvalidVersion, s, MaxLength)
	}
	v, err := semver.StrictNewVersion(s)
	if err != nil {
		return nil, fmt.Errorf("%w %q: want MAJOR.MINOR.PATCH[-PRERELEASE], such as 1.7.1 or 1.7.2-rc.1: %w", ErrInvalidVersion, s, err)
	}
	if v.Metadata() != "" {
		return nil, fmt.Errorf("%w %q: build metadata (+%s) is not allowed, since it does not order versions and would share a directory", ErrInvalidVersion, s, v.Metadata())
	}
	return v, nil
}

// IsPrerelease reports whether v carries any prerelease part. JBundle only
// treated "-pre" specially; cdnserve treats every semver prerelease
// (rc.1, beta, alpha.3, pre) the same way.
func IsPrerelease(v *semver.Version) bool {
	return v.Prerelease() != ""
}

// AliasDir is the major.minor directory ("1.7") that a stable version is
// also written to.
func AliasDir(v *semver.Version) string {
	return fmt.Sprintf("%d.%d", v.Major(), v.Minor())
}

// IsAliasName reports whether a directory name is a major.minor alias,
// such as "1.7": two decimal numbers without leading zeros.
func IsAliasName(name string) bool {
	major, minor, ok := strings.Cut(name, ".")
	return ok && isNumber(major) && isNumber(minor)
}

func isNumber(s string) bool {
	if s == "" || len(s) > 9 || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Dirs lists the directories below the dist root that version v is written
// to, exact directory first. A stable release goes to its own directory and
// to its major.minor alias ("1.7.1" to "1.7.1" and "1.7"). A prerelease goes
// only to its own directory ("1.7.2-rc.1"), so that it never replaces the
// stable release that the alias holds. No major-only directory is written.
func Dirs(v *semver.Version) []string {
	if IsPrerelease(v) {
		return []string{v.Original()}
	}
	return []string{v.Original(), AliasDir(v)}
}
