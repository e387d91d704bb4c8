package dist

import (
	"fmt"
	"strings"
	"time"
)

// The prune policy: which versions of a library may be removed. A
// version is kept when it served a request in the usage window (its
// pages may still load it), or when an alias holds it (removing it would
// break the alias). Force removes them anyway, and says why each would
// have been kept, so the caller can say so loudly.

// Usage is what one version served in the usage window.
type Usage struct {
	Requests, Bytes int64
}

// PruneRequest asks which versions of a library may be removed.
type PruneRequest struct {
	// Versions are the versions asked for by name. When nil, every
	// prerelease published before PrereleasesBefore is asked for.
	Versions          []string
	PrereleasesBefore time.Time
	// Used is a version's usage in the window (every replica's counts);
	// nil is no usage.
	Used func(version string) Usage
	// Window names the usage window in messages ("30 days").
	Window string
	// Force removes versions that would be kept.
	Force bool
}

// PrunePlan is what a prune would remove.
type PrunePlan struct {
	// Remove lists the versions to remove, oldest first for prereleases,
	// as asked for otherwise.
	Remove []string
	// Forced says, for each version removed only because of Force, why it
	// would have been kept ("served 3 requests (120 bytes) in the last 30
	// days and held by alias 1.2").
	Forced map[string]string
}

// PruneRefusedError lists the versions a prune refuses to remove and why;
// nothing is removed.
type PruneRefusedError struct {
	Refused []string // "2.2.3: held by alias 2.2"
}

func (e *PruneRefusedError) Error() string {
	return fmt.Sprintf("refusing to remove:\n  %s\n(--force removes them anyway)", strings.Join(e.Refused, "\n  "))
}

// PlanPrune decides what a prune of the tree's library removes. It reads
// the tree (versions, manifests, aliases) and writes nothing. It returns
// a *PruneRefusedError when any version asked for must be kept and Force
// is off.
func (t Tree) PlanPrune(req PruneRequest) (PrunePlan, error) {
	versions := req.Versions
	if versions == nil {
		var err error
		if versions, err = t.Prereleases(req.PrereleasesBefore); err != nil {
			return PrunePlan{}, err
		}
	}
	plan := PrunePlan{Remove: versions, Forced: map[string]string{}}
	var refused []string
	for _, v := range versions {
		why := t.keepReasons(v, req)
		if len(why) == 0 {
			continue
		}
		if req.Force {
			plan.Forced[v] = strings.Join(why, " and ")
			continue
		}
		refused = append(refused, v+": "+strings.Join(why, " and "))
	}
	if len(refused) > 0 {
		return PrunePlan{}, &PruneRefusedError{Refused: refused}
	}
	return plan, nil
}

// keepReasons says why a version should be kept, if it should.
func (t Tree) keepReasons(version string, req PruneRequest) []string {
	var why []string
	if req.Used != nil {
		if u := req.Used(version); u.Requests > 0 {
			noun := "requests"
			if u.Requests == 1 {
				noun = "request"
			}
			why = append(why, fmt.Sprintf("served %d %s (%d bytes) in the last %s", u.Requests, noun, u.Bytes, req.Window))
		}
	}
	if aliases, err := t.AliasesHolding(version); err == nil && len(aliases) > 0 {
		why = append(why, "held by alias "+strings.Join(aliases, ", "))
	}
	return why
}
