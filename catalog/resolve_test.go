package catalog

import "testing"

// TestResolveCostsNoAllocationPerVersion: a cached answer, hit or miss,
// allocates nothing, and a cold scan allocates the same (parsing the
// range) over 50 versions as over 5,000 (issue 14: misses were a denial
// of service).
func TestResolveCostsNoAllocationPerVersion(t *testing.T) {
	small, large := versionsStore(t, 50), versionsStore(t, 5000)
	for _, spec := range []string{"0.x", ">=100"} {
		large.Resolve(spec)
		if a := testing.AllocsPerRun(100, func() { large.Resolve(spec) }); a != 0 {
			t.Errorf("cached %q: %.0f allocations", spec, a)
		}
	}
	cold := func(s *Library) float64 {
		return testing.AllocsPerRun(20, func() { matchSpec(">=100", s.Versions()) })
	}
	if a, b := cold(small), cold(large); a != b {
		t.Errorf("a cold miss allocates %.0f times over 50 versions and %.0f over 5,000", a, b)
	}
}
