package server

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cdnserve/cdnserve/stats"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// usage counts one exact version's requests and bytes on this replica
// since the last flush. A request adds to it with two atomic adds: no
// lock, no allocation.
type usage struct {
	requests, bytes atomic.Int64
}

func (u *usage) add(bytes int64) {
	u.requests.Add(1)
	u.bytes.Add(bytes)
}

// usageFor returns the counter of an exact version, made once: every
// version and alias value that holds it shares it, so a refresh that
// replaces an alias loses no count.
func (s *libData) usageFor(exact string) *usage {
	s.usageMu.Lock()
	defer s.usageMu.Unlock()
	if s.usage == nil {
		s.usage = map[string]*usage{}
	}
	u := s.usage[exact]
	if u == nil {
		u = &usage{}
		s.usage[exact] = u
	}
	return u
}

// usageFlusher moves the counters into this replica's daily file.
type usageFlusher struct {
	mu      sync.Mutex
	replica string
	day     string
	totals  stats.Day // this replica's totals for day
	// total is every count since start, for the metrics.
	total stats.Day
	// dirty says totals hold counts not yet in the file.
	dirty bool
}

// newReplicaID names this replica's stats files: the host name and a
// random suffix, so two processes never write the same file.
func newReplicaID() string {
	h, _ := os.Hostname()
	if h == "" {
		h = "replica"
	}
	b := make([]byte, 4)
	rand.Read(b)
	return h + "-" + hex.EncodeToString(b)
}

// FlushStats adds the counters since the last flush to this replica's
// totals for today, and writes them to its daily file (stats.Write).
// Run calls it every Config.StatsFlush; serve calls it once more on
// shutdown.
func (s *Server) FlushStats() error {
	f := s.usage
	f.mu.Lock()
	defer f.mu.Unlock()
	day := s.cfg.Clock().UTC().Format(stats.DayFormat)
	if day != f.day {
		f.day, f.totals = day, stats.Day{}
	}
	for _, st := range s.cat.All() {
		d := dataOf(st)
		d.usageMu.Lock()
		for exact, u := range d.usage {
			c := stats.Counts{Requests: u.requests.Swap(0), Bytes: u.bytes.Swap(0)}
			if c.Requests == 0 && c.Bytes == 0 {
				continue
			}
			f.totals.Add(st.Name(), exact, c)
			f.total.Add(st.Name(), exact, c)
			f.dirty = true
		}
		d.usageMu.Unlock()
	}
	if !f.dirty {
		return nil // nothing new: the file (if any) holds the totals
	}
	if err := stats.Write(s.cfg.Fs, s.cfg.Root, day, f.replica, f.totals); err != nil {
		return err // still dirty: the next flush writes the totals
	}
	f.dirty = false
	return nil
}

// statsCache keeps the summed stats of the last days for a minute, so
// pages and /-/stats do not read every replica's files each time.
type statsCache struct {
	mu   sync.Mutex
	at   time.Time
	days map[string]stats.Day
}

// recentStats returns the stats of the last n days (today included),
// summed over replicas, read at most once a minute.
func (s *Server) recentStats(n int) map[string]stats.Day {
	c := &s.statsRead
	now := s.cfg.Clock().UTC()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.days == nil || now.Sub(c.at) > time.Minute {
		days, skipped, err := stats.Read(s.cfg.Fs, s.cfg.Root, now.Add(-30*24*time.Hour), now)
		if err != nil {
			s.log.Warn("reading usage stats failed", "err", err)
			return c.days
		}
		if skipped > 0 {
			s.log.Warn("skipped unreadable usage stats files", "files", skipped)
		}
		c.days, c.at = days, now
	}
	out := map[string]stats.Day{}
	for day, d := range c.days {
		if t, err := time.Parse(stats.DayFormat, day); err == nil && now.Sub(t) < time.Duration(n)*24*time.Hour {
			out[day] = d
		}
	}
	return out
}

// versionCollector exports requests and bytes by library and version:
// only versions this replica has served, which exist, so the label's
// values stay bounded. It reads at scrape time: nothing on the fast path.
type versionCollector struct {
	s         *Server
	reqs, byt *prometheus.Desc
}

func newVersionCollector(s *Server) *versionCollector {
	return &versionCollector{s: s,
		reqs: prometheus.NewDesc("cdnserve_version_requests_total", "File requests answered, by library (\"-\": the root library) and exact version (an alias's requests count for the version it holds).", []string{"library", "version"}, nil),
		byt:  prometheus.NewDesc("cdnserve_version_response_bytes_total", "File bytes sent, by library and exact version.", []string{"library", "version"}, nil),
	}
}

func (c *versionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.reqs; ch <- c.byt }

func (c *versionCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.s.usage
	f.mu.Lock()
	sum := stats.Day{}
	for lib, versions := range f.total {
		for v, n := range versions {
			sum.Add(lib, v, n)
		}
	}
	f.mu.Unlock()
	for _, st := range c.s.cat.All() {
		d := dataOf(st)
		d.usageMu.Lock()
		for exact, u := range d.usage {
			sum.Add(st.Name(), exact, stats.Counts{Requests: u.requests.Load(), Bytes: u.bytes.Load()})
		}
		d.usageMu.Unlock()
	}
	for lib, versions := range sum {
		for v, n := range versions {
			ch <- prometheus.MustNewConstMetric(c.reqs, prometheus.CounterValue, float64(n.Requests), lib, v)
			ch <- prometheus.MustNewConstMetric(c.byt, prometheus.CounterValue, float64(n.Bytes), lib, v)
		}
	}
}

// statsDoc is the /-/stats document of one library.
type statsDoc struct {
	Library string `json:"library,omitempty"`
	Days    int    `json:"days"`
	// Versions maps each version to its days' counts, summed over every
	// replica's files (up to a flush interval behind).
	Versions stats.Library `json:"versions"`
	Total    stats.Counts  `json:"total"`
}

// handleStats serves /-/stats (the root library) and /-/stats/<name>:
// requests and bytes per version per day for the last 30 days.
func (s *Server) handleStats(c echo.Context) error {
	setKind(c, kindMeta)
	lib := s.libraryOf(c, c.Param("*"))
	if lib == nil {
		return nil
	}
	doc := statsDoc{Library: lib.Name(), Days: 30, Versions: stats.ForLibrary(s.recentStats(30), lib.Name())}
	for _, v := range doc.Versions.Versions() {
		doc.Total.Add(doc.Versions.Total(v))
	}
	c.Response().Header()["Cache-Control"] = s.policy.redirect
	return c.JSON(http.StatusOK, doc)
}
