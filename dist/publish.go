package dist

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"
	"github.com/spf13/afero"
)

// Request is one version to publish.
type Request struct {
	// Version is the exact version. Required.
	Version *semver.Version
	// Files are the version's public files. Required.
	Files []layout.File
	// Provenance is recorded in the integrity manifest; BuiltAt defaults
	// to the tree's clock.
	Provenance layout.Provenance
	// Entry, if set, is the file a bare /<name>@<range>/ redirects to
	// (layout.Manifest.Entry); it must be one of Files.
	Entry string
	// Compression is how hard the sidecars are compressed: layout.Best
	// (the default: brotli 11, for a publish done ahead of time) or
	// layout.Fast (brotli 6, for a publish a client waits for, as the npm
	// mirror's: 1 MB takes 2.2 s at 11 and a few tens of ms at 6).
	Compression layout.Level
	// Force replaces a published version whose content differs.
	Force bool
	// Wait waits for another publisher's lock instead of failing.
	Wait bool
	// Purging says the caller purges the edge itself: the change it
	// records is claimed for it, so that no replica purges it too.
	Purging bool
	// Unrecorded publishes without recording a change for the edge: for
	// a tree no URL reaches before it is written, such as derived
	// builds, whose keys are hashes.
	Unrecorded bool
	// Private records the library as private (AccessName) before any
	// file of the version is written, so that no replica ever serves it
	// publicly. False leaves the record as it is: making a library
	// public again is a decision of its own (Tree.SetPrivate).
	Private bool
	// NoAlias publishes the exact version only: no major.minor alias is
	// written or moved (the ES-module builds of package esm/graph, which
	// are found by their key, never by a range).
	NoAlias bool
	// Progress, if set, is called after each file (or sidecar) of the
	// version is written, with how many of how many and its name.
	Progress func(done, total int, name string)
	// Stored, if set, publishes a version as another tree stored it (cdnserve
	// import): this manifest, with its provenance and entry, and Files
	// holding its files and their sidecars byte for byte, each checked
	// against it. Nothing is compressed again, so the copy serves the
	// same bytes as the original; Provenance, Entry and Compression are
	// not used.
	Stored *layout.Manifest
}

// Action says what publishing did to one directory.
type Action string

// The actions a publish reports.
const (
	Created   Action = "created"   // a new directory
	Unchanged Action = "unchanged" // identical content was already there
	Replaced  Action = "replaced"  // a published version, replaced with --force
	Moved     Action = "moved"     // an alias now holds the new version
	Kept      Action = "kept"      // an alias holds a newer version and stays
)

// Result reports what a publish did.
type Result struct {
	// Version is the exact version's directory and what happened to it.
	Version string
	Action  Action
	// Aliases are the alias directories considered (none for prereleases).
	Aliases []AliasResult
	// Files and Sidecars count what the version holds.
	Files, Sidecars int
	// Cleaned lists leftovers of interrupted publishes that were removed,
	// and Recovered the alias switches they had left half done.
	Cleaned, Recovered []string
	// Change is the change recorded for the edge (ChangesDir), nil when
	// the publish changed nothing; ChangeErr says it could not be
	// recorded, and so no replica will purge it.
	Change    *Change `json:"-"`
	ChangeErr error   `json:"-"`
}

// AliasResult is what happened to one alias directory.
type AliasResult struct {
	Dir    string
	Action Action
	// Was is the version the alias held before ("" if none); Holds is the
	// version it holds now.
	Was, Holds string
}

// ImmutableError says a version is published with other content.
type ImmutableError struct {
	Version string
	// File is the first file, in path order, whose content differs, and
	// Detail says how.
	File, Detail string
}

func (e *ImmutableError) Error() string {
	return fmt.Sprintf("version %s is published and immutable: %s %s; publish a new version, or pass --force to replace it (caches keep the old bytes for up to a year)",
		e.Version, e.File, e.Detail)
}

// NoManifestError is a version directory that exists without an
// integrity manifest: copied by hand, or written by an older tool. It is
// not published (cdnserve never serves it); --force adopts it by
// replacing its content with the build's.
type NoManifestError struct {
	Dir, Version string
}

func (e *NoManifestError) Error() string {
	return fmt.Sprintf("%s exists but is not a published version: %s", e.Dir, layout.NoManifestAdvice(e.Version))
}

// Plan says what Publish would do, or the error with which it would
// refuse, without writing anything or taking the lock: what `build
// --dry-run` reports. A publisher that holds the lock meanwhile may make
// the real publish differ.
func (t Tree) Plan(req Request) (*Result, error) {
	if err := t.checkRequest(req); err != nil {
		return nil, err
	}
	c, err := requestContent(req)
	if err != nil {
		return nil, err
	}
	res := &Result{Version: req.Version.Original(), Files: len(c.manifest.Files), Sidecars: c.sidecars}
	if _, res.Action, _, err = t.planExact(c, req.Force); err != nil {
		return nil, err
	}
	if !versioning.IsPrerelease(req.Version) && !req.NoAlias {
		ar, _, err := t.planAlias(req.Version, c)
		if err != nil {
			return nil, err
		}
		res.Aliases = append(res.Aliases, ar)
	}
	return res, nil
}

func (t Tree) checkRequest(req Request) error {
	if t.w == nil {
		return errors.New("dist: a Tree must be made with NewTree")
	}
	if req.Version == nil || len(req.Files) == 0 {
		return errors.New("dist: a publish needs a version and at least one file")
	}
	if req.Stored != nil {
		return checkStored(req)
	}
	if req.Entry != "" && !slices.ContainsFunc(req.Files, func(f layout.File) bool { return f.Name == req.Entry }) {
		return fmt.Errorf("dist: the entry %q is not one of the files", req.Entry)
	}
	return checkFiles(req.Files)
}

// Publish writes one version into the tree under the lock, then moves its
// major.minor alias forward if the version is the newest stable one of
// that line. See the package comment for the guarantees.
func (t Tree) Publish(ctx context.Context, req Request) (*Result, error) {
	if err := t.checkRequest(req); err != nil {
		return nil, err
	}
	if err := t.Fs.MkdirAll(t.Root, 0o755); err != nil {
		return nil, fmt.Errorf("creating dist root %s: %w", t.Root, err)
	}
	unlock, err := t.lock(ctx, req.Wait)
	if err != nil {
		return nil, err
	}
	defer unlock()

	res := &Result{Version: req.Version.Original()}
	if res.Cleaned, res.Recovered, err = t.recover(); err != nil {
		return nil, err
	}
	if req.Private {
		if err := t.writeAccess(true); err != nil {
			return nil, fmt.Errorf("recording %s as private: %w; nothing was published", t.Root, err)
		}
	}
	if req.Provenance.BuiltAt.IsZero() {
		req.Provenance.BuiltAt = t.now().UTC()
	}
	c, err := requestContent(req)
	if err != nil {
		return nil, err
	}
	c.progress = req.Progress
	res.Files, res.Sidecars = len(c.manifest.Files), c.sidecars
	if res.Action, err = t.publishExact(ctx, c, req.Force); err != nil {
		return nil, &StateError{Version: res.Version, Err: err}
	}
	if !versioning.IsPrerelease(req.Version) && !req.NoAlias {
		ar, err := t.publishAlias(ctx, req.Version, c)
		if err != nil {
			return res, &StateError{Version: res.Version, Live: true, Alias: ar.Dir, AliasHolds: ar.Was, Err: err}
		}
		res.Aliases = append(res.Aliases, ar)
	}
	if c, ok := t.publishChange(res); ok && !req.Unrecorded {
		c, res.ChangeErr = t.record(c, req.Purging)
		res.Change = &c
	}
	return res, nil
}

// StateError is a publish that failed, with the state it left the tree
// in: the version not published, or published and live with its alias
// not yet moved. Publishing the same version again finishes the job.
type StateError struct {
	Version string
	// Live says the version's directory is complete and served (ranges
	// and /latest/ may already resolve to it).
	Live bool
	// Alias is the major.minor alias that was not moved, and AliasHolds
	// what it still holds ("" when it does not exist yet).
	Alias, AliasHolds string
	Err               error
}

func (e *StateError) Error() string {
	if !e.Live {
		var imm *ImmutableError
		if errors.As(e.Err, &imm) {
			return e.Err.Error()
		}
		return fmt.Sprintf("%v; version %s was not published: every published version is as it was (a half-written copy is invisible to readers, and the next publish removes it)", e.Err, e.Version)
	}
	holds := "does not exist yet"
	if e.AliasHolds != "" {
		holds = "still holds " + e.AliasHolds
	}
	return fmt.Sprintf("%v; version %s IS published and live (ranges and /latest/ may serve it), but alias %s %s; run the same publish again to move it (it changes nothing else)", e.Err, e.Version, e.Alias, holds)
}

func (e *StateError) Unwrap() error { return e.Err }

// checkFiles rejects names that are not clean, that are internal (dot
// segments, the integrity manifest), or that would collide with another
// file's sidecar.
func checkFiles(files []layout.File) error {
	names := map[string]bool{}
	for _, f := range files {
		if err := layout.CheckPath(f.Name); err != nil {
			return fmt.Errorf("file %q: %w", f.Name, err)
		}
		if f.Name == layout.ManifestName {
			return fmt.Errorf("file %q: the name is reserved for the integrity manifest", f.Name)
		}
		for _, seg := range strings.Split(f.Name, "/") {
			if strings.HasPrefix(seg, ".") {
				return fmt.Errorf("file %q: names starting with '.' are internal and never published", f.Name)
			}
		}
		if names[f.Name] {
			return fmt.Errorf("file %q: listed twice", f.Name)
		}
		names[f.Name] = true
	}
	for _, f := range files {
		if base, enc, ok := layout.SplitSidecar(f.Name); ok && names[base] {
			return fmt.Errorf("file %q: collides with the %s sidecar that cdnserve writes for %q", f.Name, enc.Name, base)
		}
	}
	return nil
}

// publishExact creates the exact version's directory, or checks that the
// published one is identical, or replaces it when forced.
func (t Tree) publishExact(ctx context.Context, c *content, force bool) (Action, error) {
	dir, action, published, err := t.planExact(c, force)
	if err != nil || action == Unchanged {
		return action, err
	}
	if err := t.w.putVersion(ctx, t, dir, c, published); err != nil {
		return "", err
	}
	return action, nil
}

// planExact decides what publishing c does to its version directory,
// reading only: Created, Unchanged, Replaced (forced), or an error that
// refuses (*ImmutableError, *NoManifestError). published says a directory
// is there.
func (t Tree) planExact(c *content, force bool) (dir string, action Action, published bool, err error) {
	dir = path.Join(t.Root, c.manifest.Version)
	if published, err = t.w.published(t, dir); err != nil {
		return dir, "", false, err
	}
	if !published {
		return dir, Created, false, nil
	}
	if !force {
		if _, err := t.readManifest(dir); errors.Is(err, os.ErrNotExist) {
			return dir, "", true, &NoManifestError{Dir: dir, Version: c.manifest.Version}
		}
	}
	action, err = t.compareWithPublished(dir, c, force)
	return dir, action, true, err
}

// compareWithPublished decides what publishing c over the published
// version in dir does: nothing when the files are identical (Unchanged),
// refuse when they differ (an *ImmutableError naming the first differing
// file), or replace them when forced (Replaced).
func (t Tree) compareWithPublished(dir string, c *content, force bool) (Action, error) {
	file, detail, err := t.firstDifference(dir, c)
	switch {
	case err != nil:
		return "", err
	case file == "":
		return Unchanged, nil
	case !force:
		return "", &ImmutableError{Version: c.manifest.Version, File: file, Detail: detail}
	}
	return Replaced, nil
}

// firstDifference compares a published directory's public files with c,
// in path order, and names the first that differs ("" if none).
func (t Tree) firstDifference(dir string, c *content) (file, detail string, err error) {
	published, err := t.publicFiles(dir)
	if err != nil {
		return "", "", err
	}
	var names []string
	for _, mf := range c.manifest.Files {
		names = append(names, mf.Path)
	}
	for _, p := range published {
		if !slices.Contains(names, p) {
			names = append(names, p)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		want, inNew := c.manifest.File(name)
		if !slices.Contains(published, name) {
			return name, "is not in the published version", nil
		}
		if !inNew {
			return name, "is published but not in the new content", nil
		}
		got, err := afero.ReadFile(t.Fs, path.Join(dir, name))
		if err != nil {
			return "", "", err
		}
		if sha := layout.SHA256Hex(got); sha != want.SHA256 {
			return name, fmt.Sprintf("differs (published sha256 %.12s…, %d bytes; new %.12s…, %d bytes)", sha, len(got), want.SHA256, want.Size), nil
		}
	}
	return "", "", nil
}

// publicFiles lists a published directory's public files: those of its
// integrity manifest, or, for a directory without one (written by an
// older cdnserve or by hand), every file but dot-names.
func (t Tree) publicFiles(dir string) ([]string, error) {
	if m, err := t.readManifest(dir); err == nil {
		var out []string
		for _, f := range m.Files {
			out = append(out, f.Path)
		}
		return out, nil
	}
	var out []string
	err := afero.Walk(t.Fs, dir, func(p string, info fs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		if rel != "" && strings.HasPrefix(info.Name(), ".") {
			if info.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !info.IsDir() {
			out = append(out, rel)
		}
		return nil
	})
	return out, err
}

// readManifest reads a directory's integrity manifest.
func (t Tree) readManifest(dir string) (*layout.Manifest, error) {
	p := path.Join(dir, layout.ManifestName)
	data, err := afero.ReadFile(t.Fs, p)
	if err != nil {
		return nil, err
	}
	return layout.DecodeManifest(p, data)
}

// isDir reports whether p is a directory of the tree. Anything else there
// (a file, or a symbolic link, which cdnserve never serves, lists or
// writes through) is an error that says what to do.
func (t Tree) isDir(p string) (bool, error) {
	_, why, err := layout.NotPlain(t.Fs, p, true)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	case err != nil:
		return false, err
	case why != "":
		return false, fmt.Errorf("%s is %s: cdnserve never serves, lists or publishes through one; move it away and publish again", p, why)
	}
	return true, nil
}
