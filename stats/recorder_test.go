package stats

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/afero"
)

// TestRecorder: counts go into this replica's daily file on Flush, are
// summed with another replica's on Recent, and a new day starts a new
// file; Totals keeps every count since start for the metrics.
func TestRecorder(t *testing.T) {
	fsys := afero.NewMemMapFs()
	now := time.Date(2026, 12, 5, 23, 59, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a := NewRecorder(fsys, "/dist", "a", time.Minute, clock)
	b := NewRecorder(fsys, "/dist", "b", time.Minute, clock)
	a.Counter("pusher", "2.2.3").Add(100)
	a.Counter("pusher", "2.2.3").Add(50) // the same counter
	a.Counter("", "1.0.0").Add(7)
	b.Counter("pusher", "2.2.3").Add(1)
	for _, r := range []*Recorder{a, b} {
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	days, skipped, err := a.Recent(1)
	if err != nil || skipped != 0 {
		t.Fatal(err, skipped)
	}
	for _, tc := range []struct {
		name, lib, version string
		want               Counts
	}{
		{"two replicas summed", "pusher", "2.2.3", Counts{Requests: 3, Bytes: 151}},
		{"the root library", "", "1.0.0", Counts{Requests: 1, Bytes: 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ForLibrary(days, tc.lib).Total(tc.version); got != tc.want {
				t.Errorf("%s@%s = %+v, want %+v", tc.lib, tc.version, got, tc.want)
			}
		})
	}
	t.Run("a new day, a new file; totals since start", func(t *testing.T) {
		now = now.Add(2 * time.Minute)
		a.Counter("pusher", "2.2.3").Add(10)
		if err := a.Flush(); err != nil {
			t.Fatal(err)
		}
		if ok, _ := afero.Exists(fsys, "/dist/.stats/2026-12-06/a.json"); !ok {
			t.Error("no file for the new day")
		}
		if got := a.Totals()[Key("pusher")]["2.2.3"]; got != (Counts{Requests: 3, Bytes: 160}) {
			t.Errorf("Totals = %+v", got)
		}
	})
}

// killableRename makes renames fail while killed is set, as a flush
// killed between writing its temporary file and renaming it into place
// leaves things.
type killableRename struct {
	afero.Fs
	killed *bool
}

func (f killableRename) Rename(o, n string) error {
	if *f.killed {
		return errors.New("killed")
	}
	return f.Fs.Rename(o, n)
}

// TestFlushKilledHalfway: a flush that dies before its rename leaves the
// last whole file, which readers use, and a temporary file they skip; the
// counts stay in memory for the next flush.
func TestFlushKilledHalfway(t *testing.T) {
	root := t.TempDir()
	killed := false
	disk := afero.NewOsFs()
	r := NewRecorder(killableRename{disk, &killed}, root, "r", time.Minute, nil)
	r.Counter("", "2.2.3").Add(1)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	r.Counter("", "2.2.3").Add(1)
	killed = true
	if err := r.Flush(); err == nil {
		t.Fatal("the flush did not fail")
	}
	// A process killed between its write and its rename leaves a
	// temporary file behind, half written.
	day := time.Now().UTC().Format(DayFormat)
	os.WriteFile(filepath.Join(root, Dir, day, ".tmp-0123456789abcdef"), []byte(`{"replica":"r","libraries":{"-":{"2.2.3":{"requ`), 0o644)
	days, skipped, err := Read(disk, root, time.Now().Add(-time.Hour), time.Now())
	if err != nil || skipped != 0 || days[day]["-"]["2.2.3"].Requests != 1 {
		t.Errorf("read after the killed flush: %v %d %v", days, skipped, err)
	}
	killed = false
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	days, _, _ = Read(disk, root, time.Now().Add(-time.Hour), time.Now())
	if days[day]["-"]["2.2.3"].Requests != 2 {
		t.Errorf("the next flush lost the counts: %v", days)
	}
}
