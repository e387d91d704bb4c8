package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cdnserve/cdnserve/npm/npmtest"
)

// npmPackage publishes a small library to the test registry: 1.0.0 and
// 1.1.0, each with dist/NAME.min.js, dist/NAME.js and lib/index.js.
func npmPackage(t *testing.T, reg *npmtest.Registry, name string) {
	for _, v := range []string{"1.0.0", "1.1.0"} {
		reg.Publish(t, npmtest.Package{Name: name, Version: v, JSON: map[string]any{"license": "MIT", "unpkg": "dist/" + name + ".min.js"},
			Files: map[string]string{"dist/" + name + ".min.js": "window.dep='" + v + "';", "dist/" + name + ".js": "window.dep = '" + v + "';\n", "lib/index.js": "1"}})
	}
}

// npmProject is a directory whose .npmrc points at the test registry.
func npmProject(t *testing.T, reg *npmtest.Registry) string {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".npmrc"), []byte("registry="+reg.URL+"\n"), 0o644)
	return dir
}

func TestAddCommand(t *testing.T) {
	t.Parallel()
	reg := npmtest.Start(t)
	name := npmtest.Name("cdnstest-add")
	npmPackage(t, reg, name)
	dir := npmProject(t, reg)
	cache := t.TempDir()
	code, out, errOut := cli(t, dir, "add", "npm:"+name+"@^1", "--files", "dist/**", "--npm-cache", cache)
	if code != 0 {
		t.Fatalf("add: %d %s %s", code, out, errOut)
	}
	for _, want := range []string{
		"resolved npm:" + name + "@^1 to 1.1.0\n",
		"verified " + name + "@1.1.0 against the registry's sha512-",
		"published 1.1.0: 2 files, ",
		"-> dist/" + name + "/1.1.0/\n",
		"alias 1.1 created -> 1.1.0\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("add output lacks %q:\n%s", want, out)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "dist", name, "1.1.0/dist", name+".min.js")); string(got) != "window.dep='1.1.0';" {
		t.Errorf("published file: %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "dist", name, "1.1.0/lib/index.js")); err == nil {
		t.Error("--files dist/** published lib/index.js")
	}
	code, out, _ = cli(t, dir, "add", "npm:"+name+"@1.1.0", "--npm-cache", cache)
	if code != 0 || out != name+"@1.1.0 is already stored: nothing fetched or written\n" {
		t.Errorf("adding again: %d %q", code, out)
	}
	if code, out, _ := cli(t, dir, "verify"); code != 0 || !strings.Contains(out, "verified dist: 1 library, 1 version, 1 alias") {
		t.Errorf("verify: %d %s", code, out)
	}
	for _, tc := range []struct{ arg, want string }{
		{"npm:" + name + "@^9", "no version matches ^9 (newest: 1.1.0, 1.0.0)"},
		{"npm:" + npmtest.Name("cdnstest-nosuch"), "not found (HTTP 404)"},
		{name + "@1", "an npm package is written npm:NAME@RANGE"},
		{"npm:" + name + "@1.0.0/dist/x.js", "add takes a package, not a file in it; keep files with --files"},
	} {
		t.Run(tc.arg, func(t *testing.T) {
			if code, _, errOut := cli(t, dir, "add", tc.arg, "--npm-cache", cache); code != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("add %s: %d %q, want %q", tc.arg, code, errOut, tc.want)
			}
		})
	}
}

// TestBuildWithNPMFile builds a library whose manifest takes a file from
// an npm package, as a seed-style loader expects it in each version.
func TestBuildWithNPMFile(t *testing.T) {
	t.Parallel()
	reg := npmtest.Start(t)
	dep := npmtest.Name("cdnstest-dep")
	npmPackage(t, reg, dep)
	dir := npmProject(t, reg)
	os.MkdirAll(filepath.Join(dir, "src"), 0o755)
	os.WriteFile(filepath.Join(dir, "src/app.js"), []byte("var app = 1;\n"), 0o644)
	manifest := "name: app\nversion: 1.0.0\nsrc_dir: src\nfiles:\n  - app.js\n  - from: npm:" + dep + "@1.0.0/dist/" + dep + ".min.js\n    to: dep.min.js\n"
	os.WriteFile(filepath.Join(dir, "cdnserve.yaml"), []byte(manifest), 0o644)
	cache := t.TempDir()
	if code, out, errOut := cli(t, dir, "build", "--npm-cache", cache); code != 0 {
		t.Fatalf("build: %d %s %s", code, out, errOut)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "dist/app/1.0.0/dep.min.js")); string(got) != "window.dep='1.0.0';" {
		t.Errorf("dep.min.js = %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "dist/app/1.0.0/dep.js")); err == nil {
		t.Error("a file from npm got a plain twin")
	}
	// The same build again, with the registry unreachable: the verified
	// tarball comes from the cache.
	os.WriteFile(filepath.Join(dir, ".npmrc"), []byte("registry=http://127.0.0.1:9/\n"), 0o644)
	if code, _, errOut := cli(t, dir, "build", "--version", "1.0.1", "--npm-cache", cache); code != 0 {
		t.Errorf("offline rebuild: %s", errOut)
	}
	os.WriteFile(filepath.Join(dir, "cdnserve.yaml"), []byte(strings.Replace(manifest, "@1.0.0/", "@^1.0.0/", 1)), 0o644)
	if code, _, errOut := cli(t, dir, "build", "--npm-cache", cache); code != 1 || !strings.Contains(errOut, "cdnserve.yaml:6: files[1].from:") || !strings.Contains(errOut, "a build takes an exact version") {
		t.Errorf("a range: %d %s", code, errOut)
	}
}

// TestServeNPMMirror runs the real binary with the npm mirror: an
// allowed package is fetched on its first request, one that is not
// allowed is not; a private scope's token from .npmrc works and is never
// printed.
func TestServeNPMMirror(t *testing.T) {
	t.Parallel()
	reg := npmtest.Start(t)
	name := npmtest.Name("cdnstest-serve")
	private := "@private/" + npmtest.Name("cdnstest")
	npmPackage(t, reg, name)
	reg.Publish(t, npmtest.Package{Name: private, Version: "2.0.0", Files: map[string]string{"p.js": "var p = 2;"}})
	dir := t.TempDir()
	host := strings.TrimPrefix(reg.URL, "http:")
	os.WriteFile(filepath.Join(dir, ".npmrc"), []byte("@private:registry="+reg.URL+"\n"+host+":_authToken=${NPM_TEST_TOKEN}\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "dist"), 0o755)
	// The @private scope's registry needs a token: the mirror fetches it
	// only into a private library, which a CDN token opens.
	code, cdnToken, errOut := cli(t, dir, "token", "create", "--library", "@private/*")
	if code != 0 {
		t.Fatal(errOut)
	}
	cdnToken = strings.TrimSpace(cdnToken)
	s := startServe(t, dir, []string{"NPM_TEST_TOKEN=" + reg.Token}, "--addr", "127.0.0.1:0", "--storage", "dist", "--npm-cache", t.TempDir(),
		"--npm-mirror", "--npm-allow", name, "--npm-allow", "@private/*", "--npm-registry", reg.URL, "--private", "@private/*", "--tokens", "tokens")
	for path, want := range map[string]string{
		"/" + name + "@^1/dist/" + name + ".min.js": "302 /" + name + "/1.1.0/dist/" + name + ".min.js",
		"/" + name + "/1.0.0/dist/" + name + ".js":  "200",
		"/" + name + "@1/":                          "302 /" + name + "/1.1.0/dist/" + name + ".min.js",
		"/" + private + "/2.0.0/p.js":               "401",
		"/" + private + "/2.0.0/p.js?token":         "200",
		"/sockjs-client@1/sockjs.min.js":            "404",
	} {
		var h []string
		if p, ok := strings.CutSuffix(path, "?token"); ok {
			path, h = p, []string{"Authorization", "Bearer " + cdnToken}
		}
		r, _ := get(t, s.base+path, h...)
		got := r.Status[:3]
		if r.StatusCode == 302 {
			got += " " + r.Header.Get("Location")
		}
		if got != want {
			t.Errorf("%s: %s, want %s", path, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "dist", private, "2.0.0/p.js")); err != nil {
		t.Errorf("the private package is not stored: %v", err)
	}
	s.stop(t)
	if strings.Contains(s.stderr.String(), reg.Token) || strings.Contains(s.stdout, reg.Token) {
		t.Error("the token appears in serve's output")
	}
	if !strings.Contains(s.stderr.String(), "fetched an npm package into storage") {
		t.Errorf("the log does not say what was fetched:\n%s", s.stderr.String())
	}
	// Without --private, the mirror does not fetch the scope whose
	// registry needs a token: it would make a private package public.
	other := "@private/" + npmtest.Name("cdnstest")
	reg.Publish(t, npmtest.Package{Name: other, Version: "1.0.0", Files: map[string]string{"p.js": "var p = 1;"}})
	open := startServe(t, dir, []string{"NPM_TEST_TOKEN=" + reg.Token}, "--addr", "127.0.0.1:0", "--storage", "dist", "--npm-cache", t.TempDir(),
		"--npm-mirror", "--npm-allow", "@private/*", "--npm-registry", reg.URL)
	if r, _ := get(t, open.base+"/"+other+"/1.0.0/p.js"); r.StatusCode != 404 {
		t.Errorf("a token registry's package into a public library: %d", r.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(dir, "dist", other)); err == nil {
		t.Error("the private package was stored for a public library")
	}
	open.stop(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--npm-mirror"}, "--npm-mirror needs --npm-allow"},
		{[]string{"serve", "--npm-allow", "x"}, "--npm-allow is set but --npm-mirror is not"},
		{[]string{"serve", "--npm-mirror", "--npm-allow", "[", "--addr", "127.0.0.1:0"}, `--npm-allow "["`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if code, _, errOut := cli(t, dir, tc.args...); code != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("%v: %d %q", tc.args, code, errOut)
			}
		})
	}
}

// TestServeUpstreams: the first registry of a rule is down; serve
// fetches from the backup, its breaker opens after two failures, and
// /-/upstreams and /-/metrics on the admin listener say so.
func TestServeUpstreams(t *testing.T) {
	t.Parallel()
	reg := npmtest.Start(t)
	dead, backup := reg.NewProxy(t), reg.NewProxy(t)
	dead.Answer(http.StatusServiceUnavailable)
	var names []string
	for range 3 {
		name := npmtest.Name("cdnstest-upstream")
		npmPackage(t, reg, name)
		names = append(names, name)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "dist"), 0o755)
	s := startServe(t, dir, nil, "--addr", "127.0.0.1:0", "--storage", "dist", "--npm-cache", t.TempDir(), "--npm-mirror", "--npm-allow", "cdnstest-upstream-*",
		"--npm-upstream", "cdnstest-upstream-*="+dead.Base()+" "+backup.Base(), "--npm-breaker-failures", "2")
	for _, name := range names {
		if r, body := get(t, s.base+"/"+name+"/1.1.0/dist/"+name+".min.js"); r.StatusCode != 200 || body != "window.dep='1.1.0';" {
			t.Fatalf("%s: %d %s", name, r.StatusCode, body)
		}
	}
	r, body := get(t, s.admin+"/-/upstreams")
	var got struct {
		Upstreams []struct {
			URL      string   `json:"url"`
			Patterns []string `json:"patterns"`
			State    string   `json:"state"`
			Calls    int      `json:"calls"`
			Skipped  int      `json:"skipped"`
		} `json:"upstreams"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || r.StatusCode != 200 || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("/-/upstreams: %d %v %s", r.StatusCode, err, body)
	}
	states := map[string]string{}
	for _, u := range got.Upstreams {
		states[u.URL] = fmt.Sprintf("%s %v calls=%d skipped=%d", u.State, u.Patterns, u.Calls, u.Skipped)
	}
	if states[dead.Base()] != "open [cdnstest-upstream-*] calls=2 skipped=1" || !strings.HasPrefix(states[backup.Base()], "closed [cdnstest-upstream-*] calls=3 ") {
		t.Errorf("/-/upstreams: %v\n%s", states, body)
	}
	if r, _ := get(t, s.base+"/-/upstreams"); r.StatusCode != 404 {
		t.Errorf("/-/upstreams on the public listener: %d", r.StatusCode)
	}
	_, metrics := get(t, s.admin+"/-/metrics")
	for _, want := range []string{
		`cdnserve_upstream_state{state="open",upstream="` + dead.Base() + `"} 1`,
		`cdnserve_upstream_state{state="closed",upstream="` + backup.Base() + `"} 1`,
		`cdnserve_upstream_skipped_total{upstream="` + dead.Base() + `"} 1`,
		`cdnserve_upstream_failures_total{upstream="` + dead.Base() + `"} 2`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/-/metrics lacks %s", want)
		}
	}
	s.stop(t)
}

// TestAddOffline: add --offline resolves and publishes from the npm
// cache alone, and names what the cache lacks; the registry is never
// asked.
func TestAddOffline(t *testing.T) {
	t.Parallel()
	reg := npmtest.Start(t)
	proxy := reg.NewProxy(t)
	name, never := npmtest.Name("cdnstest-offline"), npmtest.Name("cdnstest-offline-never")
	npmPackage(t, reg, name)
	npmPackage(t, reg, never)
	cache := t.TempDir()
	online := t.TempDir()
	if code, _, errOut := cli(t, online, "add", "npm:"+name+"@^1", "--npm-cache", cache, "--npm-registry", proxy.Base()); code != 0 {
		t.Fatal(errOut)
	}
	asked := len(proxy.Paths())
	dir := t.TempDir()
	code, out, errOut := cli(t, dir, "add", "npm:"+name+"@^1", "--offline", "--npm-cache", cache, "--npm-registry", proxy.Base())
	if code != 0 || !strings.Contains(out, "resolved npm:"+name+"@^1 to 1.1.0") || !strings.Contains(out, "published 1.1.0") {
		t.Errorf("add --offline of a cached package: %d %q %q", code, out, errOut)
	}
	for _, tc := range []struct{ spec, want string }{
		{name + "@1.0.0", "offline: not in the cache"},                   // its document is cached, its tarball is not
		{never + "@^1", "its document was never fetched into the cache"}, // never fetched
	} {
		code, _, errOut := cli(t, dir, "add", "npm:"+tc.spec, "--offline", "--npm-cache", cache, "--npm-registry", proxy.Base())
		if code != 1 || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, strings.Split(tc.spec, "@")[0]) {
			t.Errorf("add --offline %s: %d %q, want %q", tc.spec, code, errOut, tc.want)
		}
	}
	if got := proxy.Paths(); len(got) != asked {
		t.Errorf("add --offline asked the registry: %v", got[asked:])
	}
}
