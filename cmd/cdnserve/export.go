package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cdnserve/cdnserve/bundle"
	"github.com/cdnserve/cdnserve/layout"
)

const exportExamples = `  cdnserve export --all --output site.tar --sign-key key.pem          # everything, signed
  cdnserve export greet@^1 npm-pkg react@18.3.1 --output some.tar     # ranges, names, versions
  cdnserve export --lockfile package-lock.json --output app.tar       # what an app's lockfile pins
  cdnserve export --all --since site.tar --output new.tar             # only what site.tar lacks
  cdnserve export --all --since 2026-12-01 --output december.tar      # only what was published since
  openssl genpkey -algorithm ed25519 -out key.pem && openssl pkey -in key.pem -pubout -out pub.pem
`

// runExport writes a bundle (package bundle) of published versions, for
// cdnserve import on a site that cannot reach this one.
func runExport(ctx context.Context, e *env, args []string) error {
	fs := newSettings(e, "export", "[NAME[@RANGE]...] [--lockfile FILE] [--all] --output FILE [flags]", exportExamples)
	output := fs.String("output", "", "write the bundle to this `file` (a tar); required")
	lockfile := fs.String("lockfile", "", "export every package this package-lock.json `file` pins (each must be stored: see cdnserve missing)")
	all := fs.Bool("all", false, "export every version of every library")
	signKey := fs.String("sign-key", "", "sign the bundle with this Ed25519 private key, a PEM `file` as openssl genpkey -algorithm ed25519 writes")
	since := fs.String("since", "", "leave out what `bundle-or-date` covers: the versions an earlier bundle holds, or those published before a date (2026-12-01 or RFC 3339)")
	storageURL := fs.StorageFlag("dist", "export from this `storage`")
	specs, err := fs.ParseArgs(args, 0, -1, "")
	if err != nil {
		return err
	}
	if *output == "" {
		return fs.UsageError("--output is required: the bundle's file")
	}
	if len(specs) == 0 && *lockfile == "" && !*all {
		return fs.UsageError("say what to export: NAME@RANGE arguments, --lockfile FILE, or --all")
	}
	sel := bundle.Selection{Specs: specs, All: *all, Since: *since}
	for _, s := range specs {
		if name, _ := bundle.SplitSpec(s); layout.CheckLibraryName(name) != nil || name == "" {
			return fmt.Errorf("%q: not a library name with an optional @RANGE", s)
		}
	}
	if *lockfile != "" {
		if sel.Pins, err = lockfilePins(e, *lockfile, false); err != nil {
			return err
		}
	}
	if err := readSince(e, *since, &sel); err != nil {
		return err
	}
	o := bundle.ExportOptions{Tool: "cdnserve " + toolVersion()}
	if *signKey != "" {
		if o.Key, err = bundle.ReadPrivateKey(e.abs(*signKey)); err != nil {
			return fmt.Errorf("--sign-key: %w", err)
		}
	}
	st, tree, err := openStorage(ctx, e, *storageURL, "")
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	out := e.abs(*output)
	tmp, err := os.CreateTemp(filepath.Dir(out), ".export-*.tar")
	if err != nil {
		return fmt.Errorf("--output %s: %w", *output, err)
	}
	defer os.Remove(tmp.Name())
	rep, err := bundle.Export(ctx, tree, sel, tmp, o)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("exporting: %w; %s was not written", err, *output)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	signed := "unsigned"
	if rep.KeyID != "" {
		signed = "signed with " + rep.KeyID
	}
	fmt.Fprintf(e.stdout, "exported %s and %s (%s, %s) to %s, %s, in %s\n", count(rep.Versions, "version"), count(rep.Builds, "ES-module build"),
		count(rep.Files, "file"), sizeOf(rep.Bytes), *output, signed, time.Since(start).Round(time.Millisecond))
	if rep.Unchanged > 0 {
		fmt.Fprintf(e.stdout, "left out %s that --since %s already covers\n", count(rep.Unchanged, "version"), *since)
	}
	return nil
}

// readSince reads --since: a date, or a bundle whose versions are left
// out.
func readSince(e *env, since string, sel *bundle.Selection) error {
	if since == "" {
		return nil
	}
	for _, layout := range []string{time.DateOnly, time.RFC3339} {
		if t, err := time.Parse(layout, since); err == nil {
			sel.SinceTime = t
			return nil
		}
	}
	f, err := os.Open(e.abs(since))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("--since %s: neither a bundle file nor a date (2026-12-01, or RFC 3339)", since)
	}
	if err != nil {
		return fmt.Errorf("--since: %w", err)
	}
	defer f.Close()
	if sel.SinceIndex, err = bundle.ReadIndex(f); err != nil {
		return fmt.Errorf("--since %s: %w", since, err)
	}
	return nil
}

// sizeOf is a byte count for people: "1.2 MB".
func sizeOf(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
