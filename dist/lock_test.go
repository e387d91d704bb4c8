package dist

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/storage"
	"github.com/spf13/afero"
)

// TestUnwrittenLockIsNotTakenOver: a lock file created but not yet
// written (its holder was descheduled between the two steps) is left
// alone for unreadableLockGrace, and taken over after it (its holder was
// killed).
func TestUnwrittenLockIsNotTakenOver(t *testing.T) {
	fs := afero.NewMemMapFs()
	tree := NewTree(fs, "dist")
	fs.MkdirAll("dist", 0o755)
	afero.WriteFile(fs, path.Join("dist", LockName), nil, 0o644)
	now := time.Now()
	tree.Clock = func() time.Time { return now.Add(time.Second) }
	tree.PollInterval = time.Millisecond
	_, err := tree.Publish(context.Background(), Request{Version: ver(t, "1.0.0"), Files: lib("1.0.0")})
	var locked *LockedError
	if !errors.As(err, &locked) {
		t.Fatalf("an unwritten lock a second old was taken over: %v", err)
	}
	tree.Clock = func() time.Time { return now.Add(unreadableLockGrace + time.Second) }
	if _, err := tree.Publish(context.Background(), Request{Version: ver(t, "1.0.0"), Files: lib("1.0.0")}); err != nil {
		t.Errorf("an unwritten lock past its grace was not taken over: %v", err)
	}
}

// TestEmptyLockOnDiskIsTakenOverAtOnce: on the disk a lock is created
// whole (written beside it, then linked into place), so a lock file
// without a holder was left by something that is not a live publisher
// (an older cdnserve killed between create and write), and the next
// publish takes it over without waiting. The lock it takes names it.
func TestEmptyLockOnDiskIsTakenOverAtOnce(t *testing.T) {
	dir := t.TempDir()
	fsys := storage.DiskFs{Root: dir}
	tree := NewTree(fsys, dir)
	lockPath := filepath.Join(dir, LockName)
	if err := os.WriteFile(lockPath, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	tree.Clock = func() time.Time { // called before the lock, and while it is held
		if data, err := os.ReadFile(lockPath); err == nil {
			mu.Lock()
			seen = append(seen, string(data))
			mu.Unlock()
		}
		return time.Now()
	}
	if _, err := tree.Publish(context.Background(), Request{Version: ver(t, "1.0.0"), Files: lib("1.0.0")}); err != nil {
		t.Fatalf("an empty lock on disk was not taken over at once: %v", err)
	}
	if _, err := os.Stat(lockPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lock is still there after the publish: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), layout.TmpPrefix) {
			t.Errorf("leftover %s", e.Name())
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.ContainsFunc(seen, func(s string) bool { return strings.Contains(s, fmt.Sprintf(`"pid":%d`, os.Getpid())) }) {
		t.Errorf("the lock held during the publish never named its holder: %q", seen)
	}
}

// TestLockCopyOutlivesCleanup: the whole copy a publisher writes before
// linking it into place as .lock is not a staging name, so another
// publisher's cleanup of leftovers cannot remove it between the write
// and the link (a build failed with "link …: no such file or directory"
// in TestConcurrentBuildProcesses); one older than a minute was left by
// a process that died, and is removed.
func TestLockCopyOutlivesCleanup(t *testing.T) {
	root := t.TempDir()
	tree := NewTree(storage.DiskFs{Root: root}, root)
	fresh := layout.NewName(filepath.Join(root, LockName))
	old := layout.NewName(filepath.Join(root, LockName))
	os.WriteFile(fresh, []byte("pid"), 0o644)
	os.WriteFile(old, []byte("pid"), 0o644)
	os.Chtimes(old, time.Now().Add(-2*layout.StaleNewAfter), time.Now().Add(-2*layout.StaleNewAfter))
	cleaned, _, err := tree.recover()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(fresh); err != nil || !slices.Equal(cleaned, []string{filepath.Base(old)}) {
		t.Errorf("cleaned %q; the fresh copy: %v", cleaned, err)
	}
	if strings.HasPrefix(filepath.Base(fresh), layout.TmpPrefix) {
		t.Errorf("%s is a staging name", fresh)
	}
}
