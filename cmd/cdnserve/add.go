package main

import (
	"context"
	"fmt"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/internal/settings"
	"github.com/cdnserve/cdnserve/npm"
	"github.com/cdnserve/cdnserve/versioning"
)

const addExamples = `  cdnserve add npm:sockjs-client@^1.6.0                    # -> dist/sockjs-client/1.6.1/ and dist/sockjs-client/1.6/
  cdnserve add npm:@corp/widgets@2.3.1 --files 'dist/**'   # only those files, paths kept
  cdnserve add npm:json3@3.3.3 --storage 's3://assets/cdn?region=eu-west-1'
  cdnserve add npm:preact@latest npm:htm@^3                # several at once
`

// runAdd publishes npm packages into the dist tree, each as the library
// of its name, verified against the registry's integrity string.
func runAdd(ctx context.Context, e *env, args []string) error {
	fs := newSettings(e, "add", "npm:NAME@RANGE... [flags]", addExamples)
	var files settings.StringList
	fs.Var(&files, "files", "keep only the package's files matching this `glob` (\"dist/**\"; repeatable); default: all")
	storageURL := fs.StorageFlag("dist", "publish into this `storage`")
	var nf npmFlags
	nf.register(e, fs)
	var pf publishFlags
	pf.register(fs)
	var pg purgeFlags
	pg.register(fs, storageURL)
	specs, err := fs.ParseArgs(args, 1, -1, "need at least one npm:NAME@RANGE")
	if err != nil {
		return err
	}
	var parsed []npm.Spec
	for _, s := range specs {
		sp, err := npm.ParseSpec(s)
		if err != nil {
			return err
		}
		if sp.Path != "" {
			return fmt.Errorf("%s: add takes a package, not a file in it; keep files with --files %q", s, sp.Path)
		}
		parsed = append(parsed, sp)
	}
	purgers, err := pg.set(e)
	if err != nil {
		return err
	}
	st, root, err := openStorage(ctx, e, *storageURL, "")
	if err != nil {
		return err
	}
	defer st.Close()
	client, err := nf.gatedClient(e, e.dir, st.Fs, st.Root, nil)
	if err != nil {
		return err
	}
	for _, sp := range parsed {
		added, err := npm.Add(ctx, client, root, sp, npm.AddOptions{Files: files, Tool: "cdnserve " + toolVersion(), Wait: pf.wait, Private: pg.isPrivate(sp.Name), Purging: len(purgers.Purgers) > 0})
		if err != nil {
			return fmt.Errorf("%s: %w", sp, err)
		}
		if err := printAdded(e, pf, root, sp, added); err != nil {
			return err
		}
		tree, _ := root.Library(added.Version.Name)
		purgeAfterPublish(ctx, e, pf, purgers, tree, added.Publish)
	}
	return nil
}

// printAdded says what add did for one package.
func printAdded(e *env, pf publishFlags, root dist.Tree, sp npm.Spec, added *npm.Added) error {
	v := added.Version
	if pf.asJSON {
		return writeJSON(e.stdout, map[string]any{"package": v.Name, "version": v.Version, "integrity": v.Dist.Integrity,
			"already_stored": added.Stored, "skipped": added.Skipped, "publish": added.Publish})
	}
	if pf.quiet {
		return nil
	}
	if added.Stored {
		fmt.Fprintf(e.stdout, "%s@%s is already stored: nothing fetched or written\n", v.Name, v.Version)
		return nil
	}
	if sp.Range != v.Version {
		fmt.Fprintf(e.stdout, "resolved %s to %s\n", sp, v.Version)
	}
	fmt.Fprintf(e.stdout, "verified %s@%s against the registry's %.22s…\n", v.Name, v.Version, v.Dist.Integrity)
	for _, s := range added.Skipped {
		fmt.Fprintf(e.stdout, "skipped %s (%s)\n", s.Path, s.Why)
	}
	tree, _ := root.Library(v.Name)
	sv, _ := versioning.Parse(v.Version) // Add published it: it parses
	return printPublish(e, pf, tree, added.Publish, sv, nil)
}
