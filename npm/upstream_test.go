package npm

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/npm/npmtest"
	"github.com/cdnserve/cdnserve/retry"
)

func TestUpstreamRules(t *testing.T) {
	cfg := NewConfig("https://registry.npmjs.org/")
	cfg.Scopes["@corp"] = "https://npm.corp.example/"
	for _, rule := range []string{
		"*=https://registry.npmjs.org/ https://mirror.example/",
		"corp-*=https://npm.corp.example/",
		"@corp/legacy=https://old.corp.example/",
	} {
		u, err := ParseUpstream(rule)
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.AddUpstream(u); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ name, pattern, registries string }{
		{"react", "*", "https://registry.npmjs.org/ https://mirror.example/"},
		{"@types/node", "*", "https://registry.npmjs.org/ https://mirror.example/"},
		{"@corp/ui", "@corp/*", "https://npm.corp.example/"},          // .npmrc's scope beats the '*' rule given first
		{"@corp/legacy", "@corp/legacy", "https://old.corp.example/"}, // an exact name beats every glob
		{"corp-utils", "corp-*", "https://npm.corp.example/"},         // unscoped internal names, never the public registry
		{"corpus", "*", "https://registry.npmjs.org/ https://mirror.example/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cfg.Rule(tc.name)
			if r.Pattern != tc.pattern || strings.Join(r.Registries, " ") != tc.registries {
				t.Errorf("Rule(%s) = %s from %v, want %s from %s", tc.name, r.Pattern, r.Registries, tc.pattern, tc.registries)
			}
		})
	}
	for _, bad := range []struct{ rule, want string }{
		{"@corp/*", "want PATTERN=URL"},
		{"@corp/*=", "no registry URL"},
		{"@corp/*=ftp://x/", "not an http or https URL"},
		{"[=https://x/", "not a valid glob"},
		{"*=https://a.example/ https://a.example", "listed twice"},
		{"@corp/*=https://user:hunter2@npm.corp.example/ ftp://hunter2@x/", "not an http"},
	} {
		_, err := ParseUpstream(bad.rule)
		if err == nil || !strings.Contains(err.Error(), bad.want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ParseUpstream(%q) = %v, want an error with %q and no password", bad.rule, err, bad.want)
		}
	}
	u, _ := ParseUpstream("*=https://x.example/")
	if err := cfg.AddUpstream(u); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("a second '*' rule: %v", err)
	}
}

// TestNoDependencyConfusion: an attacker publishes @corp/<name> on the
// public registry. Whether the internal registry lacks it, is down, or
// its breaker is open, it is never fetched from the public one: the
// public registry is never even asked.
func TestNoDependencyConfusion(t *testing.T) {
	reg := npmtest.Start(t)
	name := npmtest.Name("@corp/secret-sdk")
	reg.Publish(t, npmtest.Package{Name: name, Version: "9.9.9", JSON: map[string]any{"main": "index.js"},
		Files: map[string]string{"index.js": "steal(process.env)"}})
	public := reg.NewProxy(t) // has the attacker's package
	internal := reg.NewProxy(t)
	backup := reg.NewProxy(t)
	for _, tc := range []struct {
		name   string
		rules  []string
		answer int
		want   error
	}{
		{"npmrc scope, internal lacks it", nil, http.StatusNotFound, ErrNotFound},
		{"npmrc scope, internal down", nil, http.StatusServiceUnavailable, ErrUnavailable},
		{"upstream rule with a backup, both down", []string{"@corp/*=" + internal.Base() + " " + backup.Base(), "*=" + public.Base()}, http.StatusServiceUnavailable, ErrUnavailable},
		{"upstream rule, internal lacks it", []string{"*=" + public.Base(), "@corp/*=" + internal.Base() + " " + backup.Base()}, http.StatusNotFound, ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			internal.Answer(tc.answer)
			backup.Answer(tc.answer)
			cfg := NewConfig(public.Base())
			cfg.Scopes["@corp"] = internal.Base()
			for _, r := range tc.rules {
				u, err := ParseUpstream(r)
				if err != nil {
					t.Fatal(err)
				}
				cfg.AddUpstream(u)
			}
			c := NewClient(cfg)
			c.CacheDir, c.Backoff, c.BreakerFailures = t.TempDir(), time.Millisecond, 2
			root := memRoot()
			m := &Mirror{Client: c, Tree: root, Allow: []string{"@corp/*"}}
			for range 5 { // past the breaker's opening
				if _, err := Add(context.Background(), c, root, Spec{Name: name, Range: "*"}, AddOptions{}); !errors.Is(err, tc.want) {
					t.Fatalf("add %s: %v, want %v", name, err, tc.want)
				}
				c.DocTTL = 0 // ask again, not from memory
				if _, err := m.Ensure(context.Background(), name, "9.9.9"); !errors.Is(err, tc.want) {
					t.Fatalf("mirror %s: %v, want %v", name, err, tc.want)
				}
			}
			if got := public.Paths(); len(got) != 0 {
				t.Errorf("the public registry was asked %v", got)
			}
			if len(internal.Paths()) == 0 {
				t.Errorf("the internal registry was never asked")
			}
			if vs, _ := mustLibrary(t, root, name).Versions(); len(vs) != 0 {
				t.Errorf("stored %v", vs)
			}
		})
	}
}

// TestUpstreamFailover: the first registry of a rule is down; packages
// come from the backup, and once the breaker opens the dead one is not
// asked until its cooldown ends; a trial that succeeds closes it.
func TestUpstreamFailover(t *testing.T) {
	reg := npmtest.Start(t)
	dead, backup := reg.NewProxy(t), reg.NewProxy(t)
	var names []string
	for i := range 5 {
		names = append(names, npmtest.Name("cdnstest-failover"))
		reg.Publish(t, npmtest.Package{Name: names[i], Version: "1.0.0", Files: map[string]string{"index.js": "x"}})
	}
	dead.Answer(http.StatusBadGateway)
	cfg := NewConfig("https://registry.invalid/")
	u, _ := ParseUpstream("cdnstest-*=" + dead.Base() + " " + backup.Base())
	cfg.AddUpstream(u)
	var mu sync.Mutex
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	c := NewClient(cfg)
	c.Attempts, c.BreakerFailures, c.BreakerCooldown = 1, 2, 30*time.Second
	c.Clock = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	fetch := func(i int) string {
		t.Helper()
		doc, _, err := c.Packument(context.Background(), names[i])
		if err != nil {
			t.Fatalf("%s: %v", names[i], err)
		}
		return doc.Registry
	}
	deadAsked := func() int { return len(dead.Paths()) }
	state := func() retry.Upstream {
		for _, s := range c.Upstreams() {
			if s.URL == dead.Base() {
				return s
			}
		}
		t.Fatalf("no %s in %+v", dead.Base(), c.Upstreams())
		return retry.Upstream{}
	}
	for i := range 2 {
		if got := fetch(i); got != backup.Base() {
			t.Fatalf("%s came from %s", names[i], got)
		}
	}
	if s := state(); deadAsked() != 2 || s.State != retry.Open || s.RetryAt == nil || !slices.Equal(s.Patterns, []string{"cdnstest-*"}) || s.LastError != "registry unavailable (HTTP 502)" {
		t.Fatalf("after 2 failures: asked %d, %+v", deadAsked(), s)
	}
	fetch(2)
	if s := state(); deadAsked() != 2 || s.Skipped != 1 {
		t.Fatalf("open: the dead registry was asked (%d) or not counted as skipped: %+v", deadAsked(), s)
	}
	mu.Lock()
	now = now.Add(31 * time.Second)
	mu.Unlock()
	fetch(3) // the trial fails: open again
	if s := state(); deadAsked() != 3 || s.State != retry.Open {
		t.Fatalf("after a failed trial: asked %d, %+v", deadAsked(), s)
	}
	dead.Answer(0)
	mu.Lock()
	now = now.Add(31 * time.Second)
	mu.Unlock()
	if got := fetch(4); got != dead.Base() {
		t.Errorf("after it healed, %s came from %s", names[4], got)
	}
	if s := state(); s.State != retry.Closed || s.FailuresInRow != 0 || s.Calls != 4 || s.Failures != 3 {
		t.Errorf("healed: %+v", s)
	}
}

func mustLibrary(t *testing.T, root dist.Tree, name string) dist.Tree {
	t.Helper()
	lib, err := root.Library(name)
	if err != nil {
		t.Fatal(err)
	}
	return lib
}
