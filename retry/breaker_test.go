package retry

import (
	"testing"
	"time"
)

func TestBreaker(t *testing.T) {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	b := NewBreaker(2, 10*time.Second, func() time.Time { return now })
	steps := []struct {
		name    string
		advance time.Duration
		allow   bool
		failed  bool // the outcome reported when allowed
		state   string
	}{
		{"one failure keeps it closed", 0, true, true, Closed},
		{"a success resets the count", 0, true, false, Closed},
		{"a failure after it is the first in a row", 0, true, true, Closed},
		{"the second failure in a row opens it", 0, true, true, Open},
		{"open refuses", 5 * time.Second, false, false, Open},
		{"after the cooldown one trial goes; it fails", 5 * time.Second, true, true, Open},
		{"open again refuses", 9 * time.Second, false, false, Open},
		{"a trial that succeeds closes it", time.Second, true, false, Closed},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		if got := b.Allow(); got != s.allow {
			t.Fatalf("%s: Allow = %v", s.name, got)
		}
		if s.allow {
			b.Done(s.failed, "HTTP 502")
		}
		if st := b.State(); st.State != s.state {
			t.Fatalf("%s: state %s, want %s (%+v)", s.name, st.State, s.state, st)
		}
	}
	st := b.State()
	if st.Calls != 6 || st.Failures != 4 || st.Skipped != 2 || st.LastError != "HTTP 502" || st.RetryAt != nil {
		t.Errorf("counts %+v", st)
	}
	// Half-open lets one trial through, not two at once.
	b.Allow()
	b.Done(true, "x")
	b.Allow()
	b.Done(true, "x")
	now = now.Add(11 * time.Second)
	if !b.Allow() || b.Allow() || b.State().State != HalfOpen {
		t.Errorf("half-open let two trials through, or none: %+v", b.State())
	}
}
