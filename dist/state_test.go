package dist

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/afero"
)

// problemsOf returns verify's problems as "dir kind" strings.
func problemsOf(t *testing.T, tree Tree) []string {
	t.Helper()
	r, err := tree.Verify()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range r.Problems {
		out = append(out, p.Dir+" "+p.Kind)
	}
	return out
}

// TestLinksInTheTree: publishing refuses to write into or through a
// version directory that is a symbolic link, and verify reports links
// where directories or files should be.
func TestLinksInTheTree(t *testing.T) {
	tree := onDisk(t, memTree())
	publish(t, tree, "1.0.0", lib("1.0.0"), false)
	elsewhere := t.TempDir()
	os.Symlink(elsewhere, filepath.Join(tree.Root, "2.0.0"))
	_, err := tree.Publish(context.Background(), Request{Version: ver(t, "2.0.0"), Files: lib("2.0.0")})
	if err == nil || !strings.Contains(err.Error(), "2.0.0 is a symbolic link") || !strings.Contains(err.Error(), "move it away") {
		t.Errorf("publishing into a link: %v", err)
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("the publish wrote through the link: %d entries", len(entries))
	}
	tiny := filepath.Join(tree.Root, "1.0.0", "tiny.js")
	data, _ := os.ReadFile(tiny)
	copyOf := filepath.Join(elsewhere, "tiny.js")
	os.WriteFile(copyOf, data, 0o644)
	os.Remove(tiny)
	os.Symlink(copyOf, tiny) // the same bytes, through a link
	got := strings.Join(problemsOf(t, tree), ", ")
	if !strings.Contains(got, "2.0.0 link") || !strings.Contains(got, "1.0.0 link") {
		t.Errorf("verify problems = %s, want both links", got)
	}
}

// failingFs fails the renames (or writes) whose target ends with one of
// its suffixes, with ENOSPC, as a full disk does.
type failingFs struct {
	afero.Fs
	renameTo string
}

func (f failingFs) Rename(old, new string) error {
	if strings.HasSuffix(new, f.renameTo) {
		return &os.LinkError{Op: "rename", Old: old, New: new, Err: syscall.ENOSPC}
	}
	return f.Fs.Rename(old, new)
}

// TestFailedPublishSaysWhatItLeft: a publish that fails before the
// version lands says nothing was published; one that fails after says the
// version is live and its alias is not moved, verify reports the lagging
// alias, and publishing again finishes the job.
func TestFailedPublishSaysWhatItLeft(t *testing.T) {
	mem := afero.NewMemMapFs()
	good := NewTree(mem, "dist")
	publish(t, good, "1.7.1", lib("1.7.1"), false)

	early := NewTree(failingFs{Fs: mem, renameTo: "/1.7.2"}, "dist")
	_, err := early.Publish(context.Background(), Request{Version: ver(t, "1.7.2"), Files: lib("1.7.2")})
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "version 1.7.2 was not published: every published version is as it was") {
		t.Errorf("failure before landing: %v", err)
	}

	late := NewTree(failingFs{Fs: mem, renameTo: "/1.7/tiny.js"}, "dist") // the alias is switched file by file here
	_, err = late.Publish(context.Background(), Request{Version: ver(t, "1.7.2"), Files: lib("1.7.2")})
	var se *StateError
	if !errors.As(err, &se) || !se.Live || !strings.Contains(err.Error(), "version 1.7.2 IS published and live") ||
		!strings.Contains(err.Error(), "alias 1.7 still holds 1.7.1") || !strings.Contains(err.Error(), "run the same publish again") {
		t.Errorf("failure after landing: %v", err)
	}
	if got := strings.Join(problemsOf(t, good), ", "); !strings.Contains(got, "1.7 alias-lags") {
		t.Errorf("verify problems = %q, want the lagging alias", got)
	}
	res := publish(t, good, "1.7.2", lib("1.7.2"), false)
	if res.Action != Unchanged || res.Aliases[0].Holds != "1.7.2" {
		t.Errorf("publishing again: %+v", res)
	}
	mustVerify(t, good)
}
