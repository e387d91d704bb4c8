package dist

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

// writer is how a tree puts a directory's content in place. NewTree
// chooses one from the Fs, once:
//
//   - renameWriter (memory, and disks without an exchange): stage the
//     content in a temporary directory and rename it into place. An
//     existing alias is switched file by file under a journal; a forced
//     version is moved aside and replaced.
//   - exchangeWriter (an Exchanger: local disk on Linux): as renameWriter,
//     but an existing directory is swapped in one atomic exchange.
//   - inPlaceWriter (an InPlaceWriter: object storage): every file where
//     it belongs, the integrity manifest last.
type writer interface {
	// published reports whether dir holds a published directory.
	published(t Tree, dir string) (bool, error)
	// putVersion writes an exact version's directory; replace says a
	// published one is there (a forced publish).
	putVersion(ctx context.Context, t Tree, dir string, c *content, replace bool) error
	// putAlias makes an alias directory hold c; replace says it holds
	// other content now.
	putAlias(ctx context.Context, t Tree, dir string, c *content, replace bool) error
	// resumeAlias finishes an alias switch that a journal records.
	resumeAlias(ctx context.Context, t Tree, dir string, c *content) error
	// inPlace reports whether a directory without a manifest is an
	// interrupted publish, invisible to readers, rather than damage.
	inPlace() bool
}

func chooseWriter(fsys afero.Fs) writer {
	if layout.WriteModeOf(fsys) == layout.WriteInPlace {
		return inPlaceWriter{}
	}
	if ex, ok := fsys.(layout.Exchanger); ok {
		return exchangeWriter{ex: ex}
	}
	return renameWriter{}
}

var (
	_ writer = renameWriter{}
	_ writer = exchangeWriter{}
	_ writer = inPlaceWriter{}
)

// renameWriter stages and renames.
type renameWriter struct{}

func (renameWriter) published(t Tree, dir string) (bool, error) { return t.isDir(dir) }
func (renameWriter) inPlace() bool                              { return false }

func (renameWriter) putVersion(ctx context.Context, t Tree, dir string, c *content, replace bool) error {
	staged, err := t.stage(ctx, c, "")
	if err != nil {
		return err
	}
	if replace {
		return t.replaceByMovingAside(staged, dir)
	}
	return t.moveIntoPlace(staged, dir)
}

func (renameWriter) putAlias(ctx context.Context, t Tree, dir string, c *content, replace bool) error {
	if replace {
		return t.switchAliasByFile(ctx, dir, c)
	}
	staged, err := t.stage(ctx, c, c.manifest.Version)
	if err != nil {
		return err
	}
	return t.moveIntoPlace(staged, dir)
}

func (renameWriter) resumeAlias(ctx context.Context, t Tree, dir string, c *content) error {
	return t.switchAliasByFile(ctx, dir, c)
}

// exchangeWriter is a renameWriter that replaces directories in one
// atomic exchange, and falls back to renameWriter's ways where the file
// system refuses the exchange at run time.
type exchangeWriter struct {
	renameWriter
	ex layout.Exchanger
}

func (w exchangeWriter) putVersion(ctx context.Context, t Tree, dir string, c *content, replace bool) error {
	if !replace {
		return w.renameWriter.putVersion(ctx, t, dir, c, false)
	}
	staged, err := t.stage(ctx, c, "")
	if err != nil {
		return err
	}
	if done, err := w.exchange(t, staged, dir); done || err != nil {
		return err
	}
	return t.replaceByMovingAside(staged, dir)
}

func (w exchangeWriter) putAlias(ctx context.Context, t Tree, dir string, c *content, replace bool) error {
	if !replace {
		return w.renameWriter.putAlias(ctx, t, dir, c, false)
	}
	staged, err := t.stage(ctx, c, c.manifest.Version)
	if err != nil {
		return err
	}
	if done, err := w.exchange(t, staged, dir); done || err != nil {
		return err
	}
	t.Fs.RemoveAll(staged)
	return t.switchAliasByFile(ctx, dir, c)
}

// exchange swaps the staged directory into dir's place and removes the
// old content. It reports false, having changed nothing, where the file
// system cannot exchange.
func (w exchangeWriter) exchange(t Tree, staged, dir string) (bool, error) {
	err := w.ex.Exchange(staged, dir)
	switch {
	case err == nil:
		return true, t.Fs.RemoveAll(staged) // staged now holds the old content
	case errors.Is(err, layout.ErrExchangeUnsupported):
		return false, nil
	}
	t.Fs.RemoveAll(staged)
	return true, fmt.Errorf("swapping %s: %w", dir, err)
}

// stage writes content into a new temporary directory in the root and
// returns its path. Every file is synced; the manifest is written last.
func (t Tree) stage(ctx context.Context, c *content, aliasOf string) (string, error) {
	dir := layout.TempName(t.Root)
	if err := t.Fs.Mkdir(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating staging directory: %w", err)
	}
	if err := t.writeContent(ctx, dir, c, aliasOf); err != nil {
		t.Fs.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// writeContent writes every file of c into dir, then the manifest.
func (t Tree) writeContent(ctx context.Context, dir string, c *content, aliasOf string) error {
	for i, f := range c.files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := layout.WriteFileSynced(t.Fs, path.Join(dir, f.Name), f.Data); err != nil {
			return err
		}
		c.wrote(i)
	}
	return layout.WriteFileSynced(t.Fs, path.Join(dir, layout.ManifestName), c.manifestFor(aliasOf))
}

// moveIntoPlace renames a staged directory to dir, which does not exist.
func (t Tree) moveIntoPlace(staged, dir string) error {
	if err := t.Fs.Rename(staged, dir); err != nil {
		t.Fs.RemoveAll(staged)
		return fmt.Errorf("moving %s into place: %w", dir, err)
	}
	return nil
}

// replaceByMovingAside puts the staged directory in dir's place by moving
// the old one aside first: a forced replace briefly has no directory.
func (t Tree) replaceByMovingAside(staged, dir string) error {
	old := layout.TempName(t.Root)
	if err := t.Fs.Rename(dir, old); err != nil {
		t.Fs.RemoveAll(staged)
		return fmt.Errorf("moving old %s aside: %w", dir, err)
	}
	if err := t.Fs.Rename(staged, dir); err != nil {
		return fmt.Errorf("moving new %s into place (old content is in %s): %w", dir, old, err)
	}
	return t.Fs.RemoveAll(old)
}

// inPlaceWriter writes where files belong, for storage without atomic
// renames. Readers (cdnserve serve, Verify) treat a version as existing
// only when its manifest exists, so a half-written version is invisible;
// each object is replaced atomically, so a reader never gets a torn file.
type inPlaceWriter struct{}

func (inPlaceWriter) inPlace() bool { return true }

// published: a directory without a manifest is an interrupted publish,
// not a published version; it is written over.
func (inPlaceWriter) published(t Tree, dir string) (bool, error) {
	_, err := t.readManifest(dir)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

func (inPlaceWriter) putVersion(ctx context.Context, t Tree, dir string, c *content, _ bool) error {
	return t.writeInPlace(ctx, dir, c, "")
}

func (w inPlaceWriter) putAlias(ctx context.Context, t Tree, dir string, c *content, _ bool) error {
	return w.resumeAlias(ctx, t, dir, c)
}

// resumeAlias switches an alias in place under a journal, as
// switchAliasByFile does with renames.
func (inPlaceWriter) resumeAlias(ctx context.Context, t Tree, dir string, c *content) error {
	jpath, err := t.writeJournal(dir, c, layout.WriteFileSynced)
	if err != nil {
		return err
	}
	if err := t.writeInPlace(ctx, dir, c, c.manifest.Version); err != nil {
		return fmt.Errorf("switching alias %s: %w", dir, err)
	}
	return t.Fs.Remove(jpath)
}

// writeInPlace writes c into dir: every file, then the manifest, then the
// removal of files that the new manifest does not list (left by an
// interrupted publish, or by the content a forced publish replaced).
func (t Tree) writeInPlace(ctx context.Context, dir string, c *content, aliasOf string) error {
	if err := t.writeContent(ctx, dir, c, aliasOf); err != nil {
		return err
	}
	return t.removeOthers(dir, c.names())
}
