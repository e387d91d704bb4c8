package purge

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/storage"
)

// hookRecorder is a webhook edge that records the events it is told of,
// and fails while failing is set.
type hookRecorder struct {
	mu      sync.Mutex
	got     []WebhookBody
	failing bool
	srv     *httptest.Server
}

func newHookRecorder(t *testing.T) *hookRecorder {
	h := &hookRecorder{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b WebhookBody
		json.NewDecoder(r.Body).Decode(&b)
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.failing {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		h.got = append(h.got, b)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookRecorder) events() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, b := range h.got {
		out = append(out, b.Library+" "+b.Kind+" "+b.Alias+" "+b.From+"->"+b.To)
	}
	return out
}

func (h *hookRecorder) set(t *testing.T) *Set {
	p, err := Parse("webhook+"+h.srv.URL, env(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Set{Purgers: []Purger{p}, Attempts: 1, Timeout: 5 * time.Second}
}

func publish(t *testing.T, tree dist.Tree, version string, purging bool) *dist.Result {
	t.Helper()
	res, err := tree.Publish(context.Background(), dist.Request{Version: semver.MustParse(version),
		Files: []layout.File{{Name: "a.js", Data: []byte("// " + version)}}, Purging: purging})
	if err != nil || res.ChangeErr != nil {
		t.Fatalf("publishing %s: %v %v", version, err, res.ChangeErr)
	}
	return res
}

// pending lists the records (and claims) left in the changes directory.
func pending(t *testing.T, root string) []string {
	entries, err := os.ReadDir(filepath.Join(root, dist.ChangesDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestJournalPurgesEachChangeOnce: every change in storage is purged
// exactly once, by one of two replicas, whether or not they have served
// the library, and by a replica started after the change; a publisher
// that purges claims its own change, so no replica repeats it; a failed
// purge is tried again; a stale claim is taken over; a private library's
// change is dropped unpurged; nothing is left behind.
func TestJournalPurgesEachChangeOnce(t *testing.T) {
	root := t.TempDir()
	top := dist.NewTree(storage.DiskFs{Root: root}, root)
	pusher, _ := top.Library("pusher")
	hook := newHookRecorder(t)
	ctx := context.Background()

	// A change made while no replica runs: the replicas started later
	// purge it, one of them, once.
	publish(t, pusher, "2.2.3", false)
	replicas := []*Journal{{Tree: top, Set: hook.set(t)}, {Tree: top, Set: hook.set(t)}}
	pollAll := func() {
		var wg sync.WaitGroup
		for _, j := range replicas {
			wg.Add(1)
			go func() { defer wg.Done(); j.Poll(ctx) }()
		}
		wg.Wait()
		for _, j := range replicas {
			j.wg.Wait()
		}
	}
	pollAll()
	pollAll()
	if got := hook.events(); !slices.Equal(got, []string{"pusher  2.2 ->2.2.3"}) {
		t.Fatalf("after the first publish: %q, want one purge of alias 2.2 created", got)
	}
	// A move, then a deprecation: each once, in order.
	publish(t, pusher, "2.2.4", false)
	pollAll()
	if err := pusher.Deprecate(ctx, "2.2.4", "leaks", false); err != nil {
		t.Fatal(err)
	}
	pollAll()
	pollAll()
	if got := hook.events(); !slices.Equal(got[1:], []string{"pusher  2.2 2.2.3->2.2.4", "pusher deprecate 2.2 2.2.4->2.2.4"}) {
		t.Errorf("after a move and a deprecation: %q", got)
	}
	// A publisher that purges itself: its change is claimed at once, and
	// the replicas leave it alone while the claim is fresh.
	res := publish(t, pusher, "2.2.5", true)
	pollAll()
	if n := len(hook.events()); n != 3 {
		t.Errorf("the replicas purged a change its publisher claimed: %q", hook.events())
	}
	publisher := &Journal{Tree: top, Set: hook.set(t)}
	publisher.Purge(ctx, *res.Change)
	if got := hook.events(); len(got) != 4 || got[3] != "pusher  2.2 2.2.4->2.2.5" {
		t.Errorf("the publisher's purge: %q", got)
	}
	// A failing edge: the record is released and kept, and purged at a
	// later poll once the edge answers.
	hook.mu.Lock()
	hook.failing = true
	hook.mu.Unlock()
	publish(t, pusher, "2.2.6", false)
	pollAll()
	if left := pending(t, root); len(left) != 1 || !strings.HasSuffix(left[0], ".json") {
		t.Errorf("after a failed purge the changes directory holds %q, want the record alone", left)
	}
	hook.mu.Lock()
	hook.failing = false
	hook.mu.Unlock()
	pollAll()
	if got := hook.events(); len(got) != 5 || got[4] != "pusher  2.2 2.2.5->2.2.6" {
		t.Errorf("after the edge came back: %q", got)
	}
	// A purger that died holding a claim: taken over once it is stale.
	res = publish(t, pusher, "2.2.7", true) // claimed, never purged
	pollAll()
	if n := len(hook.events()); n != 5 {
		t.Fatalf("a fresh claim was taken over: %q", hook.events())
	}
	replicas[0].ClaimTTL = 50 * time.Millisecond
	time.Sleep(60 * time.Millisecond)
	pollAll()
	if got := hook.events(); len(got) != 6 || got[5] != "pusher  2.2 2.2.6->2.2.7" {
		t.Errorf("a stale claim: %q", got)
	}
	// A private library's change is dropped, never named to the edge.
	corp, _ := top.Library("@corp/ui")
	if _, err := corp.Publish(ctx, dist.Request{Version: semver.MustParse("1.0.0"), Files: []layout.File{{Name: "a.js", Data: []byte("x")}}, Private: true}); err != nil {
		t.Fatal(err)
	}
	pollAll()
	if got := hook.events(); len(got) != 6 {
		t.Errorf("a private library was purged: %q", got)
	}
	if left := pending(t, root); len(left) != 0 {
		t.Errorf("left in the changes directory: %q", left)
	}
}

// TestPurgeTimeout: a purge target that hangs costs the Set's timeout,
// once, not attempts × a long per-attempt timeout, and the result says so.
func TestPurgeTimeout(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	defer hang.Close()
	p, err := Parse("webhook+"+hang.URL, env(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	set := &Set{Purgers: []Purger{p}, Timeout: 300 * time.Millisecond, Backoff: time.Millisecond}
	start := time.Now()
	res := set.Purge(context.Background(), moved)
	took := time.Since(start)
	if len(res) != 1 || res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "gave up after 300ms (the purge timeout)") {
		t.Fatalf("results %+v", res)
	}
	if took > 5*time.Second {
		t.Errorf("a hanging purge target held the purge %v, with a 300ms timeout", took)
	}
}
