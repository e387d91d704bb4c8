package server

import (
	"strings"
	"testing"
)

// TestCacheTags: every kind of response carries the tags an edge purges
// by, in both headers; exact versions carry no tag that a publish
// purges.
func TestCacheTags(t *testing.T) {
	f := librariesFixture(t)
	_, ts := f.server(t, nil)
	for _, tc := range []struct{ path, want string }{
		{"/pusher/2.2.4/pusher.js", "pusher pusher@2.2.4"},
		{"/pusher/2.2/pusher.js", "pusher pusher@2.2.4 pusher@2.2"},
		{"/pusher/^2.2.0/pusher.js", "pusher pusher@^2.2.0 pusher@*"},
		{"/pusher/latest/pusher.js", "pusher pusher@latest pusher@*"},
		{"/pusher@2.2.4/pusher.js", "pusher pusher@2.2.4"},
		{"/pusher@%3E=2%20%3C3/pusher.js", "pusher pusher@>=2%20<3 pusher@*"},
		{"/pusher/9.9.9/pusher.js", "pusher pusher@9.9.9 pusher@*"},
		{"/pusher/^7/pusher.js", "pusher pusher@^7 pusher@*"},
		{"/pusher/2.2.4/nosuch.js", "pusher pusher@2.2.4"},
		{"/pusher/", "pusher pusher@*"},
		{"/pusher/2.2/", "pusher pusher@2.2.4 pusher@2.2 pusher@*"},
		{"/pusher/2.2.4/", "pusher pusher@2.2.4 pusher@*"},
		{"/nosuch/1.0.0/x.js", "nosuch nosuch@*"},
		{"/2.2.3/pusher.js", "@2.2.3"},
		{"/2.2/pusher.js", "@2.2.3 @2.2"},
		{"/latest/pusher.js", "@latest @*"},
		{"/", "@index @*"},
		{"/-/libraries", "@index"},
		{"/-/versions/pusher", "pusher pusher@*"},
		{"/-/meta/pusher/2.2", "pusher pusher@2.2.4 pusher@2.2 pusher@*"},
		{"/-/meta/pusher/2.2.4", "pusher pusher@2.2.4 pusher@*"},
		{"/-/meta/@corp/widgets/latest", "@corp/widgets @corp/widgets@latest @corp/widgets@*"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, _ := do(t, "GET", ts.URL+tc.path)
			sk, ct := resp.Header.Get("Surrogate-Key"), resp.Header.Get("Cache-Tag")
			if sk != tc.want || ct != strings.ReplaceAll(tc.want, " ", ",") {
				t.Errorf("%s (%d): Surrogate-Key %q Cache-Tag %q, want %q", tc.path, resp.StatusCode, sk, ct, tc.want)
			}
			if len(sk) > 512 {
				t.Errorf("%s: %d bytes of tags", tc.path, len(sk))
			}
		})
	}
	_, off := f.server(t, func(c *Config) { c.DisableCacheTags = true })
	for _, p := range []string{"/pusher/2.2/pusher.js", "/pusher/^2/pusher.js", "/nosuch/1.0.0/x", "/"} {
		if resp, _ := do(t, "GET", off.URL+p); resp.Header.Get("Surrogate-Key") != "" || resp.Header.Get("Cache-Tag") != "" {
			t.Errorf("%s with tags off: %q", p, resp.Header.Get("Surrogate-Key"))
		}
	}
}

// TestOneCacheTagHeader: an edge that reads one header gets its tags in
// that header alone, and a bad name is refused.
func TestOneCacheTagHeader(t *testing.T) {
	f := newFixture(t, "2.2.3")
	for _, tc := range []struct {
		header        string
		surrogate, ct bool
	}{{"", true, true}, {"Surrogate-Key", true, false}, {"Cache-Tag", false, true}} {
		t.Run("header "+tc.header, func(t *testing.T) {
			_, ts := f.server(t, func(c *Config) { c.CacheTagHeader = tc.header })
			resp, _ := do(t, "GET", ts.URL+"/2.2/pusher.js")
			if got := resp.Header.Get("Surrogate-Key") != ""; got != tc.surrogate {
				t.Errorf("Surrogate-Key sent: %v, want %v", got, tc.surrogate)
			}
			if got := resp.Header.Get("Cache-Tag") != ""; got != tc.ct {
				t.Errorf("Cache-Tag sent: %v, want %v", got, tc.ct)
			}
		})
	}
	if _, err := New(Config{Fs: f.tree.Fs, Root: f.root, CacheTagHeader: "xkey"}); err == nil || !strings.Contains(err.Error(), `CacheTagHeader "xkey"`) {
		t.Errorf("New with a bad tag header: %v", err)
	}
}
