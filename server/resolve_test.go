package server

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestResolution(t *testing.T) {
	f := newFixture(t, "1.7.1", "1.7.0", "2.2.2", "2.2.3", "2.3.0-rc.1", "10.0.0-beta")
	_, ts := f.server(t, nil)
	tests := []struct {
		spec     string
		location string // "" means 404
	}{
		{"1", "/1.7.1/sockjs.js"},
		{"2", "/2.2.3/sockjs.js"},
		{"^1.7.0", "/1.7.1/sockjs.js"},
		{"~1.7", "/1.7.1/sockjs.js"},
		{"~1.7.0", "/1.7.1/sockjs.js"},
		{"1.x", "/1.7.1/sockjs.js"},
		{"2.x", "/2.2.3/sockjs.js"},
		{"2.2.x", "/2.2.3/sockjs.js"},
		{"latest", "/2.2.3/sockjs.js"},
		{">=1.0.0 <2.0.0", "/1.7.1/sockjs.js"},
		{"<=1.7.0", "/1.7.0/sockjs.js"},
		{"^2.3.0-rc.0", "/2.3.0-rc.1/sockjs.js"}, // names a prerelease: prereleases match
		// npm's prerelease rule, as the mirror resolves upstream: only
		// prereleases of the named major.minor.patch (Masterminds' rule
		// would give 2.3.0-rc.1).
		{"^2.2.3-beta.1", "/2.2.3/sockjs.js"},
		{">=2.2.0-0", "/2.2.3/sockjs.js"},
		{"2.3", ""}, // only a prerelease exists in 2.3
		{"2.3.x", ""},
		{"10", ""}, // only 10.0.0-beta
		{"3", ""},
		{"1.7.9", ""},
		{"^not-a-range", ""},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			resp, body := do(t, "GET", ts.URL+"/"+url.PathEscape(tc.spec)+"/sockjs.js")
			if tc.location == "" {
				if resp.StatusCode != 404 {
					t.Fatalf("status %d (Location %q), want 404", resp.StatusCode, resp.Header.Get("Location"))
				}
				if !strings.Contains(string(body), tc.spec) || !strings.Contains(string(body), "published versions: 10.0.0-beta, 2.3.0-rc.1, 2.2.3, 2.2.2, 1.7.1, 1.7.0") {
					t.Errorf("404 body does not name the range and the versions:\n%s", body)
				}
				return
			}
			if resp.StatusCode != 302 || resp.Header.Get("Location") != tc.location {
				t.Fatalf("status %d Location %q, want 302 %s", resp.StatusCode, resp.Header.Get("Location"), tc.location)
			}
		})
	}
	// Exact and alias directories are served, not redirected.
	for _, p := range []string{"/1.7.0/sockjs.js", "/1.7/sockjs.js", "/2.3.0-rc.1/sockjs.js"} {
		if resp, _ := do(t, "GET", ts.URL+p); resp.StatusCode != 200 {
			t.Errorf("%s: status %d", p, resp.StatusCode)
		}
	}
	// The 404 can be JSON.
	resp, body := do(t, "GET", ts.URL+"/3/x.js", "Accept", "application/json")
	var nf struct {
		Range    string   `json:"range"`
		Error    string   `json:"error"`
		Versions []string `json:"versions"`
	}
	if err := json.Unmarshal(body, &nf); err != nil || resp.StatusCode != 404 || nf.Range != "3" || nf.Error != "no published version matches" || len(nf.Versions) != 6 {
		t.Errorf("JSON 404 = %d %s", resp.StatusCode, body)
	}
}

func TestVersionsAndMeta(t *testing.T) {
	f := newFixture(t, "1.7.1", "2.2.3", "2.3.0-rc.1")
	_, ts := f.server(t, nil)
	_, body := do(t, "GET", ts.URL+"/-/versions")
	var doc struct {
		Versions []string          `json:"versions"`
		Aliases  map[string]string `json:"aliases"`
		Latest   string            `json:"latest"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(doc.Versions, []string{"2.3.0-rc.1", "2.2.3", "1.7.1"}) || doc.Latest != "2.2.3" ||
		len(doc.Aliases) != 2 || doc.Aliases["1.7"] != "1.7.1" || doc.Aliases["2.2"] != "2.2.3" {
		t.Errorf("versions = %s", body)
	}
	resp, body := do(t, "GET", ts.URL+"/-/meta/2.2")
	var m struct {
		Version string `json:"version"`
		AliasOf string `json:"alias_of"`
		Files   []struct {
			Path        string `json:"path"`
			Size        int    `json:"size"`
			ContentType string `json:"content_type"`
			Integrity   string `json:"integrity"`
		} `json:"files"`
	}
	if err := json.Unmarshal(body, &m); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if m.Version != "2.2.3" || m.AliasOf != "2.2.3" || len(m.Files) != 11 {
		t.Errorf("meta = %+v", m)
	}
	for _, file := range m.Files {
		if file.Path == "pusher.min.js" {
			if file.Size != len(f.file(t, "2.2.3/pusher.min.js")) || file.ContentType != jsType || !strings.HasPrefix(file.Integrity, "sha384-") {
				t.Errorf("pusher.min.js meta = %+v", file)
			}
		}
	}
	resp, _ = do(t, "GET", ts.URL+"/-/meta/latest")
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/-/meta/2.2.3" {
		t.Errorf("/-/meta/latest: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := do(t, "GET", ts.URL+"/-/meta/9.9.9"); resp.StatusCode != 404 {
		t.Errorf("/-/meta/9.9.9: %d", resp.StatusCode)
	}
}

// TestPublishWhileServing publishes into the tree under a running server:
// a new exact version is served at once (storage is checked before a
// 404), and the alias and /latest/ follow on the next refresh.
func TestPublishWhileServing(t *testing.T) {
	f := newFixture(t, "2.2.3")
	var mu sync.Mutex
	now := seedTime
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, ts := f.server(t, func(c *Config) { c.Clock = clock; c.NegativeTTL = time.Second })

	if resp, _ := do(t, "GET", ts.URL+"/2.2.4/pusher.js"); resp.StatusCode != 404 {
		t.Fatalf("before publish: %d", resp.StatusCode)
	}
	f.publishSeed(t, "2.2.4")
	// Within the negative TTL the miss is remembered...
	if resp, _ := do(t, "GET", ts.URL+"/2.2.4/pusher.js"); resp.StatusCode != 404 {
		t.Errorf("within negative TTL: %d, want the remembered 404", resp.StatusCode)
	}
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	// ...and after it, storage is checked again and the version is served.
	resp, body := do(t, "GET", ts.URL+"/2.2.4/pusher.js")
	if resp.StatusCode != 200 || !strings.Contains(string(body), "v2.2.4") {
		t.Fatalf("after publish: %d", resp.StatusCode)
	}
	f.publishSeed(t, "2.2.5") // never requested before: served at once
	if resp, _ := do(t, "GET", ts.URL+"/2.2.5/pusher.js"); resp.StatusCode != 200 {
		t.Errorf("2.2.5 at once: %d", resp.StatusCode)
	}
	// /latest/ may lag until the refresh, but the exact version is known
	// now, because it was loaded.
	if err := s.Refresh(); err != nil {
		t.Fatal(err)
	}
	if resp, _ := do(t, "GET", ts.URL+"/latest/pusher.js"); resp.Header.Get("Location") != "/2.2.5/pusher.js" {
		t.Errorf("latest -> %q", resp.Header.Get("Location"))
	}
	if _, body := do(t, "GET", ts.URL+"/2.2/pusher.js"); !strings.Contains(string(body), "v2.2.5") {
		t.Error("alias did not follow the publish")
	}
}

// TestRunFollowsPublish runs the refresh loop for real.
func TestRunFollowsPublish(t *testing.T) {
	f := newFixture(t, "2.2.3")
	s, ts := f.server(t, func(c *Config) { c.Refresh = 20 * time.Millisecond })
	do(t, "GET", ts.URL+"/2.2/pusher.js") // load the alias
	ctx, cancel := contextWithCancel()
	defer cancel()
	go s.Run(ctx)
	f.publishSeed(t, "2.2.9")
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		resp, body := do(t, "GET", ts.URL+"/2.2/pusher.js")
		latest, _ := do(t, "GET", ts.URL+"/latest/pusher.js")
		if resp.StatusCode == 200 && strings.Contains(string(body), "v2.2.9") && latest.Header.Get("Location") == "/2.2.9/pusher.js" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("alias and /latest/ did not follow the publish within 3s at a 20ms refresh")
}
