package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/Masterminds/semver/v3"
	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/internal/settings"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"
	"github.com/spf13/afero"
)

const publishExamples = `  cdnserve publish build/ --version 1.4.0 --name widgets   # files built by webpack or rollup into dist/widgets/1.4.0/ and dist/widgets/1.4/
  cdnserve publish build/ --version 1.4.0              # into the root library: dist/1.4.0/ and dist/1.4/
  cdnserve publish out --version 2.0.0-rc.1 --storage /srv/dist
  cdnserve publish out --version 1.4.0 --wait          # wait for another publisher instead of failing
  cdnserve publish out --version 1.4.0 --storage 's3://assets/cdn?region=eu-west-1'
  cdnserve publish out --version 1.4.0 --exclude '*.map' --exclude 'test/*'
`

// publishFlags are the flags that build and publish share.
type publishFlags struct {
	force, wait, quiet, asJSON bool
}

func (p *publishFlags) register(fs interface {
	BoolVar(*bool, string, bool, string)
}) {
	fs.BoolVar(&p.force, "force", false, "replace a published version whose content differs (loudly: caches keep the old bytes)")
	fs.BoolVar(&p.wait, "wait", false, "wait for another publisher's lock instead of failing")
	fs.BoolVar(&p.quiet, "quiet", false, "print nothing but errors")
	fs.BoolVar(&p.asJSON, "json", false, "print the summary as JSON")
}

func runPublish(ctx context.Context, e *env, args []string) error {
	fs := newSettings(e, "publish", "DIR --version X [flags]", publishExamples)
	ver := fs.String("version", "", "the `version` to publish (required)")
	name := fs.String("name", "", "publish into the library of this `name` (npm's name rules; default: the root library)")
	var exclude settings.StringList
	fs.Var(&exclude, "exclude", "leave out files and directories matching this `glob` (a name, or a path with /; repeatable); node_modules is always left out")
	storageURL := fs.StorageFlag("dist", "publish into this `storage`")
	var pf publishFlags
	pf.register(fs)
	var pg purgeFlags
	pg.register(fs, storageURL)
	pos, err := fs.ParseArgs(args, 1, 1, "need one DIR and --version")
	if err != nil {
		return err
	}
	if *ver == "" {
		return fs.UsageError("need one DIR and --version")
	}
	v, err := versioning.Parse(*ver)
	if err != nil {
		return fmt.Errorf("--version: %w", err)
	}
	if *name != "" {
		if err := layout.CheckLibraryName(*name); err != nil {
			return fmt.Errorf("--name: library name %q %w", *name, err)
		}
	}
	purgers, err := pg.set(e)
	if err != nil {
		return err
	}
	src := e.abs(pos[0])
	files, skipped, err := dist.ReadDir(afero.NewOsFs(), src, exclude)
	if err != nil {
		return err
	}
	if !pf.quiet && !pf.asJSON {
		for _, s := range skipped {
			fmt.Fprintf(e.stdout, "skipped %s (%s)\n", s.Path, s.Why)
		}
	}
	st, tree, err := openStorage(ctx, e, *storageURL, *name)
	if err != nil {
		return err
	}
	defer st.Close()
	bar := newProgress(e, pf.quiet)
	res, err := tree.Publish(ctx, dist.Request{
		Version: v, Files: files, Force: pf.force, Wait: pf.wait, Private: pg.isPrivate(*name), Purging: purgers != nil && len(purgers.Purgers) > 0,
		Provenance: provenance("publish "+pos[0], src, nil),
		Progress:   bar.step("publishing"),
	})
	bar.done()
	if err != nil {
		return err
	}
	err = printPublish(e, pf, tree, res, v, nil)
	purgeAfterPublish(ctx, e, pf, purgers, tree, res)
	return err
}

// printPublish reports what a publish did: on stdout as text or JSON,
// and a forced replace loudly on stderr whatever the flags.
func printPublish(e *env, pf publishFlags, tree dist.Tree, res *dist.Result, v *semver.Version, extra func(io.Writer) error) error {
	if res.Action == dist.Replaced {
		fmt.Fprintf(e.stderr, "WARNING: --force replaced published version %s. Browsers and CDNs that cached the old bytes keep them for up to a year, and pages that pinned their SRI hashes now fail to load them.\n", res.Version)
	}
	if pf.quiet {
		return nil
	}
	if pf.asJSON {
		return writeJSON(e.stdout, map[string]any{"version": res.Version, "publish": res, "root": tree.Root, "dirs": versioning.Dirs(v)})
	}
	w := e.stdout
	for _, c := range res.Cleaned {
		fmt.Fprintf(w, "removed %s, left by an interrupted publish\n", c)
	}
	for _, r := range res.Recovered {
		fmt.Fprintf(w, "finished interrupted switch of %s\n", r)
	}
	dir := e.rel(filepath.Join(tree.Root, res.Version))
	switch res.Action {
	case dist.Created:
		fmt.Fprintf(w, "published %s: %s, %s, integrity manifest -> %s/\n", res.Version, count(res.Files, "file"), count(res.Sidecars, "precompressed sidecar"), dir)
	case dist.Unchanged:
		fmt.Fprintf(w, "%s is already published with identical content: nothing written (%s/)\n", res.Version, dir)
	case dist.Replaced:
		fmt.Fprintf(w, "REPLACED published version %s (--force) -> %s/\n", res.Version, dir)
	}
	for _, a := range res.Aliases {
		switch a.Action {
		case dist.Created:
			fmt.Fprintf(w, "alias %s created -> %s\n", a.Dir, a.Holds)
		case dist.Moved:
			fmt.Fprintf(w, "alias %s moved %s -> %s\n", a.Dir, a.Was, a.Holds)
		case dist.Unchanged:
			fmt.Fprintf(w, "alias %s already holds %s\n", a.Dir, a.Holds)
		case dist.Kept:
			fmt.Fprintf(w, "alias %s left at %s: %s is older, and aliases only move forward\n", a.Dir, a.Holds, res.Version)
		}
	}
	if len(res.Aliases) == 0 {
		fmt.Fprintf(w, "%s is a prerelease: no alias written\n", res.Version)
	}
	if extra != nil {
		return extra(w)
	}
	return nil
}
