package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cdnserve/cdnserve/build"
	"github.com/cdnserve/cdnserve/dist"
	"github.com/spf13/afero"
)

const buildExamples = `  cdnserve build                      # reads ./cdnserve.yaml, writes dist/<version>/ and dist/<major.minor>/
  cdnserve build --version 2.2.4      # overrides the manifest's version
  cdnserve build --dry-run            # prints the files it would write, and writes nothing
  cdnserve build -f lib/cdnserve.yaml --json
`

func runBuild(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "build", "[flags]", buildExamples)
	manifest := fs.String("f", build.DefaultManifestName, "manifest `file`; src_dir and target_dir are relative to its directory")
	version := fs.String("version", "", "publish this `version` instead of the manifest's")
	dryRun := fs.Bool("dry-run", false, "print the files that would be written, and write nothing")
	quiet := fs.Bool("quiet", false, "print nothing but errors")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "cdnserve build: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}

	mpath := *manifest
	if !filepath.IsAbs(mpath) {
		mpath = filepath.Join(e.dir, mpath)
	}
	data, err := os.ReadFile(mpath)
	if err != nil {
		return fmt.Errorf("reading manifest: %w", err)
	}
	m, err := build.Decode(*manifest, data)
	if err != nil {
		return err
	}
	base := filepath.Dir(mpath)
	osFs := afero.NewOsFs()
	res, err := build.Build(ctx, build.Options{
		Manifest: m,
		Src:      afero.NewReadOnlyFs(afero.NewBasePathFs(osFs, filepath.Join(base, m.SrcDir))),
		Version:  *version,
	})
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(e.stderr, w)
	}

	tree := dist.Tree{Fs: osFs, Root: filepath.Join(base, m.TargetDir)}
	paths := tree.Paths(res.Dirs, res.Artifacts)
	if !*dryRun {
		if err := tree.Write(res.Dirs, res.Artifacts); err != nil {
			return err
		}
	}
	return printBuild(e, res, paths, *dryRun, *quiet, *asJSON)
}

func printBuild(e *env, res *build.Result, paths []string, dryRun, quiet, asJSON bool) error {
	if quiet {
		return nil
	}
	if asJSON {
		return res.Report.WriteJSON(e.stdout, map[string]any{
			"version": res.Version.Original(), "dirs": res.Dirs, "files": paths, "dry_run": dryRun,
		})
	}
	verb := "wrote"
	if dryRun {
		verb = "would write"
	}
	for _, p := range paths {
		if rel, err := filepath.Rel(e.dir, p); err == nil && filepath.IsLocal(rel) {
			p = rel
		}
		fmt.Fprintf(e.stdout, "%s %s\n", verb, p)
	}
	fmt.Fprintf(e.stdout, "\nversion %s -> %v\n", res.Version.Original(), res.Dirs)
	return res.Report.WriteTable(e.stdout)
}
