package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/cdnserve/cdnserve/bundle"
	"github.com/cdnserve/cdnserve/esm"
)

const missingExamples = `  cdnserve missing --lockfile package-lock.json            # what to add or import before an app works offline
  cdnserve missing --lockfile package-lock.json --dev      # dev dependencies too
`

// runMissing lists the packages a lockfile pins that storage lacks, one
// NAME@VERSION a line, and fails when there is any.
func runMissing(ctx context.Context, e *env, args []string) error {
	set := newSettings(e, "missing", "--lockfile FILE [flags]", missingExamples)
	lockfile := set.String("lockfile", "", "the app's package-lock.json `file` (lockfileVersion 2 or 3); required")
	dev := set.Bool("dev", false, "count the lockfile's dev dependencies too (a browser loads only the others)")
	storageURL := set.StorageFlag("dist", "look in this `storage`")
	if _, err := set.ParseArgs(args, 0, 0, ""); err != nil {
		return err
	}
	if *lockfile == "" {
		return set.UsageError("--lockfile is required")
	}
	pins, err := lockfilePins(e, *lockfile, *dev)
	if err != nil {
		return err
	}
	st, tree, err := openStorage(ctx, e, *storageURL, "")
	if err != nil {
		return err
	}
	defer st.Close()
	lacking := 0
	for _, p := range pins {
		lib, err := tree.Library(p.Name)
		if err != nil {
			return err
		}
		_, err = lib.Manifest(p.Version)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			fmt.Fprintf(e.stdout, "%s@%s\n", p.Name, p.Version)
			lacking++
		case err != nil:
			return fmt.Errorf("%s@%s: %w", p.Name, p.Version, err)
		}
	}
	if lacking > 0 {
		return fmt.Errorf("storage lacks %d of the %s %s pins; add them (cdnserve add npm:NAME@VERSION) or import a bundle that has them", lacking, count(len(pins), "package"), *lockfile)
	}
	fmt.Fprintf(e.stderr, "storage holds all %s %s pins\n", count(len(pins), "package"), *lockfile)
	return nil
}

// lockfilePins reads a package-lock.json's exact versions, once each,
// without its dev dependencies unless dev.
func lockfilePins(e *env, file string, dev bool) ([]bundle.Pin, error) {
	raw, err := os.ReadFile(e.abs(file))
	if err != nil {
		return nil, fmt.Errorf("--lockfile: %w", err)
	}
	lf, err := esm.ParseLockfile(raw, file)
	if err != nil {
		return nil, err
	}
	seen := map[bundle.Pin]bool{}
	var pins []bundle.Pin
	for _, p := range lf.Packages {
		pin := bundle.Pin{Name: p.Name, Version: p.Version}
		if (p.Dev && !dev) || seen[pin] {
			continue
		}
		seen[pin] = true
		pins = append(pins, pin)
	}
	return pins, nil
}
