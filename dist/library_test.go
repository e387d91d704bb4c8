package dist

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"
)

// TestLibrariesShareOneRoot publishes the root library and two named
// libraries, one scoped, into one dist root: each gets the seed's layout
// inside its own directory, and the root library's stays where it was.
func TestLibrariesShareOneRoot(t *testing.T) {
	for _, onFs := range []struct {
		name string
		tree func(*testing.T) Tree
	}{
		{"memory", func(*testing.T) Tree { return memTree() }},
		{"disk", func(t *testing.T) Tree { return onDisk(t, memTree()) }},
	} {
		t.Run(onFs.name, func(t *testing.T) {
			root := onFs.tree(t)
			publish(t, root, "1.7.1", lib("1.7.1"), false)
			for _, name := range []string{"pusher", "@corp/widgets"} {
				lt, err := root.Library(name)
				if err != nil {
					t.Fatal(err)
				}
				publish(t, lt, "2.2.4", lib(name+" 2.2.4"), false)
				publish(t, lt, "2.2.5-rc.1", lib(name+" rc"), false)
			}
			for p, want := range map[string]string{
				"1.7.1/tiny.js":                    "var v='1.7.1';",
				"1.7/tiny.js":                      "var v='1.7.1';",
				"pusher/2.2.4/tiny.js":             "var v='pusher 2.2.4';",
				"pusher/2.2/tiny.js":               "var v='pusher 2.2.4';",
				"pusher/2.2.5-rc.1/tiny.js":        "var v='pusher rc';",
				"@corp/widgets/2.2/tiny.js":        "var v='@corp/widgets 2.2.4';",
				"@corp/widgets/2.2.4/tiny.js":      "var v='@corp/widgets 2.2.4';",
				"@corp/widgets/2.2.5-rc.1/tiny.js": "var v='@corp/widgets rc';",
			} {
				if got := read(t, root, p); got != want {
					t.Errorf("%s = %q, want %q", p, got, want)
				}
			}
			reports, err := root.VerifyAll()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range reports {
				if !r.OK() {
					t.Errorf("library %q: %v", r.Library, r.Problems)
				}
				got = append(got, r.Library+": "+strings.Join(r.Versions, " ")+" / "+strings.Join(r.Aliases, " "))
			}
			want := []string{": 1.7.1 / 1.7", "@corp/widgets: 2.2.4 2.2.5-rc.1 / 2.2", "pusher: 2.2.4 2.2.5-rc.1 / 2.2"}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("VerifyAll:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestEachLibraryHasItsOwnLock holds one library's lock (a live
// publisher) and publishes another library and the root library: both
// land, while the held library still refuses.
func TestEachLibraryHasItsOwnLock(t *testing.T) {
	root := memTree()
	root.ProcessAlive = func(int) bool { return true }
	held, _ := root.Library("pusher")
	b, _ := json.Marshal(lockInfo{PID: 99, Host: "test-host", Started: fixedTime})
	held.Fs.MkdirAll(held.Root, 0o755)
	afero.WriteFile(held.Fs, path.Join(held.Root, LockName), b, 0o644)

	other, _ := root.Library("@corp/widgets")
	publish(t, other, "1.0.0", lib("1.0.0"), false)
	publish(t, root, "1.0.0", lib("1.0.0"), false)
	_, err := held.Publish(context.Background(), Request{Version: ver(t, "1.0.0"), Files: lib("1.0.0")})
	var le *LockedError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "dist/pusher/.lock") {
		t.Fatalf("publishing the locked library: %v", err)
	}
}

func TestLibraryRefusesBadNames(t *testing.T) {
	root := memTree()
	for _, name := range []string{"Pusher", "1.7.1", "latest", "-", "../etc", "@corp", "a/b", ".lock"} {
		_, err := root.Library(name)
		var ne *LibraryNameError
		if !errors.As(err, &ne) || !strings.HasPrefix(err.Error(), `library name "`+name+`" `) {
			t.Errorf("Library(%q) = %v, want a LibraryNameError", name, err)
		}
	}
}

// TestVerifyAllReportsPerLibrary damages one library: its report has the
// problem, the others stay clean, and entries that belong to no library
// are the root's problems.
func TestVerifyAllReportsPerLibrary(t *testing.T) {
	root := memTree()
	a, _ := root.Library("alpha")
	b, _ := root.Library("@s/beta")
	publish(t, a, "1.0.0", lib("1.0.0"), false)
	publish(t, b, "1.0.0", lib("1.0.0"), false)
	afero.WriteFile(root.Fs, "dist/@s/beta/1.0.0/lib.js", []byte("tampered"), 0o644)
	afero.WriteFile(root.Fs, "dist/readme", []byte("x"), 0o644)
	root.Fs.MkdirAll("dist/@s/Gamma", 0o755)
	reports, err := root.VerifyAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range reports {
		var ps []string
		for _, p := range r.Problems {
			ps = append(ps, p.String())
		}
		got[r.Library] = strings.Join(ps, "\n")
	}
	if !strings.Contains(got["@s/beta"], "1.0.0/lib.js: altered: sha256") || got["alpha"] != "" {
		t.Errorf("library reports: %q", got)
	}
	if !strings.Contains(got[""], "readme: extra: not a directory") || !strings.Contains(got[""], `@s/Gamma: extra: not a library name: has the capital 'G'`) {
		t.Errorf("root report: %q", got[""])
	}
}

// TestVerifyAllReportsLinkedLibraries: a symbolic link with a library's
// name is no library; verify says so in the root library's report.
func TestVerifyAllReportsLinkedLibraries(t *testing.T) {
	root := onDisk(t, memTree())
	lt, _ := root.Library("pusher")
	publish(t, lt, "1.0.0", lib("1.0.0"), false)
	if err := os.Symlink(filepath.Join(root.Root, "pusher"), filepath.Join(root.Root, "linked")); err != nil {
		t.Fatal(err)
	}
	reports, err := root.VerifyAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 2 || reports[0].Library != "" || len(reports[0].Problems) != 1 ||
		reports[0].Problems[0].String() != "linked: extra: a symbolic link: never served or listed" || !reports[1].OK() {
		t.Errorf("reports: %+v %+v", reports[0].VerifyReport, reports[1].VerifyReport)
	}
}

// TestDeprecatedAliasMovesForward: deprecating the version an alias
// holds leaves the alias there (aliases never move back); the next patch
// moves it on, so it never stays on a deprecated version while a newer
// one exists in its line.
func TestDeprecatedAliasMovesForward(t *testing.T) {
	tree := memTree()
	publish(t, tree, "2.2.3", lib("2.2.3"), false)
	publish(t, tree, "2.2.4", lib("2.2.4"), false)
	if err := tree.Deprecate(context.Background(), "2.2.4", "broken", false); err != nil {
		t.Fatal(err)
	}
	if m, _ := tree.Manifest("2.2"); m.AliasOf != "2.2.4" {
		t.Errorf("deprecating moved the alias to %s", m.AliasOf)
	}
	publish(t, tree, "2.2.5", lib("2.2.5"), false)
	if m, _ := tree.Manifest("2.2"); m.AliasOf != "2.2.5" {
		t.Errorf("after a newer patch the alias holds %s", m.AliasOf)
	}
	deps, _ := tree.Deprecations()
	if deps["2.2.4"].Message != "broken" || len(deps) != 1 {
		t.Errorf("deprecations %+v", deps)
	}
	if err := tree.Deprecate(context.Background(), "2.9.0", "x", false); err == nil || !strings.Contains(err.Error(), "2.9.0 is not published") {
		t.Errorf("deprecating a missing version: %v", err)
	}
}
