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
	Replica   string `json:"replica"`
	Day       string `json:"day"`
	Libraries Day    `json:"libraries"`
}

// Write writes a replica's totals for a day into its own file, in one
// step: WriteFileAtomic where the Fs renames, one write where it writes
// objects in place (an Fs with WritesInPlace, as storage.BlobFs: one PUT
// is atomic).
func Write(fsys afero.Fs, root, day, replica string, d Day) error {
	raw, _ := json.Marshal(file{Replica: replica, Day: day, Libraries: d})
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
	skipped := 0
	for day := since.UTC().Truncate(24 * time.Hour); !day.After(until); day = day.Add(24 * time.Hour) {
		name := day.Format(DayFormat)
		entries, err := afero.ReadDir(fsys, path.Join(root, Dir, name))
		if errors.Is(err, layout.ErrLink) {
			return nil, 0, fmt.Errorf("reading stats of %s: %w", name, err)
		}
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("reading stats of %s: %w", name, err)
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
		}
	}
	return out, skipped, nil
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
