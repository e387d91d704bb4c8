package dist

import (
	"context"
	"errors"
	"path"
	"testing"
	"time"

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
