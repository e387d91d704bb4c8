package bundle

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"
)

// benchTree publishes libs libraries of versions versions each, every
// version files files of size bytes of text (compressible, as scripts
// are), on disk.
func benchTree(b *testing.B, libs, versions, files, size int) (dist.Tree, []Pin) {
	top, _ := diskTree(b)
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("function return const let var this export import default if else for while new class extends")
	var pins []Pin
	for l := range libs {
		name := fmt.Sprintf("lib-%03d", l)
		tree, _ := top.Library(name)
		for v := range versions {
			var fl []layout.File
			for f := range files {
				var sb strings.Builder
				for sb.Len() < size {
					sb.WriteString(words[rng.IntN(len(words))])
					sb.WriteString(fmt.Sprint(rng.IntN(1000)))
					sb.WriteByte(" ;\n"[rng.IntN(3)])
				}
				fl = append(fl, layout.File{Name: fmt.Sprintf("dist/f%02d.js", f), Data: []byte(sb.String()[:size])})
			}
			version := fmt.Sprintf("1.%d.0", v)
			sv, _ := versioning.Parse(version)
			if _, err := tree.Publish(context.Background(), dist.Request{Version: sv, Files: fl, Compression: layout.Fast}); err != nil {
				b.Fatal(err)
			}
			pins = append(pins, Pin{name, version})
		}
	}
	return top, pins
}

// BenchmarkBundle is the figure of docs/benchmarks.md (issue 30): export
// and import time, and bundle size, for 1,000 versions (50 libraries of
// 20 versions, 5 files of 8 KB each) and for a lockfile of 300 packages
// (one version each, 40 files of 6 KB: 240 KB, a middling npm package).
// Run: go test ./bundle -run x -bench Bundle -benchtime 3x
func BenchmarkBundle(b *testing.B) {
	for _, tc := range []struct {
		name                        string
		libs, versions, files, size int
		byLockfile                  bool
	}{
		{"1000-versions", 50, 20, 5, 8 << 10, false},
		{"300-package-lockfile", 300, 1, 40, 6 << 10, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			src, pins := benchTree(b, tc.libs, tc.versions, tc.files, tc.size)
			sel := Selection{All: true}
			if tc.byLockfile {
				sel = Selection{Pins: pins}
			}
			pub, key, _ := ed25519.GenerateKey(nil)
			file := filepath.Join(b.TempDir(), "bundle.tar")
			var exportTime, importTime time.Duration
			var size int64
			b.ResetTimer()
			for range b.N {
				f, _ := os.Create(file)
				start := time.Now()
				rep, err := Export(context.Background(), src, sel, f, ExportOptions{Key: key})
				f.Sync()
				exportTime += time.Since(start)
				f.Close()
				if err != nil {
					b.Fatal(err)
				}
				size = rep.Bytes
				b.StopTimer()
				dst, _ := diskTree(b)
				f, _ = os.Open(file)
				b.StartTimer()
				start = time.Now()
				got, err := Import(context.Background(), dst, f, ImportOptions{Key: pub})
				importTime += time.Since(start)
				f.Close()
				if err != nil || len(got.Imported) != len(pins) {
					b.Fatalf("import: %v (%d of %d)", err, len(got.Imported), len(pins))
				}
			}
			b.ReportMetric(exportTime.Seconds()/float64(b.N), "export-s")
			b.ReportMetric(importTime.Seconds()/float64(b.N), "import-s")
			b.ReportMetric(float64(size)/(1<<20), "bundle-MB")
		})
	}
}
