package npm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"

	"github.com/cdnserve/cdnserve/redact"
)

// AddOptions say how Add publishes a package.
type AddOptions struct {
	// Files keeps only the files matching these globs ("dist/**"); none
	// keeps every file.
	Files []string
	// Tool names the publisher in the provenance ("cdnserve 1.2.3").
	Tool string
	// Wait waits for another publisher's lock instead of failing.
	Wait bool
	// Purging says the caller purges the edge itself
	// (dist.Request.Purging).
	Purging bool
	// Compression is how hard the sidecars are compressed (dist.Request):
	// layout.Best for add, layout.Fast for the mirror, whose first
	// request waits for it.
	Compression layout.Level
	// Private records the library as private in storage before its files
	// are written (dist.Request.Private).
	Private bool
}

// Added is what Add did.
type Added struct {
	// Version is the package version that was resolved.
	Version *PackageVersion
	// Registry is the registry it came from.
	Registry string
	// Stored is true when storage already held it: nothing was fetched.
	Stored bool
	// Skipped are the tarball's entries left out, and why.
	Skipped []Skipped
	// Publish is dist's report; nil when Stored.
	Publish *dist.Result
}

// Add resolves an npm package (Spec: a range, a tag or a version) and
// publishes it into the dist root as the library of the same name:
// dist/<name>/<version>/ and its major.minor alias, with every rule of
// dist (atomic, immutable, integrity manifests, sidecars). The client's
// supply-chain gate decides first (Client.Gate): a refused version is
// never fetched, and what it verified goes into the provenance. The
// tarball is verified against the registry's sha512 before anything is
// written, and
// only its regular files below package/ are kept (Extract). The
// provenance records the registry, the tarball's URL, npm's integrity
// string and the license. A version storage already holds is not fetched
// again.
func Add(ctx context.Context, c *Client, root dist.Tree, spec Spec, opts AddOptions) (*Added, error) {
	v, doc, err := c.Resolve(ctx, spec.Name, spec.Range)
	if err != nil {
		return nil, err
	}
	tree, err := root.Library(spec.Name)
	if err != nil {
		return nil, err
	}
	out := &Added{Version: v, Registry: doc.Registry}
	if stored, err := hasVersion(tree, v.Version); err != nil {
		return nil, err
	} else if stored {
		out.Stored = true
		return out, nil
	}
	verified, err := c.admit(ctx, v, doc, &tree)
	if err != nil {
		return out, err
	}
	files, skipped, err := fetchFiles(ctx, c, v, opts.Files)
	out.Skipped = skipped
	if err != nil {
		return out, err
	}
	sv, err := versioning.Parse(v.Version)
	if err != nil {
		return nil, fmt.Errorf("%s@%s: cdnserve cannot host this version: %w", v.Name, v.Version, err)
	}
	entry := v.Entry()
	if !slices.ContainsFunc(files, func(f layout.File) bool { return f.Name == entry }) {
		entry = ""
	}
	out.Publish, err = tree.Publish(ctx, dist.Request{
		Version: sv, Files: files, Entry: entry, Wait: opts.Wait, Purging: opts.Purging, Compression: opts.Compression, Private: opts.Private,
		Provenance: layout.Provenance{Tool: opts.Tool, Source: "npm " + v.Name + "@" + v.Version,
			Registry: redact.URL(doc.Registry), Tarball: redact.URL(v.Dist.Tarball), Integrity: v.Dist.Integrity, License: v.LicenseName(), Verified: verified},
	})
	return out, err
}

// fetchFiles downloads, verifies and extracts a version's files.
func fetchFiles(ctx context.Context, c *Client, v *PackageVersion, include []string) ([]layout.File, []Skipped, error) {
	tgz, err := c.openTarball(ctx, v)
	if err != nil {
		return nil, nil, err
	}
	defer tgz.Close()
	files, skipped, err := ExtractFrom(tgz, c.Limits, include)
	if err != nil {
		return nil, skipped, fmt.Errorf("%s@%s: %w", v.Name, v.Version, err)
	}
	if len(files) == 0 {
		return nil, skipped, fmt.Errorf("%s@%s: no file to publish (of %d entries, all were left out; --files %q)", v.Name, v.Version, len(skipped), include)
	}
	return files, skipped, nil
}

// hasVersion reports whether a library's tree holds a version with its
// integrity manifest.
func hasVersion(tree dist.Tree, version string) (bool, error) {
	_, err := tree.Manifest(version)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("reading %s: %w", path.Join(tree.Root, version), err)
}

// File returns one file of an exact version of a package, verified: the
// tarball is checked against the registry's sha512 (and kept in the
// client's cache), then the file is read from it. It is what a build's
// "from: npm:name@1.2.3/path" reads. A range or tag is refused, so that a
// build is reproducible.
func (c *Client) File(ctx context.Context, spec Spec) ([]byte, *PackageVersion, error) {
	if _, err := versioning.Parse(spec.Range); err != nil {
		return nil, nil, fmt.Errorf("%s: a build takes an exact version (such as %s@1.2.3), not %q, so that it is reproducible", spec, spec.Name, spec.Range)
	}
	if spec.Path == "" {
		return nil, nil, fmt.Errorf("%s: name the file in the package: %s/dist/file.js", spec, spec)
	}
	v := c.cachedVersion(spec.Name, spec.Range)
	if v == nil || !c.admittedBefore(v) {
		// The gate reads the registry's document (its signatures, time
		// and attestations), unless it admitted the cached tarball under
		// the policy in force.
		rv, doc, err := c.Resolve(ctx, spec.Name, spec.Range)
		if err != nil {
			return nil, nil, err
		}
		if _, err := c.admit(ctx, rv, doc, nil); err != nil {
			return nil, rv, err
		}
		v = rv
	}
	files, _, err := fetchFiles(ctx, c, v, []string{spec.Path})
	if err != nil {
		return nil, v, fmt.Errorf("%s: %w", spec, err)
	}
	return files[0].Data, v, nil
}
