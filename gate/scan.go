package gate

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/spf13/afero"
)

// Finding is a stored npm version that the database flags now.
type Finding struct {
	Library, Version string
	// Advisories are the records that affect it, at or above the
	// policy's severity for the package, and every MAL- record.
	Advisories []Advisory
	// New are the ids not recorded when the version was admitted: the
	// database learnt of them since.
	New []string
	// Deprecated is the version's deprecation message, if any.
	Deprecated string
}

// Scan reports the stored versions fetched from npm (their provenance
// names a registry) that the database flags: cdnserve audit. Versions
// published here are not npm's, whatever their name, and are left out.
func Scan(fsys afero.Fs, root string, db *OSV, p *Policy) ([]Finding, error) {
	names, _, err := dist.Libraries(fsys, root)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, name := range names {
		tree, err := dist.NewTree(fsys, root).Library(name)
		if err != nil {
			return nil, err
		}
		versions, err := tree.Versions()
		if err != nil {
			return nil, err
		}
		deps, err := tree.Deprecations()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		threshold := p.For(name).Severity
		for _, v := range versions {
			mf, err := tree.Manifest(v.Original())
			if err != nil || mf.Provenance.Registry == "" {
				continue
			}
			f := Finding{Library: name, Version: v.Original(), Deprecated: deps[v.Original()].Message}
			var atIngest []string
			if mf.Provenance.Verified != nil {
				atIngest = mf.Provenance.Verified.Advisories
			}
			for _, a := range db.Affecting(name, v.Original()) {
				if !a.Malware && !a.Severity.atLeast(threshold) {
					continue
				}
				f.Advisories = append(f.Advisories, a)
				if !slices.Contains(atIngest, a.ID) {
					f.New = append(f.New, a.ID)
				}
			}
			if len(f.Advisories) > 0 {
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// Message is the deprecation a finding gets: its advisories' ids, first
// of all, then the first one's summary.
func (f Finding) Message() string {
	var ids []string
	for _, a := range f.Advisories {
		ids = append(ids, a.ID)
	}
	msg := strings.Join(ids, ", ")
	if s := f.Advisories[0].Summary; s != "" {
		msg += ": " + s
	}
	return msg + " (cdnserve audit)"
}

// Deprecate marks a finding's version deprecated with its Message, unless
// it already is.
func (f Finding) Deprecate(ctx context.Context, fsys afero.Fs, root string) (bool, error) {
	if f.Deprecated != "" {
		return false, nil
	}
	tree, err := dist.NewTree(fsys, root).Library(f.Library)
	if err != nil {
		return false, err
	}
	return true, tree.Deprecate(ctx, f.Version, f.Message(), true)
}
