package catalog

import (
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

// manifest writes a version's (or, with aliasOf, an alias's) integrity
// manifest into dir, as dist writes one: enough for the catalog.
func manifest(t *testing.T, dir, name, version string, alias bool) {
	t.Helper()
	aliasOf := ""
	if alias {
		aliasOf = `,"alias_of":"` + version + `"`
	}
	os.MkdirAll(filepath.Join(dir, name), 0o755)
	if err := os.WriteFile(filepath.Join(dir, name, layout.ManifestName), []byte(`{"format":1,"version":"`+version+`"`+aliasOf+`,"files":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
}

func originals(vs []*semver.Version) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Original())
	}
	return out
}

// TestCatalog reads a real tree on disk, with the entries a tree must
// never serve beside the versions it must.
func TestCatalog(t *testing.T) {
	root := filepath.Join(t.TempDir(), "dist")
	manifest(t, root, "1.0.0", "1.0.0", false)
	manifest(t, root, "1.0", "1.0.0", true)
	manifest(t, root, "2.0.0-rc.1", "2.0.0-rc.1", false)
	manifest(t, filepath.Join(root, "pusher"), "2.2.3", "2.2.3", false)
	os.MkdirAll(filepath.Join(root, "3.0.0"), 0o755) // no manifest
	os.MkdirAll(filepath.Join(root, "4.0.0"), 0o755)
	os.WriteFile(filepath.Join(root, "4.0.0", layout.ManifestName), []byte("{not json"), 0o644)
	os.Symlink(filepath.Join(root, "1.0.0"), filepath.Join(root, "9.9.9"))
	var logs bytes.Buffer
	var made int
	c := New(Options{Fs: afero.NewOsFs(), Root: root, NegativeTTL: time.Minute, Log: slog.New(slog.NewTextHandler(&logs, nil)),
		NewVersion: func(*Library, *Version) any { made++; return made }})
	if err := c.Refresh(); err != nil {
		t.Fatal(err)
	}
	lib := c.Root()

	t.Run("what is listed", func(t *testing.T) {
		if got, want := originals(lib.Versions()), []string{"4.0.0", "2.0.0-rc.1", "1.0.0"}; !slices.Equal(got, want) {
			t.Errorf("Versions = %q, want %q (a link and a directory without a manifest are not versions)", got, want)
		}
		if got, want := originals(lib.Servable()), []string{"2.0.0-rc.1", "1.0.0"}; !slices.Equal(got, want) {
			t.Errorf("Servable = %q, want %q (a damaged manifest is dropped)", got, want)
		}
		for _, want := range []string{"entry=9.9.9", "a symbolic link", "entry=3.0.0"} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("the log lacks %q:\n%s", want, logs.String())
			}
		}
		if got := c.Libraries(); !slices.Equal(got, []string{"pusher"}) {
			t.Errorf("Libraries = %q", got)
		}
	})
	for _, tc := range []struct {
		name, lib, get string
		wantExact      string
		wantErr        error
	}{
		{"an exact version", "", "1.0.0", "1.0.0", nil},
		{"an alias", "", "1.0", "1.0.0", nil},
		{"a named library's version", "pusher", "2.2.3", "2.2.3", nil},
		{"a damaged manifest", "", "4.0.0", "", ErrDamaged},
		{"a version storage lacks", "", "5.0.0", "", fs.ErrNotExist},
		{"a link is never loaded", "", "9.9.9", "", fs.ErrNotExist},
		{"a traversal is no version", "", "..", "", fs.ErrNotExist},
		{"a library storage lacks", "nope", "1.0.0", "", fs.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := c.Library(tc.lib)
			var v *Version
			if err == nil {
				v, err = l.Get(tc.get)
			}
			if !errors.Is(err, tc.wantErr) || (err == nil && v.Exact != tc.wantExact) {
				t.Errorf("Get(%q) = %+v, %v; want %q, %v", tc.get, v, err, tc.wantExact, tc.wantErr)
			}
		})
	}
	for _, tc := range []struct{ spec, want string }{
		{"^1", "1.0.0"}, {"latest", "1.0.0"}, {"^2.0.0-rc.0", "2.0.0-rc.1"}, {"2", ""}, {"^9", ""},
	} {
		t.Run("resolve "+tc.spec, func(t *testing.T) {
			got, err := lib.Resolve(tc.spec)
			var miss *ResolveError
			if got != tc.want || (tc.want == "" && !errors.As(err, &miss)) {
				t.Errorf("Resolve(%q) = %q, %v; want %q", tc.spec, got, err, tc.want)
			}
		})
	}
	t.Run("a version's served data is made once", func(t *testing.T) {
		before := made
		a, _ := lib.Get("1.0.0")
		b, _ := lib.Get("1.0.0")
		if made != before || a.Served != b.Served || a.Served == nil {
			t.Errorf("NewVersion ran %d more times; Served %v, %v", made-before, a.Served, b.Served)
		}
	})
	t.Run("a deprecation is read", func(t *testing.T) {
		manifest(t, root, "1.0.1", "1.0.1", false)
		manifest(t, root, "1.0", "1.0.1", true)
		os.WriteFile(filepath.Join(root, layout.DeprecatedName), []byte(`{"1.0.0":{"message":"leaks","at":"2026-12-01T00:00:00Z"}}`), 0o644)
		if err := c.Refresh(); err != nil {
			t.Fatal(err)
		}
		d := lib.Deprecated("1.0.0")
		if d == nil || d.Message != "leaks" || d.Successor != "1.0.1" || len(d.Header) != 1 || d.Header[0] != "@1796083200" {
			t.Errorf("Deprecated(1.0.0) = %+v", d)
		}
		if got, _ := lib.Resolve("^1"); got != "1.0.1" {
			t.Errorf("^1 after the publish = %q, want 1.0.1", got)
		}
	})
	t.Run("the documents", func(t *testing.T) {
		vl := lib.VersionList()
		if !slices.Equal(vl.Versions, []string{"2.0.0-rc.1", "1.0.1", "1.0.0"}) || vl.Aliases["1.0"] != "1.0.1" || vl.Latest != "1.0.1" {
			t.Errorf("VersionList = %+v", vl)
		}
		if sum := lib.Summary(); sum.Latest != "1.0.1" || sum.Aliases["1.0"] != "1.0.1" || len(sum.Aliases) != 1 {
			t.Errorf("Summary = %+v", sum)
		}
		if name, version, alias, _ := c.Newest(func(string) bool { return true }); name != "" || version != "1.0.1" || alias != "1.0" {
			t.Errorf("Newest = %q %q %q", name, version, alias)
		}
		v, _ := lib.Get("1.0")
		if m := v.Meta(); m.Version != "1.0.1" || m.Dir != "1.0" || m.AliasOf != "1.0.1" {
			t.Errorf("Meta = %+v", m)
		}
	})
}
