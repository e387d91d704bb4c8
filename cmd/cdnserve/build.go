package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/cdnserve/cdnserve/build"
	"github.com/cdnserve/cdnserve/dist"
	"github.com/spf13/afero"
)

const buildExamples = `  cdnserve build                      # reads ./cdnserve.yaml, writes dist/<name>/<version>/ and dist/<name>/<major.minor>/
                                      # (dist/<version>/… when the manifest has no name: the root library)
  cdnserve build --version 2.2.4      # overrides the manifest's version
  cdnserve build --dry-run            # prints the files it would write, and writes nothing
  cdnserve build -f lib/cdnserve.yaml --json
  cdnserve build --wait               # wait for another publisher instead of failing
  cdnserve build --storage 's3://assets/cdn?endpoint=https://s3.example.com&region=us-east-1'
`

func runBuild(ctx context.Context, e *env, args []string) error {
	fs := newSettings(e, "build", "[flags]", buildExamples)
	manifest := fs.String("f", build.DefaultManifestName, "manifest `file`; src_dir and target_dir are relative to its directory")
	version := fs.String("version", "", "publish this `version` instead of the manifest's")
	dryRun := fs.Bool("dry-run", false, "print the files that would be written, and write nothing")
	storageURL := fs.StorageFlag("", "publish into this `storage` (default: the manifest's target_dir)")
	var pf publishFlags
	pf.register(fs)
	var nf npmFlags
	nf.register(e, fs)
	var pg purgeFlags
	pg.register(fs, storageURL)
	var m *build.Manifest
	var data []byte
	var mpath string
	fs.Derive(func() (err error) {
		mpath = e.abs(*manifest)
		if data, err = os.ReadFile(mpath); errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("reading manifest: %w; to start a library here, run: cdnserve init NAME (or give another manifest with -f FILE)", err)
		} else if err != nil {
			return fmt.Errorf("reading manifest: %w", err)
		}
		if m, err = build.Decode(*manifest, data); err != nil {
			return err
		}
		fs.SetDerived("storage", filepath.Join(filepath.Dir(mpath), m.TargetDir), "the manifest's target_dir")
		return nil
	})
	if _, err := fs.ParseArgs(args, 0, 0, ""); err != nil {
		return err
	}

	start := time.Now()
	base := filepath.Dir(mpath)
	st, tree, err := openStorage(ctx, e, *storageURL, m.Library)
	if err != nil {
		return err
	}
	defer st.Close()
	// .npmrc: the user's, then the manifest directory's; the gate logs
	// into the storage published to.
	client, err := nf.gatedClient(e, base, st.Fs, st.Root, nil)
	if err != nil {
		return err
	}
	purgers, err := pg.set(e)
	if err != nil {
		return err
	}
	bar := newProgress(e, pf.quiet)
	defer bar.done()
	res, err := build.Build(ctx, build.Options{
		Manifest: m,
		Src:      afero.NewReadOnlyFs(afero.NewBasePathFs(afero.NewOsFs(), filepath.Join(base, m.SrcDir))),
		Version:  *version,
		Progress: bar.step("building"),
		NPM:      client,
	})
	bar.done()
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(e.stderr, w)
	}

	if *dryRun {
		return printDryRun(e, pf, tree, res)
	}
	pub, err := tree.Publish(ctx, dist.Request{
		Version: res.Version, Files: res.Artifacts, Force: pf.force, Wait: pf.wait, Private: pg.isPrivate(m.Library), Purging: purgers != nil && len(purgers.Purgers) > 0,
		Provenance: provenance("build", base, data),
		Progress:   bar.step("publishing"),
	})
	bar.done()
	if err != nil {
		return err
	}
	res.Report.Duration = time.Since(start) // the total: build and publish
	if pf.asJSON {
		err = writeJSON(e.stdout, map[string]any{
			"version": res.Version.Original(), "publish": pub, "root": tree.Root, "dirs": res.Dirs, "outputs": res.Report.Rows, "duration_ms": res.Report.Duration.Milliseconds(),
		})
	} else {
		err = printPublish(e, pf, tree, pub, res.Version, func(w io.Writer) error {
			fmt.Fprintln(w)
			return res.Report.WriteTable(w)
		})
	}
	purgeAfterPublish(ctx, e, pf, purgers, tree, pub)
	return err
}

// printDryRun prints what a build would write and do, from the same
// decisions a publish makes (dist.Tree.Plan): a version the real build
// would refuse fails the dry run too, with the same error and exit code.
func printDryRun(e *env, pf publishFlags, tree dist.Tree, res *build.Result) error {
	plan, err := tree.Plan(dist.Request{Version: res.Version, Files: res.Artifacts, Force: pf.force})
	if err != nil {
		return fmt.Errorf("dry run: the build would fail: %w", err)
	}
	paths := tree.Paths(res.Dirs, res.Artifacts)
	if pf.quiet {
		return nil
	}
	if pf.asJSON {
		return writeJSON(e.stdout, map[string]any{
			"dry_run": true, "version": res.Version.Original(), "dirs": res.Dirs, "files": paths, "plan": plan,
			"outputs": res.Report.Rows, "duration_ms": res.Report.Duration.Milliseconds(),
		})
	}
	for _, p := range paths {
		fmt.Fprintf(e.stdout, "would write %s\n", e.rel(p))
	}
	fmt.Fprintf(e.stdout, "\nversion %s -> %v (plus .br/.gz sidecars and an integrity manifest in each)\n", res.Version.Original(), res.Dirs)
	switch plan.Action {
	case dist.Unchanged:
		fmt.Fprintf(e.stdout, "%s is already published with identical content: the build would write nothing there\n", plan.Version)
	case dist.Replaced:
		fmt.Fprintf(e.stdout, "the build would REPLACE published version %s (--force)\n", plan.Version)
	default:
		fmt.Fprintf(e.stdout, "the build would publish %s\n", plan.Version)
	}
	for _, a := range plan.Aliases {
		switch a.Action {
		case dist.Created:
			fmt.Fprintf(e.stdout, "alias %s would be created -> %s\n", a.Dir, a.Holds)
		case dist.Moved:
			fmt.Fprintf(e.stdout, "alias %s would move %s -> %s\n", a.Dir, a.Was, a.Holds)
		case dist.Unchanged:
			fmt.Fprintf(e.stdout, "alias %s already holds %s\n", a.Dir, a.Holds)
		case dist.Kept:
			fmt.Fprintf(e.stdout, "alias %s would stay at %s: %s is older, and aliases only move forward\n", a.Dir, a.Holds, plan.Version)
		}
	}
	fmt.Fprintln(e.stdout)
	return res.Report.WriteTable(e.stdout)
}
