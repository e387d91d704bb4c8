package versioning

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Range is a semver range ("^1.7.0", "~1.7", "1.x", ">=1.2 <2 || 3.x",
// "1.2 - 1.4"), with exactly Masterminds/semver's constraint rules, checked
// without allocating. Masterminds' Constraints.Check builds an error for
// every version that fails, which costs ~2 µs a version: a range that
// matches nothing among 5,000 versions then costs 10 ms. Range parses
// with Masterminds' own expressions and keeps its comparators' meaning,
// and FuzzRangeMatchesMasterminds holds the two to the same answers.
type Range struct {
	groups [][]comparator // OR of ANDs
	pre    []bool         // whether each group names a prerelease
}

// comparator is one operator and its version, with Masterminds' flags
// for wildcards ("1.x": minor and patch dirty).
type comparator struct {
	op                            string
	con                           *semver.Version
	dirty, minorDirty, patchDirty bool
}

// The expressions of Masterminds/semver v3 (constraints.go), unchanged.
const cvRegex = `v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?` +
	`(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?` +
	`(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?`

const opsRegex = `=||!=|>|<|>=|=>|<=|=<|~|~>|\^`

var (
	constraintRegex      = regexp.MustCompile(fmt.Sprintf(`^\s*(%s)\s*(%s)\s*$`, opsRegex, cvRegex))
	constraintRangeRegex = regexp.MustCompile(fmt.Sprintf(`\s*(%s)\s+-\s+(%s)\s*`, cvRegex, cvRegex))
	findConstraintRegex  = regexp.MustCompile(fmt.Sprintf(`(%s)\s*(%s)`, opsRegex, cvRegex))
)

// ParseRange parses a range as semver.NewConstraint does, with its
// errors.
func ParseRange(s string) (*Range, error) {
	if _, err := semver.NewConstraint(s); err != nil {
		return nil, err
	}
	s = rewriteRange(s)
	ors := strings.Split(s, "||")
	r := &Range{groups: make([][]comparator, len(ors)), pre: make([]bool, len(ors))}
	for k, group := range ors {
		cs := findConstraintRegex.FindAllString(group, -1)
		if cs == nil {
			cs = []string{group}
		}
		for _, c := range cs {
			pc, err := parseComparator(c)
			if err != nil {
				return nil, err
			}
			r.pre[k] = r.pre[k] || pc.con.Prerelease() != ""
			r.groups[k] = append(r.groups[k], pc)
		}
	}
	return r, nil
}

// rewriteRange turns "a - b" into ">= a, <= b".
func rewriteRange(s string) string {
	for _, m := range constraintRangeRegex.FindAllStringSubmatch(s, -1) {
		s = strings.Replace(s, m[0], fmt.Sprintf(">= %s, <= %s ", m[1], m[11]), 1)
	}
	return s
}

func isX(x string) bool { return x == "x" || x == "*" || x == "X" }

func parseComparator(c string) (comparator, error) {
	if c == "" {
		return comparator{con: semver.MustParse("0.0.0"), dirty: true}, nil
	}
	m := constraintRegex.FindStringSubmatch(c)
	if m == nil {
		return comparator{}, fmt.Errorf("improper constraint: %q", c)
	}
	pc := comparator{op: m[1]}
	ver := m[2]
	switch {
	case isX(m[3]) || m[3] == "":
		ver, pc.dirty = "0.0.0"+m[6], true
	case isX(strings.TrimPrefix(m[4], ".")) || m[4] == "":
		ver, pc.dirty, pc.minorDirty = m[3]+".0.0"+m[6], true, true
	case isX(strings.TrimPrefix(m[5], ".")) || m[5] == "":
		ver, pc.dirty, pc.patchDirty = m[3]+m[4]+".0"+m[6], true, true
	}
	con, err := semver.NewVersion(ver)
	if err != nil {
		return comparator{}, fmt.Errorf("improper constraint: %q", c)
	}
	pc.con = con
	return pc, nil
}

// matchMasterminds reports whether v satisfies the range, as Masterminds'
// Constraints.Check does: a prerelease whenever its group names one. It
// is kept for the tests, which prove the comparators against
// Constraints.Check; cdnserve resolves every URL with MatchNPM.
func (r *Range) matchMasterminds(v *semver.Version) bool {
	for i, group := range r.groups {
		if (v.Prerelease() == "" || r.pre[i]) && allMatch(group, v) {
			return true
		}
	}
	return false
}

// MatchNPM reports whether v satisfies the range with npm's rule for
// prereleases. It is the one range semantics of cdnserve: the server,
// the npm mirror and its stale-if-error path all resolve with it, so one
// URL resolves the same whichever path answers it. A prerelease matches only a group
// that has a comparator with a prerelease on the same major.minor.patch
// ("^1.2.3-beta.1" admits 1.2.3-beta.2 but not 1.2.4-beta.1), as
// node-semver's satisfies does without includePrerelease.
func (r *Range) MatchNPM(v *semver.Version) bool {
	for _, group := range r.groups {
		if (v.Prerelease() == "" || samePatchPrerelease(group, v)) && allMatch(group, v) {
			return true
		}
	}
	return false
}

// allMatch reports whether v satisfies every comparator of a group.
func allMatch(group []comparator, v *semver.Version) bool {
	for j := range group {
		if !group[j].match(v) {
			return false
		}
	}
	return true
}

func samePatchPrerelease(group []comparator, v *semver.Version) bool {
	for _, c := range group {
		if c.con.Prerelease() != "" && c.con.Major() == v.Major() && c.con.Minor() == v.Minor() && c.con.Patch() == v.Patch() {
			return true
		}
	}
	return false
}

// match is one comparator of Masterminds' (constraintOps), as a bool.
func (c *comparator) match(v *semver.Version) bool {
	switch c.op {
	case "", "=":
		if c.dirty {
			return c.tilde(v)
		}
		return v.Equal(c.con)
	case "!=":
		return c.notEqual(v)
	case ">":
		return c.greater(v)
	case "<":
		return v.Compare(c.con) < 0
	case ">=", "=>":
		return v.Compare(c.con) >= 0
	case "<=", "=<":
		return c.lessOrEqual(v)
	case "~", "~>":
		return c.tilde(v)
	case "^":
		return c.caret(v)
	}
	return false
}

func (c *comparator) notEqual(v *semver.Version) bool {
	if c.dirty {
		switch {
		case c.con.Major() != v.Major():
			return true
		case c.con.Minor() != v.Minor() && !c.minorDirty:
			return true
		case c.minorDirty:
			return false
		case c.con.Patch() != v.Patch() && !c.patchDirty:
			return true
		case c.patchDirty:
			if v.Prerelease() != "" || c.con.Prerelease() != "" {
				return comparePre(v, c.con) != 0
			}
			return false
		}
	}
	return !v.Equal(c.con)
}

// comparePre compares two versions' prereleases as Masterminds does:
// versions that differ in nothing else compare by their prereleases.
func comparePre(a, b *semver.Version) int {
	return semver.New(0, 0, 0, a.Prerelease(), "").Compare(semver.New(0, 0, 0, b.Prerelease(), ""))
}

func (c *comparator) greater(v *semver.Version) bool {
	if !c.dirty {
		return v.Compare(c.con) == 1
	}
	switch {
	case v.Major() > c.con.Major():
		return true
	case v.Major() < c.con.Major(), c.minorDirty:
		return false
	case c.patchDirty:
		return v.Minor() > c.con.Minor()
	}
	return v.Compare(c.con) == 1
}

func (c *comparator) lessOrEqual(v *semver.Version) bool {
	if !c.dirty {
		return v.Compare(c.con) <= 0
	}
	switch {
	case v.Major() > c.con.Major():
		return false
	case v.Major() == c.con.Major() && v.Minor() > c.con.Minor() && !c.minorDirty:
		return false
	}
	return true
}

func (c *comparator) tilde(v *semver.Version) bool {
	switch {
	case v.LessThan(c.con):
		return false
	case c.con.Major() == 0 && c.con.Minor() == 0 && c.con.Patch() == 0 && !c.minorDirty && !c.patchDirty:
		return true
	case v.Major() != c.con.Major():
		return false
	case v.Minor() != c.con.Minor() && !c.minorDirty:
		return false
	}
	return true
}

func (c *comparator) caret(v *semver.Version) bool {
	switch {
	case v.LessThan(c.con):
		return false
	case c.con.Major() > 0 || c.minorDirty:
		return v.Major() == c.con.Major()
	case v.Major() > 0:
		return false
	case c.con.Minor() > 0 || c.patchDirty:
		return v.Minor() == c.con.Minor()
	case v.Minor() > 0:
		return false
	}
	return c.con.Patch() == v.Patch()
}
