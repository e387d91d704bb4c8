package dist

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPlanPrune is the prune policy: versions in use or held by an alias
// are kept, unless forced, and the plan writes nothing.
func TestPlanPrune(t *testing.T) {
	tree := memTree()
	// 1.0.0 and 1.0.1 (1.0 holds it), and three prereleases published at
	// fixedTime.
	for _, v := range []string{"1.0.0", "1.0.1", "1.1.0-rc.1", "1.1.0-rc.2", "2.0.0-beta.1"} {
		publish(t, tree, v, lib(v), false)
	}
	before := listTree(t, tree)
	used := map[string]Usage{"1.1.0-rc.2": {Requests: 3, Bytes: 120}, "1.0.0": {Requests: 1, Bytes: 7}}
	usedFn := func(v string) Usage { return used[v] }
	for _, tc := range []struct {
		name        string
		req         PruneRequest
		wantRemove  []string
		wantForced  map[string]string
		wantRefused []string // substrings of the refusal
	}{
		{name: "an unused version", req: PruneRequest{Versions: []string{"1.1.0-rc.1"}, Used: usedFn},
			wantRemove: []string{"1.1.0-rc.1"}},
		{name: "a version in use is refused", req: PruneRequest{Versions: []string{"1.0.0"}, Used: usedFn, Window: "30 days"},
			wantRefused: []string{"1.0.0: served 1 request (7 bytes) in the last 30 days"}},
		{name: "a version an alias holds is refused", req: PruneRequest{Versions: []string{"1.0.1"}, Used: usedFn},
			wantRefused: []string{"1.0.1: held by alias 1.0"}},
		{name: "forced, with the reasons", req: PruneRequest{Versions: []string{"1.0.1", "1.1.0-rc.2"}, Used: usedFn, Window: "30 days", Force: true},
			wantRemove: []string{"1.0.1", "1.1.0-rc.2"},
			wantForced: map[string]string{"1.0.1": "held by alias 1.0", "1.1.0-rc.2": "served 3 requests (120 bytes) in the last 30 days"}},
		{name: "prereleases older than a cutoff, one in use", req: PruneRequest{PrereleasesBefore: fixedTime.Add(time.Hour), Used: usedFn, Window: "30 days"},
			wantRefused: []string{"1.1.0-rc.2: served 3 requests"}},
		{name: "prereleases older than a cutoff, none in use", req: PruneRequest{PrereleasesBefore: fixedTime.Add(time.Hour)},
			wantRemove: []string{"1.1.0-rc.1", "1.1.0-rc.2", "2.0.0-beta.1"}},
		{name: "no prerelease is that old", req: PruneRequest{PrereleasesBefore: fixedTime.Add(-time.Hour)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := tree.PlanPrune(tc.req)
			var refused *PruneRefusedError
			if tc.wantRefused != nil {
				if !errors.As(err, &refused) {
					t.Fatalf("PlanPrune = %+v, %v; want a refusal", plan, err)
				}
				for _, want := range tc.wantRefused {
					if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--force removes them anyway") {
						t.Errorf("refusal %q lacks %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(plan.Remove, tc.wantRemove) {
				t.Errorf("Remove = %q, want %q", plan.Remove, tc.wantRemove)
			}
			for v, want := range tc.wantForced {
				if !strings.Contains(plan.Forced[v], want) {
					t.Errorf("Forced[%s] = %q, want %q", v, plan.Forced[v], want)
				}
			}
			if len(plan.Forced) != len(tc.wantForced) {
				t.Errorf("Forced = %q, want %d entries", plan.Forced, len(tc.wantForced))
			}
		})
	}
	if after := listTree(t, tree); !slices.Equal(before, after) {
		t.Errorf("planning changed the tree:\n%q\n%q", before, after)
	}
}
