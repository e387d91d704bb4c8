package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/internal/testutil"
	"github.com/cdnserve/cdnserve/purge"
	"github.com/cdnserve/cdnserve/storage/s3test"
)

// startVarnish runs varnishd (Debian's varnish, with varnish-modules'
// xkey) in the foreground with docs/varnish.vcl as it is, its two
// backends pointed at the given ports, and returns its base URL.
func startVarnish(t *testing.T, port1, port2 string) string {
	t.Helper()
	bin, err := exec.LookPath("varnishd")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("varnishd is not installed; .ci/run installs varnish and varnish-modules")
		}
		t.Skip("SKIPPED LOUDLY: varnishd is not installed (apt-get install varnish varnish-modules), so the edge tests did not run")
	}
	// The child process runs as an unprivileged user: its working
	// directory must be readable by it, unlike t.TempDir()'s.
	work, err := os.MkdirTemp("/tmp", "cdnserve-varnish-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(work, 0o755)
	t.Cleanup(func() { os.RemoveAll(work) })
	vcl, err := os.ReadFile("../../docs/varnish.vcl")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(strings.Replace(string(vcl), `.port = "8081"`, `.port = "`+port1+`"`, 1), `.port = "8082"`, `.port = "`+port2+`"`, 1)
	os.WriteFile(filepath.Join(work, "cdnserve.vcl"), []byte(src), 0o644)
	addr := "127.0.0.1:" + freePort(t)
	cmd := exec.Command(bin, "-F", "-a", addr, "-n", filepath.Join(work, "n"), "-f", filepath.Join(work, "cdnserve.vcl"), "-s", "malloc,64m")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("varnishd did not listen on %s in 20 s:\n%s", addr, out.String())
		}
	}
}

// observation is one poll of the alias through the edge.
type observation struct {
	at    time.Time
	isNew bool
	cache string
}

// TestEdgeFreshness puts Varnish in front of two serve replicas of one
// tree, warms it, publishes a new patch with a purger, and polls the
// alias through the edge: the new alias shows within the replicas'
// refresh plus 1 s of the publish's end, the old never returns after
// the new, exact versions are always hits, and the origin sees each
// exact file once. On disk with an xkey (tag) purge, and on S3 with an
// HTTP PURGE of each URL.
func TestEdgeFreshness(t *testing.T) {
	for _, tc := range []struct{ name, purge string }{{"disk-xkey", "xkey+"}, {"s3-url", ""}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := seedProject(t)
			storageURL := filepath.Join(dir, "dist")
			if strings.HasPrefix(tc.name, "s3") {
				storageURL = s3test.Bucket(t, s3test.Endpoint(t))
			}
			if code, _, errOut := runBin(t, dir, "build", "--quiet", "--storage", storageURL); code != 0 {
				t.Fatal(errOut)
			}
			p1, p2 := freePort(t), freePort(t)
			var replicas []*served
			for _, p := range []string{p1, p2} {
				replicas = append(replicas, startServe(t, dir, nil, "--addr", "127.0.0.1:"+p, "--storage", storageURL, "--refresh", "1s", "--log-format", "json"))
			}
			edge := startVarnish(t, p1, p2)
			refresh := time.Second

			// 1. Warm the edge: exact, alias and range URLs.
			for _, p := range []string{"/2.2.3/pusher.min.js", "/2.2/pusher.js", "/^2.2.0/pusher.js", "/2.2.3/sockjs.min.js"} {
				if r, _ := get(t, edge+p); r.StatusCode != 200 && r.StatusCode != 302 {
					t.Fatalf("warming %s: %d", p, r.StatusCode)
				}
			}
			exactHits, exactTotal := 0, 0
			pollExact := func() {
				for _, p := range []string{"/2.2.3/pusher.min.js", "/2.2.3/sockjs.min.js"} {
					r, _ := get(t, edge+p)
					exactTotal++
					if r.Header.Get("X-Cache") == "HIT" {
						exactHits++
					}
				}
			}
			pollExact()

			// 3. Poll the alias through the edge, from before the publish.
			var mu sync.Mutex
			var seen []observation
			stop := make(chan struct{})
			var polling sync.WaitGroup
			polling.Add(1)
			go func() {
				defer polling.Done()
				for {
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
					r, body := get(t, edge+"/2.2/pusher.js")
					mu.Lock()
					seen = append(seen, observation{at: time.Now(), isNew: strings.Contains(body, "2.2.4"), cache: r.Header.Get("X-Cache")})
					mu.Unlock()
					pollExact()
				}
			}()

			// 2. Publish a new patch, with the purger; note when the publish
			// itself ended (its "published" line), before the purge waits.
			cmd := exec.Command(binary(t), "build", "--version", "2.2.4", "--storage", storageURL, "--purge", tc.purge+edge, "--purge-after", (refresh + purgeMargin).String())
			cmd.Dir = dir
			stdout, _ := cmd.StdoutPipe()
			var buildErr strings.Builder
			cmd.Stderr = &buildErr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var published time.Time
			var buildOut strings.Builder
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "published 2.2.4") {
					published = time.Now()
				}
				buildOut.WriteString(sc.Text() + "\n")
			}
			if err := cmd.Wait(); err != nil || published.IsZero() {
				t.Fatalf("build: %v\n%s\n%s", err, buildOut.String(), buildErr.String())
			}
			if !strings.Contains(buildOut.String(), "purged "+tc.purge+edge) {
				t.Errorf("the build did not report its purge:\n%s%s", buildOut.String(), buildErr.String())
			}
			time.Sleep(2 * time.Second)
			close(stop)
			polling.Wait()

			var firstNew time.Time
			oldAfterNew := 0
			for _, o := range seen {
				switch {
				case o.isNew && firstNew.IsZero():
					firstNew = o.at
				case !o.isNew && !firstNew.IsZero():
					oldAfterNew++
				}
			}
			if firstNew.IsZero() {
				t.Fatalf("the edge never served the new alias (%d polls)", len(seen))
			}
			fresh := firstNew.Sub(published)
			t.Logf("%s: the edge served the new alias %v after the publish ended (replicas' --refresh %v); %d polls; exact hits %d/%d",
				tc.name, fresh.Round(10*time.Millisecond), refresh, len(seen), exactHits, exactTotal)
			if fresh > refresh+time.Second {
				t.Errorf("the new alias reached the edge %v after the publish, more than --refresh + 1 s", fresh)
			}
			if oldAfterNew > 0 {
				t.Errorf("the edge served the old alias %d times after it had served the new one", oldAfterNew)
			}
			if exactHits != exactTotal {
				t.Errorf("exact versions after warm-up: %d hits of %d requests, want 100 %%", exactHits, exactTotal)
			}
			// 4. The origin saw each exact file once: the warming request.
			for _, s := range replicas {
				s.stop(t)
			}
			origin := map[string]int{}
			for _, s := range replicas {
				for _, line := range strings.Split(s.stderr.String(), "\n") {
					var l struct {
						Msg, Path string
					}
					if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "request" {
						origin[l.Path]++
					}
				}
			}
			for _, p := range []string{"/2.2.3/pusher.min.js", "/2.2.3/sockjs.min.js"} {
				if origin[p] != 1 {
					t.Errorf("the origin saw %s %d times, want once (the edge holds it)", p, origin[p])
				}
			}
		})
	}
}

// TestServePurgesWhenAliasMoves: replicas with --purge, whose tree
// another process publishes into without --purge, purge every alias move
// exactly once between them: two replicas that have served nothing of
// the library, and, for a move made while none ran, a replica started
// after it. Each purge comes after the replicas' refresh and a margin,
// and is counted. On disk and on S3.
func TestServePurgesWhenAliasMoves(t *testing.T) {
	for _, kind := range []string{"disk", "s3"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			dir := seedProject(t)
			storageURL := filepath.Join(dir, "dist")
			if kind == "s3" {
				storageURL = s3test.Bucket(t, s3test.Endpoint(t))
			}
			if code, _, errOut := runBin(t, dir, "build", "--quiet", "--storage", storageURL); code != 0 {
				t.Fatal(errOut)
			}
			var mu sync.Mutex
			var hooks []purge.WebhookBody
			var at []time.Time
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var b purge.WebhookBody
				json.NewDecoder(r.Body).Decode(&b)
				mu.Lock()
				hooks, at = append(hooks, b), append(at, time.Now())
				mu.Unlock()
			}))
			defer hook.Close()
			waitHooks := func(n int) []purge.WebhookBody {
				for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
					mu.Lock()
					got := len(hooks)
					mu.Unlock()
					if got >= n {
						break
					}
				}
				time.Sleep(2500 * time.Millisecond) // more refreshes of both replicas must not purge again
				mu.Lock()
				defer mu.Unlock()
				return slices.Clone(hooks)
			}
			args := []string{"--addr", "127.0.0.1:0", "--storage", storageURL, "--refresh", "1s", "--purge", "webhook+" + hook.URL + "/purge"}
			replicas := []*served{startServe(t, dir, nil, args...), startServe(t, dir, nil, args...)}
			waitHooks(0) // the first build's change: purged once, before this test's publish
			mu.Lock()
			first := len(hooks)
			mu.Unlock()
			if first != 1 {
				t.Errorf("the first build was purged %d times, want once", first)
			}
			published := time.Now()
			if code, _, errOut := runBin(t, dir, "build", "--quiet", "--version", "2.2.4", "--storage", storageURL); code != 0 {
				t.Fatal(errOut)
			}
			got := waitHooks(first + 1)
			if len(got) != first+1 || got[first].Alias != "2.2" || got[first].From != "2.2.3" || got[first].To != "2.2.4" || got[first].Library != "" {
				t.Fatalf("webhooks %+v, want one more: 2.2 2.2.3 -> 2.2.4", got)
			}
			mu.Lock()
			if d := at[first].Sub(published); d < time.Second+purgeMargin {
				t.Errorf("purged %v after the publish began: before the replicas' refresh and its margin", d)
			}
			mu.Unlock()
			ok := 0
			for _, s := range replicas {
				_, metrics := get(t, s.admin+"/-/metrics")
				for n := 1; n <= 2; n++ {
					if strings.Contains(metrics, fmt.Sprintf(`cdnserve_purges_total{result="ok"} %d`, n)) {
						ok += n
					}
				}
				s.stop(t)
			}
			if ok != 2 {
				t.Errorf("the replicas count %d purges, want 2 between them", ok)
			}
			// A move made while no replica runs: purged by the next to start.
			if code, _, errOut := runBin(t, dir, "build", "--quiet", "--version", "2.2.5", "--storage", storageURL); code != 0 {
				t.Fatal(errOut)
			}
			late := startServe(t, dir, nil, args...)
			got = waitHooks(first + 2)
			if len(got) != first+2 || got[first+1].From != "2.2.4" || got[first+1].To != "2.2.5" {
				t.Errorf("a replica started after the move: webhooks %+v", got)
			}
			late.stop(t)
		})
	}
}

// TestPurgeCommand purges an alias by hand; its errors say what is wrong.
func TestPurgeCommand(t *testing.T) {
	t.Parallel()
	dir := seedProject(t)
	manifest := filepath.Join(dir, "cdnserve.yaml")
	os.WriteFile(manifest, append([]byte("name: pusher\n"), must(os.ReadFile(manifest))...), 0o644)
	if code, _, errOut := cli(t, dir, "build", "--quiet"); code != 0 {
		t.Fatal(errOut)
	}
	var got []purge.WebhookBody
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b purge.WebhookBody
		json.NewDecoder(r.Body).Decode(&b)
		got = append(got, b)
	}))
	defer hook.Close()
	code, out, errOut := cli(t, dir, "purge", "pusher@2.2", "--purge", "webhook+"+hook.URL)
	if code != 0 || !strings.Contains(out, "purged webhook+"+hook.URL+": pusher alias 2.2 2.2.3 -> 2.2.3 (tags pusher@2.2 pusher@* @index;") {
		t.Fatalf("purge: %d %s %s", code, out, errOut)
	}
	if len(got) != 1 || got[0].Library != "pusher" || got[0].Alias != "2.2" || !slices.Contains(got[0].URLs, "/pusher/2.2/pusher.min.js") {
		t.Errorf("webhook got %+v", got)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"purge", "pusher@2.9", "--purge", "webhook+" + hook.URL}, 1, "the alias is not published"},
		{[]string{"purge", "pusher@2.2.3", "--purge", "webhook+" + hook.URL}, 1, `"2.2.3" is not a major.minor alias`},
		{[]string{"purge", "pusher@2.2"}, 1, "no --purge given"},
		{[]string{"purge", "pusher"}, 2, "need NAME@ALIAS"},
		{[]string{"purge", "pusher@2.2", "--purge", "cloudflare://zone"}, 1, "set CLOUDFLARE_API_TOKEN"},
		{[]string{"purge", "pusher@2.2", "--purge", "http://127.0.0.1:9"}, 1, "purge FAILED"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			code, _, errOut := cli(t, dir, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("%v: %d %q, want %d %q", tc.args, code, errOut, tc.code, tc.want)
			}
		})
	}
	// A private library is never named to an edge.
	before := len(got)
	if code, out, errOut := cli(t, dir, "build", "--version", "2.2.5", "--purge", "webhook+"+hook.URL, "--purge-after", "0s", "--private", "pusher"); code != 0 || strings.Contains(out, "purg") || len(got) != before {
		t.Errorf("a private library's publish was purged: %d %s %s", code, out, errOut)
	}
	// It stays private, recorded in storage, when a later publish omits
	// --private; made public again, it is purged.
	if code, out, errOut := cli(t, dir, "build", "--version", "2.3.0", "--purge", "webhook+"+hook.URL, "--purge-after", "0s"); code != 0 || strings.Contains(out, "purg") || len(got) != before {
		t.Errorf("a library recorded private was purged: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := cli(t, dir, "public", "pusher"); code != 0 {
		t.Fatal(errOut)
	}
	// A purge that fails does not fail the publish: exit 0, reported.
	code, out, errOut = cli(t, dir, "build", "--version", "2.2.6", "--purge", "http://127.0.0.1:9", "--purge-after", "0s")
	if code != 0 || !strings.Contains(out, "published 2.2.6") || !strings.Contains(errOut, "purge FAILED: http://127.0.0.1:9: pusher alias 2.2 2.2.5 -> 2.2.6, after 4 attempts") ||
		!strings.Contains(errOut, "the publish stands") {
		t.Errorf("a failing purger: %d\n%s\n%s", code, out, errOut)
	}
}

// TestEdgeThroughShippedVCL runs two `serve --purge` replicas of one tree
// behind Varnish with docs/varnish.vcl as it is, and checks issue 28's
// edge items as a browser and a JSON client see them: each encoding
// (br, gzip, identity) served with its strong ETag and a 304 on it, no
// tag header reaching a client, a negotiated 404 never served to a client
// that asked for another type, a publish without --purge reaching the
// edge through the replicas' journal while exact files stay cached, a
// cached 404 of the new version cleared, a deprecation reaching the
// edge through the meta of the exact version, never on its files, and a
// hanging purge target bounded by --purge-timeout.
func TestEdgeThroughShippedVCL(t *testing.T) {
	t.Parallel()
	dir := seedProject(t)
	if code, _, errOut := runBin(t, dir, "build", "--quiet"); code != 0 {
		t.Fatal(errOut)
	}
	p1, p2 := freePort(t), freePort(t)
	edge := startVarnish(t, p1, p2)
	var replicas []*served
	for _, p := range []string{p1, p2} {
		replicas = append(replicas, startServe(t, dir, nil, "--addr", "127.0.0.1:"+p, "--refresh", "1s", "--purge", "xkey+"+edge))
	}
	noTags := func(where string, r *http.Response) {
		t.Helper()
		for _, h := range []string{"Cache-Tag", "Surrogate-Key", "Xkey"} {
			if v := r.Header.Get(h); v != "" {
				t.Errorf("%s: the edge sent %s: %s to a client", where, h, v)
			}
		}
	}
	// waitFor polls url through the edge until ok, for up to 15 s.
	waitFor := func(url string, ok func(*http.Response, string) bool, headers ...string) (*http.Response, string) {
		t.Helper()
		var r *http.Response
		var body string
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if r, body = get(t, url, headers...); ok(r, body) {
				return r, body
			}
		}
		t.Fatalf("%s through the edge: still %d %q %v after 15 s", url, r.StatusCode, body, r.Header)
		return nil, ""
	}

	// Item 2: each encoding, cached apart, strong ETags, 304s, no tags.
	exact := edge + "/2.2.3/pusher.min.js"
	etags := map[string]string{}
	for _, tc := range []struct{ ae, want string }{{"br, gzip, deflate", "br"}, {"gzip, deflate", "gzip"}, {"identity", ""}, {"br;q=0, gzip", "gzip"}} {
		for round := 0; round < 2; round++ {
			r, body := get(t, exact, "Accept-Encoding", tc.ae)
			where := fmt.Sprintf("%s with Accept-Encoding %q (round %d)", exact, tc.ae, round)
			noTags(where, r)
			etag := r.Header.Get("ETag")
			if r.StatusCode != 200 || r.Header.Get("Content-Encoding") != tc.want || !strings.HasPrefix(etag, `"`) || body == "" {
				t.Errorf("%s: %d, Content-Encoding %q, ETag %q; want 200, %q and a strong ETag", where, r.StatusCode, r.Header.Get("Content-Encoding"), etag, tc.want)
			}
			if vary := r.Header.Values("Vary"); !slices.ContainsFunc(vary, func(v string) bool { return strings.Contains(v, "Accept-Encoding") }) {
				t.Errorf("%s: Vary %q lacks Accept-Encoding", where, vary)
			}
			if round == 1 && r.Header.Get("X-Cache") != "HIT" {
				t.Errorf("%s: X-Cache %q, want HIT", where, r.Header.Get("X-Cache"))
			}
			if prev, seen := etags[tc.want]; seen && prev != etag {
				t.Errorf("%s: ETag %s, %s before for the same encoding", where, etag, prev)
			}
			etags[tc.want] = etag
			if r, _ := get(t, exact, "Accept-Encoding", tc.ae, "If-None-Match", etag); r.StatusCode != 304 {
				t.Errorf("%s: If-None-Match %s answered %d, want 304", where, etag, r.StatusCode)
			}
		}
	}
	if len(etags) != 3 || etags["br"] == etags["gzip"] || etags["gzip"] == etags[""] {
		t.Errorf("ETags by encoding %v: want three, distinct", etags)
	}

	// Item 6: a 404 negotiated by Accept is cached per Accept.
	missing := edge + "/2.2.4/pusher.js"
	for round := 0; round < 2; round++ {
		for _, tc := range []struct{ accept, want string }{{"text/html,application/xhtml+xml,*/*;q=0.8", "text/html"}, {"application/json", "application/json"}} {
			r, _ := get(t, missing, "Accept", tc.accept)
			noTags(missing, r)
			if r.StatusCode != 404 || !strings.HasPrefix(r.Header.Get("Content-Type"), tc.want) || !slices.Contains(r.Header.Values("Vary"), "Accept") {
				t.Errorf("%s for Accept %q: %d %q, Vary %q; want 404 %s, Vary: Accept", missing, tc.accept, r.StatusCode, r.Header.Get("Content-Type"), r.Header.Values("Vary"), tc.want)
			}
		}
	}

	// Items 1 and 3: a publish without --purge reaches the edge through
	// the replicas; the exact files stay cached, and the new version's
	// cached 404 is gone.
	alias := edge + "/2.2/pusher.js"
	if r, body := get(t, alias); r.StatusCode != 200 || !strings.Contains(body, "2.2.3") {
		t.Fatalf("%s: %d", alias, r.StatusCode)
	}
	if code, _, errOut := runBin(t, dir, "build", "--quiet", "--version", "2.2.4"); code != 0 {
		t.Fatal(errOut)
	}
	waitFor(alias, func(r *http.Response, body string) bool { return strings.Contains(body, "2.2.4") })
	if r, _ := get(t, missing, "Accept", "application/json"); r.StatusCode != 200 {
		t.Errorf("%s after its publish: %d, want 200 (its cached 404 purged)", missing, r.StatusCode)
	}
	if r, _ := get(t, exact, "Accept-Encoding", "br"); r.Header.Get("X-Cache") != "HIT" {
		t.Errorf("%s after the alias moved: X-Cache %q, want HIT: an exact version is never purged", exact, r.Header.Get("X-Cache"))
	}

	// Item 5: a deprecation reaches the edge on the exact version's meta;
	// its immutable files neither change nor leave the cache.
	meta := edge + "/-/meta/2.2.3"
	if r, body := get(t, meta); r.StatusCode != 200 || strings.Contains(body, "use 2.2.4") || strings.Contains(r.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("%s before the deprecation: %d %q %q", meta, r.StatusCode, r.Header.Get("Cache-Control"), body)
	}
	if code, _, errOut := runBin(t, dir, "deprecate", "@2.2.3", "--message", "use 2.2.4"); code != 0 {
		t.Fatal(errOut)
	}
	r, _ := waitFor(meta, func(r *http.Response, body string) bool { return strings.Contains(body, "use 2.2.4") })
	if r.Header.Get("Deprecation") == "" {
		t.Errorf("%s after the deprecation: no Deprecation header: %v", meta, r.Header)
	}
	if r, _ := get(t, exact, "Accept-Encoding", "br"); r.Header.Get("X-Cache") != "HIT" || r.Header.Get("Deprecation") != "" || r.Header.Get("ETag") != etags["br"] {
		t.Errorf("%s after the deprecation: X-Cache %q, Deprecation %q, ETag %q; want an unchanged HIT", exact, r.Header.Get("X-Cache"), r.Header.Get("Deprecation"), r.Header.Get("ETag"))
	}

	// Each change (the first build, the publish, the deprecation) was
	// purged once between the two replicas.
	time.Sleep(2500 * time.Millisecond)
	purged := 0
	for _, s := range replicas {
		_, metrics := get(t, s.admin+"/-/metrics")
		for _, line := range strings.Split(metrics, "\n") {
			if n, ok := strings.CutPrefix(line, `cdnserve_purges_total{result="ok"} `); ok {
				var k int
				fmt.Sscan(n, &k)
				purged += k
			}
		}
	}
	if purged != 3 {
		t.Errorf("the replicas purged %d times between them, want 3 (the first build, the publish, the deprecation)", purged)
	}

	// Item 4: a purge target that hangs costs the publisher its
	// --purge-timeout, once; the edge's own purge is not held up by it,
	// and the publish stands.
	hung := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hung }))
	defer hanging.Close()
	defer close(hung)
	began := time.Now()
	code, out, errOut := runBin(t, dir, "build", "--version", "2.2.5", "--purge", "xkey+"+edge, "--purge", hanging.URL,
		"--purge-after", "1500ms", "--purge-timeout", "2s")
	took := time.Since(began)
	if code != 0 || !strings.Contains(out, "published 2.2.5") || !strings.Contains(out, "purged xkey+"+edge) ||
		!strings.Contains(errOut, "purge FAILED: "+hanging.URL) || !strings.Contains(errOut, "(the purge timeout)") || !strings.Contains(errOut, "the publish stands") {
		t.Errorf("a publish with a hanging purge target: %d\n%s%s", code, out, errOut)
	}
	if took > 8*time.Second {
		t.Errorf("a publish with a hanging purge target took %v: more than --purge-after 1.5s, --purge-timeout 2s and the build", took)
	}
	waitFor(alias, func(r *http.Response, body string) bool { return strings.Contains(body, "2.2.5") })

	// A URL purge (as the http:// purger sends it, with no
	// Accept-Encoding) drops every encoding's variant of the URL.
	for _, ae := range []string{"br", "gzip", ""} {
		get(t, alias, "Accept-Encoding", ae)
		if r, _ := get(t, alias, "Accept-Encoding", ae); r.Header.Get("X-Cache") != "HIT" {
			t.Fatalf("%s in %q: not cached", alias, ae)
		}
	}
	if r, _ := testutil.Do(t, "PURGE", alias); r.StatusCode != 200 {
		t.Fatalf("PURGE %s: %d", alias, r.StatusCode)
	}
	for _, ae := range []string{"br", "gzip", ""} {
		if r, _ := get(t, alias, "Accept-Encoding", ae); r.Header.Get("X-Cache") != "MISS" {
			t.Errorf("%s in %q after a URL purge: X-Cache %q, want MISS", alias, ae, r.Header.Get("X-Cache"))
		}
	}
}
