package npm

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cdnserve/cdnserve/npm/npmtest"
)

func TestLoadConfig(t *testing.T) {
	home, project := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(home, ".npmrc"), []byte(`; the user's
registry=https://user-registry.example/
@corp:registry=https://corp.example/npm/
//corp.example/npm/:_authToken=${CORP_TOKEN}
//user-registry.example/:_authToken="user-secret"
`), 0o644)
	os.WriteFile(filepath.Join(project, ".npmrc"), []byte(`# the project's wins
registry = https://project-registry.example
@other:registry=https://other.example/
//other.example/:_authToken=${MISSING?}
`), 0o644)
	env := map[string]string{"CORP_TOKEN": "corp-secret"}
	c, err := LoadConfig(project, home, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ got, want string }{
		{c.Registry, "https://project-registry.example/"},
		{c.RegistryFor("sockjs-client"), "https://project-registry.example/"},
		{c.RegistryFor("@corp/widgets"), "https://corp.example/npm/"},
		{c.RegistryFor("@other/x"), "https://other.example/"},
		{c.RegistryFor("@unknown/x"), "https://project-registry.example/"},
		{c.tokenFor("https://corp.example/npm/@corp%2fwidgets"), "corp-secret"},
		{c.tokenFor("https://corp.example/npm/@corp/widgets/-/widgets-1.0.0.tgz"), "corp-secret"},
		{c.tokenFor("https://corp.example/other/x"), ""}, // another path on the same host
		{c.tokenFor("https://project-registry.example/sockjs-client"), ""},
		{c.tokenFor("https://user-registry.example/x"), "user-secret"},
		{c.tokenFor("https://other.example/x"), ""},
	} {
		t.Run(tc.got, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
	if s := c.String(); strings.Contains(s, "secret") || !strings.Contains(s, "//corp.example/npm/:_authToken=(redacted)") {
		t.Errorf("String() = %s", s)
	}
	os.WriteFile(filepath.Join(project, ".npmrc"), []byte("registry=ftp://x\n"), 0o644)
	if _, err := LoadConfig(project, home, os.Getenv); err == nil || !strings.Contains(err.Error(), filepath.Join(project, ".npmrc")+":1: registry:") {
		t.Errorf("bad registry: %v", err)
	}
}

func TestParseSpec(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"npm:sockjs-client@^1.6.0", "sockjs-client|^1.6.0|", ""},
		{"npm:@corp/widgets@2.3.1", "@corp/widgets|2.3.1|", ""},
		{"npm:json3", "json3||", ""},
		{"npm:sockjs-client@1.6.1/dist/sockjs.min.js", "sockjs-client|1.6.1|dist/sockjs.min.js", ""},
		{"npm:@corp/widgets@1.0.0/a/b.css", "@corp/widgets|1.0.0|a/b.css", ""},
		{"npm:@corp/widgets/a.js", "@corp/widgets||a.js", ""},
		{"npm:x@latest", "", "reads as a semver range"},
		{"sockjs-client@1", "", "npm:NAME@RANGE"},
		{"npm:@corp", "", "npm:@scope/name"},
		{"npm:a@", "", "nothing after @"},
		{"npm:a@1.0.0/../x", "", "clean path"},
		{"npm:Upper@1", "", "capital"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			s, err := ParseSpec(tc.in)
			got := s.Name + "|" + s.Range + "|" + s.Path
			switch {
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("ParseSpec(%q) = %q, %v; want an error with %q", tc.in, got, err, tc.err)
			case tc.err == "" && (err != nil || got != tc.want):
				t.Errorf("ParseSpec(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

// TestPick checks npm's rules for choosing a version: dist-tags, the
// latest tag preferred when it satisfies a range, and prereleases only
// for a range that names one on the same major.minor.patch.
func TestPick(t *testing.T) {
	doc := &Packument{Name: "p", DistTags: map[string]string{"latest": "1.5.0", "next": "2.0.0-rc.2"}, Versions: map[string]*PackageVersion{}}
	for _, v := range []string{"1.4.0", "1.5.0", "1.6.0", "1.6.1-beta.1", "2.0.0-rc.1", "2.0.0-rc.2", "0.9.0", "1.7.0+build"} {
		doc.Versions[v] = &PackageVersion{Name: "p", Version: v}
	}
	for _, tc := range []struct{ spec, want string }{
		{"", "1.5.0"},
		{"latest", "1.5.0"},
		{"next", "2.0.0-rc.2"},
		{"^1.0.0", "1.5.0"}, // latest satisfies it: npm prefers the tag
		{"^1.5.1", "1.6.0"}, // 1.6.1-beta.1 is a prerelease of another patch
		{"~1.4", "1.4.0"},
		{"1.6.0", "1.6.0"},
		{">=1.6.1-beta.0 <1.7", "1.6.1-beta.1"},
		{"^2.0.0-rc.1", "2.0.0-rc.2"},
		{"^2", ""},    // only prereleases of 2.0.0
		{"1.7.0", ""}, // only with build metadata, which cannot be hosted
		{"^3", ""},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			v, err := Pick(doc, tc.spec)
			got := ""
			if v != nil {
				got = v.Version
			}
			if got != tc.want || (tc.want == "" && !errors.Is(err, ErrNotFound)) {
				t.Errorf("Pick(%q) = %q, %v; want %q", tc.spec, got, err, tc.want)
			}
		})
	}
	if _, err := Pick(doc, "not a range!"); err == nil || !strings.Contains(err.Error(), "dist-tags (latest, next)") {
		t.Errorf("bad spec: %v", err)
	}
}

func TestEntryAndLicense(t *testing.T) {
	for _, tc := range []struct{ json, entry, license string }{
		{`{"jsdelivr":"dist/a.min.js","unpkg":"u.js","browser":"b.js","main":"m.js","license":"MIT"}`, "dist/a.min.js", "MIT"},
		{`{"unpkg":"./u.js","main":"m.js","license":{"type":"BSD-3-Clause"}}`, "u.js", "BSD-3-Clause"},
		{`{"browser":{"./x.js":false},"main":"lib/m.js"}`, "lib/m.js", ""},
		{`{}`, "", ""},
	} {
		t.Run(tc.json, func(t *testing.T) {
			var v PackageVersion
			json.Unmarshal([]byte(tc.json), &v)
			if v.Entry() != tc.entry || v.LicenseName() != tc.license {
				t.Errorf("%s: entry %q license %q", tc.json, v.Entry(), v.LicenseName())
			}
		})
	}
}

func TestMatchGlob(t *testing.T) {
	for _, tc := range []struct {
		glob, p string
		want    bool
	}{
		{"dist/**", "dist/a.js", true},
		{"dist/**", "dist/sub/a.js", true},
		{"dist/**", "src/a.js", false},
		{"**/*.js", "a.js", true},
		{"**/*.js", "x/y/a.js", true},
		{"**/*.js", "x/y/a.css", false},
		{"dist/*.js", "dist/sub/a.js", false},
		{"package.json", "package.json", true},
	} {
		t.Run(tc.glob, func(t *testing.T) {
			if got := MatchGlob(tc.glob, tc.p); got != tc.want {
				t.Errorf("MatchGlob(%q, %q) = %v", tc.glob, tc.p, got)
			}
		})
	}
}

// TestExtract reads hand-made tarballs: only regular files below
// package/ come out; links, dot-files, big files and duplicate sidecars
// are left out with a reason; an escaping path refuses the package.
func TestExtract(t *testing.T) {
	tgz := npmtest.Tarball(t,
		npmtest.Entry{Name: "package/package.json", Body: `{"name":"x"}`},
		npmtest.Entry{Name: "package/dist/a.js", Body: "var a;"},
		npmtest.Entry{Name: "package/dist/a.js.gz", Body: "old sidecar"},
		npmtest.Entry{Name: "package/dist/link.js", Linkname: "/etc/passwd"},
		npmtest.Entry{Name: "package/.npmignore", Body: "x"},
		npmtest.Entry{Name: "package/big.bin", Body: strings.Repeat("x", 2000)},
		npmtest.Entry{Name: "other/readme", Body: "x"},
	)
	files, skipped, err := Extract(tgz, Limits{Package: 1 << 20, File: 1000}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names, why []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	for _, s := range skipped {
		why = append(why, s.Path+": "+s.Why)
	}
	if strings.Join(names, " ") != "package.json dist/a.js" {
		t.Errorf("files %q", names)
	}
	for _, w := range []string{"dist/link.js: a link (to /etc/passwd)", ".npmignore: a dot-file", "big.bin: 2000 bytes, over", "other/readme: not below package/", "dist/a.js.gz: a gzip copy of dist/a.js"} {
		if !strings.Contains(strings.Join(why, "\n"), w) {
			t.Errorf("skipped lacks %q:\n%s", w, strings.Join(why, "\n"))
		}
	}
	if files, _, _ := Extract(tgz, DefaultLimits, []string{"dist/**"}); len(files) != 1 || files[0].Name != "dist/a.js" {
		t.Errorf("--files dist/**: %v", files)
	}
	for _, hostile := range []string{"package/../../etc/x", "/etc/passwd", "package/a/../../../x"} {
		_, _, err := Extract(npmtest.Tarball(t, npmtest.Entry{Name: "package/ok.js", Body: "1"}, npmtest.Entry{Name: hostile, Body: "x"}), DefaultLimits, nil)
		if err == nil || !strings.Contains(err.Error(), "leaves the package directory: the package is refused") {
			t.Errorf("%s: %v", hostile, err)
		}
	}
	if _, _, err := Extract(tgz, Limits{Package: 10, File: 1000}, nil); !errors.Is(err, ErrTooBig) {
		t.Errorf("over the package limit: %v", err)
	}
	if _, _, err := Extract([]byte("not gzip"), DefaultLimits, nil); err == nil || !strings.Contains(err.Error(), "not a gzip'd tarball") {
		t.Errorf("not a tarball: %v", err)
	}
}
