package dist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
)

// InPlaceWriter is an afero.Fs that cannot rename a directory atomically,
// such as S3-compatible object storage, where a rename is a copy of every
// object. Tree publishes into one without staging: it writes every file of
// a version where it belongs and the integrity manifest last. Readers
// (cdnserve serve, Verify) treat a version as existing only when its
// manifest exists, so a half-written version is invisible. Each object is
// replaced atomically, so a reader never gets a torn file.
type InPlaceWriter interface {
	WritesInPlace() bool
}

// inPlace reports whether the tree's Fs must be written in place.
func (t Tree) inPlace() bool {
	w, ok := t.Fs.(InPlaceWriter)
	return ok && w.WritesInPlace()
}

// writeInPlace writes c into dir: every file, then the manifest, then the
// removal of files that the new manifest does not list (left by an
// interrupted publish, or by the content a forced publish replaced).
func (t Tree) writeInPlace(ctx context.Context, dir string, c *content, aliasOf string) error {
	for i, f := range c.files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := writeSynced(t.Fs, path.Join(dir, f.Name), f.Data); err != nil {
			return err
		}
		c.wrote(i)
	}
	if err := writeSynced(t.Fs, path.Join(dir, ManifestName), c.manifestFor(aliasOf)); err != nil {
		return err
	}
	keep := map[string]bool{ManifestName: true}
	for _, f := range c.files {
		keep[f.Name] = true
	}
	return t.removeOthers(dir, keep)
}

// publishExactInPlace is publishExact for storage without atomic renames.
// A directory without a manifest is an interrupted publish, not a
// published version: it is written over.
func (t Tree) publishExactInPlace(ctx context.Context, c *content, force bool) (Action, error) {
	dir := path.Join(t.Root, c.manifest.Version)
	_, err := t.readManifest(dir)
	published := err == nil
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	action := Created
	if published {
		if action, err = t.compareWithPublished(dir, c, force); err != nil || action == Unchanged {
			return action, err
		}
	}
	if err := t.writeInPlace(ctx, dir, c, ""); err != nil {
		return "", err
	}
	return action, nil
}

// switchAliasInPlace switches an alias on storage without atomic
// renames, under a journal, as switchAliasByFile does with renames.
func (t Tree) switchAliasInPlace(ctx context.Context, dir string, c *content) error {
	jpath := path.Join(t.Root, journalPrefix+path.Base(dir)+".json")
	jdata, _ := json.Marshal(journal{Alias: path.Base(dir), To: c.manifest.Version})
	if err := writeSynced(t.Fs, jpath, jdata); err != nil {
		return err
	}
	if err := t.writeInPlace(ctx, dir, c, c.manifest.Version); err != nil {
		return fmt.Errorf("switching alias %s: %w", dir, err)
	}
	return t.Fs.Remove(jpath)
}
