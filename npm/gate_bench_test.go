package npm

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/gate"
	"github.com/cdnserve/cdnserve/npm/npmtest"
)

// BenchmarkGate measures what the supply-chain gate adds to a first
// fetch (issue 27), on sigstore@1.0.0 (91 KB tarball, 91 files) from the
// signing registry over loopback:
//   - first-fetch/off and first-fetch/all: the document, the tarball,
//     its check and extraction, and the publish into a new tree, without
//     the gate and with every check on (keys cached, as in a running
//     server; the attestation fetched each time);
//   - check/NAME: one check alone, the version's document in memory.
func BenchmarkGate(b *testing.B) {
	reg := npmtest.StartSigned(b)
	osv := filepath.Join(reg.Dir, "osv")
	all := "osv_db: " + osv + "\nmin_age: 72h\nlicenses: [MIT, Apache-2.0]\n"
	off := "signatures: off\nprovenance: off\ninstall_scripts: off\nnew_maintainers: off\n"
	newGate := func(b *testing.B, policy string) *gate.Gate {
		p, err := gate.ParsePolicy("bench.yaml", []byte(policy))
		if err != nil {
			b.Fatal(err)
		}
		g, err := gate.New(gate.Options{Policy: p})
		if err != nil {
			b.Fatal(err)
		}
		return g
	}
	ctx := context.Background()
	for _, tc := range []struct{ name, policy string }{{"off", ""}, {"all", all}} {
		b.Run("first-fetch/"+tc.name, func(b *testing.B) {
			var g *gate.Gate
			if tc.policy != "" {
				g = newGate(b, tc.policy)
			}
			for b.Loop() {
				c := NewClient(NewConfig(reg.Base())) // no cache: every op downloads
				c.Gate = g
				if _, err := Add(ctx, c, memRoot(), Spec{Name: "sigstore", Range: "1.0.0"}, AddOptions{Tool: "bench"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, tc := range []struct{ name, policy string }{
		{"signatures", "provenance: off\ninstall_scripts: off\nnew_maintainers: off\n"},
		{"provenance", "signatures: off\ninstall_scripts: off\nnew_maintainers: off\n"},
		{"osv", off + "osv_db: " + osv + "\n"},
		{"age+license+signals", "signatures: off\nprovenance: off\nmin_age: 72h\nlicenses: [MIT, Apache-2.0]\n"},
	} {
		b.Run("check/"+tc.name, func(b *testing.B) {
			c := NewClient(NewConfig(reg.Base()))
			c.Gate = newGate(b, tc.policy)
			c.Clock = func() time.Time { return now }
			v, doc, err := c.Resolve(ctx, "sigstore", "1.0.0")
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := c.admit(ctx, v, doc, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
