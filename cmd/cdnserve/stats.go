package main

import (
	"context"
	"fmt"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/stats"
)

const statsExamples = `  cdnserve stats pusher                 # requests and bytes per version and day, last 30 days, all replicas
  cdnserve stats - --since 7d           # the root library
  cdnserve stats @corp/widgets --storage 's3://assets/cdn?region=eu-west-1' --json
`

// runStats prints a library's usage from the tree's daily stats files.
func runStats(ctx context.Context, e *env, args []string) error {
	fs := newSettings(e, "stats", "NAME [flags]", statsExamples)
	since := fs.String("since", "30d", "how far back: 30d, 7d, 12h")
	storageURL := fs.StorageFlag("dist", "the `storage` that holds the tree")
	asJSON := fs.Bool("json", false, "print JSON, as /-/stats does")
	pos, err := fs.ParseArgs(args, 1, 1, "need one library NAME (- for the root library)")
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
