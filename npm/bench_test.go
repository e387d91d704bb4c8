package npm

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
