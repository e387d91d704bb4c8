package stats

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/afero"
)

// Counter counts one exact version's requests and bytes on this replica
// since the last flush. A request adds to it with two atomic adds: no
// lock, no allocation.
type Counter struct {
	requests, bytes atomic.Int64
}

// Add counts one request that sent bytes.
func (c *Counter) Add(bytes int64) {
	c.requests.Add(1)
	c.bytes.Add(bytes)
}

// Recorder is one replica's usage: a Counter per library and exact
// version, flushed into the replica's daily file (Write), and the recent
// days of every replica, read back (Read) at most once a minute.
type Recorder struct {
	fs      afero.Fs
	root    string
	replica string
	clock   func() time.Time
	every   time.Duration // how often Flush is called, for readers

	countersMu sync.Mutex
	counters   map[string]map[string]*Counter // library -> exact version

	flushMu sync.Mutex
	day     string
	totals  Day // this replica's totals for day
	total   Day // every count since start, for the metrics

	recentMu sync.Mutex
	recentAt time.Time
	recent   map[string]Day
}

// NewRecorder records a replica's usage into the tree at root, flushed
// every interval (which its files record, for prune). An empty replica
// name gets NewReplicaID's.
func NewRecorder(fsys afero.Fs, root, replica string, every time.Duration, clock func() time.Time) *Recorder {
	if replica == "" {
		replica = NewReplicaID()
	}
	if clock == nil {
		clock = time.Now
	}
	return &Recorder{fs: fsys, root: root, replica: replica, every: every, clock: clock, counters: map[string]map[string]*Counter{}, totals: Day{}, total: Day{}}
}

// NewReplicaID names a replica's stats files: the host name and a random
// suffix, so two processes never write the same file.
func NewReplicaID() string {
	h, _ := os.Hostname()
	if h == "" {
		h = "replica"
	}
	b := make([]byte, 4)
	rand.Read(b)
	return h + "-" + hex.EncodeToString(b)
}

// Counter returns the counter of a library's exact version, made once:
// every holder of it (a version and its aliases, before and after a
// refresh) shares it, so no count is lost.
func (r *Recorder) Counter(library, version string) *Counter {
	r.countersMu.Lock()
	defer r.countersMu.Unlock()
	byVersion := r.counters[library]
	if byVersion == nil {
		byVersion = map[string]*Counter{}
		r.counters[library] = byVersion
	}
	c := byVersion[version]
	if c == nil {
		c = &Counter{}
		byVersion[version] = c
	}
	return c
}

// Flush adds the counters since the last flush to this replica's totals
// for today, and writes them to its daily file with the time they go up
// to. It writes even when nothing was counted, so that prune can tell a
// running replica's counts are current (Replica.Running). A failed write
// keeps the counts for the next flush.
func (r *Recorder) Flush() error { return r.flush(false) }

// Stop flushes for the last time, and says so in the file: prune need
// not wait for this replica's next flush.
func (r *Recorder) Stop() error { return r.flush(true) }

func (r *Recorder) flush(stopping bool) error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	now := r.clock()
	day := now.UTC().Format(DayFormat)
	if day != r.day {
		r.day, r.totals = day, Day{}
	}
	r.countersMu.Lock()
	for lib, byVersion := range r.counters {
		for exact, c := range byVersion {
			n := Counts{Requests: c.requests.Swap(0), Bytes: c.bytes.Swap(0)}
			if n.Requests == 0 && n.Bytes == 0 {
				continue
			}
			r.totals.Add(lib, exact, n)
			r.total.Add(lib, exact, n)
		}
	}
	r.countersMu.Unlock()
	// On failure, the next flush writes the totals.
	return Write(r.fs, r.root, day, Replica{Name: r.replica, Flushed: now, Every: r.every, Stopped: stopping}, r.totals)

}

// Totals is every count this replica made since it started, flushed or
// not: for the metrics.
func (r *Recorder) Totals() Day {
	sum := Day{}
	r.flushMu.Lock()
	for lib, versions := range r.total {
		for v, n := range versions {
			sum.Add(lib, v, n)
		}
	}
	r.flushMu.Unlock()
	r.countersMu.Lock()
	for lib, byVersion := range r.counters {
		for exact, c := range byVersion {
			sum.Add(lib, exact, Counts{Requests: c.requests.Load(), Bytes: c.bytes.Load()})
		}
	}
	r.countersMu.Unlock()
	return sum
}

// Recent returns every replica's counts of the last n days (today
// included), read from the tree at most once a minute. It returns what
// it read last, and the error, when reading fails; skipped counts the
// files it could not read.
func (r *Recorder) Recent(n int) (days map[string]Day, skipped int, err error) {
	now := r.clock().UTC()
	r.recentMu.Lock()
	defer r.recentMu.Unlock()
	if r.recent == nil || now.Sub(r.recentAt) > time.Minute {
		read, sk, rerr := Read(r.fs, r.root, now.Add(-30*24*time.Hour), now)
		if rerr != nil {
			err = rerr
		} else {
			r.recent, r.recentAt, skipped = read, now, sk
		}
	}
	out := map[string]Day{}
	for day, d := range r.recent {
		if t, perr := time.Parse(DayFormat, day); perr == nil && now.Sub(t) < time.Duration(n)*24*time.Hour {
			out[day] = d
		}
	}
	return out, skipped, err
}
