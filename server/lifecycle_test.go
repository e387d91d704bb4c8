package server

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/stats"
)

// TestStatsOverTwoReplicas: two replicas of one tree count their own
// requests, flush them into their own daily files, and each answers
// /-/stats with the sum.
func TestStatsOverTwoReplicas(t *testing.T) {
	f := newFixture(t, "2.2.3")
	f.publishSeedIn(t, "pusher", "2.2.4")
	a, tsA := f.server(t, func(c *Config) { c.ReplicaID = "a" })
	b, tsB := f.server(t, func(c *Config) { c.ReplicaID = "b" })
	for range 3 {
		do(t, "GET", tsA.URL+"/pusher/2.2.4/pusher.js")
	}
	do(t, "GET", tsA.URL+"/pusher/2.2/json2.js") // an alias counts for its version
	do(t, "GET", tsB.URL+"/pusher/2.2.4/pusher.js", "Accept-Encoding", "br")
	do(t, "GET", tsB.URL+"/2.2.3/pusher.js")
	do(t, "GET", tsB.URL+"/pusher/^2/pusher.js") // a redirect is no file request
	for _, s := range []*Server{a, b} {
		if err := s.FlushStats(); err != nil {
			t.Fatal(err)
		}
	}
	day := time.Now().UTC().Format(stats.DayFormat)
	for _, name := range []string{"a.json", "b.json"} {
		if _, err := os.Stat(filepath.Join(f.root, ".stats", day, name)); err != nil {
			t.Errorf("replica file %s: %v", name, err)
		}
	}
	_, body := do(t, "GET", tsB.URL+"/-/stats/pusher")
	var doc statsDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	c := doc.Versions["2.2.4"][day]
	if doc.Library != "pusher" || doc.Days != 30 || c.Requests != 5 || c.Bytes <= 0 || doc.Total.Requests != 5 {
		t.Errorf("/-/stats/pusher: %s", body)
	}
	_, body = do(t, "GET", tsA.URL+"/-/stats")
	json.Unmarshal(body, &doc)
	if doc.Versions["2.2.3"][day].Requests != 1 {
		t.Errorf("/-/stats: %s", body)
	}
	// The metrics label versions that exist, by library.
	metrics := scrape(t, a)
	if !strings.Contains(string(metrics), `cdnserve_version_requests_total{library="pusher",version="2.2.4"} 4`) {
		t.Errorf("metrics lack the version's requests")
	}
	// The browse pages show the last 7 days' requests.
	if _, page := do(t, "GET", tsA.URL+"/pusher/2.2.4/"); !strings.Contains(string(page), "5 requests in the last 7 days") {
		t.Errorf("the version page lacks its requests")
	}
}

// TestDeprecatedVersions: a deprecated version is skipped by ranges and
// latest unless it is the only match, and still served byte for byte;
// its /-/meta, page and alias carry Deprecation and Link headers, and
// its immutable exact files do not (issue 28, item 5).
func TestDeprecatedVersions(t *testing.T) {
	f := newFixture(t, "2.2.3", "2.2.4", "3.0.0")
	tree := f.tree
	tree.Clock = func() time.Time { return time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC) }
	if err := tree.Deprecate(context.Background(), "2.2.4", "2.2.4 leaks sockets; use 2.2.5", false); err != nil {
		t.Fatal(err)
	}
	if err := tree.Deprecate(context.Background(), "3.0.0", "3.0.0 is withdrawn", false); err != nil {
		t.Fatal(err)
	}
	_, ts := f.server(t, nil)
	for spec, want := range map[string]string{
		"^2.2.0": "/2.2.3/pusher.js", // 2.2.4 is skipped
		"2":      "/2.2.3/pusher.js",
		"latest": "/2.2.3/pusher.js", // 3.0.0 is skipped too
		"~2.2.4": "/2.2.4/pusher.js", // the only match
		"3":      "/3.0.0/pusher.js",
	} {
		if r, _ := do(t, "GET", ts.URL+"/"+spec+"/pusher.js"); r.Header.Get("Location") != want {
			t.Errorf("%s: %q, want %q", spec, r.Header.Get("Location"), want)
		}
	}
	resp, body := do(t, "GET", ts.URL+"/2.2.4/pusher.js")
	if resp.StatusCode != 200 || string(body) != string(f.file(t, "2.2.4/pusher.js")) {
		t.Fatalf("a deprecated version is not served as it is: %d", resp.StatusCode)
	}
	// An exact file is immutable: it never carries what a deprecation
	// adds later, which a cache that holds it would never learn.
	if resp.Header.Get("Deprecation") != "" || resp.Header.Get("Link") != "" || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("an exact file of a deprecated version: Deprecation %q, Link %q, Cache-Control %q", resp.Header.Get("Deprecation"), resp.Header.Get("Link"), resp.Header.Get("Cache-Control"))
	}
	// What is said about the version carries it, and is not immutable:
	// /-/meta, the page, and the alias. RFC 9745: Deprecation is a
	// Structured Field Date, "@" and the unix time.
	mresp, meta := do(t, "GET", ts.URL+"/-/meta/2.2.4")
	if got := mresp.Header.Get("Deprecation"); got != "@"+strconv.FormatInt(time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC).Unix(), 10) || !regexp.MustCompile(`^@\d+$`).MatchString(got) {
		t.Errorf("Deprecation: %q", got)
	}
	if got := mresp.Header.Get("Link"); got != `</2.2.3/>; rel="successor-version"` {
		t.Errorf("Link: %q", got)
	}
	if cc, tags := mresp.Header.Get("Cache-Control"), mresp.Header.Get("Surrogate-Key"); strings.Contains(cc, "immutable") || tags != "@2.2.4 @*" {
		t.Errorf("/-/meta of an exact version: Cache-Control %q, tags %q; want it short-lived and purged with the library's moving tag", cc, tags)
	}
	if !strings.Contains(string(meta), `"deprecated":{"message":"2.2.4 leaks sockets; use 2.2.5"`) {
		t.Errorf("meta: %s", meta)
	}
	if r, _ := do(t, "GET", ts.URL+"/2.2.4/"); r.Header.Get("Deprecation") == "" || strings.Contains(r.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("the version page: Deprecation %q, Cache-Control %q", r.Header.Get("Deprecation"), r.Header.Get("Cache-Control"))
	}
	if r, _ := do(t, "GET", ts.URL+"/2.2.3/pusher.js"); r.Header.Get("Deprecation") != "" {
		t.Error("a version that is not deprecated carries Deprecation")
	}
	// The alias stays where it was: aliases move only forward.
	if r, body := do(t, "GET", ts.URL+"/2.2/pusher.js"); r.Header.Get("Deprecation") == "" || r.Header.Get("Link") != `</2.2.3/pusher.js>; rel="successor-version"` || !strings.Contains(string(body), "2.2.4") {
		t.Errorf("the alias moved, or lacks the deprecation: %q %q", r.Header.Get("Deprecation"), r.Header.Get("Link"))
	}
	if _, page := do(t, "GET", ts.URL+"/2.2.4/"); !strings.Contains(string(page), `<span class="badge">deprecated</span> 2.2.4 leaks sockets; use 2.2.5 Use <a href="/2.2.3/">2.2.3</a>.`) {
		t.Errorf("the version page does not mark it")
	}
	if _, page := do(t, "GET", ts.URL+"/"); !strings.Contains(string(page), `<a href="/2.2.4/">2.2.4</a> <span class="badge">deprecated</span>`) {
		t.Errorf("the index does not mark it")
	}
	// Undeprecated, on the next refresh it is a version like any other.
	tree.Deprecate(context.Background(), "2.2.4", "", false)
	s, _ := f.server(t, nil)
	if exact, _ := s.cat.Root().Resolve("^2.2.0"); exact != "2.2.4" {
		t.Errorf("after undeprecate: %s", exact)
	}
}

// TestRemovedVersionIsGone: a version removed answers 410 for GoneFor,
// then 404.
func TestRemovedVersionIsGone(t *testing.T) {
	f := newFixture(t, "2.2.3", "2.3.0-rc.1")
	removedAt := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	f.tree.Clock = func() time.Time { return removedAt }
	if _, err := f.tree.Remove(context.Background(), "2.3.0-rc.1", dist.RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		now  time.Time
		want int
	}{{removedAt.Add(time.Hour), 410}, {removedAt.Add(8 * 24 * time.Hour), 404}} {
		_, ts := f.server(t, func(c *Config) { c.Clock = func() time.Time { return tc.now } })
		resp, body := do(t, "GET", ts.URL+"/2.3.0-rc.1/pusher.js")
		if resp.StatusCode != tc.want {
			t.Errorf("at %v: %d %s", tc.now, resp.StatusCode, body)
		}
		if tc.want == 410 && !strings.Contains(string(body), "version 2.3.0-rc.1 was removed on 2026-11-20") {
			t.Errorf("410 body: %s", body)
		}
		if r, _ := do(t, "GET", ts.URL+"/2.2.3/pusher.js"); r.StatusCode != 200 {
			t.Errorf("the other version: %d", r.StatusCode)
		}
	}
	if _, err := f.tree.Remove(context.Background(), "2.2.3", dist.RemoveOptions{}); err == nil || !strings.Contains(err.Error(), "is held by alias 2.2") {
		t.Errorf("removing an alias's version: %v", err)
	}
}
