package dist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"
	"github.com/spf13/afero"
)

// The life of a version after it is published: it may be deprecated
// (still served byte for byte, but skipped by ranges), and removed (the
// reverse of publishing, and as safe). Both are recorded in the library's
// own tree, in dot-files that are never served:
//
//	.deprecated.json   version -> {message, at}
//	.removed.json      version -> when it was removed (410 Gone for a while)
const (
	DeprecatedName = layout.DeprecatedName
	RemovedName    = layout.RemovedName
)

// Deprecation is one deprecated version's record.
type Deprecation struct {
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

// Deprecations reads a library's deprecated versions; none is an empty
// map.
func (t Tree) Deprecations() (map[string]Deprecation, error) {
	out := map[string]Deprecation{}
	return out, t.readJSON(DeprecatedName, &out)
}

// Removals reads when each removed version was removed.
func (t Tree) Removals() (map[string]time.Time, error) {
	out := map[string]time.Time{}
	return out, t.readJSON(RemovedName, &out)
}

func (t Tree) readJSON(name string, v any) error {
	raw, err := afero.ReadFile(t.Fs, path.Join(t.Root, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %w", path.Join(t.Root, name), err)
	}
	return nil
}

// writeJSON replaces a record file in one step, with the write that is
// safe on the tree's storage.
func (t Tree) writeJSON(name string, v any) error {
	raw, _ := json.MarshalIndent(v, "", "  ")
	if err := t.Fs.MkdirAll(t.Root, 0o755); err != nil {
		return err
	}
	if t.w.inPlace() {
		return afero.WriteFile(t.Fs, path.Join(t.Root, name), append(raw, '\n'), 0o644) // one PUT: atomic on object storage
	}
	return layout.WriteFileAtomic(t.Fs, path.Join(t.Root, name), append(raw, '\n'))
}

// Deprecate marks a published version deprecated with a message, or
// undeprecates it (message ""), under the library's lock. Aliases are
// not touched: they move only forward, on the next publish.
func (t Tree) Deprecate(ctx context.Context, version, message string, wait bool) error {
	if t.w == nil {
		return errors.New("dist: a Tree must be made with NewTree")
	}
	if _, err := versioning.Parse(version); err != nil {
		return fmt.Errorf("%q: %w", version, err)
	}
	unlock, err := t.lock(ctx, wait)
	if err != nil {
		return err
	}
	defer unlock()
	if ok, err := t.w.published(t, path.Join(t.Root, version)); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%s is not published in %s", version, t.Root)
	}
	deps, err := t.Deprecations()
	if err != nil {
		return err
	}
	if message == "" {
		if _, ok := deps[version]; !ok {
			return nil
		}
		delete(deps, version)
	} else {
		deps[version] = Deprecation{Message: message, At: t.now().UTC()}
	}
	if err := t.writeJSON(DeprecatedName, deps); err != nil {
		return err
	}
	c := Change{Kind: ChangeDeprecate, Version: version, Latest: t.Latest() == version}
	if message == "" {
		c.Kind = ChangeUndeprecate
	}
	aliases, _ := t.AliasesHolding(version)
	for _, a := range aliases {
		c.Aliases = append(c.Aliases, ChangedAlias{Dir: a, From: version, To: version})
	}
	if len(aliases) > 0 || c.Latest {
		c.Files = t.filesOf(version)
	}
	_, err = t.record(c, false)
	return err
}

// RemoveResult is what Remove did.
type RemoveResult struct {
	Version string `json:"version"`
	// Aliases are the alias directories removed with it (only with
	// RemoveRequest.Force: an alias that held the version).
	Aliases []string `json:"aliases,omitempty"`
	Files   int      `json:"files"`
	// ChangeErr says the removal could not be recorded for the edge
	// (ChangesDir).
	ChangeErr error   `json:"-"`
	Change    *Change `json:"-"`
}

// AliasesHolding lists the alias directories whose manifest holds a
// version.
func (t Tree) AliasesHolding(version string) ([]string, error) {
	entries, err := afero.ReadDir(t.Fs, t.Root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if layout.ClassifyDir(e.Name()) != layout.Alias {
			continue
		}
		if m, err := t.readManifest(path.Join(t.Root, e.Name())); err == nil && m.AliasOf == version {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// RemoveOptions are Remove's choices.
type RemoveOptions struct {
	// Force removes a version an alias holds, and the alias.
	Force bool
	// Wait waits for another publisher's lock instead of failing.
	Wait bool
	// Purging claims the removal's change record for this process, which
	// purges it itself (Request.Purging).
	Purging bool
}

// AliasHeldError refuses to remove a version that an alias holds.
type AliasHeldError struct {
	Version string
	Aliases []string
}

func (e *AliasHeldError) Error() string {
	return fmt.Sprintf("%s is held by alias %s: removing it would break /%s/; publish a newer patch first, or pass --force to remove the alias too",
		e.Version, strings.Join(e.Aliases, ", "), e.Aliases[0])
}

// Remove removes one exact version, the reverse of publishing and as
// safe: under the library's lock, readers stop finding it first, then
// its files go. On disk the directory is renamed to a staging name in
// one step (a killed removal leaves a dot-directory that verify notes
// and the next publish removes); on object storage its manifest is
// deleted first, then its files (a killed removal leaves files without a
// manifest, invisible to readers, which verify notes). The removal is
// recorded in .removed.json, so servers answer 410 Gone for a while. A
// version an alias holds is refused, unless o.Force, which removes the
// alias too.
func (t Tree) Remove(ctx context.Context, version string, o RemoveOptions) (*RemoveResult, error) {
	if t.w == nil {
		return nil, errors.New("dist: a Tree must be made with NewTree")
	}
	if _, err := versioning.Parse(version); err != nil {
		return nil, fmt.Errorf("%q: %w", version, err)
	}
	unlock, err := t.lock(ctx, o.Wait)
	if err != nil {
		return nil, err
	}
	defer unlock()
	dir := path.Join(t.Root, version)
	m, err := t.readManifest(dir)
	if err != nil {
		return nil, fmt.Errorf("%s is not published in %s: %w", version, t.Root, err)
	}
	aliases, err := t.AliasesHolding(version)
	if err != nil {
		return nil, err
	}
	if len(aliases) > 0 && !o.Force {
		return nil, &AliasHeldError{Version: version, Aliases: aliases}
	}
	res := &RemoveResult{Version: version, Aliases: aliases, Files: len(m.Files)}
	removed, err := t.Removals()
	if err != nil {
		return nil, err
	}
	removed[version] = t.now().UTC()
	// The record first: a removal killed after it leaves a version that
	// is still served and will answer 410 once removed; harmless.
	if err := t.writeJSON(RemovedName, removed); err != nil {
		return nil, err
	}
	for _, a := range append(aliases, version) {
		if err := t.removeDir(path.Join(t.Root, a)); err != nil {
			return nil, err
		}
	}
	// A version that is gone is no longer deprecated.
	if deps, err := t.Deprecations(); err == nil {
		if _, ok := deps[version]; ok {
			delete(deps, version)
			t.writeJSON(DeprecatedName, deps)
		}
	}
	c := Change{Kind: ChangeRemove, Version: version, Files: t.filesOfManifest(m)}
	for _, a := range aliases {
		c.Aliases = append(c.Aliases, ChangedAlias{Dir: a, From: version})
	}
	rec, err := t.record(c, o.Purging)
	if res.ChangeErr = err; err == nil {
		res.Change = &rec
	}
	return res, nil
}

// removeDir takes a directory away from readers, then deletes it.
func (t Tree) removeDir(dir string) error {
	if !t.w.inPlace() {
		staging := layout.TempName(t.Root)
		if err := t.Fs.Rename(dir, staging); err != nil {
			return fmt.Errorf("removing %s: %w", dir, err)
		}
		return t.Fs.RemoveAll(staging)
	}
	if err := t.Fs.Remove(path.Join(dir, layout.ManifestName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing %s's manifest: %w", dir, err)
	}
	return t.Fs.RemoveAll(dir)
}

// Manifest reads the integrity manifest of one directory of the tree: an
// exact version ("2.2.4") or an alias ("2.2"). A directory that is not
// published gives an error that wraps fs.ErrNotExist.
func (t Tree) Manifest(dir string) (*layout.Manifest, error) {
	return t.readManifest(path.Join(t.Root, dir))
}

// Versions lists the exact version directories of the tree, newest
// first, from one listing (no manifest is read).
func (t Tree) Versions() ([]*semver.Version, error) {
	entries, err := afero.ReadDir(t.Fs, t.Root)
	if err != nil {
		return nil, err
	}
	var out []*semver.Version
	for _, e := range entries {
		if v, err := versioning.Parse(e.Name()); err == nil && e.IsDir() {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GreaterThan(out[j]) })
	return out, nil
}

// Latest is the tree's newest stable version, or "".
func (t Tree) Latest() string {
	versions, _ := t.Versions()
	for _, v := range versions {
		if !versioning.IsPrerelease(v) {
			return v.Original()
		}
	}
	return ""
}

// Prereleases lists the prereleases published before cutoff (by their
// manifests' provenance), oldest version first.
func (t Tree) Prereleases(cutoff time.Time) ([]string, error) {
	versions, err := t.Versions()
	if err != nil {
		return nil, err
	}
	var out []string
	for i := len(versions) - 1; i >= 0; i-- {
		v := versions[i]
		if !versioning.IsPrerelease(v) {
			continue
		}
		if m, err := t.Manifest(v.Original()); err == nil && m.Provenance.BuiltAt.Before(cutoff) {
			out = append(out, v.Original())
		}
	}
	return out, nil
}
