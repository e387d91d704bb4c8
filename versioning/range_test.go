package versioning

import (
	"fmt"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// rangeVersions is a spread of versions around the edges ranges test:
// zero majors and minors, prereleases, and neighbours of each.
func rangeVersions() []*semver.Version {
	var out []*semver.Version
	for _, s := range []string{
		"0.0.0", "0.0.1", "0.0.2", "0.1.0", "0.1.1", "0.2.0", "0.2.3", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta.2",
		"1.0.0", "1.0.1", "1.1.0", "1.2.0", "1.2.3", "1.2.4-rc.1", "1.2.4", "1.3.0", "1.7.0", "1.7.1", "1.7.2-rc.1",
		"1.7.9", "1.10.0", "2.0.0-rc.1", "2.0.0", "2.1.0", "2.2.3", "2.2.4", "3.0.0", "10.0.0",
	} {
		out = append(out, semver.MustParse(s))
	}
	return out
}

var rangeSpecs = []string{
	"1", "1.x", "1.X", "1.*", "*", "x", "1.2", "1.2.x", "1.2.3", "=1.2.3", "v1.2.3", "!=1.2.3", "!=1.x", "!=1.2.x", "!=1.2.4-rc.1",
	">1", ">1.2", ">1.2.3", ">1.x", ">1.2.x", "<1.2", "<2", "<=1.2", "<=1.x", "<=1.2.x", "<=1.2.3", ">=1.2", "=>1.2", "=<1.2",
	"~1", "~1.2", "~1.2.3", "~>1.2", "~0", "~0.0", "~0.0.0", "^1", "^1.2", "^1.2.3", "^0.2", "^0.2.3", "^0.0.1", "^0.0", "^0",
	"^1.x", "^0.x", "^0.0.x", "1.2 - 1.7", "1.2.3 - 2", ">=1.2 <2", ">=1.2, <2", ">1.0.0 <=2.0.0 || 3.x", "1.0.0-alpha - 1.0.0",
	"^1.0.0-alpha", ">=1.0.0-beta", "~1.7.2-rc.1", "1.2.4-rc.1", "<2.0.0-rc.1", "^2.0.0-0", "!=1.0.0-alpha.1 >=1.0.0-alpha",
	"1.x || 2.2.x", "0.x || >=10", ">=0.0.0",
}

// TestRangeMatchesMasterminds checks every range of rangeSpecs against
// every version of rangeVersions: Range.Match says what Check says.
func TestRangeMatchesMasterminds(t *testing.T) {
	for _, spec := range rangeSpecs {
		c, err := semver.NewConstraint(spec)
		if err != nil {
			t.Fatalf("%q: %v", spec, err)
		}
		r, err := ParseRange(spec)
		if err != nil {
			t.Fatalf("ParseRange(%q): %v", spec, err)
		}
		for _, v := range rangeVersions() {
			if got, want := r.matchMasterminds(v), c.Check(v); got != want {
				t.Errorf("%q matches %s: %v, Masterminds says %v", spec, v, got, want)
			}
		}
	}
	for _, bad := range []string{"", "nope", "^^1", "1.2.3.4", ">= x y"} {
		_, err := ParseRange(bad)
		_, want := semver.NewConstraint(bad)
		if (err == nil) != (want == nil) {
			t.Errorf("ParseRange(%q) = %v, NewConstraint says %v", bad, err, want)
		}
	}
}

// FuzzRangeMatchesMasterminds: for any range Masterminds accepts and any
// version, Range.Match agrees with Constraints.Check.
func FuzzRangeMatchesMasterminds(f *testing.F) {
	for i, spec := range rangeSpecs {
		f.Add(spec, rangeVersions()[i%len(rangeVersions())].Original())
	}
	f.Fuzz(func(t *testing.T, spec, version string) {
		v, err := semver.NewVersion(version)
		if err != nil {
			return
		}
		c, err := semver.NewConstraint(spec)
		r, rerr := ParseRange(spec)
		if (err == nil) != (rerr == nil) {
			t.Fatalf("%q: NewConstraint %v, ParseRange %v", spec, err, rerr)
		}
		if err != nil {
			return
		}
		if got, want := r.matchMasterminds(v), c.Check(v); got != want {
			t.Fatalf("%q matches %s: %v, Masterminds says %v", spec, v, got, want)
		}
	})
}

// BenchmarkRangeMatch: a match or a miss costs no allocation.
func BenchmarkRangeMatch(b *testing.B) {
	vs := rangeVersions()
	for _, spec := range []string{"^1.2.0", "=0.0.0", ">=1.2 <2 || 3.x"} {
		r, _ := ParseRange(spec)
		b.Run(fmt.Sprint(spec), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, v := range vs {
					if v.Prerelease() == "" {
						r.matchMasterminds(v)
					}
				}
			}
		})
	}
}

// TestMatchNPMDiffersFromMasterminds pins the one difference that
// matters: npm admits a prerelease only on the major.minor.patch the
// range names.
func TestMatchNPMDiffersFromMasterminds(t *testing.T) {
	for _, tc := range []struct {
		rng, version     string
		npm, masterminds bool
	}{
		{"^2.2.3-beta.1", "2.3.0-rc.1", false, true},
		{"^2.2.3-beta.1", "2.2.3-beta.2", true, true},
		{">=2.2.0-0", "2.3.0-rc.1", false, true},
		{"^2.2.3-beta.1", "2.2.5", true, true},
		{"^2", "2.3.0-rc.1", false, false},
	} {
		t.Run(tc.rng+" "+tc.version, func(t *testing.T) {
			r, err := ParseRange(tc.rng)
			if err != nil {
				t.Fatal(err)
			}
			v, _ := Parse(tc.version)
			if got := r.MatchNPM(v); got != tc.npm {
				t.Errorf("MatchNPM = %v, want %v", got, tc.npm)
			}
			if got := r.matchMasterminds(v); got != tc.masterminds {
				t.Errorf("matchMasterminds = %v, want %v", got, tc.masterminds)
			}
		})
	}
}
