package npm

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/npm/npmtest"
)

// blackhole is an upstream that accepts connections and never answers:
// the dead registry that costs its callers the most.
func blackhole(b *testing.B) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	go func() {
		var held []net.Conn
		for {
			c, err := l.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	return "http://" + l.Addr().String() + "/"
}

// BenchmarkDeadUpstream is the breaker's figure in docs/benchmarks.md
// (issue 30): first fetches (the document, the tarball, verified, and a
// publish into a new tree) of a package whose rule lists two registries,
// with both healthy, and with the first one dead (a blackhole, so each
// request to it waits for the 1 s timeout) once its breaker is open.
// It reports each case's p50 and p99, and the ratio of the p99s, which
// must stay under 2. Run:
// go test ./npm -run x -bench DeadUpstream -benchtime 1x
func BenchmarkDeadUpstream(b *testing.B) {
	reg := npmtest.Start(b)
	name := npmtest.Name("cdnsbench-upstream")
	reg.Publish(b, npmtest.Package{Name: name, Version: "1.0.0", Files: map[string]string{"dist/x.js": megabyteOfJS()[:64<<10]}})
	first, second := reg.NewProxy(b), reg.NewProxy(b)
	const fetches = 200
	measure := func(b *testing.B, registries string) (p50, p99 time.Duration, opening time.Duration) {
		cfg := NewConfig("https://registry.invalid/")
		u, err := ParseUpstream("cdnsbench-*=" + registries)
		if err != nil {
			b.Fatal(err)
		}
		cfg.AddUpstream(u)
		c := NewClient(cfg)
		c.HTTP.Timeout, c.DocTTL, c.BreakerFailures, c.BreakerCooldown = time.Second, 0, 3, time.Hour
		start := time.Now()
		for range c.BreakerFailures + 3 { // until the breaker is open, if it opens
			if _, err := Add(context.Background(), c, memRoot(), Spec{Name: name, Range: "1.0.0"}, AddOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		opening = time.Since(start)
		var took []time.Duration
		for range fetches {
			start := time.Now()
			if _, err := Add(context.Background(), c, memRoot(), Spec{Name: name, Range: "1.0.0"}, AddOptions{}); err != nil {
				b.Fatal(err)
			}
			took = append(took, time.Since(start))
		}
		slices.Sort(took)
		return took[len(took)/2], took[len(took)*99/100], opening
	}
	for range b.N {
		h50, h99, _ := measure(b, first.Base()+" "+second.Base())
		d50, d99, opening := measure(b, blackhole(b)+" "+second.Base())
		b.ReportMetric(float64(h50.Microseconds())/1000, "healthy-p50-ms")
		b.ReportMetric(float64(h99.Microseconds())/1000, "healthy-p99-ms")
		b.ReportMetric(float64(d50.Microseconds())/1000, "dead-p50-ms")
		b.ReportMetric(float64(d99.Microseconds())/1000, "dead-p99-ms")
		b.ReportMetric(float64(d99)/float64(h99), "p99-ratio")
		b.ReportMetric(opening.Seconds(), "until-open-s")
	}
}
