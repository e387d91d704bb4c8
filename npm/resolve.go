package npm

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/cdnserve/cdnserve/versioning"
)

// Resolve picks the version of a package that spec names, from the
// package's document: a dist-tag ("latest", "next"; "" is "latest"), an
// exact version, or a range. A range follows npm: the "latest" tag's
// version when it satisfies the range, else the highest version that
// does; a prerelease only when the range names a prerelease of the same
// major.minor.patch. Versions cdnserve cannot host (build metadata, a
// "v" prefix) are never picked. The error wraps ErrNotFound when nothing
// matches, and lists the newest versions there are.
func (c *Client) Resolve(ctx context.Context, name, spec string) (*PackageVersion, *Packument, error) {
	doc, _, err := c.Packument(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	v, err := Pick(doc, spec)
	return v, doc, err
}

// Pick resolves spec against a package document (Resolve).
func Pick(doc *Packument, spec string) (*PackageVersion, error) {
	if spec == "" {
		spec = "latest"
	}
	if tagged, ok := doc.DistTags[spec]; ok {
		if v := doc.Versions[tagged]; v != nil {
			return v, nil
		}
		if why := doc.Refused(tagged); why != "" {
			return nil, fmt.Errorf("package %s: dist-tag %s names %s, which is refused: %s: %w", doc.Name, spec, tagged, why, ErrIntegrity)
		}
		return nil, fmt.Errorf("package %s: dist-tag %s names %s, which the document does not list: %w", doc.Name, spec, tagged, ErrNotFound)
	}
	if _, err := versioning.Parse(spec); err == nil {
		if v := doc.Versions[spec]; v != nil {
			return v, nil
		}
		if why := doc.Refused(spec); why != "" {
			return nil, fmt.Errorf("package %s@%s is refused: %s (the registry's document is inconsistent; nothing is fetched): %w", doc.Name, spec, why, ErrIntegrity)
		}
		return nil, fmt.Errorf("package %s has no version %s (newest: %s): %w", doc.Name, spec, newest(doc, 5), ErrNotFound)
	}
	r, err := versioning.ParseRange(spec)
	if err != nil {
		return nil, fmt.Errorf("package %s: %q is not a version, a range or one of its dist-tags (%s)", doc.Name, spec, tags(doc))
	}
	if latest := doc.Versions[doc.DistTags["latest"]]; latest != nil {
		if lv, err := versioning.Parse(latest.Version); err == nil && r.MatchNPM(lv) {
			return latest, nil
		}
	}
	for _, sv := range sorted(doc) {
		if r.MatchNPM(sv) {
			return doc.Versions[sv.Original()], nil
		}
	}
	return nil, fmt.Errorf("package %s: no version matches %s (newest: %s): %w", doc.Name, spec, newest(doc, 5), ErrNotFound)
}

// sorted lists a document's hostable versions, newest first.
func sorted(doc *Packument) []*semver.Version {
	out := make([]*semver.Version, 0, len(doc.Versions))
	for s := range doc.Versions {
		if v, err := versioning.Parse(s); err == nil {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b *semver.Version) int { return b.Compare(a) })
	return out
}

func newest(doc *Packument, n int) string {
	vs := sorted(doc)
	var names []string
	for _, v := range vs[:min(n, len(vs))] {
		names = append(names, v.Original())
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func tags(doc *Packument) string {
	var out []string
	for t := range doc.DistTags {
		out = append(out, t)
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}
