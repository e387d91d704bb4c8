package stats

import (
	"path"
	"testing"
	"time"

	"github.com/spf13/afero"
)

// TestWriteAndRead: replicas' files for a day are summed; a replica's
// rewrite replaces only its own totals; other days are read by range;
// temporary and damaged files are skipped.
func TestWriteAndRead(t *testing.T) {
	fs := afero.NewMemMapFs()
	day := time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)
	name := day.Format(DayFormat)
	a, b := Day{}, Day{}
	a.Add("pusher", "2.2.4", Counts{3, 300})
	a.Add("", "1.7.1", Counts{1, 10})
	b.Add("pusher", "2.2.4", Counts{2, 200})
	for _, w := range []struct {
		replica string
		d       Day
	}{{"a", a}, {"b", b}} {
		if err := Write(fs, "/dist", name, Replica{w.replica, day, time.Minute, false}, w.d); err != nil {
			t.Fatal(err)
		}
	}
	a.Add("pusher", "2.2.4", Counts{1, 100}) // a's next flush: running totals
	Write(fs, "/dist", name, Replica{"a", day, time.Minute, false}, a)
	Write(fs, "/dist", day.Add(-24*time.Hour).Format(DayFormat), Replica{"a", day.Add(-time.Hour), time.Minute, false}, Day{"pusher": {"2.2.3": {7, 70}}})
	afero.WriteFile(fs, path.Join("/dist", Dir, name, ".tmp-1234"), []byte(`{"half`), 0o644)
	afero.WriteFile(fs, path.Join("/dist", Dir, name, "broken.json"), []byte(`{"half`), 0o644)

	days, skipped, err := Read(fs, "/dist", day.Add(-48*time.Hour), day)
	if err != nil || skipped != 1 {
		t.Fatalf("Read: %v, skipped %d", err, skipped)
	}
	lib := ForLibrary(days, "pusher")
	if got := lib["2.2.4"][name]; got != (Counts{6, 600}) {
		t.Errorf("2.2.4 today: %+v", got)
	}
	if got := lib.Total("2.2.3"); got != (Counts{7, 70}) {
		t.Errorf("2.2.3 yesterday: %+v", got)
	}
	if got := ForLibrary(days, "")["1.7.1"][name]; got != (Counts{1, 10}) {
		t.Errorf("the root library: %+v", got)
	}
	if v := lib.Versions(); len(v) != 2 || v[0] != "2.2.3" {
		t.Errorf("versions %q", v)
	}
	only, _, _ := Read(fs, "/dist", day, day)
	if len(only) != 1 {
		t.Errorf("one day read %d days", len(only))
	}
	// Each replica's newest flush, and whether it still runs.
	reps, err := Replicas(fs, "/dist", day.Add(-48*time.Hour), day)
	if err != nil || len(reps) != 2 || reps[0] != (Replica{"a", day, time.Minute, false}) || reps[1].Name != "b" {
		t.Fatalf("Replicas: %+v %v", reps, err)
	}
	if !reps[0].Running(day.Add(2*time.Minute)) || reps[0].Running(day.Add(3*time.Minute)) || (Replica{Name: "old", Flushed: day}).Running(day) || (Replica{"stopped", day, time.Minute, true}).Running(day) {
		t.Errorf("Running: a replica flushing every minute runs for two minutes and 5 s after its flush; one that did not record it, or said it stopped, does not")
	}
}
