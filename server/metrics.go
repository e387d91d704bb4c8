package server

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus metrics, on a registry of its own
// (no globals). Every labelled child is resolved once, at start, so a
// request only increments.
type metrics struct {
	reg      *prometheus.Registry
	requests [numKinds][6]prometheus.Counter // [kind][status/100]
	latency  [numKinds]prometheus.Observer
	bytes    prometheus.Counter
	// damaged counts refusals of a damaged tree: bytes that fail their
	// manifest, files or manifests missing, links where files should be.
	damaged prometheus.Counter
}

func newMetrics(cache *bodyCache) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cdnserve_requests_total", Help: "Requests answered, by status class and route kind.",
	}, []string{"code", "kind"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "cdnserve_request_duration_seconds", Help: "Time to answer a request, by route kind.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
	}, []string{"kind"})
	m.bytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cdnserve_response_bytes_total", Help: "Response body bytes sent.",
	})
	m.damaged = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cdnserve_integrity_failures_total", Help: "Requests refused because the stored tree is damaged: bytes that fail their manifest, a listed file missing or not a regular file, a damaged manifest.",
	})
	classes := [6]string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"}
	for k := range numKinds {
		for c, class := range classes {
			m.requests[k][c] = requests.WithLabelValues(class, kindNames[k])
		}
		m.latency[k] = latency.WithLabelValues(kindNames[k])
	}
	m.reg.MustRegister(requests, latency, m.bytes, m.damaged,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cdnserve_cache_hits_total", Help: "File bodies served from the in-memory cache."},
			func() float64 { return float64(cache.hits.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cdnserve_cache_misses_total", Help: "File bodies that had to be read from storage (or streamed)."},
			func() float64 { return float64(cache.misses.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cdnserve_cache_bytes", Help: "Bytes of file bodies held in the in-memory cache."},
			func() float64 { b, _ := cache.size(); return float64(b) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

func (m *metrics) observe(kind routeKind, status int, bytes int64, d time.Duration) {
	class := status / 100
	if class < 1 || class > 5 {
		class = 0
	}
	m.requests[kind][class].Inc()
	m.latency[kind].Observe(d.Seconds())
	m.bytes.Add(float64(bytes))
}
