package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/gate"
	"github.com/cdnserve/cdnserve/importmap"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/npm"
	"github.com/cdnserve/cdnserve/npm/npmtest"
	"github.com/cdnserve/cdnserve/storage"
)

// newMaker is a Maker over an empty dist tree on disk at root, fetching
// real packages (scripts/real-packages.sh) from the test registry; only
// allow is allowed by name, and dependencies of what is fetched.
func newMaker(t testing.TB, root string, o Options, allow ...string) *Maker {
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
	o.Fs, o.Root, o.Tool, o.Log = storage.DiskFs{}, root, "cdnserve test", log
	if o.Fetch == nil {
		o.Fetch = &npm.Mirror{Client: client, Tree: tree, Allow: allow, AllowDependencies: true, Tool: "cdnserve test", Log: log}
	}
	m, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

const base = "https://cdn.example/"

// buildFile reads a file of a build that a map URL names.
func buildFile(t *testing.T, root, u string) []byte {
	t.Helper()
	rel, ok := strings.CutPrefix(u, base+"-/esm/")
	if !ok {
		t.Fatalf("%s is not a build's URL", u)
	}
	data, err := os.ReadFile(filepath.Join(root, BuildsDir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestReactGraph: react and react-dom, CommonJS both, are built into ES
// modules with the named exports Node gives them; react-dom's build
// imports "react" and "scheduler" by their bare names, so the page has
// one React; every module has its integrity, and each build its
// manifest and provenance, and no alias.
func TestReactGraph(t *testing.T) {
	t.Parallel()
	root := filepath.Join(t.TempDir(), "dist")
	m := newMaker(t, root, Options{}, "react", "react-dom")
	res, err := m.Make(context.Background(), base, []string{"react@^18", "react-dom@^18/client"})
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range []string{"react", "react/jsx-runtime", "react-dom", "react-dom/client", "scheduler"} {
		if !strings.HasPrefix(res.Map.Imports[spec], base+"-/esm/") {
			t.Errorf("imports[%q] = %q, want a build", spec, res.Map.Imports[spec])
		}
	}
	if res.Packages != 3 || res.Built != 3 || len(res.Builds) != 3 {
		t.Errorf("packages %d, built %d, builds %q: want 3 of each", res.Packages, res.Built, res.Builds)
	}
	react := string(buildFile(t, root, res.Map.Imports["react"]))
	for _, name := range []string{"useState", "useEffect", "createElement", "version", "default"} {
		if !strings.Contains(react, " as "+name) && !strings.Contains(react, ","+name+"}") {
			t.Errorf("react's build does not export %s:\n%.400s", name, react[len(react)-400:])
		}
	}
	client := string(buildFile(t, root, res.Map.Imports["react-dom/client"]))
	dom := string(buildFile(t, root, res.Map.Imports["react-dom"]))
	if !strings.Contains(client, `from"react-dom"`) || !strings.Contains(dom, `from"react"`) || !strings.Contains(dom, `from"scheduler"`) {
		t.Error("react-dom's build does not import react, scheduler and itself by their bare names")
	}
	if strings.Contains(dom, "process.env") || strings.Contains(dom, "react.development") {
		t.Error("react-dom's build reads process.env, or holds the development build")
	}
	for u, sri := range res.Map.Integrity {
		if got := layout.SRI(buildFile(t, root, u)); got != sri {
			t.Errorf("%s: integrity %s, the bytes are %s", u, sri, got)
		}
	}
	key := strings.Split(strings.TrimPrefix(res.Map.Imports["react"], base+"-/esm/"), "/")[0]
	raw, err := os.ReadFile(filepath.Join(root, BuildsDir, key, "18.3.1", layout.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var man layout.Manifest
	json.Unmarshal(raw, &man)
	if !strings.HasPrefix(man.Provenance.Integrity, "sha512-") || !strings.Contains(man.Provenance.Tool, "esbuild v0.") || !strings.Contains(man.Provenance.Source, "react@18.3.1") {
		t.Errorf("the build's provenance: %+v", man.Provenance)
	}
	if _, err := os.Stat(filepath.Join(root, BuildsDir, key, "18.3")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a build has an alias directory: %v", err)
	}
	// Asked again, nothing is built.
	again, err := m.Make(context.Background(), base, []string{"react@^18", "react-dom@^18/client"})
	if err != nil || again.Built != 0 {
		t.Fatalf("asked again: built %d, %v", again.Built, err)
	}
}

// TestBuildsAreTheSameOnTwoReplicas: two replicas with storage of their
// own fetch and build the same graph, and make the same map, byte for
// byte, and the same build files.
func TestBuildsAreTheSameOnTwoReplicas(t *testing.T) {
	t.Parallel()
	var maps [2][]byte
	var roots [2]string
	for i := range roots {
		roots[i] = filepath.Join(t.TempDir(), "dist")
		m := newMaker(t, roots[i], Options{}, "react-dom")
		res, err := m.Make(context.Background(), base, []string{"react-dom@^18/client"})
		if err != nil {
			t.Fatal(err)
		}
		maps[i], _ = json.Marshal(res.Map)
		if i == 1 {
			for u := range res.Map.Integrity {
				if strings.HasPrefix(u, base+"-/esm/") && !bytes.Equal(buildFile(t, roots[0], u), buildFile(t, roots[1], u)) {
					t.Errorf("%s differs between the replicas", u)
				}
			}
		}
	}
	if !bytes.Equal(maps[0], maps[1]) {
		t.Errorf("the replicas' maps differ:\n%s\n%s", maps[0], maps[1])
	}
}

// TestBuildBounds: a build past its time limit fails with
// ErrBuildTimeout (504), one past the memory limit with ErrTooLarge
// (503), and one that finds every slot taken with ErrBusy (503, with
// Retry-After); each names the package.
func TestBuildBounds(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		hold bool
		want error
	}{
		{"time", Options{BuildTimeout: time.Nanosecond}, false, ErrBuildTimeout},
		{"memory", Options{MaxPackageBytes: 10_000}, false, ErrTooLarge},
		{"slots", Options{Builds: 1, QueueWait: 50 * time.Millisecond}, true, ErrBusy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMaker(t, filepath.Join(t.TempDir(), "dist"), tc.o, "react")
			if tc.hold {
				m.slots <- struct{}{} // another build holds the one slot
				defer func() { <-m.slots }()
			}
			_, err := m.Make(context.Background(), base, []string{"react@^18"})
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), "react@18.3.1") {
				t.Fatalf("%v, want %v naming react@18.3.1", err, tc.want)
			}
		})
	}
	if !errors.Is(ErrBuildTimeout, context.DeadlineExceeded) {
		t.Error("ErrBuildTimeout is no DeadlineExceeded: the server would not answer 504")
	}
	var later interface{ RetryAfter() time.Duration }
	if !errors.As(ErrBusy, &later) {
		t.Error("ErrBusy has no RetryAfter: the server would not answer 503 with Retry-After")
	}
}

// TestDependenciesOfAllowedPackages: a package the allow-list does not
// name is fetched when a package of the graph declares it (react for
// react-dom), and refused when asked for by name; without
// AllowDependencies, the graph fails naming it.
func TestDependenciesOfAllowedPackages(t *testing.T) {
	t.Parallel()
	m := newMaker(t, filepath.Join(t.TempDir(), "dist"), Options{}, "react-dom")
	res, err := m.Make(context.Background(), base, []string{"react-dom@^18"})
	if err != nil || res.Map.Imports["react"] == "" {
		t.Fatalf("react-dom's graph: %v", err)
	}
	_, err = m.Make(context.Background(), base, []string{"vue@^3"})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "not allowed by --npm-allow") {
		t.Errorf("vue, asked for by name: %v", err)
	}
	reg := npmtest.Start(t)
	root := filepath.Join(t.TempDir(), "dist")
	client := npm.NewClient(npm.NewConfig(reg.URL))
	client.CacheDir = t.TempDir()
	strict := newMaker(t, root, Options{Fetch: &npm.Mirror{Client: client, Tree: dist.NewTree(storage.DiskFs{}, root), Allow: []string{"react-dom"}}})
	_, err = strict.Make(context.Background(), base, []string{"react-dom@^18"})
	var ge *Error
	if !errors.As(err, &ge) || !strings.Contains(err.Error(), "react@") || !strings.Contains(err.Error(), "dependency of react-dom") {
		t.Errorf("without AllowDependencies: %v", err)
	}
}

// TestGateRefusesADependency: the supply-chain gate runs for every
// package a graph pulls in: with react 18.3.1 reported as malicious in
// the OSV database, react-dom's map fails naming react and the check,
// and react is not stored.
func TestGateRefusesADependency(t *testing.T) {
	t.Parallel()
	reg := npmtest.Start(t)
	osv := filepath.Join(t.TempDir(), "MAL-test-react.json")
	os.WriteFile(osv, []byte(`{"id": "MAL-2026-9999", "summary": "Malicious code in react (npm) [test record]",
  "affected": [{"package": {"ecosystem": "npm", "name": "react"}, "versions": ["18.3.1"]}]}`), 0o644)
	root := filepath.Join(t.TempDir(), "dist")
	log := &gate.AuditLog{Fs: storage.DiskFs{}, Root: root}
	g, err := gate.New(gate.Options{Policy: &gate.Policy{OSVDB: osv, Source: "test"}, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	client := npm.NewClient(npm.NewConfig(reg.URL))
	client.CacheDir, client.Gate = t.TempDir(), g
	m := newMaker(t, root, Options{Fetch: &npm.Mirror{Client: client, Tree: dist.NewTree(storage.DiskFs{}, root), Allow: []string{"react-dom"}, AllowDependencies: true}})
	_, err = m.Make(context.Background(), base, []string{"react-dom@18.3.1"})
	var refused *gate.Refused
	if !errors.As(err, &refused) || refused.Decision.Package != "react" || !strings.Contains(err.Error(), "malware: reported as malicious: MAL-2026-9999") {
		t.Fatalf("react-dom's graph: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "react")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("react was stored: %v", err)
	}
	lines, _ := log.Read("")
	if len(lines) != 2 || !strings.Contains(lines[0], `"package":"react-dom","version":"18.3.1"`) || !strings.Contains(lines[1], `"package":"react","version":"18.3.1"`) ||
		!strings.Contains(lines[1], `"admitted":false`) {
		t.Errorf("audit log %q", lines)
	}
}

// TestScopesAndErrors: two packages that need two majors of one
// dependency get one in imports and the other in the scope of the
// package that needs it; a module importing a Node built-in, or a
// dependency it does not declare, fails naming the package, the
// specifier and why.
func TestScopesAndErrors(t *testing.T) {
	t.Parallel()
	reg := npmtest.Start(t)
	shared, a, b := npmtest.Name("cdnstest-shared"), npmtest.Name("cdnstest-a"), npmtest.Name("cdnstest-b")
	node, undeclared := npmtest.Name("cdnstest-node"), npmtest.Name("cdnstest-undeclared")
	for _, v := range []string{"1.0.0", "2.0.0"} {
		reg.Publish(t, npmtest.Package{Name: shared, Version: v, JSON: map[string]any{"type": "module", "exports": "./index.js"},
			Files: map[string]string{"index.js": `export const version = "` + v + `";` + "\n"}})
	}
	for name, rng := range map[string]string{a: "^1.0.0", b: "^2.0.0"} {
		reg.Publish(t, npmtest.Package{Name: name, Version: "1.0.0", JSON: map[string]any{"type": "module", "main": "index.js", "dependencies": map[string]string{shared: rng}},
			Files: map[string]string{"index.js": `export { version } from "` + shared + `";` + "\n"}})
	}
	reg.Publish(t, npmtest.Package{Name: node, Version: "1.0.0", JSON: map[string]any{"main": "index.js"},
		Files: map[string]string{"index.js": `const fs = require("fs");` + "\nmodule.exports = fs.readFileSync;\n"}})
	reg.Publish(t, npmtest.Package{Name: undeclared, Version: "1.0.0", JSON: map[string]any{"type": "module", "main": "index.js"},
		Files: map[string]string{"index.js": `export * from "left-pad";` + "\n"}})

	m := newMaker(t, filepath.Join(t.TempDir(), "dist"), Options{}, a, b, node, undeclared)
	res, err := m.Make(context.Background(), base, []string{a + "@1", b + "@1"})
	if err != nil {
		t.Fatal(err)
	}
	top, scoped := res.Map.Imports[shared], res.Map.Scopes[base+b+"/1.0.0/"][shared]
	if top != base+shared+"/1.0.0/index.js" || scoped != base+shared+"/2.0.0/index.js" {
		out, _ := json.MarshalIndent(res.Map, "", "  ")
		t.Errorf("imports[shared] %q, %s's scope %q:\n%s", top, b, scoped, out)
	}
	for _, tc := range []struct{ spec, want string }{
		{node + "@1", node + `@1.0.0: ` + node + `: index.js:1:19: Could not resolve "fs" (a Node built-in, which browsers lack`},
		{undeclared + "@1", undeclared + "@1.0.0: left-pad: a module imports left-pad, but the package.json declares no left-pad"},
	} {
		_, err := m.Make(context.Background(), base, []string{tc.spec})
		if !errors.Is(err, importmap.ErrUnsupported) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v\nwant %q", tc.spec, err, tc.want)
		}
	}
}

// TestEsbuildVersion keeps EsbuildVersion, which keys every build, the
// version go.mod requires: a new esbuild makes new builds.
func TestEsbuildVersion(t *testing.T) {
	raw, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "github.com/evanw/esbuild "+EsbuildVersion+"\n") {
		t.Errorf("go.mod does not require esbuild %s: change EsbuildVersion with it", EsbuildVersion)
	}
}
