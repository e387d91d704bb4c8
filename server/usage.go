package server

import (
	"github.com/cdnserve/cdnserve/stats"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// FlushStats adds the counters since the last flush to this replica's
// totals for today, and writes them to its daily file (stats.Recorder).
// Run calls it every Config.StatsFlush; serve calls it once more on
// shutdown.
func (s *Server) FlushStats() error { return s.usage.Flush() }

// StopStats flushes the usage counters for the last time, as the server
// stops (stats.Recorder.Stop).
func (s *Server) StopStats() error { return s.usage.Stop() }

// recentStats returns the stats of the last n days (today included),
// summed over replicas, read at most once a minute.
func (s *Server) recentStats(n int) map[string]stats.Day {
	days, skipped, err := s.usage.Recent(n)
	if err != nil {
		s.log.Warn("reading usage stats failed", "err", err)
	}
	if skipped > 0 {
		s.log.Warn("skipped unreadable usage stats files", "files", skipped)
	}
	return days
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
	for lib, versions := range c.s.usage.Totals() {
		for v, n := range versions {
			if n.Requests == 0 && n.Bytes == 0 {
				continue // a version this process loaded but never served
			}
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
	s.sendGeneratedJSON(c.Response(), c.Request(), doc)
	return nil
}
