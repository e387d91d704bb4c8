package npm

import (
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/npm/npmtest"
	"github.com/cdnserve/cdnserve/server"
	"github.com/cdnserve/cdnserve/storage"
	"github.com/cdnserve/cdnserve/versioning"
)

// megabyteOfJS is about 1 MB of JavaScript that compresses as real code
// does (about 4:1), not as a run of one byte.
func megabyteOfJS() string {
	r := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for b.Len() < 1<<20 {
		fmt.Fprintf(&b, "function f%d(a, b) { return a * %d + b - %d; }\n", r.IntN(1e6), r.IntN(1e4), r.IntN(1e4))
	}
	return b.String()
}

// BenchmarkMirror measures the npm mirror against the real registry
// (issue 16), through real HTTP round trips:
//   - first-request: a never-fetched 1 MB package, fetched, verified,
//     published into a new tree on disk and served (one op = one first
//     request);
//   - stored-mirrored: the same file once stored;
//   - stored-published: the same bytes published as any other library,
//     for comparison: the two must be as fast.
func BenchmarkMirror(b *testing.B) {
	reg := npmtest.Start(b)
	name := npmtest.Name("cdnsbench-mb")
	big := megabyteOfJS()
	reg.Publish(b, npmtest.Package{Name: name, Version: "1.0.0", Files: map[string]string{"dist/big.js": big}})
	path := "/" + name + "/1.0.0/dist/big.js"
	newServer := func(b *testing.B) (*httptest.Server, dist.Tree) {
		root := dist.NewTree(storage.DiskFs{}, filepath.Join(b.TempDir(), "dist"))
		os.MkdirAll(root.Root, 0o755)
		client := NewClient(NewConfig(reg.URL)) // no tarball cache: every first request downloads
		srv, err := server.New(server.Config{Fs: storage.DiskFs{}, Root: root.Root, Mirror: &Mirror{Client: client, Tree: root, Allow: []string{name}}})
		if err != nil {
			b.Fatal(err)
		}
		ts := httptest.NewServer(srv)
		b.Cleanup(ts.Close)
		return ts, root
	}
	get := func(b *testing.B, url string) {
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n != int64(len(big)) {
			b.Fatalf("%s: %d, %d bytes", url, resp.StatusCode, n)
		}
	}
	b.Run("first-request", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			ts, _ := newServer(b)
			b.StartTimer()
			get(b, ts.URL+path)
		}
	})
	ts, root := newServer(b)
	get(b, ts.URL+path)
	other, _ := root.Library("published-" + name)
	v, _ := versioning.Parse("1.0.0")
	if _, err := other.Publish(context.Background(), dist.Request{Version: v, Files: []layout.File{{Name: "dist/big.js", Data: []byte(big)}}}); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct{ name, path string }{{"stored-mirrored", path}, {"stored-published", "/published-" + name + "/1.0.0/dist/big.js"}} {
		b.Run(tc.name, func(b *testing.B) {
			get(b, ts.URL+tc.path)
			for b.Loop() {
				get(b, ts.URL+tc.path)
			}
		})
	}
}

// BenchmarkMirrorMemory measures the peak resident memory of 24
// concurrent first requests for 24 different 40 MB packages (issue 25,
// item 10: 2.65 GB before), with the mirror's default bound of 4
// fetches at once and with 24. The registry serves the tarballs from
// disk, so its own memory stays out of the figure. Run it alone:
//
//	go test ./npm -run X -bench MirrorMemory -benchtime 1x
func BenchmarkMirrorMemory(b *testing.B) {
	const packages, files, fileMB = 24, 4, 10
	dir := b.TempDir()
	random := make([]byte, fileMB<<20)
	chacha := rand.NewChaCha8([32]byte{3, 4})
	chacha.Read(random)
	docs := map[string][]byte{}
	srvMux := http.NewServeMux()
	reg := httptest.NewServer(srvMux)
	defer reg.Close()
	for i := range packages {
		name := fmt.Sprintf("big%d", i)
		var entries []npmtest.Entry
		for f := range files {
			entries = append(entries, npmtest.Entry{Name: fmt.Sprintf("package/f%d.js", f), Body: name + string(random)})
		}
		tgz := npmtest.Tarball(b, entries...)
		os.WriteFile(filepath.Join(dir, name+".tgz"), tgz, 0o644)
		sum := sha512.Sum512(tgz)
		docs[name], _ = json.Marshal(map[string]any{"name": name, "dist-tags": map[string]string{"latest": "1.0.0"},
			"versions": map[string]any{"1.0.0": map[string]any{"name": name, "version": "1.0.0",
				"dist": map[string]string{"tarball": reg.URL + "/-/" + name + ".tgz", "integrity": "sha512-" + base64.StdEncoding.EncodeToString(sum[:])}}}})
	}
	random = nil
	srvMux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if tgz, ok := strings.CutPrefix(r.URL.Path, "/-/"); ok {
			http.ServeFile(w, r, filepath.Join(dir, tgz))
			return
		}
		if doc, ok := docs[strings.TrimPrefix(r.URL.Path, "/")]; ok {
			w.Write(doc)
			return
		}
		http.NotFound(w, r)
	})
	for _, concurrent := range []int{4, packages} {
		b.Run(fmt.Sprintf("concurrent-%d", concurrent), func(b *testing.B) {
			for range b.N {
				c := NewClient(NewConfig(reg.URL + "/"))
				c.CacheDir = b.TempDir()
				root := dist.NewTree(storage.DiskFs{}, filepath.Join(b.TempDir(), "dist"))
				os.MkdirAll(root.Root, 0o755)
				srv, err := server.New(server.Config{Fs: storage.DiskFs{}, Root: root.Root,
					Mirror: &Mirror{Client: c, Tree: root, Allow: []string{"big*"}, Concurrent: concurrent, QueueWait: 5 * time.Second}})
				if err != nil {
					b.Fatal(err)
				}
				ts := httptest.NewServer(srv)
				runtime.GC()
				debug.FreeOSMemory()
				os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // resets VmHWM (Linux)
				codes := make([]int, packages)
				var wg sync.WaitGroup
				for i := range packages {
					wg.Go(func() {
						resp, err := http.Get(fmt.Sprintf("%s/big%d/1.0.0/f0.js", ts.URL, i))
						if err == nil {
							io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							codes[i] = resp.StatusCode
						}
					})
				}
				wg.Wait()
				ts.Close()
				ok, busy := 0, 0
				for _, code := range codes {
					ok += b2i(code == 200)
					busy += b2i(code == 503)
				}
				b.ReportMetric(rssMB("VmHWM:"), "peak-RSS-MB")
				b.ReportMetric(rssMB("VmRSS:"), "after-RSS-MB")
				b.ReportMetric(float64(ok), "200s")
				b.ReportMetric(float64(busy), "503s")
			}
		})
	}
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

// rssMB reads one of the process's memory figures in MB: VmHWM (the
// peak resident set) or VmRSS (now).
func rssMB(field string) float64 {
	raw, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(v), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}
