package dist

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

// ChangesDir is the directory, in the dist root, where every change an
// edge must learn of is recorded, one file each, by the process that made
// it: a publish that created or moved an alias (or made a new version),
// a deprecation, a removal. Whoever purges the edge (publish --purge, or
// any replica with serve --purge) claims a record, purges, and deletes
// it, so each change is purged once, whatever a replica has served and
// whenever it started. It is a dot-name: never served, never listed.
const ChangesDir = ".changes"

// The kinds of Change.
const (
	ChangePublish     = "publish"
	ChangeDeprecate   = "deprecate"
	ChangeUndeprecate = "undeprecate"
	ChangeRemove      = "remove"
)

// Change is one recorded change of a library.
type Change struct {
	// ID is the record's file name in ChangesDir (not stored in it).
	ID string `json:"-"`
	// Library is the library's name, "" for the root library.
	Library string `json:"library"`
	Kind    string `json:"kind"`
	// Version is the exact version published, deprecated or removed.
	Version string `json:"version"`
	// Aliases are the aliases the change moved (a publish) or that hold
	// the version (a deprecation), or were removed with it.
	Aliases []ChangedAlias `json:"aliases,omitempty"`
	// Files are the paths, inside a version, of what the aliases held
	// and hold.
	Files []string `json:"files,omitempty"`
	// Latest is true when Version was the library's latest version
	// after the change.
	Latest bool      `json:"latest,omitempty"`
	At     time.Time `json:"at"`
}

// ChangedAlias is one alias a Change touched: it held From and holds To
// ("" when it was created, or removed).
type ChangedAlias struct {
	Dir  string `json:"dir"`
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// ClaimSuffix ends the name of a claim on a record: the purger that
// holds it, and since when.
const ClaimSuffix = ".claim"

// Claim is the content of a claim file.
type Claim struct {
	PID  int       `json:"pid"`
	Host string    `json:"host"`
	At   time.Time `json:"at"`
}

// changesRoot is the dist root's ChangesDir, where every library's tree
// records.
func (t Tree) changesRoot() string {
	if t.library != "" {
		return path.Join(t.top, ChangesDir)
	}
	return path.Join(t.Root, ChangesDir)
}

// ChangeExpiry is how long a record waits for a purger. An edge keeps an
// alias for its max-age (300 s by default), so a purge a day late is of
// no use: each new record removes the ones older than this, so a tree
// that nobody purges does not gather them without end.
const ChangeExpiry = 24 * time.Hour

// expire removes the records (and claims) older than ChangeExpiry, by the
// time their names begin with.
func (t Tree) expire(dir string) {
	entries, err := afero.ReadDir(t.Fs, dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		at, err := time.Parse("20060102T150405.000000000Z", strings.SplitN(e.Name(), "-", 2)[0])
		if err == nil && t.now().Sub(at) > ChangeExpiry {
			t.Fs.Remove(path.Join(dir, e.Name()))
		}
	}
}

// record writes a change, claimed by this process first when claim is
// set (a publisher that purges it itself), so that no replica takes it.
// The name sorts by time. An error is returned to be reported: the
// change itself has happened.
func (t Tree) record(c Change, claim bool) (Change, error) {
	c.Library, c.At = t.library, t.now().UTC()
	dir := t.changesRoot()
	if err := t.Fs.MkdirAll(dir, 0o755); err != nil {
		return c, fmt.Errorf("recording the change for the edge in %s: %w", dir, err)
	}
	t.expire(dir)
	c.ID = c.At.Format("20060102T150405.000000000Z") + "-" + strings.TrimPrefix(path.Base(layout.TempName("")), layout.TmpPrefix) + ".json"
	if claim {
		if err := t.claim(c.ID); err != nil {
			return c, fmt.Errorf("recording the change for the edge in %s: %w", dir, err)
		}
	}
	data, _ := json.Marshal(c)
	if _, err := layout.CreateExclusive(t.Fs, path.Join(dir, c.ID), append(data, '\n')); err != nil {
		t.Fs.Remove(path.Join(dir, c.ID+ClaimSuffix))
		return c, fmt.Errorf("recording the change for the edge in %s: %w", dir, err)
	}
	return c, nil
}

// claim creates the claim on a record for this process; an error that is
// os.ErrExist says another purger holds it.
func (t Tree) claim(id string) error {
	data, _ := json.Marshal(Claim{PID: t.pid(), Host: t.host(), At: t.now().UTC()})
	_, err := layout.CreateExclusive(t.Fs, path.Join(t.changesRoot(), id+ClaimSuffix), data)
	return err
}

// Claim takes a record for this process. A claim older than staleAfter
// is a purger's that died or hung, and is taken over. It reports whether
// this process now holds the record; false with no error means another
// purger holds it, or it is gone.
func (t Tree) Claim(id string, staleAfter time.Duration) (bool, error) {
	for range 2 {
		err := t.claim(id)
		if err == nil {
			if _, serr := t.Fs.Stat(path.Join(t.changesRoot(), id)); serr != nil {
				t.Release(id) // done by another purger while we claimed
				return false, nil
			}
			return true, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return false, err
		}
		var held Claim
		data, rerr := afero.ReadFile(t.Fs, path.Join(t.changesRoot(), id+ClaimSuffix))
		if rerr == nil && json.Unmarshal(data, &held) == nil && t.now().Sub(held.At) < staleAfter {
			return false, nil
		}
		t.Release(id)
	}
	return false, nil
}

// Release drops this process's claim on a record, leaving the record for
// another purger (after a purge that failed).
func (t Tree) Release(id string) {
	t.Fs.Remove(path.Join(t.changesRoot(), id+ClaimSuffix))
}

// Done deletes a purged record and its claim.
func (t Tree) Done(id string) error {
	if err := t.Fs.Remove(path.Join(t.changesRoot(), id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	t.Release(id)
	return nil
}

// Changes lists the recorded changes of every library, oldest first.
// A record that cannot be read is skipped: its writer died before the
// record was whole, which CreateExclusive prevents where it can.
func (t Tree) Changes() ([]Change, error) {
	dir := t.changesRoot()
	entries, err := afero.ReadDir(t.Fs, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	var out []Change
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") {
			continue
		}
		data, err := afero.ReadFile(t.Fs, path.Join(dir, name))
		if err != nil {
			continue
		}
		var c Change
		if json.Unmarshal(data, &c) != nil {
			continue
		}
		c.ID = name
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Change) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// publishChange is the change a publish made, or false when it changed
// nothing an edge holds (the same version again, aliases as they were).
func (t Tree) publishChange(res *Result) (Change, bool) {
	c := Change{Kind: ChangePublish, Version: res.Version}
	for _, a := range res.Aliases {
		if a.Action != Created && a.Action != Moved {
			continue
		}
		c.Aliases = append(c.Aliases, ChangedAlias{Dir: a.Dir, From: a.Was, To: a.Holds})
		c.Files = append(c.Files, t.filesOf(a.Holds)...)
		if a.Was != "" {
			c.Files = append(c.Files, t.filesOf(a.Was)...)
		}
	}
	if res.Action == Unchanged && len(c.Aliases) == 0 {
		return c, false
	}
	slices.Sort(c.Files)
	c.Files = slices.Compact(c.Files)
	c.Latest = t.Latest() == res.Version
	return c, true
}

// filesOf lists the files of a published version, from its manifest.
func (t Tree) filesOf(version string) []string {
	m, err := t.Manifest(version)
	if err != nil {
		return nil
	}
	return t.filesOfManifest(m)
}

func (Tree) filesOfManifest(m *layout.Manifest) []string {
	var out []string
	for _, f := range m.Files {
		out = append(out, f.Path)
	}
	return out
}
