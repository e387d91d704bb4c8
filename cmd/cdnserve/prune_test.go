package main

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/purge"
	"github.com/cdnserve/cdnserve/stats"
)

// TestVersionLifeFromTheCommandLine: serve counts requests into the
// tree's stats; stats prints them; deprecate and undeprecate; prune
// refuses a version in use and one an alias holds, removes old
// prereleases, and the removed version answers 410.
func TestVersionLifeFromTheCommandLine(t *testing.T) {
	t.Parallel()
	dir := seedProject(t)
	for _, v := range []string{"2.2.3", "2.2.4", "2.3.0-rc.1", "2.3.0-rc.2"} {
		if code, _, errOut := cli(t, dir, "build", "--quiet", "--version", v); code != 0 {
			t.Fatal(errOut)
		}
	}
	s := startServe(t, dir, nil, "--addr", "127.0.0.1:0", "--stats-flush", "200ms")
	for range 3 {
		get(t, s.base+"/2.2.3/pusher.js")
	}
	get(t, s.base+"/2.3.0-rc.2/sockjs.js")
	time.Sleep(600 * time.Millisecond) // a flush
	code, out, errOut := cli(t, dir, "stats", "-", "--since", "1d")
	today := time.Now().UTC().Format(stats.DayFormat)
	if code != 0 || !strings.Contains(out, today+"       2.2.3         3") || !strings.Contains(out, "2.3.0-rc.2         1") {
		t.Errorf("stats: %d\n%s%s", code, out, errOut)
	}

	code, out, _ = cli(t, dir, "deprecate", "@2.2.3", "--message", "use 2.2.4")
	if code != 0 || !strings.Contains(out, "deprecated @2.2.3: ranges and latest skip it") {
		t.Errorf("deprecate: %d %s", code, out)
	}
	if code, _, errOut := cli(t, dir, "deprecate", "@2.2.3"); code != 2 || !strings.Contains(errOut, "need --message") {
		t.Errorf("deprecate without a message: %d %s", code, errOut)
	}
	if code, _, errOut := cli(t, dir, "deprecate", "@9.9.9", "--message", "x"); code != 1 || !strings.Contains(errOut, "9.9.9 is not published") {
		t.Errorf("deprecate a missing version: %d %s", code, errOut)
	}
	time.Sleep(2500 * time.Millisecond) // serve's refresh (2s) reads the record
	if r, _ := get(t, s.base+"/-/meta/2.2.3"); r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Deprecation"), "@") {
		t.Errorf("a deprecated version's /-/meta: %d %q", r.StatusCode, r.Header.Get("Deprecation"))
	}
	if r, _ := get(t, s.base+"/2.2.3/pusher.js"); r.StatusCode != 200 || r.Header.Get("Deprecation") != "" {
		t.Errorf("a deprecated version's immutable file: %d %q", r.StatusCode, r.Header.Get("Deprecation"))
	}
	if code, out, _ := cli(t, dir, "undeprecate", "@2.2.3"); code != 0 || out != "@2.2.3 is no longer deprecated\n" {
		t.Errorf("undeprecate: %d %q", code, out)
	}

	// Prune: refused for traffic, refused for an alias, dry run, real.
	code, _, errOut = cli(t, dir, "prune", "@2.3.0-rc.2")
	if code != 1 || !strings.Contains(errOut, "2.3.0-rc.2: served 1 request (") || !strings.Contains(errOut, "in the last 30 days") || !strings.Contains(errOut, "--force removes them anyway") {
		t.Errorf("prune of a version in use: %d %s", code, errOut)
	}
	if code, _, errOut := cli(t, dir, "prune", "@2.2.4"); code != 1 || !strings.Contains(errOut, "2.2.4: held by alias 2.2") {
		t.Errorf("prune of an alias's version: %d %s", code, errOut)
	}
	code, out, errOut = cli(t, dir, "prune", "-", "--prereleases", "--older-than", "1s", "--dry-run", "--force")
	if code != 0 || !strings.Contains(out, "would remove @2.3.0-rc.1\nwould remove @2.3.0-rc.2\n") {
		t.Errorf("dry run: %d %s %s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "dist/2.3.0-rc.1")); err != nil {
		t.Fatal("the dry run removed something")
	}
	var hooked []purge.WebhookBody
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b purge.WebhookBody
		json.NewDecoder(r.Body).Decode(&b)
		hooked = append(hooked, b)
	}))
	defer hook.Close()
	code, out, errOut = cli(t, dir, "prune", "@2.3.0-rc.1", "--purge", "webhook+"+hook.URL)
	if code != 0 || !strings.Contains(out, "removed @2.3.0-rc.1 (") || !strings.Contains(out, "purged webhook+") {
		t.Errorf("prune: %d %s %s", code, out, errOut)
	}
	if len(hooked) != 1 || hooked[0].To != "2.3.0-rc.1" || !slices.Contains(hooked[0].Tags, "@2.3.0-rc.1") {
		t.Errorf("the purger was told %+v", hooked)
	}
	code, _, errOut = cli(t, dir, "prune", "@2.3.0-rc.2", "--force")
	if code != 0 || !strings.Contains(errOut, "WARNING: --force removes 2.3.0-rc.2, which served 1 request") {
		t.Errorf("prune --force: %d %s", code, errOut)
	}
	if code, out, _ := cli(t, dir, "verify"); code != 0 || !strings.Contains(out, "2 versions") {
		t.Errorf("verify after prune: %d %s", code, out)
	}
	time.Sleep(2500 * time.Millisecond)
	if r, body := get(t, s.base+"/2.3.0-rc.1/pusher.js"); r.StatusCode != 410 {
		t.Errorf("a removed version: %d %s", r.StatusCode, body)
	}
	s.stop(t)
}

// TestPruneKilledAtRandom kills prune processes at random moments; after
// each, verify passes (a leftover is a note, never a problem), and the
// version is either whole or gone to readers. Then pruning again
// finishes.
func TestPruneKilledAtRandom(t *testing.T) {
	t.Parallel()
	dir := seedProject(t)
	const runs = 8
	for i := range runs {
		if code, _, errOut := cli(t, dir, "build", "--quiet", "--version", "3.0.0-rc."+strconv.Itoa(i)); code != 0 {
			t.Fatal(errOut)
		}
	}
	for i := range runs {
		v := "3.0.0-rc." + strconv.Itoa(i)
		cmd := exec.Command(binary(t), "prune", "@"+v)
		cmd.Dir = dir
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rand.IntN(40)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		code, out, _ := cli(t, dir, "verify")
		if code != 0 {
			t.Fatalf("verify after a prune killed at random: %d\n%s", code, out)
		}
		// verify passing means readers see the version whole (its manifest
		// and every file it lists) or not at all.
		if code, _, errOut := cli(t, dir, "prune", "@"+v); code != 0 && !strings.Contains(errOut, "is not published") {
			t.Errorf("pruning %s again: %d %s", v, code, errOut)
		}
		if _, err := os.Stat(filepath.Join(dir, "dist", v)); err == nil {
			t.Errorf("%s is still there", v)
		}
	}
	if code, out, _ := cli(t, dir, "verify"); code != 0 {
		t.Errorf("verify at the end: %s", out)
	}
}

// TestPruneSeesRecentUse: a version requested a moment before a prune,
// whose count no replica has flushed yet, is still refused: prune waits
// for every running replica's next flush and says up to when the counts
// go (issue 28, item 7). With no replica running, it does not wait.
func TestPruneSeesRecentUse(t *testing.T) {
	t.Parallel()
	dir := seedProject(t)
	for _, v := range []string{"2.2.3", "2.3.0-rc.1"} {
		if code, _, errOut := cli(t, dir, "build", "--quiet", "--version", v); code != 0 {
			t.Fatal(errOut)
		}
	}
	s := startServe(t, dir, nil, "--addr", "127.0.0.1:0", "--stats-flush", "3s")
	// The replica's first flush says it runs, and how often it flushes.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if m, _ := filepath.Glob(filepath.Join(dir, "dist", stats.Dir, "*", "*.json")); len(m) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("serve wrote no stats file in 10 s")
		}
	}
	if r, _ := get(t, s.base+"/2.3.0-rc.1/pusher.js"); r.StatusCode != 200 {
		t.Fatal(r.Status)
	}
	began := time.Now()
	code, _, errOut := runBin(t, dir, "prune", "@2.3.0-rc.1")
	if code != 1 || !strings.Contains(errOut, "2.3.0-rc.1: served 1 request (") || !strings.Contains(errOut, ": 1 running replica flushed after this prune began (waited ") {
		t.Errorf("prune of a version requested a moment ago: %d\n%s", code, errOut)
	}
	if d := time.Since(began); d > 8*time.Second {
		t.Errorf("prune took %v: more than the replica's flush interval and its margin", d)
	}
	s.stop(t)
	// It said, in its last flush, that it stopped: no wait.
	began = time.Now()
	code, _, errOut = runBin(t, dir, "prune", "@2.3.0-rc.1", "--dry-run")
	if code != 1 || !strings.Contains(errOut, "usage counted up to each replica's last flush: no replica is running") || time.Since(began) > 3*time.Second {
		t.Errorf("prune with no replica running: %d in %v\n%s", code, time.Since(began), errOut)
	}
}
