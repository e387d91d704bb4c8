package dist

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/andybalholm/brotli"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"

	"github.com/cdnserve/cdnserve/storage"
)

var fixedTime = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func memTree() Tree {
	tree := NewTree(afero.NewMemMapFs(), "dist")
	tree.PID, tree.Host, tree.Clock = 4242, "test-host", func() time.Time { return fixedTime }
	tree.ProcessAlive = func(pid int) bool { return pid == 4242 }
	return tree
}

func ver(t *testing.T, s string) *semver.Version {
	t.Helper()
	return semver.MustParse(s)
}

// onDisk moves a test tree to a new directory on the local disk, with an
// atomic directory exchange where the kernel has one (storage.DiskFs).
func onDisk(t *testing.T, tree Tree) Tree {
	d := NewTree(storage.DiskFs{}, filepath.Join(t.TempDir(), "dist"))
	d.PID, d.Host, d.Clock, d.ProcessAlive = tree.PID, tree.Host, tree.Clock, tree.ProcessAlive
	return d
}

// lib returns the files of a small library at a version: a large script
// (worth compressing), a tiny one (not), and a binary.
func lib(version string) []layout.File {
	big := strings.Repeat("/* "+version+" */ function add(a, b) { return a + b; }\n", 60)
	return []layout.File{
		{Name: "lib.js", Data: []byte(big)},
		{Name: "tiny.js", Data: []byte("var v='" + version + "';")},
		{Name: "common.js", Data: []byte(strings.Repeat("var shared = 1;\n", 40))},
		{Name: "sub/flash.swf", Data: []byte("FWS\x00\x01" + version)},
	}
}

func publish(t *testing.T, tree Tree, version string, files []layout.File, force bool) *Result {
	t.Helper()
	res, err := tree.Publish(context.Background(), Request{Version: ver(t, version), Files: files, Force: force})
	if err != nil {
		t.Fatalf("publish %s: %v", version, err)
	}
	return res
}

func read(t *testing.T, tree Tree, p string) string {
	t.Helper()
	b, err := afero.ReadFile(tree.Fs, path.Join(tree.Root, p))
	if err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	return string(b)
}

func listTree(t *testing.T, tree Tree) []string {
	t.Helper()
	var out []string
	afero.Walk(tree.Fs, tree.Root, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			out = append(out, strings.TrimPrefix(p, tree.Root+"/"))
		}
		return nil
	})
	slices.Sort(out)
	return out
}

func mustVerify(t *testing.T, tree Tree) *VerifyReport {
	t.Helper()
	r, err := tree.Verify()
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Fatalf("verify found problems: %v", r.Problems)
	}
	return r
}

func TestPublishLayoutAndManifest(t *testing.T) {
	tree := memTree()
	res := publish(t, tree, "1.7.1", lib("1.7.1"), false)
	if res.Action != Created || len(res.Aliases) != 1 || res.Aliases[0] != (AliasResult{Dir: "1.7", Action: Created, Holds: "1.7.1"}) {
		t.Errorf("result = %+v", res)
	}
	want := []string{
		"1.7.1/_cdnserve.json", "1.7.1/common.js", "1.7.1/common.js.br", "1.7.1/common.js.gz",
		"1.7.1/lib.js", "1.7.1/lib.js.br", "1.7.1/lib.js.gz", "1.7.1/sub/flash.swf", "1.7.1/tiny.js",
		"1.7/_cdnserve.json", "1.7/common.js", "1.7/common.js.br", "1.7/common.js.gz",
		"1.7/lib.js", "1.7/lib.js.br", "1.7/lib.js.gz", "1.7/sub/flash.swf", "1.7/tiny.js",
	}
	// The change for the edge is recorded: alias 1.7 created, holding
	// 1.7.1, the latest, and the files an edge may hold of it.
	if res.Change == nil || res.ChangeErr != nil {
		t.Fatalf("no change recorded: %v", res.ChangeErr)
	}
	want = append([]string{ChangesDir + "/" + res.Change.ID}, want...)
	raw, _ := afero.ReadFile(tree.Fs, path.Join(tree.Root, ChangesDir, res.Change.ID))
	if got := string(raw); !strings.Contains(got, `"kind":"publish","version":"1.7.1","aliases":[{"dir":"1.7","to":"1.7.1"}],"files":["common.js","lib.js","sub/flash.swf","tiny.js"],"latest":true`) {
		t.Errorf("the change record: %s", got)
	}
	if got := listTree(t, tree); !slices.Equal(got, want) {
		t.Errorf("tree =\n%q\nwant\n%q", got, want)
	}
	if res.Files != 4 || res.Sidecars != 4 {
		t.Errorf("counted %d files, %d sidecars; want 4 and 4", res.Files, res.Sidecars)
	}
	// The sidecars decompress to the original, and are smaller.
	orig := read(t, tree, "1.7.1/lib.js")
	br, _ := io.ReadAll(brotli.NewReader(strings.NewReader(read(t, tree, "1.7.1/lib.js.br"))))
	zr, err := gzip.NewReader(strings.NewReader(read(t, tree, "1.7.1/lib.js.gz")))
	if err != nil {
		t.Fatal(err)
	}
	gz, _ := io.ReadAll(zr)
	if string(br) != orig || string(gz) != orig {
		t.Error("a sidecar does not decompress to the original")
	}

	var m layout.Manifest
	if err := json.Unmarshal([]byte(read(t, tree, "1.7.1/_cdnserve.json")), &m); err != nil {
		t.Fatal(err)
	}
	if m.Format != 1 || m.Version != "1.7.1" || m.AliasOf != "" || !m.Provenance.BuiltAt.Equal(fixedTime) || len(m.Files) != 4 {
		t.Errorf("manifest = %+v", m)
	}
	libEntry, _ := m.File("lib.js")
	if libEntry.Size != int64(len(orig)) || libEntry.ContentType != "text/javascript; charset=utf-8" ||
		libEntry.SHA256 != layout.SHA256Hex([]byte(orig)) || libEntry.Integrity != layout.SRI([]byte(orig)) || !strings.HasPrefix(libEntry.Integrity, "sha384-") ||
		libEntry.Encodings["br"].Size != int64(len(read(t, tree, "1.7.1/lib.js.br"))) || libEntry.Encodings["gzip"].SHA256 != layout.SHA256Hex([]byte(read(t, tree, "1.7.1/lib.js.gz"))) {
		t.Errorf("lib.js entry = %+v", libEntry)
	}
	swf, _ := m.File("sub/flash.swf")
	if swf.ContentType != "application/x-shockwave-flash" || swf.Encodings != nil {
		t.Errorf("flash entry = %+v, want no sidecars", swf)
	}
	if tiny, _ := m.File("tiny.js"); tiny.Encodings != nil {
		t.Errorf("tiny.js got sidecars %v although they are not smaller", tiny.Encodings)
	}
	var alias layout.Manifest
	json.Unmarshal([]byte(read(t, tree, "1.7/_cdnserve.json")), &alias)
	if alias.AliasOf != "1.7.1" || alias.Version != "1.7.1" || !slices.EqualFunc(alias.Files, m.Files, func(a, b layout.ManifestFile) bool { return a.SHA256 == b.SHA256 && a.Path == b.Path }) {
		t.Errorf("alias manifest = %+v", alias)
	}
	r := mustVerify(t, tree)
	if !slices.Equal(r.Versions, []string{"1.7.1"}) || !slices.Equal(r.Aliases, []string{"1.7"}) || r.Files != 16 {
		t.Errorf("verify report = %+v", r)
	}
}

func TestPublishIdempotent(t *testing.T) {
	tree := memTree()
	publish(t, tree, "1.7.1", lib("1.7.1"), false)
	before := read(t, tree, "1.7.1/_cdnserve.json")
	tree.Clock = func() time.Time { return fixedTime.Add(time.Hour) }
	res := publish(t, tree, "1.7.1", lib("1.7.1"), false)
	if res.Action != Unchanged || res.Aliases[0].Action != Unchanged {
		t.Errorf("re-publish = %+v, want unchanged", res)
	}
	if read(t, tree, "1.7.1/_cdnserve.json") != before {
		t.Error("an identical re-publish rewrote the manifest")
	}
}

func TestPublishImmutable(t *testing.T) {
	tests := []struct {
		name       string
		change     func([]layout.File) []layout.File
		file, says string
	}{
		{"changed byte", func(fs []layout.File) []layout.File { fs[2].Data = append(slices.Clone(fs[2].Data), ' '); return fs }, "common.js", "differs (published sha256"},
		{"added file", func(fs []layout.File) []layout.File {
			return append(fs, layout.File{Name: "new.js", Data: []byte("x")})
		}, "new.js", "is not in the published version"},
		{"removed file", func(fs []layout.File) []layout.File { return fs[:3] }, "sub/flash.swf", "is published but not in the new content"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tree := memTree()
			publish(t, tree, "1.7.1", lib("1.7.1"), false)
			before := listTree(t, tree)
			beforeLib := read(t, tree, "1.7.1/common.js")
			_, err := tree.Publish(context.Background(), Request{Version: ver(t, "1.7.1"), Files: tc.change(lib("1.7.1"))})
			var ie *ImmutableError
			if !errors.As(err, &ie) || ie.File != tc.file || !strings.Contains(ie.Detail, tc.says) {
				t.Fatalf("err = %v, want ImmutableError on %s (%s)", err, tc.file, tc.says)
			}
			if !strings.Contains(err.Error(), "version 1.7.1 is published and immutable: "+tc.file) || !strings.Contains(err.Error(), "--force") {
				t.Errorf("message = %q", err)
			}
			if !slices.Equal(listTree(t, tree), before) || read(t, tree, "1.7.1/common.js") != beforeLib {
				t.Error("a refused publish changed the tree")
			}
		})
	}
}

func TestPublishForce(t *testing.T) {
	for _, fsName := range []string{"mem", "disk"} {
		t.Run(fsName, func(t *testing.T) {
			tree := memTree()
			if fsName == "disk" {
				tree = onDisk(t, tree)
			}
			publish(t, tree, "1.7.1", lib("1.7.1"), false)
			changed := lib("1.7.1")
			changed[1].Data = []byte("var v='fixed';")
			res := publish(t, tree, "1.7.1", changed, true)
			if res.Action != Replaced || res.Aliases[0].Action != Moved {
				t.Errorf("forced publish = %+v", res)
			}
			if read(t, tree, "1.7.1/tiny.js") != "var v='fixed';" || read(t, tree, "1.7/tiny.js") != "var v='fixed';" {
				t.Error("forced content not in place")
			}
			mustVerify(t, tree)
			if leftovers := listDot(t, tree); len(leftovers) != 0 {
				t.Errorf("leftovers after force: %q", leftovers)
			}
		})
	}
}

func listDot(t *testing.T, tree Tree) []string {
	entries, err := afero.ReadDir(tree.Fs, tree.Root)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") && e.Name() != ChangesDir { // the changes for the edge are records, not leftovers
			out = append(out, e.Name())
		}
	}
	return out
}

func TestAliasMonotonic(t *testing.T) {
	tree := memTree()
	publish(t, tree, "1.7.1", lib("1.7.1"), false)
	res := publish(t, tree, "1.7.0", lib("1.7.0"), false) // a backport
	if res.Action != Created || res.Aliases[0] != (AliasResult{Dir: "1.7", Action: Kept, Was: "1.7.1", Holds: "1.7.1"}) {
		t.Errorf("backport = %+v, want alias kept at 1.7.1", res)
	}
	if !strings.Contains(read(t, tree, "1.7/lib.js"), "1.7.1") || !strings.Contains(read(t, tree, "1.7.0/lib.js"), "1.7.0") {
		t.Error("backport moved the alias or was not written")
	}
	res = publish(t, tree, "1.7.2-rc.1", lib("1.7.2-rc.1"), false)
	if len(res.Aliases) != 0 || !strings.Contains(read(t, tree, "1.7/lib.js"), "1.7.1") {
		t.Errorf("prerelease touched the alias: %+v", res)
	}
	res = publish(t, tree, "1.7.10", lib("1.7.10"), false) // semver order, not string order
	if res.Aliases[0] != (AliasResult{Dir: "1.7", Action: Moved, Was: "1.7.1", Holds: "1.7.10"}) {
		t.Errorf("1.7.10 = %+v", res.Aliases)
	}
	publish(t, tree, "1.7.9", lib("1.7.9"), false)
	if !strings.Contains(read(t, tree, "1.7/lib.js"), "1.7.10") {
		t.Error("1.7.9 moved the alias back from 1.7.10")
	}
	mustVerify(t, tree)
}

func TestPublishRejectsNames(t *testing.T) {
	tests := []struct{ name, file, want string }{
		{"dotfile", ".env", "names starting with '.' are internal"},
		{"dot dir", "a/.git/config", "names starting with '.' are internal"},
		{"manifest", "_cdnserve.json", "reserved for the integrity manifest"},
		{"sidecar clash", "lib.js.gz", `collides with the gzip sidecar that cdnserve writes for "lib.js"`},
		{"traversal", "../x.js", "must be a clean path"},
		{"absolute", "/x.js", "must be relative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tree := memTree()
			_, err := tree.Publish(context.Background(), Request{Version: ver(t, "1.0.0"), Files: append(lib("1.0.0"), layout.File{Name: tc.file, Data: []byte("x")})})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if got := listTree(t, tree); len(got) != 0 {
				t.Errorf("wrote %q", got)
			}
		})
	}
}

func TestLock(t *testing.T) {
	ctx := context.Background()
	writeLock := func(tree Tree, li lockInfo) {
		b, _ := json.Marshal(li)
		tree.Fs.MkdirAll(tree.Root, 0o755)
		afero.WriteFile(tree.Fs, path.Join(tree.Root, LockName), b, 0o644)
	}
	t.Run("live holder refuses", func(t *testing.T) {
		tree := memTree()
		tree.ProcessAlive = func(int) bool { return true }
		writeLock(tree, lockInfo{PID: 99, Host: "test-host", Started: fixedTime})
		_, err := tree.Publish(ctx, Request{Version: ver(t, "1.0.0"), Files: lib("1.0.0")})
		var le *LockedError
		if !errors.As(err, &le) || le.PID != 99 || !strings.Contains(err.Error(), "another publisher holds dist/.lock (pid 99 on test-host since 2026-11-26T12:00:00Z); pass --wait") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("dead holder on this host is stale", func(t *testing.T) {
		tree := memTree()
		writeLock(tree, lockInfo{PID: 99, Host: "test-host", Started: fixedTime})
		publish(t, tree, "1.0.0", lib("1.0.0"), false)
		if _, err := tree.Fs.Stat("dist/.lock"); !errors.Is(err, os.ErrNotExist) {
			t.Error("lock not released after publish")
		}
	})
	t.Run("other host fresh lock holds", func(t *testing.T) {
		tree := memTree()
		writeLock(tree, lockInfo{PID: 4242, Host: "elsewhere", Started: fixedTime.Add(-time.Minute)})
		if _, err := tree.Publish(ctx, Request{Version: ver(t, "1.0.0"), Files: lib("1.0.0")}); err == nil {
			t.Fatal("took a fresh lock of another host")
		}
	})
	t.Run("other host old lock is stale", func(t *testing.T) {
		tree := memTree()
		writeLock(tree, lockInfo{PID: 4242, Host: "elsewhere", Started: fixedTime.Add(-2 * time.Hour)})
		publish(t, tree, "1.0.0", lib("1.0.0"), false)
	})
	t.Run("wait until released", func(t *testing.T) {
		tree := memTree()
		tree.PollInterval = 5 * time.Millisecond
		tree.ProcessAlive = func(int) bool { return true }
		writeLock(tree, lockInfo{PID: 99, Host: "test-host", Started: fixedTime})
		go func() {
			time.Sleep(50 * time.Millisecond)
			tree.Fs.Remove("dist/.lock")
		}()
		start := time.Now()
		if _, err := tree.Publish(ctx, Request{Version: ver(t, "1.0.0"), Files: lib("1.0.0"), Wait: true}); err != nil {
			t.Fatal(err)
		}
		if time.Since(start) < 40*time.Millisecond {
			t.Error("did not wait for the lock")
		}
	})
	t.Run("wait ends with context", func(t *testing.T) {
		tree := memTree()
		tree.PollInterval = 5 * time.Millisecond
		tree.ProcessAlive = func(int) bool { return true }
		writeLock(tree, lockInfo{PID: 99, Host: "test-host", Started: fixedTime})
		ctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
		defer cancel()
		_, err := tree.Publish(ctx, Request{Version: ver(t, "1.0.0"), Files: lib("1.0.0"), Wait: true})
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "pid 99") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestConcurrentPublishers runs two publishers of different versions at
// once on one tree; with --wait both land whole, one after the other.
func TestConcurrentPublishers(t *testing.T) {
	fs := afero.NewMemMapFs()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tree := NewTree(fs, "dist")
			tree.PID, tree.Host, tree.PollInterval, tree.ProcessAlive = 1000+i, "h", time.Millisecond, func(int) bool { return true }
			v := fmt.Sprintf("2.0.%d", i)
			_, err := tree.Publish(context.Background(), Request{Version: semver.MustParse(v), Files: lib(v), Wait: true})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	tree := NewTree(fs, "dist")
	r := mustVerify(t, tree)
	if len(r.Versions) != 8 || !strings.Contains(read(t, tree, "2.0/lib.js"), "2.0.7") {
		t.Errorf("versions %q, alias holds %q…", r.Versions, read(t, tree, "2.0/lib.js")[:12])
	}
}

// TestAliasSwapReaderLoop reads the files common to two versions from the
// alias in a tight loop while the alias moves, on both kinds of file
// system: every read must succeed and return whole old or whole new bytes.
func TestAliasSwapReaderLoop(t *testing.T) {
	for _, fsName := range []string{"mem (file by file)", "disk (exchange)"} {
		t.Run(fsName, func(t *testing.T) {
			tree := memTree()
			if strings.HasPrefix(fsName, "disk") {
				tree = onDisk(t, tree)
			}
			publish(t, tree, "3.1.0", lib("3.1.0"), false)
			valid := map[string]bool{}
			for i := range 20 {
				for _, f := range lib(fmt.Sprintf("3.1.%d", i)) {
					valid[f.Name+"\x00"+string(f.Data)] = true
				}
			}
			stop := make(chan struct{})
			var reads, misses, torn atomic.Int64
			var wg sync.WaitGroup
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						for _, name := range []string{"lib.js", "common.js", "tiny.js", "sub/flash.swf"} {
							b, err := afero.ReadFile(tree.Fs, path.Join(tree.Root, "3.1", name))
							reads.Add(1)
							if err != nil {
								misses.Add(1)
							} else if !valid[name+"\x00"+string(b)] {
								torn.Add(1)
							}
						}
					}
				}()
			}
			for i := 1; i < 20; i++ {
				publish(t, tree, fmt.Sprintf("3.1.%d", i), lib(fmt.Sprintf("3.1.%d", i)), false)
			}
			close(stop)
			wg.Wait()
			if misses.Load() != 0 || torn.Load() != 0 {
				t.Errorf("%d of %d reads missed and %d were torn during 19 alias switches", misses.Load(), reads.Load(), torn.Load())
			}
			if reads.Load() < 100 {
				t.Errorf("only %d reads ran during the switches", reads.Load())
			}
			t.Logf("%d reads during 19 alias switches, no misses", reads.Load())
			mustVerify(t, tree)
		})
	}
}

func TestRecoverInterruptedPublish(t *testing.T) {
	tree := memTree()
	publish(t, tree, "1.7.2", lib("1.7.2"), false)
	publish(t, tree, "1.7.3", lib("1.7.3"), false)
	// Simulate a kill halfway through the file-by-file switch of alias 1.7
	// from 1.7.2 to 1.7.3: one file is still old, and the journal and a
	// staging directory are left behind.
	afero.WriteFile(tree.Fs, "dist/1.7/lib.js", []byte(lib("1.7.2")[0].Data), 0o644)
	afero.WriteFile(tree.Fs, "dist/.switch-1.7.json", []byte(`{"alias":"1.7","to":"1.7.3"}`), 0o644)
	tree.Fs.MkdirAll("dist/.tmp-deadbeef/x", 0o755)
	afero.WriteFile(tree.Fs, "dist/.tmp-deadbeef/x/half.js", []byte("half"), 0o644)

	r, _ := tree.Verify()
	if r.OK() || len(r.Notes) != 2 {
		t.Errorf("verify before recovery: problems %v, notes %v; want the mixed alias and two notes", r.Problems, r.Notes)
	}
	res := publish(t, tree, "1.8.0", lib("1.8.0"), false)
	if !slices.Equal(res.Cleaned, []string{".tmp-deadbeef"}) || !slices.Equal(res.Recovered, []string{"alias 1.7 -> 1.7.3"}) {
		t.Errorf("cleaned %q, recovered %q", res.Cleaned, res.Recovered)
	}
	if read(t, tree, "1.7/lib.js") != string(lib("1.7.3")[0].Data) {
		t.Error("alias not repaired")
	}
	if got := listDot(t, tree); len(got) != 0 {
		t.Errorf("leftovers %q", got)
	}
	mustVerify(t, tree)
}

func TestVerifyFindsProblems(t *testing.T) {
	tree := memTree()
	publish(t, tree, "1.7.1", lib("1.7.1"), false)
	publish(t, tree, "2.0.0", lib("2.0.0"), false)
	afero.WriteFile(tree.Fs, "dist/1.7.1/lib.js", []byte("tampered"), 0o644)
	tree.Fs.Remove("dist/1.7.1/tiny.js")
	afero.WriteFile(tree.Fs, "dist/1.7.1/evil.js", []byte("x"), 0o644)
	afero.WriteFile(tree.Fs, "dist/2.0.0/common.js.br", []byte("junk"), 0o644)
	tree.Fs.RemoveAll("dist/2.0.0") // the 2.0 alias now names a missing version
	tree.Fs.MkdirAll("dist/9.9.9", 0o755)
	r, err := tree.Verify()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range r.Problems {
		got = append(got, p.String())
	}
	want := []string{
		"1.7.1/evil.js: extra: not listed in the integrity manifest",
		"1.7.1/lib.js: altered: sha256 ",
		"1.7.1/tiny.js: missing: listed in the integrity manifest but not found",
		"2.0: alias: holds 2.0.0, which is not published",
		"9.9.9: no-manifest: ",
	}
	joined := strings.Join(got, "\n")
	for _, w := range want {
		if !strings.Contains(joined, w) {
			t.Errorf("problems lack %q:\n%s", w, joined)
		}
	}
	if r.OK() {
		t.Error("OK() with problems")
	}
}

func TestReadDir(t *testing.T) {
	fs := afero.NewMemMapFs()
	for name, body := range map[string]string{
		"out/app.js": "var a;", "out/app.js.gz": "stale gzip", "out/img/logo.png": "PNG",
		"out/.DS_Store": "junk", "out/.cache/x.js": "junk", "out/data.bin.gz": "a real gz download",
		"out/node_modules/dep/index.js": "dep", "out/app.js.map": "{}", "out/test/unit.js": "t", "out/lib/test/keep.js": "k",
	} {
		afero.WriteFile(fs, name, []byte(body), 0o644)
	}
	files, skipped, err := ReadDir(fs, "out", []string{"*.map", "test/*"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, []string{"app.js", "data.bin.gz", "img/logo.png", "lib/test/keep.js"}) {
		t.Errorf("files = %q", names)
	}
	var got []string
	for _, s := range skipped {
		got = append(got, s.Path+": "+s.Why)
	}
	slices.Sort(got)
	want := []string{
		".DS_Store: dot-files are never published", ".cache: dot-files are never published",
		"app.js.gz: cdnserve writes its own .br and .gz", "app.js.map: matches --exclude *.map",
		"node_modules: node_modules is never published", "test/unit.js: matches --exclude test/*",
	}
	if !slices.Equal(got, want) {
		t.Errorf("skipped =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, _, err := ReadDir(fs, "out", []string{"[oops"}); err == nil || !strings.Contains(err.Error(), `exclude pattern "[oops"`) {
		t.Errorf("bad pattern err = %v", err)
	}
	if _, _, err := ReadDir(fs, "missing", nil); err == nil || !strings.Contains(err.Error(), "reading missing") {
		t.Errorf("missing dir err = %v", err)
	}
}

func TestPaths(t *testing.T) {
	tree := NewTree(afero.NewMemMapFs(), "dist")
	got := tree.Paths([]string{"1.7.1", "1.7"}, []layout.File{{Name: "a.js"}, {Name: "sub/b.css"}})
	if want := []string{"dist/1.7.1/a.js", "dist/1.7.1/sub/b.css", "dist/1.7/a.js", "dist/1.7/sub/b.css"}; !slices.Equal(got, want) {
		t.Errorf("Paths = %q, want %q", got, want)
	}
}

// TestRecoverKeepsFastSidecars: a version published with fast sidecars
// (as the npm mirror publishes), then an interrupted switch of its alias:
// recovery copies the version's own sidecars, which recompressing at
// another level would not reproduce, so the alias still verifies.
func TestRecoverKeepsFastSidecars(t *testing.T) {
	tree := memTree()
	publish(t, tree, "1.7.2", lib("1.7.2"), false)
	if _, err := tree.Publish(context.Background(), Request{Version: ver(t, "1.7.3"), Files: lib("1.7.3"), Compression: layout.Fast}); err != nil {
		t.Fatal(err)
	}
	best := layout.Encodings[0].Compress(lib("1.7.3")[0].Data, layout.Best)
	if read(t, tree, "1.7.3/lib.js.br") == string(best) {
		t.Fatal("the fast sidecar equals the best one: this test would prove nothing")
	}
	afero.WriteFile(tree.Fs, "dist/1.7/lib.js.br", best, 0o644)
	afero.WriteFile(tree.Fs, "dist/.switch-1.7.json", []byte(`{"alias":"1.7","to":"1.7.3"}`), 0o644)
	publish(t, tree, "1.8.0", lib("1.8.0"), false)
	if read(t, tree, "1.7/lib.js.br") != read(t, tree, "1.7.3/lib.js.br") {
		t.Error("the alias's sidecar differs from its version's")
	}
	mustVerify(t, tree)
}
