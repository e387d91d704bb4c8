package server

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnserve/cdnserve/retry"
)

// handleUpstreams answers /-/upstreams on the admin listener: each
// registry the mirror asks, the patterns of names sent to it, and its
// circuit breaker (closed, open until retry_at, or half-open), as JSON.
// Registry URLs are shown without credentials; like /-/metrics, it is
// for operators only.
func (s *Server) handleUpstreams(c echo.Context) error {
	setKind(c, kindHealth)
	c.Response().Header()["Cache-Control"] = noStore
	writeJSON(c.Response(), c.Request(), http.StatusOK, map[string]any{"upstreams": s.cfg.Upstreams()})
	return nil
}

// upstreamCollector reports the upstreams' breakers as metrics, read at
// each scrape: cdnserve_upstream_state{upstream,state} is 1 for the
// state each is in, and the counters count calls, failures and calls
// skipped while open.
type upstreamCollector struct {
	upstreams            func() []retry.Upstream
	state, calls, failed *prometheus.Desc
	skipped              *prometheus.Desc
}

func newUpstreamCollector(upstreams func() []retry.Upstream) *upstreamCollector {
	label := []string{"upstream"}
	return &upstreamCollector{upstreams: upstreams,
		state:   prometheus.NewDesc("cdnserve_upstream_state", "1 for the state each registry's circuit breaker is in (closed, open, half-open).", []string{"upstream", "state"}, nil),
		calls:   prometheus.NewDesc("cdnserve_upstream_requests_total", "Requests sent to a registry (after its breaker allowed them).", label, nil),
		failed:  prometheus.NewDesc("cdnserve_upstream_failures_total", "Requests to a registry that failed: refused, timed out, or 5xx after their retries.", label, nil),
		skipped: prometheus.NewDesc("cdnserve_upstream_skipped_total", "Requests not sent to a registry because its breaker was open.", label, nil),
	}
}

func (u *upstreamCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- u.state
	ch <- u.calls
	ch <- u.failed
	ch <- u.skipped
}

func (u *upstreamCollector) Collect(ch chan<- prometheus.Metric) {
	for _, up := range u.upstreams() {
		for _, st := range []string{retry.Closed, retry.Open, retry.HalfOpen} {
			v := 0.0
			if up.State == st {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(u.state, prometheus.GaugeValue, v, up.URL, st)
		}
		ch <- prometheus.MustNewConstMetric(u.calls, prometheus.CounterValue, float64(up.Calls), up.URL)
		ch <- prometheus.MustNewConstMetric(u.failed, prometheus.CounterValue, float64(up.Failures), up.URL)
		ch <- prometheus.MustNewConstMetric(u.skipped, prometheus.CounterValue, float64(up.Skipped), up.URL)
	}
}
