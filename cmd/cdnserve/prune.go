package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/purge"
	"github.com/cdnserve/cdnserve/stats"
	"github.com/cdnserve/cdnserve/versioning"
	"github.com/spf13/afero"
)

const pruneExamples = `  cdnserve prune pusher --prereleases --older-than 180d --dry-run   # what would go
  cdnserve prune pusher --prereleases --older-than 180d
  cdnserve prune pusher@2.0.0-rc.1                                    # one version
  cdnserve prune pusher@2.2.3 --force                                 # even if it served requests in the last 30 days (loudly)
`

// runPrune removes old prereleases, or one version, refusing any that
// served requests in the last 30 days or that an alias holds.
func runPrune(ctx context.Context, e *env, args []string) error {
	fs := newSettings(e, "prune", "NAME[@VERSION] [flags]", pruneExamples)
	prereleases := fs.Bool("prereleases", false, "remove prereleases (with --older-than)")
	olderThan := fs.String("older-than", "", "only versions published longer ago than this: 180d, 30d")
	dryRun := fs.Bool("dry-run", false, "say what would be removed, and remove nothing")
	force := fs.Bool("force", false, "remove even versions that served requests in the last 30 days, or that an alias holds (the alias goes too)")
	wait := fs.Bool("wait", false, "wait for another publisher's lock instead of failing")
	storageURL := fs.StorageFlag("dist", "the `storage` that holds the library")
	var pg purgeFlags
	pg.register(fs, storageURL)
	pos, err := fs.ParseArgs(args, 1, 1, "need one NAME (with --prereleases --older-than) or NAME@VERSION")
	if err != nil {
		return err
	}
	purgers, err := pg.set(e)
	if err != nil {
		return err
	}
	purgers.After = 0 // a removed version serves nothing any replica could refill with
	var library string
	var versions []string
	if versionAfterAt(pos[0]) {
		var v string
		if library, v, err = splitNameVersion(pos[0]); err != nil {
			return err
		}
		versions = []string{v}
	} else {
		library = pos[0]
		if library == layout.RootLibrary {
			library = ""
		}
		if !*prereleases || *olderThan == "" {
			return fs.UsageError("name a version (NAME@VERSION), or pass --prereleases and --older-than")
		}
	}
	st, tree, err := openStorage(ctx, e, *storageURL, library)
	if err != nil {
		return err
	}
	defer st.Close()
	req := dist.PruneRequest{Versions: versions, Window: "30 days", Force: *force}
	if versions == nil {
		age, err := parseTTL("--older-than", *olderThan)
		if err != nil {
			return err
		}
		req.PrereleasesBefore = time.Now().Add(-age)
	}
	if err := awaitUsage(ctx, e, st.Fs, st.Root, *force); err != nil {
		return err
	}
	now := time.Now().UTC()
	days, _, err := stats.Read(st.Fs, st.Root, now.Add(-30*24*time.Hour), now)
	if err != nil {
		return err
	}
	used := stats.ForLibrary(days, library)
	req.Used = func(v string) dist.Usage { c := used.Total(v); return dist.Usage{Requests: c.Requests, Bytes: c.Bytes} }
	plan, err := tree.PlanPrune(req)
	if err != nil {
		return err
	}
	if len(plan.Remove) == 0 {
		fmt.Fprintf(e.stdout, "no prerelease of %s is older than %s\n", library, *olderThan)
		return nil
	}
	for _, v := range plan.Remove {
		if why, ok := plan.Forced[v]; ok {
			fmt.Fprintf(e.stderr, "WARNING: --force removes %s, which %s. Pages that pin it will break.\n", v, why)
		}
	}
	if *dryRun {
		for _, v := range plan.Remove {
			fmt.Fprintf(e.stdout, "would remove %s@%s\n", library, v)
		}
		return nil
	}
	versions = plan.Remove
	for _, v := range versions {
		res, err := tree.Remove(ctx, v, dist.RemoveOptions{Force: *force, Wait: *wait, Purging: len(purgers.Purgers) > 0})
		if err != nil {
			return fmt.Errorf("removing %s: %w", v, err)
		}
		fmt.Fprintf(e.stdout, "removed %s@%s (%s); it answers 410 Gone for a week (serve --gone-for)\n", library, v, count(res.Files, "file"))
		for _, a := range res.Aliases {
			fmt.Fprintf(e.stdout, "removed alias %s, which held it (--force)\n", a)
		}
		if len(purgers.Purgers) > 0 {
			j := &purge.Journal{Tree: tree.Top(), Set: purgers}
			for _, r := range purgeRemoval(ctx, j, library, v, res.Change) {
				if r.Err != nil {
					fmt.Fprintf(e.stderr, "purge FAILED: %s: %v; the removal stands\n", r.Purger, r.Err)
				} else {
					fmt.Fprintf(e.stdout, "purged %s: %s\n", r.Purger, r.Event)
				}
			}
		}
	}
	return nil
}

// awaitUsage waits for every running replica's next flush of its usage
// counts (stats.AwaitFlush), so that a request served a moment ago is
// counted, and says up to when the counts go. A replica that runs but
// did not flush in time fails the prune, unless force.
func awaitUsage(ctx context.Context, e *env, fsys afero.Fs, root string, force bool) error {
	began := time.Now()
	c, err := stats.AwaitFlush(ctx, fsys, root, began, 250*time.Millisecond)
	if err != nil {
		return fmt.Errorf("reading the replicas' usage counts: %w", err)
	}
	switch {
	case len(c.Running) > 0:
		fmt.Fprintf(e.stderr, "usage counted up to %s: %s flushed after this prune began (waited %s)\n",
			c.UpTo.UTC().Format(time.RFC3339), count(len(c.Running), "running replica"), time.Since(began).Round(10*time.Millisecond))
	case len(c.Late) == 0:
		fmt.Fprintf(e.stderr, "usage counted up to each replica's last flush: no replica is running\n")
	}
	for _, r := range c.Late {
		msg := fmt.Sprintf("replica %s is running (it flushes every %s) but has not flushed since %s, so its use since then is unknown", r.Name, r.Every, r.Flushed.UTC().Format(time.RFC3339))
		if !force {
			return fmt.Errorf("%s: try again, or pass --force", msg)
		}
		fmt.Fprintf(e.stderr, "WARNING: %s; --force goes on without it\n", msg)
	}
	return nil
}

// versionAfterAt reports whether s is NAME@VERSION with an exact version.
func versionAfterAt(s string) bool {
	i := strings.LastIndexByte(s, '@')
	if i < 0 {
		return false
	}
	_, err := versioning.Parse(s[i+1:])
	return err == nil
}

// purgeRemoval purges a removal: its recorded change (claimed, so no
// replica repeats it), or, when it could not be recorded, the event.
func purgeRemoval(ctx context.Context, j *purge.Journal, library, version string, c *dist.Change) []purge.Result {
	if c != nil {
		return j.Purge(ctx, *c)
	}
	return j.Set.Purge(ctx, purge.Event{Library: library, Kind: dist.ChangeRemove, To: version})
}
