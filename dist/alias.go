package dist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"
	"github.com/spf13/afero"
)

// journalPrefix starts the name of an alias switch journal in the root:
// ".switch-1.7.json" says that alias 1.7 is being switched file by file.
// A publish that finds one finishes the switch before anything else.
const journalPrefix = ".switch-"

// journal records an alias switch in progress.
type journal struct {
	Alias string `json:"alias"`
	To    string `json:"to"`
}

// publishAlias moves version v's major.minor alias to v, unless it holds
// a newer version (aliases only move forward) or already holds v.
func (t Tree) publishAlias(ctx context.Context, v *semver.Version, c *content) (AliasResult, error) {
	ar, exists, err := t.planAlias(v, c)
	if err != nil || ar.Action == Kept || ar.Action == Unchanged {
		return ar, err
	}
	return ar, t.w.putAlias(ctx, t, path.Join(t.Root, ar.Dir), c, exists)
}

// planAlias decides what publishing v does to its alias, reading only:
// Kept (it holds a newer version), Unchanged, Moved or Created. exists
// says the alias directory is there.
func (t Tree) planAlias(v *semver.Version, c *content) (ar AliasResult, exists bool, err error) {
	name := versioning.AliasDir(v)
	dir := path.Join(t.Root, name)
	ar = AliasResult{Dir: name, Holds: v.Original()}
	if cur, err := t.readManifest(dir); err == nil {
		ar.Was = cur.AliasOf
	}
	if was, err := semver.StrictNewVersion(ar.Was); err == nil && was.GreaterThan(v) {
		ar.Action, ar.Holds = Kept, ar.Was
		return ar, false, nil
	}
	if exists, err = t.w.published(t, dir); err != nil {
		return ar, false, err
	}
	if exists && ar.Was == v.Original() {
		file, _, err := t.firstDifference(dir, c)
		if err != nil {
			return ar, true, err
		}
		if file == "" {
			ar.Action = Unchanged
			return ar, true, nil
		}
	}
	ar.Action = Moved
	if !exists {
		ar.Action = Created
	}
	return ar, exists, nil
}

// switchAliasByFile switches an existing alias directory without a gap:
// each new file is renamed over the old one (an atomic replace), files
// the new content lacks are removed after that, and the integrity
// manifest goes last. A reader may briefly get some files of the old
// version and some of the new, but never a miss for a file both hold. A
// journal in the root lets the next publish finish a switch that was
// interrupted.
func (t Tree) switchAliasByFile(ctx context.Context, dir string, c *content) error {
	jpath, err := t.writeJournal(dir, c, layout.WriteFileAtomic)
	if err != nil {
		return err
	}
	staged, err := t.stage(ctx, c, c.manifest.Version)
	if err != nil {
		return err
	}
	for _, f := range c.files {
		dst := path.Join(dir, f.Name)
		if err := t.Fs.MkdirAll(path.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("switching alias %s: %w", dir, err)
		}
		if err := t.Fs.Rename(path.Join(staged, f.Name), dst); err != nil {
			return fmt.Errorf("switching alias %s: %w", dir, err)
		}
	}
	if err := t.removeOthers(dir, c.names()); err != nil {
		return err
	}
	if err := t.Fs.Rename(path.Join(staged, layout.ManifestName), path.Join(dir, layout.ManifestName)); err != nil {
		return fmt.Errorf("switching alias %s: %w", dir, err)
	}
	t.Fs.RemoveAll(staged)
	return t.Fs.Remove(jpath)
}

// removeOthers removes every file below dir whose relative path is not
// in keep.
func (t Tree) removeOthers(dir string, keep map[string]bool) error {
	var stale []string
	err := afero.Walk(t.Fs, dir, func(p string, info fs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if rel := strings.TrimPrefix(p, dir+"/"); !info.IsDir() && !keep[rel] {
			stale = append(stale, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range stale {
		if err := t.Fs.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing %s from alias: %w", p, err)
		}
	}
	return nil
}

// writeJournal records that alias dir is being switched to c's version,
// with the write that is safe on the tree's storage, and returns the
// journal's path.
func (t Tree) writeJournal(dir string, c *content, write func(afero.Fs, string, []byte) error) (string, error) {
	jpath := path.Join(t.Root, journalPrefix+path.Base(dir)+".json")
	jdata, _ := json.Marshal(journal{Alias: path.Base(dir), To: c.manifest.Version})
	return jpath, write(t.Fs, jpath, jdata)
}

// recover runs under the lock before a publish: it finishes alias
// switches that a killed publisher left (from their journals) and removes
// staging directories and stale locks it left.
func (t Tree) recover() (cleaned, recovered []string, err error) {
	entries, err := afero.ReadDir(t.Fs, t.Root)
	if err != nil {
		return nil, nil, fmt.Errorf("listing %s: %w", t.Root, err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), journalPrefix) {
			what, err := t.finishSwitch(path.Join(t.Root, e.Name()))
			if err != nil {
				return nil, nil, err
			}
			recovered = append(recovered, what)
		}
	}
	for _, e := range entries {
		stale := strings.HasPrefix(e.Name(), layout.TmpPrefix) || strings.HasPrefix(e.Name(), ".lock-stale-") ||
			strings.HasPrefix(e.Name(), LockName+layout.NewInfix) && t.now().Sub(e.ModTime()) > layout.StaleNewAfter
		if stale {
			if err := t.Fs.RemoveAll(path.Join(t.Root, e.Name())); err != nil {
				return nil, nil, fmt.Errorf("removing leftover %s: %w", e.Name(), err)
			}
			cleaned = append(cleaned, e.Name())
		}
	}
	return cleaned, recovered, nil
}

// finishSwitch completes an interrupted alias switch from its journal,
// taking the content from the exact version's directory, which was
// complete before the switch began.
func (t Tree) finishSwitch(jpath string) (string, error) {
	data, err := afero.ReadFile(t.Fs, jpath)
	if err != nil {
		return "", err
	}
	var j journal
	if err := json.Unmarshal(data, &j); err != nil || layout.CheckPath(j.Alias) != nil || layout.CheckPath(j.To) != nil {
		return "", fmt.Errorf("%s: unreadable alias switch journal; remove it and check the alias with cdnserve verify", jpath)
	}
	src := path.Join(t.Root, j.To)
	m, err := t.readManifest(src)
	if err != nil {
		return "", fmt.Errorf("finishing the switch of alias %s: %w", j.Alias, err)
	}
	c, err := t.storedContent(src, m)
	if err != nil {
		return "", fmt.Errorf("finishing the switch of alias %s: %w", j.Alias, err)
	}
	if err := t.w.resumeAlias(context.Background(), t, path.Join(t.Root, j.Alias), c); err != nil {
		return "", err
	}
	return fmt.Sprintf("alias %s -> %s", j.Alias, j.To), nil
}
