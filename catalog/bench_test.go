package catalog

import (
	"fmt"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

// versionsStore makes a store over n published versions (manifests only).
func versionsStore(b testing.TB, n int) *Library {
	fs := afero.NewMemMapFs()
	for i := range n {
		v := fmt.Sprintf("%d.%d.%d", i/1000, (i/10)%100, i%10)
		afero.WriteFile(fs, "/dist/"+v+"/"+layout.ManifestName, []byte(`{"format":1,"version":"`+v+`","files":[]}`), 0o644)
	}
	c := New(Options{Fs: fs, Root: "/dist", NegativeTTL: time.Minute})
	if err := c.Refresh(); err != nil {
		b.Fatal(err)
	}
	s := c.Root()
	if got := len(s.Versions()); got != n {
		b.Fatalf("%d versions, want %d", got, n)
	}
	return s
}

// BenchmarkResolveRange resolves a semver range among 10 to 10,000
// published versions:
//   - cached, cached-miss: what a request pays between refreshes, for a
//     range that matches and for one that matches nothing (a map lookup,
//     no allocation);
//   - cold-newest: a range on the newest major, as most are: the scan
//     runs newest first and stops at the first match;
//   - cold-oldest: a range whose only match is the oldest version;
//   - cold-miss: a range that matches nothing, the worst case: every
//     version is checked (issue 14 asks < 0.5 ms at 5,000).
func BenchmarkResolveRange(b *testing.B) {
	for _, n := range []int{10, 1000, 5000, 10000} {
		s := versionsStore(b, n)
		newest := fmt.Sprintf("%d.x", s.Versions()[0].Major())
		b.Run(fmt.Sprintf("cached/%d", n), func(b *testing.B) {
			s.Resolve(newest)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Resolve(newest); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("cached-miss/%d", n), func(b *testing.B) {
			s.Resolve(">=100")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Resolve(">=100"); err == nil {
					b.Fatal("a match")
				}
			}
		})
		for _, tc := range []struct{ name, spec, want string }{
			{"cold-newest", newest, s.Versions()[0].Original()},
			{"cold-oldest", "=0.0.0", "0.0.0"},
			{"cold-miss", ">=100", ""},
		} {
			b.Run(fmt.Sprintf("%s/%d", tc.name, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if v, _ := matchSpec(tc.spec, s.Versions()); v != tc.want {
						b.Fatalf("%q resolved to %q", tc.spec, v)
					}
				}
			})
		}
	}
}
