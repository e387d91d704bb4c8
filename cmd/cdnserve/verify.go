package main

import (
	"context"
	"fmt"

	"github.com/cdnserve/cdnserve/storage"
)

const verifyExamples = `  cdnserve verify              # checks ./dist
  cdnserve verify /srv/dist    # after restoring a backup (the same as --storage /srv/dist)
  cdnserve verify 's3://assets/cdn?region=eu-west-1'
`

func runVerify(ctx context.Context, e *env, args []string) error {
	fs := newSettings(e, "verify", "[STORAGE] [flags]", verifyExamples)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	storageURL := fs.storageFlag("dist", "verify this `storage`")
	fs.derive(func() error {
		if len(fs.pos) == 0 {
			return nil
		}
		if !fs.isDefault("storage") {
			return fmt.Errorf("verify %s and --storage (%s) both given: STORAGE is a shorthand for --storage; give one", fs.pos[0], fs.src["storage"])
		}
		*storageURL, fs.src["storage"] = fs.pos[0], "argument"
		return nil
	})
	if _, err := fs.parse(args, 0, 1, ""); err != nil {
		return err
	}
	st, tree, err := openStorage(ctx, e, *storageURL)
	if err != nil {
		return err
	}
	defer st.Close()
	name := st.Display
	if st.Kind == storage.Local {
		name = e.rel(st.Root)
	}
	r, err := tree.Verify()
	if err != nil {
		return err
	}
	if *asJSON {
		if err := writeJSON(e.stdout, r); err != nil {
			return err
		}
	} else {
		for _, p := range r.Problems {
			fmt.Fprintln(e.stdout, p)
		}
		for _, n := range r.Notes {
			fmt.Fprintln(e.stdout, "note:", n)
		}
		status := "OK"
		if !r.OK() {
			status = count(len(r.Problems), "problem")
		}
		fmt.Fprintf(e.stdout, "verified %s: %s, %s, %s: %s\n", name, count(len(r.Versions), "version"), count(len(r.Aliases), "alias"), count(r.Files, "file"), status)
	}
	if !r.OK() {
		return fmt.Errorf("%s does not match its integrity manifests (%s)", name, count(len(r.Problems), "problem"))
	}
	return nil
}
