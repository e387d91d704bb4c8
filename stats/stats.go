// Package stats keeps who loads what: requests and bytes per library,
// version and day, counted by each replica in memory and flushed into
// the tree as small daily files, one per replica and day:
//
//	<dist root>/.stats/<YYYY-MM-DD>/<replica>.json
//
// A replica rewrites only its own file, with its running totals for the
// day, in one atomic step (a rename on disk, one PUT on object storage),
// so replicas never overwrite each other and a flush killed halfway
// leaves the last whole file. Readers sum every replica's file. The
// directory is a dot-name: never served, never verified.
package stats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

// Dir is the stats directory's name in the dist root.
const Dir = ".stats"

// DayFormat names a day's directory.
const DayFormat = "2006-01-02"

// Counts are one version's requests and bytes.
type Counts struct {
	Requests int64 `json:"requests"`
	Bytes    int64 `json:"bytes"`
}

// Add adds other to c.
func (c *Counts) Add(o Counts) { c.Requests += o.Requests; c.Bytes += o.Bytes }

// Day is one replica's (or the sum of every replica's) counts for a day:
// library ("-" for the root library) -> version -> counts.
type Day map[string]map[string]Counts

// Key is a library's key in the files: its name, or "-" for the root
// library.
func Key(library string) string {
	if library == "" {
		return layout.RootLibrary
	}
	return library
}

// Add adds counts for a library's version.
func (d Day) Add(library, version string, c Counts) {
	library = Key(library)
	m := d[library]
	if m == nil {
		m = map[string]Counts{}
		d[library] = m
	}
	v := m[version]
	v.Add(c)
	m[version] = v
}

// file is a replica's daily file.
type file struct {
	Replica string `json:"replica"`
	Day     string `json:"day"`
	// Flushed is when the replica wrote the file: its counts go up to
	// then. Every writes how often it flushes (Go duration text).
	Flushed time.Time `json:"flushed,omitzero"`
	Every   string    `json:"flush_every,omitempty"`
	// Stopped marks the last flush of a replica that shut down.
	Stopped   bool `json:"stopped,omitempty"`
	Libraries Day  `json:"libraries"`
}

// Replica is what a replica's newest daily file says of it.
type Replica struct {
	Name string
	// Flushed is when it last wrote its counts; zero from a binary that
	// did not record it.
	Flushed time.Time
	// Every is how often it flushes; zero when not recorded.
	Every time.Duration
	// Stopped: that flush was its last, as it shut down.
	Stopped bool
}

// Running reports whether the replica still flushes at now: it did not
// say it stopped, and its last flush is within two of its intervals (and
// 5 s). A replica that stopped cleanly flushed all it counted; one that
// was killed lost up to one interval.
func (r Replica) Running(now time.Time) bool {
	return !r.Stopped && r.Every > 0 && now.Sub(r.Flushed) <= 2*r.Every+5*time.Second
}

// Write writes a replica's totals for a day into its own file, in one
// step: WriteFileAtomic where the Fs renames, one write where it writes
// objects in place (an Fs with WritesInPlace, as storage.BlobFs: one PUT
// is atomic). r names the replica and says when the counts go up to,
// how often it flushes, and whether it stopped.
func Write(fsys afero.Fs, root, day string, r Replica, d Day) error {
	replica := r.Name
	f := file{Replica: replica, Day: day, Flushed: r.Flushed.UTC(), Stopped: r.Stopped, Libraries: d}
	if r.Every > 0 {
		f.Every = r.Every.String()
	}
	raw, _ := json.Marshal(f)
	p := path.Join(root, Dir, day, replica+".json")
	if ip, ok := fsys.(interface{ WritesInPlace() bool }); ok && ip.WritesInPlace() {
		if err := fsys.MkdirAll(path.Dir(p), 0o755); err != nil {
			return err
		}
		return afero.WriteFile(fsys, p, raw, 0o644)
	}
	return layout.WriteFileAtomic(fsys, p, raw)
}

// Read sums every replica's files for the days from since to until
// (inclusive), by day. Temporary files of a killed flush and files that
// do not decode are skipped; the number skipped comes back, for a log.
func Read(fsys afero.Fs, root string, since, until time.Time) (map[string]Day, int, error) {
	out := map[string]Day{}
	skipped, err := eachFile(fsys, root, since, until, func(name string, f file) {
		sum := out[name]
		if sum == nil {
			sum = Day{}
			out[name] = sum
		}
		for lib, versions := range f.Libraries {
			for v, c := range versions {
				sum.Add(lib, v, c)
			}
		}
	})
	if err != nil {
		return nil, 0, err
	}
	return out, skipped, nil
}

// Replicas returns each replica that wrote a file for the days from
// since to until, with what its newest file says, by name.
func Replicas(fsys afero.Fs, root string, since, until time.Time) ([]Replica, error) {
	newest := map[string]Replica{}
	_, err := eachFile(fsys, root, since, until, func(_ string, f file) {
		r := Replica{Name: f.Replica, Flushed: f.Flushed, Stopped: f.Stopped}
		r.Every, _ = time.ParseDuration(f.Every) // absent: zero
		if cur, ok := newest[f.Replica]; !ok || r.Flushed.After(cur.Flushed) {
			newest[f.Replica] = r
		}
	})
	if err != nil {
		return nil, err
	}
	out := make([]Replica, 0, len(newest))
	for _, r := range newest {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// eachFile calls fn with every replica's file of the days from since to
// until, and returns how many it could not read.
func eachFile(fsys afero.Fs, root string, since, until time.Time, fn func(day string, f file)) (int, error) {
	skipped := 0
	for day := since.UTC().Truncate(24 * time.Hour); !day.After(until); day = day.Add(24 * time.Hour) {
		name := day.Format(DayFormat)
		entries, err := afero.ReadDir(fsys, path.Join(root, Dir, name))
		if errors.Is(err, layout.ErrLink) {
			return 0, fmt.Errorf("reading stats of %s: %w", name, err)
		}
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("reading stats of %s: %w", name, err)
		}
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") || e.IsDir() {
				continue // a killed flush's temporary file
			}
			raw, err := afero.ReadFile(fsys, path.Join(root, Dir, name, e.Name()))
			var f file
			if err != nil || json.Unmarshal(raw, &f) != nil {
				skipped++
				continue
			}
			fn(name, f)
		}
	}
	return skipped, nil
}

// Library is one library's counts: version -> day -> counts.
type Library map[string]map[string]Counts

// ForLibrary picks one library ("" for the root) out of days.
func ForLibrary(days map[string]Day, library string) Library {
	library = Key(library)
	out := Library{}
	for day, d := range days {
		for v, c := range d[library] {
			if out[v] == nil {
				out[v] = map[string]Counts{}
			}
			out[v][day] = c
		}
	}
	return out
}

// Total sums a version's counts over its days.
func (l Library) Total(version string) Counts {
	var t Counts
	for _, c := range l[version] {
		t.Add(c)
	}
	return t
}

// Versions lists the versions with counts, sorted.
func (l Library) Versions() []string {
	out := make([]string, 0, len(l))
	for v := range l {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// Coverage says up to when the counts of every replica go, for a reader
// that must not miss recent use (prune).
type Coverage struct {
	// UpTo is the earliest last flush of the running replicas: every
	// running replica's counts go at least up to it. Zero when no
	// replica runs.
	UpTo time.Time
	// Running flushed after the reader began; Stopped no longer flush
	// (their counts end at their last flush: all they counted, when they
	// stopped cleanly); Late run but did not flush in time.
	Running, Stopped, Late []Replica
}

// AwaitFlush waits until every running replica (Replica.Running) has
// flushed after since, for up to the longest flush interval among them
// and 5 s, re-reading their files every poll.
func AwaitFlush(ctx context.Context, fsys afero.Fs, root string, since time.Time, poll time.Duration) (Coverage, error) {
	var deadline time.Time
	for {
		now := time.Now()
		reps, err := Replicas(fsys, root, now.Add(-48*time.Hour), now)
		if err != nil {
			return Coverage{}, err
		}
		var c Coverage
		for _, r := range reps {
			switch {
			case !r.Flushed.Before(since):
				c.Running = append(c.Running, r)
			case r.Running(now):
				c.Late = append(c.Late, r)
			default:
				c.Stopped = append(c.Stopped, r)
			}
			if deadline.IsZero() || since.Add(r.Every+5*time.Second).After(deadline) {
				deadline = since.Add(r.Every + 5*time.Second)
			}
		}
		if len(c.Late) == 0 || now.After(deadline) {
			for _, r := range c.Running {
				if c.UpTo.IsZero() || r.Flushed.Before(c.UpTo) {
					c.UpTo = r.Flushed
				}
			}
			return c, nil
		}
		select {
		case <-ctx.Done():
			return c, ctx.Err()
		case <-time.After(poll):
		}
	}
}
