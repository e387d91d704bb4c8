package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/cdnserve/cdnserve/bundle"
)

const importExamples = `  cdnserve import site.tar --verify-key pub.pem                  # check the signature and every file, then publish
  cdnserve import site.tar --storage 's3://assets/cdn?region=eu-west-1'
  cdnserve serve --offline --npm-mirror --npm-allow '*'          # then serve it with no network
`

// runImport checks a bundle whole and publishes what storage lacks of it
// (package bundle).
func runImport(ctx context.Context, e *env, args []string) error {
	fs := newSettings(e, "import", "BUNDLE [flags]", importExamples)
	verifyKey := fs.String("verify-key", "", "refuse the bundle unless this Ed25519 public key (a PEM `file`: openssl pkey -in key.pem -pubout) signed it")
	storageURL := fs.StorageFlag("dist", "import into this `storage`")
	pos, err := fs.ParseArgs(args, 1, 1, "need the bundle's file")
	if err != nil {
		return err
	}
	var o bundle.ImportOptions
	if *verifyKey != "" {
		if o.Key, err = bundle.ReadPublicKey(e.abs(*verifyKey)); err != nil {
			return fmt.Errorf("--verify-key: %w", err)
		}
	}
	f, err := os.Open(e.abs(pos[0]))
	if err != nil {
		return err
	}
	defer f.Close()
	st, tree, err := openStorage(ctx, e, *storageURL, "")
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	o.Wait = true
	o.Progress = func(v bundle.Version, done, total int) {
		fmt.Fprintf(e.stdout, "imported %s\n", v) // as it is published: a kill leaves a true list
	}
	rep, err := bundle.Import(ctx, tree, f, o)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	switch {
	case rep.KeyID != "":
		fmt.Fprintf(e.stdout, "checked %s against the index, signed by %s\n", count(rep.Files, "file"), rep.KeyID)
	case rep.Signed:
		fmt.Fprintf(e.stdout, "checked %s against the index; the bundle is signed, but its signature was not checked: give --verify-key\n", count(rep.Files, "file"))
	default:
		fmt.Fprintf(e.stdout, "checked %s against the index; the bundle is not signed\n", count(rep.Files, "file"))
	}
	name := storageName(e, st)
	if rep.Decisions > 0 {
		fmt.Fprintf(e.stdout, "added %s of the supply-chain gate to its audit log (cdnserve audit log)\n", count(rep.Decisions, "decision"))
	}
	fmt.Fprintf(e.stdout, "imported %s into %s in %s (%s already here)\n", count(len(rep.Imported), "version"), name,
		time.Since(start).Round(time.Millisecond), count(len(rep.Present), "version"))
	return nil
}
