package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/layout"
)

// seedOutputs are the public files of every seed-fixture version.
var seedOutputs = []string{"WebSocketMain.swf", "app.js", "app.min.js", "json2.js", "json2.min.js", "pusher.js", "pusher.min.js",
	"sockjs.js", "sockjs.min.js", "style.css", "style.min.css"}

// checkComplete asserts that every version directory in root holds the
// whole seed library and that `cdnserve verify` passes.
func checkComplete(t *testing.T, dir string) {
	t.Helper()
	code, out, errOut := runBin(t, dir, "verify")
	if code != 0 {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
	}
	checkVersionsWhole(t, dir)
}

// checkVersionsWhole checks that every version directory holds the whole
// build, whatever verify says of aliases.
func checkVersionsWhole(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(dir, "dist"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || !e.IsDir() {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, "dist", e.Name(), "_cdnserve.json"))
		if err != nil {
			t.Fatalf("%s has no manifest: %v", e.Name(), err)
		}
		var m struct {
			Files []struct{ Path string } `json:"files"`
		}
		json.Unmarshal(raw, &m)
		var names []string
		for _, f := range m.Files {
			names = append(names, f.Path)
		}
		if !slices.Equal(names, seedOutputs) {
			t.Fatalf("%s is incomplete: %q", e.Name(), names)
		}
	}
}

// TestLockAgainstLiveProcess holds the lock as this (live) test process
// and checks that a real build fails clearly, then waits with --wait.
func TestLockAgainstLiveProcess(t *testing.T) {
	t.Parallel()
	dir := seedProject(t)
	os.MkdirAll(filepath.Join(dir, "dist"), 0o755)
	host, _ := os.Hostname()
	lock := fmt.Sprintf(`{"pid":%d,"host":%q,"started":"2026-11-26T12:00:00Z"}`, os.Getpid(), host)
	lockPath := filepath.Join(dir, "dist/.lock")
	os.WriteFile(lockPath, []byte(lock), 0o644)

	code, _, errOut := runBin(t, dir, "build")
	if code != 1 || !strings.Contains(errOut, fmt.Sprintf("another publisher holds %s (pid %d on %s", lockPath, os.Getpid(), host)) {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	go func() {
		time.Sleep(400 * time.Millisecond)
		os.Remove(lockPath)
	}()
	start := time.Now()
	code, _, errOut = runBin(t, dir, "build", "--wait", "--quiet")
	if code != 0 || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("--wait: exit %d after %v, stderr %q", code, time.Since(start), errOut)
	}
	checkComplete(t, dir)
}

// TestConcurrentBuildProcesses starts several real builds of different
// versions into one tree at once: with --wait they take turns, and every
// version lands whole.
func TestConcurrentBuildProcesses(t *testing.T) {
	t.Parallel()
	dir := seedProject(t)
	var wg sync.WaitGroup
	errs := make([]string, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, _, errOut := runBin(t, dir, "build", "--wait", "--quiet", "--version", fmt.Sprintf("5.0.%d", i)); code != 0 {
				errs[i] = errOut
			}
		}()
	}
	wg.Wait()
	for i, e := range errs {
		if e != "" {
			t.Errorf("build 5.0.%d: %s", i, e)
		}
	}
	checkComplete(t, dir)
	raw, _ := os.ReadFile(filepath.Join(dir, "dist/5.0/_cdnserve.json"))
	if !strings.Contains(string(raw), `"alias_of": "5.0.3"`) {
		t.Errorf("alias 5.0 does not hold the newest version:\n%.200s", raw)
	}
}

// TestKillAtAnyPoint kills a real `cdnserve build` at 50 different moments
// of its publish and checks after each that the tree holds only complete
// versions (cdnserve verify passes), then that the next build cleans up.
// The 50 moments, 2.4% to 120% of a full build, are spread over 5 trees
// killed in parallel: group g takes moments g, g+5, g+10, …
func TestKillAtAnyPoint(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level kill test skipped in -short mode")
	}
	const runs, groups = 50, 5
	var mu sync.Mutex
	killed := 0
	left := map[string]int{}
	t.Run("groups", func(t *testing.T) {
		for g := range groups {
			t.Run(fmt.Sprint(g), func(t *testing.T) {
				t.Parallel()
				k, l := killBuilds(t, runs, groups, g)
				mu.Lock()
				defer mu.Unlock()
				killed += k
				for what, n := range l {
					left[what] += n
				}
			})
		}
	})
	t.Logf("%d builds killed at 2%%..120%% of a full build; what each left: %v", killed, left)
	if left["lock held, version absent"]+left["staging dir"]+left["version live, alias not moved"] == 0 {
		t.Errorf("no kill landed inside a publish: %v", left)
	}
}

// killBuilds runs one group of TestKillAtAnyPoint in a tree of its own:
// the kill moments i = g+1, g+1+groups, … of runs, then a build that must
// finish and leave nothing behind.
func killBuilds(t *testing.T, runs, groups, g int) (killed int, left map[string]int) {
	dir := seedProject(t)
	bin := binary(t)
	// Time one uninterrupted build to spread the kills over it.
	start := time.Now()
	if code, _, errOut := runBin(t, dir, "build", "--quiet", "--version", "1.0.0"); code != 0 {
		t.Fatal(errOut)
	}
	full := time.Since(start)
	left = map[string]int{}
	for i := g + 1; i <= runs; i += groups {
		delay := full * time.Duration(i) / time.Duration(runs) * 6 / 5 // 2.4% to 120% of a full build
		version := fmt.Sprintf("1.%d.%d", i%3, i)
		cmd := exec.Command(bin, "build", "--quiet", "--wait", "--version", version)
		cmd.Dir = dir
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		if cmd.Process.Signal(syscall.SIGKILL) == nil {
			killed++
		}
		cmd.Wait() // reap it, so its PID is gone and its lock is stale
		state := leftBehind(t, dir, version)
		if finishAfterKill(t, dir, version) {
			state = "version live, alias not moved"
		}
		left[state]++
		checkComplete(t, dir)
	}
	code, out, errOut := runBin(t, dir, "build", "--version", "1.9.0")
	if code != 0 {
		t.Fatalf("build after the kills: exit %d: %s", code, errOut)
	}
	checkComplete(t, dir)
	entries, _ := os.ReadDir(filepath.Join(dir, "dist"))
	for _, e := range entries {
		// The changes for the edge are records, not leftovers; a lock's
		// copy killed between its write and its link is removed once a
		// minute old (layout.NewInfix), not by the next build.
		if strings.HasPrefix(e.Name(), ".") && e.Name() != dist.ChangesDir && !strings.HasPrefix(e.Name(), dist.LockName+layout.NewInfix) {
			t.Errorf("leftover %s after a completed build\n%s", e.Name(), out)
		}
	}
	return killed, left
}

// finishAfterKill runs verify after a build of version was killed. The
// one problem a kill may leave is the version live and its alias not yet
// moved (verify: alias-lags); the same build again must finish it, which
// verify then confirms. It reports whether that happened; any other
// problem fails the test.
func finishAfterKill(t *testing.T, dir, version string, storage ...string) bool {
	t.Helper()
	code, out, errOut := runBin(t, dir, append([]string{"verify"}, storage...)...)
	if code == 0 {
		return false
	}
	if strings.Count(out, ": alias-lags: ") != 1 || !strings.Contains(out, "publish "+version+" again") || !strings.Contains(out, ": 1 problem\n") {
		t.Fatalf("verify after killing %s: exit %d\n%s%s", version, code, out, errOut)
	}
	args := []string{"build", "--quiet", "--wait", "--version", version}
	if len(storage) > 0 {
		args = append(args, "--storage", storage[0])
	}
	if code, _, errOut := runBin(t, dir, args...); code != 0 {
		t.Fatalf("publishing %s again: %s", version, errOut)
	}
	if code, out, errOut := runBin(t, dir, append([]string{"verify"}, storage...)...); code != 0 {
		t.Fatalf("verify after publishing %s again: %s%s", version, out, errOut)
	}
	return true
}

// leftBehind classifies the state a killed build left the tree in.
func leftBehind(t *testing.T, dir, version string) string {
	entries, _ := os.ReadDir(filepath.Join(dir, "dist"))
	var lock, tmp, published bool
	for _, e := range entries {
		lock = lock || e.Name() == ".lock"
		tmp = tmp || strings.HasPrefix(e.Name(), ".tmp-")
		published = published || e.Name() == version
	}
	switch {
	case tmp:
		return "staging dir"
	case lock && !published:
		return "lock held, version absent"
	case lock && published:
		return "lock held, version published"
	case published:
		return "finished"
	}
	return "killed before locking"
}
