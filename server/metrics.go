package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/cdnserve/cdnserve/content"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus metrics, on a registry of its own
// (no globals). Every labelled child is resolved once, when its library
// is found in storage, so a request only increments. The library label
// takes the names of published libraries only ("-" for the root
// library, "" for requests that name no library), so its values stay
// bounded: a request for an unknown library creates none.
type metrics struct {
	reg          *prometheus.Registry
	requestsVec  *prometheus.CounterVec
	bytesVec     *prometheus.CounterVec
	latency      [numKinds]prometheus.Observer
	none         *libraryMetrics // requests that name no library
	libraryMu    sync.Mutex
	libraryCount map[string]*libraryMetrics
	// damaged counts refusals of a damaged tree: bytes that fail their
	// manifest, files or manifests missing, links where files should be.
	damaged prometheus.Counter
	// purges counts purges sent to edges, by result (ok, failed).
	purges *prometheus.CounterVec
}

// libraryMetrics are one library's counters.
type libraryMetrics struct {
	// requests are made on first use ([kind][status/100]): a library
	// shows the series it has answered, not every kind and class at 0.
	requests [numKinds][6]atomic.Pointer[prometheus.Counter]
	vec      *prometheus.CounterVec
	label    string
	bytes    prometheus.Counter
}

// counter returns the requests counter of a kind and status class,
// creating its series the first time.
func (lm *libraryMetrics) counter(kind routeKind, class int) prometheus.Counter {
	if c := lm.requests[kind][class].Load(); c != nil {
		return *c
	}
	c := lm.vec.WithLabelValues(statusClasses[class], kindNames[kind], lm.label) // the same series if two race
	lm.requests[kind][class].Store(&c)
	return c
}

var statusClasses = [6]string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"}

func newMetrics(cache *content.Cache) *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), libraryCount: map[string]*libraryMetrics{}}
	m.requestsVec = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cdnserve_requests_total", Help: "Requests answered, by status class, route kind and library (\"-\": the root library; \"\": none).",
	}, []string{"code", "kind", "library"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "cdnserve_request_duration_seconds", Help: "Time to answer a request, by route kind.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
	}, []string{"kind"})
	m.bytesVec = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cdnserve_response_bytes_total", Help: "Response body bytes sent, by library.",
	}, []string{"library"})
	m.damaged = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cdnserve_integrity_failures_total", Help: "Requests refused because the stored tree is damaged: bytes that fail their manifest, a listed file missing or not a regular file, a damaged manifest.",
	})
	for k := range numKinds {
		m.latency[k] = latency.WithLabelValues(kindNames[k])
	}
	m.purges = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cdnserve_purges_total", Help: "Purges sent to edges when an alias moved, by result (ok, failed: after its retries).",
	}, []string{"result"})
	m.purges.WithLabelValues("ok")
	m.purges.WithLabelValues("failed")
	m.none = m.library("")
	m.reg.MustRegister(m.requestsVec, latency, m.bytesVec, m.damaged, m.purges,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cdnserve_cache_hits_total", Help: "File bodies served from the in-memory cache."},
			func() float64 { h, _ := cache.Stats(); return float64(h) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cdnserve_cache_misses_total", Help: "File bodies that had to be read from storage (or streamed)."},
			func() float64 { _, m := cache.Stats(); return float64(m) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cdnserve_cache_bytes", Help: "Bytes of file bodies held in the in-memory cache."},
			func() float64 { b, _ := cache.Size(); return float64(b) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// library returns a library's counters, creating them the first time:
// called for libraries found in storage only.
func (m *metrics) library(label string) *libraryMetrics {
	m.libraryMu.Lock()
	defer m.libraryMu.Unlock()
	if lm := m.libraryCount[label]; lm != nil {
		return lm
	}
	lm := &libraryMetrics{bytes: m.bytesVec.WithLabelValues(label), vec: m.requestsVec, label: label}
	m.libraryCount[label] = lm
	return lm
}

// forget drops the counters of a library that left storage.
func (m *metrics) forget(label string) {
	m.libraryMu.Lock()
	defer m.libraryMu.Unlock()
	delete(m.libraryCount, label)
	m.requestsVec.DeletePartialMatch(prometheus.Labels{"library": label})
	m.bytesVec.DeleteLabelValues(label)
}

// observe counts a request against its library's counters (nil: none).
func (m *metrics) observe(lm *libraryMetrics, kind routeKind, status int, bytes int64, d time.Duration) {
	if lm == nil {
		lm = m.none
	}
	class := status / 100
	if class < 1 || class > 5 {
		class = 0
	}
	lm.counter(kind, class).Inc()
	m.latency[kind].Observe(d.Seconds())
	lm.bytes.Add(float64(bytes))
}
