package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cdnserve/cdnserve/access"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/purge"
	"github.com/cdnserve/cdnserve/stats"
	"github.com/cdnserve/cdnserve/versioning"
)

// splitNameVersion reads NAME@VERSION ("@VERSION" for the root library).
func splitNameVersion(s string) (library, version string, err error) {
	i := strings.LastIndexByte(s, '@')
	if i < 0 {
		return "", "", fmt.Errorf("%q: write NAME@VERSION, such as pusher@2.2.3 (@2.2.3 for the root library)", s)
	}
	library, version = s[:i], s[i+1:]
	if _, err := versioning.Parse(version); err != nil {
		return "", "", fmt.Errorf("%q: %w", s, err)
	}
	return library, version, nil
}

const deprecateExamples = `  cdnserve deprecate pusher@2.2.3 --message "2.2.3 leaks sockets; use 2.2.4 or later"
  cdnserve deprecate @1.7.1 --message "the root library's 1.7.1 is unsupported" --storage /srv/dist
  cdnserve undeprecate pusher@2.2.3
`

// runDeprecate records a version deprecated, with a message; serve skips
// it in ranges and marks its responses.
func runDeprecate(ctx context.Context, e *env, args []string) error {
	return deprecate(ctx, e, "deprecate", args)
}

// runUndeprecate removes a version's deprecation.
func runUndeprecate(ctx context.Context, e *env, args []string) error {
	return deprecate(ctx, e, "undeprecate", args)
}

func deprecate(ctx context.Context, e *env, cmd string, args []string) error {
	fs := newSettings(e, cmd, "NAME@VERSION [flags]", deprecateExamples)
	message := ""
	if cmd == "deprecate" {
		fs.StringVar(&message, "message", "", "what users should know and do (required)")
	}
	storageURL := fs.storageFlag("dist", "the `storage` that holds the library")
	wait := fs.Bool("wait", false, "wait for another publisher's lock instead of failing")
	pos, err := fs.parse(args, 1, 1, "need one NAME@VERSION")
	if err != nil {
		return err
	}
	if cmd == "deprecate" && strings.TrimSpace(message) == "" {
		return fs.usageError("need --message: say why, and what to use instead")
	}
	library, version, err := splitNameVersion(pos[0])
	if err != nil {
		return err
	}
	st, tree, err := openStorage(ctx, e, *storageURL, library)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := tree.Deprecate(ctx, version, message, *wait); err != nil {
		return err
	}
	if cmd == "deprecate" {
		fmt.Fprintf(e.stdout, "deprecated %s: ranges and latest skip it unless nothing else matches; it is still served, with a Deprecation header\n", pos[0])
	} else {
		fmt.Fprintf(e.stdout, "%s is no longer deprecated\n", pos[0])
	}
	return nil
}

const statsExamples = `  cdnserve stats pusher                 # requests and bytes per version and day, last 30 days, all replicas
  cdnserve stats - --since 7d           # the root library
  cdnserve stats @corp/widgets --storage 's3://assets/cdn?region=eu-west-1' --json
`

// runStats prints a library's usage from the tree's daily stats files.
func runStats(ctx context.Context, e *env, args []string) error {
	fs := newSettings(e, "stats", "NAME [flags]", statsExamples)
	since := fs.String("since", "30d", "how far back: 30d, 7d, 12h")
	storageURL := fs.storageFlag("dist", "the `storage` that holds the tree")
	asJSON := fs.Bool("json", false, "print JSON, as /-/stats does")
	pos, err := fs.parse(args, 1, 1, "need one library NAME (- for the root library)")
	if err != nil {
		return err
	}
	d, err := parseTTL("--since", *since)
	if err != nil {
		return err
	}
	library := pos[0]
	if library == layout.RootLibrary {
		library = ""
	}
	st, _, err := openStorage(ctx, e, *storageURL, "")
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now().UTC()
	days, _, err := stats.Read(st.Fs, st.Root, now.Add(-d), now)
	if err != nil {
		return err
	}
	lib := stats.ForLibrary(days, library)
	if *asJSON {
		return writeJSON(e.stdout, map[string]any{"library": library, "since": now.Add(-d).Format(stats.DayFormat), "versions": lib})
	}
	if len(lib) == 0 {
		fmt.Fprintf(e.stdout, "no requests recorded for %s since %s\n", pos[0], now.Add(-d).Format(stats.DayFormat))
		return nil
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "day\tversion\trequests\tbytes\t")
	var rows [][2]string
	for v, byDay := range lib {
		for day := range byDay {
			rows = append(rows, [2]string{day, v})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i][0] != rows[j][0] {
			return rows[i][0] > rows[j][0]
		}
		return rows[i][1] < rows[j][1]
	})
	var total stats.Counts
	for _, r := range rows {
		c := lib[r[1]][r[0]]
		total.Add(c)
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t\n", r[0], r[1], c.Requests, c.Bytes)
	}
	fmt.Fprintf(w, "total\t\t%d\t%d\t\n", total.Requests, total.Bytes)
	return w.Flush()
}

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
	storageURL := fs.storageFlag("dist", "the `storage` that holds the library")
	var pg purgeFlags
	pg.register(fs, storageURL)
	pos, err := fs.parse(args, 1, 1, "need one NAME (with --prereleases --older-than) or NAME@VERSION")
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
			return fs.usageError("name a version (NAME@VERSION), or pass --prereleases and --older-than")
		}
	}
	st, tree, err := openStorage(ctx, e, *storageURL, library)
	if err != nil {
		return err
	}
	defer st.Close()
	if versions == nil {
		age, err := parseTTL("--older-than", *olderThan)
		if err != nil {
			return err
		}
		if versions, err = tree.Prereleases(time.Now().Add(-age)); err != nil {
			return err
		}
		if len(versions) == 0 {
			fmt.Fprintf(e.stdout, "no prerelease of %s is older than %s\n", library, *olderThan)
			return nil
		}
	}
	now := time.Now().UTC()
	days, _, err := stats.Read(st.Fs, st.Root, now.Add(-30*24*time.Hour), now)
	if err != nil {
		return err
	}
	used := stats.ForLibrary(days, library)
	var refused []string
	for _, v := range versions {
		var why []string
		if c := used.Total(v); c.Requests > 0 {
			why = append(why, fmt.Sprintf("served %s (%d bytes) in the last 30 days", count(int(c.Requests), "request"), c.Bytes))
		}
		if aliases, err := tree.AliasesHolding(v); err == nil && len(aliases) > 0 {
			why = append(why, "held by alias "+strings.Join(aliases, ", "))
		}
		if len(why) == 0 {
			continue
		}
		if *force {
			fmt.Fprintf(e.stderr, "WARNING: --force removes %s, which %s. Pages that pin it will break.\n", v, strings.Join(why, " and "))
			continue
		}
		refused = append(refused, v+": "+strings.Join(why, " and "))
	}
	if len(refused) > 0 {
		return fmt.Errorf("refusing to remove:\n  %s\n(--force removes them anyway)", strings.Join(refused, "\n  "))
	}
	if *dryRun {
		for _, v := range versions {
			fmt.Fprintf(e.stdout, "would remove %s@%s\n", library, v)
		}
		return nil
	}
	for _, v := range versions {
		res, err := tree.Remove(ctx, v, *force, *wait)
		if err != nil {
			return fmt.Errorf("removing %s: %w", v, err)
		}
		fmt.Fprintf(e.stdout, "removed %s@%s (%s); it answers 410 Gone for a week (serve --gone-for)\n", library, v, count(res.Files, "file"))
		for _, a := range res.Aliases {
			fmt.Fprintf(e.stdout, "removed alias %s, which held it (--force)\n", a)
		}
		if len(purgers.Purgers) > 0 && !(&access.Policy{Private: purgers.Private}).IsPrivate(library) {
			for _, r := range purgers.Purge(ctx, purge.Event{Library: library, To: v}) {
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

// versionAfterAt reports whether s is NAME@VERSION with an exact version.
func versionAfterAt(s string) bool {
	i := strings.LastIndexByte(s, '@')
	if i < 0 {
		return false
	}
	_, err := versioning.Parse(s[i+1:])
	return err == nil
}
