package catalog

import (
	"errors"
	"fmt"
	"slices"

	"github.com/Masterminds/semver/v3"
	"github.com/cdnserve/cdnserve/versioning"
)

// ResolveError says a range or tag matched no published version. It
// lists what exists, for the 404 body.
type ResolveError struct {
	Spec      string   `json:"range"`
	Reason    string   `json:"error"`
	Available []string `json:"versions"`
	More      int      `json:"more_versions,omitempty"`
}

func (e *ResolveError) Error() string {
	return fmt.Sprintf("%s: %s", e.Spec, e.Reason)
}

// maxListed bounds how many versions a 404 body lists.
const maxListed = 30

// NewResolveError says spec matched nothing, and lists what exists.
func NewResolveError(spec, reason string, versions []*semver.Version) *ResolveError {
	e := &ResolveError{Spec: spec, Reason: reason}
	for _, v := range versions {
		if len(e.Available) == maxListed {
			e.More = len(versions) - maxListed
			break
		}
		e.Available = append(e.Available, v.Original())
	}
	return e
}

// resolution is a range's answer until the next refresh: an exact
// version, or why none matches.
type resolution struct {
	exact string
	miss  *ResolveError
}

// resolve turns a tag ("latest") or a semver range ("1", "^1.7.0",
// "~1.7", "1.x") into the newest published version that matches and can
// be loaded. Stable versions only, unless the range itself names a
// prerelease (Masterminds semver constraint rules). Hits and misses are
// cached until the next refresh, so a range that matches nothing costs
// one scan per refresh, not one per request.
func (s *Library) Resolve(spec string) (string, error) {
	s.mu.RLock()
	res, ok := s.resolved[spec]
	versions := s.sorted
	s.mu.RUnlock()
	if ok {
		if res.miss != nil {
			return "", res.miss
		}
		return res.exact, nil
	}
	exact, reason, err := s.newestLoadable(spec, versions)
	if err != nil {
		return "", err // storage failed: not cached
	}
	res = resolution{exact: exact}
	if exact == "" {
		res.miss = NewResolveError(spec, reason, versions)
	}
	s.mu.Lock()
	if len(s.resolved) > 10000 {
		s.resolved = map[string]resolution{}
	}
	s.resolved[spec] = res
	s.mu.Unlock()
	if res.miss != nil {
		return "", res.miss
	}
	return exact, nil
}

// newestLoadable is the newest version matching spec that loads: one
// whose manifest is damaged, or that vanished, is skipped (get drops it
// from the list). A storage error is returned as it is.
func (s *Library) newestLoadable(spec string, versions []*semver.Version) (exact, reason string, err error) {
	// Deprecated versions are skipped, unless nothing else matches.
	if lc := s.lifecycle.Load(); lc != nil && len(lc.deprecated) > 0 {
		kept := make([]*semver.Version, 0, len(versions))
		for _, v := range versions {
			if lc.deprecated[v.Original()] == nil {
				kept = append(kept, v)
			}
		}
		if exact, _, err := s.newestLoadableOf(spec, kept); err != nil || exact != "" {
			return exact, "", err
		}
	}
	return s.newestLoadableOf(spec, versions)
}

// newestLoadableOf is newestLoadable among the given versions.
func (s *Library) newestLoadableOf(spec string, versions []*semver.Version) (exact, reason string, err error) {
	for {
		exact, reason = matchSpec(spec, versions)
		if exact == "" {
			return "", reason, nil
		}
		_, err := s.Get(exact)
		switch {
		case err == nil:
			return exact, "", nil
		case errors.Is(err, ErrStorage):
			return "", "", err
		}
		i := slices.IndexFunc(versions, func(v *semver.Version) bool { return v.Original() == exact })
		versions = versions[i+1:] // skip it and every newer one: they did not match
	}
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
	r, err := versioning.ParseRange(spec)
	if err != nil {
		return "", "not a version, alias, tag or semver range"
	}
	for _, v := range versions {
		// npm's rules, whichever path answers: the mirror resolves
		// upstream with them too (docs/serving.md, "Ranges"). No
		// allocation per version, unlike semver's Check.
		if r.MatchNPM(v) {
			return v.Original(), ""
		}
	}
	return "", "no published version matches"
}
