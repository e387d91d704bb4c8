package npm

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/gate"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

// admit runs the client's gate, if any, on a version about to be
// fetched: what it verified goes into the provenance; a refusal is a
// *gate.Refused, and nothing is fetched or stored.
func (c *Client) admit(ctx context.Context, v *PackageVersion, doc *Packument, tree *dist.Tree) (*layout.Verified, error) {
	if c.Gate == nil {
		return nil, nil
	}
	cand := gate.Candidate{Name: v.Name, Version: v.Version, Integrity: v.Dist.Integrity, Registry: doc.Registry,
		Signatures: v.Dist.Signatures, License: v.LicenseName()}
	if t, err := time.Parse(time.RFC3339, doc.Time[v.Version]); err == nil {
		cand.Published = t
	}
	if v.Dist.Attestations != nil {
		cand.Attestations = v.Dist.Attestations.URL
	}
	for _, s := range []string{"preinstall", "install", "postinstall"} {
		if v.Scripts[s] != "" {
			cand.Scripts = append(cand.Scripts, s)
		}
	}
	for _, m := range v.Maintainers {
		cand.Maintainers = append(cand.Maintainers, m.Name)
	}
	if tree != nil {
		cand.Previous = previous(tree)
	}
	verified, err := c.Gate.Admit(ctx, cand, c)
	if err == nil && c.CacheDir != "" {
		// A build that names this version again reads its tarball from
		// the cache without asking the registry, while the policy and
		// the database are the same (admittedBefore).
		layout.WriteFileAtomic(c.cacheFs(), c.versionPath(v.Name, v.Version)+".gate", []byte(c.admission(v)))
	}
	return verified, err
}

// admission is what the cache records of an admitted version: its
// integrity, and the gate's fingerprint.
func (c *Client) admission(v *PackageVersion) string {
	return v.Dist.Integrity + "\n" + c.Gate.Fingerprint() + "\n"
}

// admittedBefore reports whether the gate admitted a cached version
// under the policy and database in force (or there is no gate).
func (c *Client) admittedBefore(v *PackageVersion) bool {
	if c.Gate == nil {
		return true
	}
	raw, err := afero.ReadFile(c.cacheFs(), c.versionPath(v.Name, v.Version)+".gate")
	return err == nil && string(raw) == c.admission(v)
}

// previous is what the gate recorded of the newest version a library's
// tree holds, or nil.
func previous(tree *dist.Tree) *gate.Previous {
	entries, err := afero.ReadDir(tree.Fs, tree.Root)
	if err != nil {
		return nil
	}
	var newest *semver.Version
	for _, e := range entries {
		if layout.ClassifyDir(e.Name()) != layout.Exact {
			continue
		}
		if v, err := semver.StrictNewVersion(e.Name()); err == nil && (newest == nil || v.GreaterThan(newest)) {
			newest = v
		}
	}
	if newest == nil {
		return nil
	}
	raw, err := afero.ReadFile(tree.Fs, path.Join(tree.Root, newest.Original(), layout.ManifestName))
	var mf layout.Manifest
	if err != nil || json.Unmarshal(raw, &mf) != nil || mf.Provenance.Verified == nil {
		return nil // not checked when stored: nothing to compare with
	}
	return &gate.Previous{Version: newest.Original(), Maintainers: mf.Provenance.Verified.Maintainers}
}

// RegistryKeys returns the body of a registry's /-/npm/v1/keys (for the
// gate); ErrNotFound (fs.ErrNotExist) when it publishes none.
func (c *Client) RegistryKeys(ctx context.Context, registry string) ([]byte, error) {
	body, err := c.kept(ctx, registry+"-/npm/v1/keys", "application/json", 1<<20)
	if err != nil {
		return nil, fmt.Errorf("the registry's signing keys: %w", err)
	}
	return body, nil
}

// Attestations returns the body of a version's attestations URL (for
// the gate).
func (c *Client) Attestations(ctx context.Context, u string) ([]byte, error) {
	return c.kept(ctx, u, "application/json", 16<<20)
}
