package graph

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkReactDomMap times react-dom's map (react-dom/client, react,
// scheduler): cold, from empty storage (fetch from the test registry,
// publish, trace, build), and warm (everything stored and traced). It
// reports the bytes the builds take in storage, sidecars included.
//
//	go test ./esm/graph -run '^$' -bench ReactDomMap -benchtime 5x
func BenchmarkReactDomMap(b *testing.B) {
	specs := []string{"react@^18", "react-dom@^18/client"}
	b.Run("cold", func(b *testing.B) {
		var stored int64
		for b.Loop() {
			b.StopTimer()
			root := filepath.Join(b.TempDir(), "dist")
			m := newMaker(b, root, Options{}, "react", "react-dom")
			b.StartTimer()
			if _, err := m.Make(context.Background(), base, specs); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			stored = dirBytes(filepath.Join(root, BuildsDir))
			b.StartTimer()
		}
		b.ReportMetric(float64(stored), "build-bytes")
	})
	b.Run("warm", func(b *testing.B) {
		m := newMaker(b, filepath.Join(b.TempDir(), "dist"), Options{}, "react", "react-dom")
		if _, err := m.Make(context.Background(), base, specs); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := m.Make(context.Background(), base, specs); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// dirBytes sums the sizes of the files below dir.
func dirBytes(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}
