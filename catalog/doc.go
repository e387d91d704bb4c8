// Package catalog is the server's cached model of a published tree: the
// root library and every named library (package layout), their exact
// versions and aliases, each version's integrity manifest as loaded,
// range resolution, and the deprecation and removal records that package
// dist writes, read through layout's record types.
//
// The rules it keeps:
//
//   - Only plain directories and regular files are part of the tree: a
//     symbolic link, a device or a socket where a library, a version
//     directory, a manifest or a file should be is never listed and never
//     loaded, and is logged once.
//   - A refresh lists directories and reads no manifest; a version's
//     manifest is read and checked the first time it is asked for. Exact
//     versions, once loaded, are kept for good; aliases are re-read when
//     their manifest changes.
//   - A library or a version that storage lacks is remembered as absent
//     for Options.NegativeTTL, so a miss costs one look.
//   - Ranges resolve with npm's rules (versioning.Range.MatchNPM), skip
//     deprecated versions unless nothing else matches, and are cached
//     until the next refresh.
//   - Errors: fs.ErrNotExist for what is absent, ErrStorage when storage
//     failed (503), ErrDamaged when a manifest is there but unusable
//     (500).
//
// It knows nothing of HTTP. A reader keeps what it derives from a library
// or a version beside it, made once by Options.NewLibrary and
// Options.NewVersion (the server's metrics, and its files with their
// headers).
package catalog

import (
	"log/slog"
	"time"

	"github.com/spf13/afero"
)

// Options say where the tree is and what its reader keeps beside it.
type Options struct {
	// Fs and Root are the storage and the dist root.
	Fs   afero.Fs
	Root string
	// NegativeTTL is how long a name storage lacks is remembered as
	// absent.
	NegativeTTL time.Duration
	// Clock gives the time; default time.Now.
	Clock func() time.Time
	// Log hears of entries that are ignored, each once; default: none.
	Log *slog.Logger
	// NewLibrary, if set, makes Library.Data when a library is found.
	NewLibrary func(*Library) any
	// NewVersion, if set, makes Version.Served when a version or an
	// alias is loaded.
	NewVersion func(*Library, *Version) any
	// ForgetLibrary, if set, hears of a library gone from storage.
	ForgetLibrary func(name string)
}

// New makes the catalog of a tree. It reads nothing: call Refresh.
func New(o Options) *Catalog {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return newCatalog(&treeEnv{fs: o.Fs, root: o.Root, negTTL: o.NegativeTTL, clock: o.Clock, log: o.Log, ignored: map[string]bool{},
		newLibrary: o.NewLibrary, newData: o.NewVersion, forgetLibrary: o.ForgetLibrary})
}

// Root is the root library.
func (c *Catalog) Root() *Library { return c.root }

// Gen counts changes to what the tree shows (a library's version list,
// its aliases, the libraries): what is rendered from the tree may be kept
// until it moves.
func (c *Catalog) Gen() uint64 { return c.env.gen.Load() }

// Changed moves Gen, as a refresh that found the tree changed does.
func (c *Catalog) Changed() { c.env.gen.Add(1) }
