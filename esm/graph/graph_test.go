package graph

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/npm"
	"github.com/cdnserve/cdnserve/npm/npmtest"
	"github.com/cdnserve/cdnserve/storage"
)

// newMaker is a Maker over an empty dist tree on disk, fetching real
// packages (scripts/real-packages.sh) from the test registry; only
// allow is allowed by name.
func newMaker(t *testing.T, root string, allow ...string) *Maker {
	t.Helper()
	reg := npmtest.Start(t)
	client := npm.NewClient(npm.NewConfig(reg.URL))
	client.CacheDir = t.TempDir()
	tree := dist.NewTree(storage.DiskFs{}, root)
	os.MkdirAll(root, 0o755)
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	m, err := New(Options{Fs: storage.DiskFs{}, Root: root, Tool: "cdnserve test", Log: log,
		Fetch: &npm.Mirror{Client: client, Tree: tree, Allow: allow, AllowDependencies: true, Tool: "cdnserve test", Log: log}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestReactGraph(t *testing.T) {
	root := filepath.Join(t.TempDir(), "dist")
	m := newMaker(t, root, "react", "react-dom")
	res, err := m.Make(context.Background(), "https://cdn.example/", []string{"react@^18", "react-dom@^18/client"})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.MarshalIndent(res, "", "  ")
	t.Logf("%s", out)
	for _, spec := range []string{"react", "react-dom", "react-dom/client", "scheduler"} {
		if !strings.HasPrefix(res.Map.Imports[spec], "https://cdn.example/-/esm/") {
			t.Errorf("imports[%q] = %q, want a build", spec, res.Map.Imports[spec])
		}
	}
}
