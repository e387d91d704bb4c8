package dist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"syscall"
	"time"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

// LockName is the lock file in the dist root. It holds the publisher's
// PID, host and start time as JSON.
const LockName = ".lock"

// lockInfo is the content of the lock file.
type lockInfo struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
}

// LockedError says that another publisher holds the tree.
type LockedError struct {
	// Path is the lock file.
	Path string
	// PID, Host and Since identify the holder.
	PID   int
	Host  string
	Since time.Time
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("another publisher holds %s (pid %d on %s since %s); pass --wait to wait for it, or remove the file if that process is gone",
		e.Path, e.PID, e.Host, e.Since.Format(time.RFC3339))
}

// DefaultStaleAfter is how old a lock held from another host must be
// before it is taken over: a PID there cannot be checked.
const DefaultStaleAfter = time.Hour

// unreadableLockGrace is how long a lock file that holds no holder yet
// is left alone, on a storage that cannot create a file whole
// (layout.ExclusiveCreator; only memory, in practice). Its creator writes
// it right after creating it, but a process can be descheduled in
// between. Where locks are created whole (the disk, S3), a lock without
// a holder was never a live publisher's, and is taken over at once.
const unreadableLockGrace = 10 * time.Second

// lock takes the tree's publish lock. It is stale, and taken over, when
// its holder ran on this host and that PID is gone, or when it came from
// another host and is older than StaleAfter. With wait, it polls until the
// lock is free or ctx ends; without, a live lock is a *LockedError.
func (t Tree) lock(ctx context.Context, wait bool) (unlock func(), err error) {
	p := path.Join(t.Root, LockName)
	me := lockInfo{PID: t.pid(), Host: t.host(), Started: t.now().UTC()}
	data, _ := json.Marshal(me)
	for {
		whole, err := layout.CreateExclusive(t.Fs, p, data)
		if err == nil {
			return func() { t.Fs.Remove(p) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("creating lock %s: %w", p, err)
		}
		holder, ok := t.readLock(p, whole)
		if ok && t.stale(holder) {
			t.breakLock(p, holder, whole)
			continue
		}
		lerr := &LockedError{Path: p, PID: holder.PID, Host: holder.Host, Since: holder.Started}
		if !wait {
			return nil, lerr
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for lock: %w (%v)", ctx.Err(), lerr)
		case <-time.After(t.pollInterval()):
		}
	}
}

// readLock reads the lock file. A lock that cannot be parsed is stale at
// once when locks are created whole (whole), since no live holder can
// have left it so; otherwise (a holder between create and write) once it
// is older than unreadableLockGrace, judged by its modification time.
func (t Tree) readLock(p string, whole bool) (lockInfo, bool) {
	data, err := afero.ReadFile(t.Fs, p)
	if err != nil {
		return lockInfo{}, false // vanished: retry at once
	}
	var li lockInfo
	if json.Unmarshal(data, &li) != nil || li.PID == 0 {
		fi, err := t.Fs.Stat(p)
		if err != nil {
			return lockInfo{}, false
		}
		started := fi.ModTime()
		if whole {
			started = time.Time{}
		}
		return lockInfo{PID: -1, Host: "unknown", Started: started}, true
	}
	return li, true
}

func (t Tree) stale(li lockInfo) bool {
	if li.PID == -1 { // unreadable lock file
		return t.now().Sub(li.Started) > unreadableLockGrace
	}
	if li.Host == t.host() {
		return !t.alive(li.PID)
	}
	return t.now().Sub(li.Started) > t.staleAfter()
}

// breakLock removes a stale lock. It first renames it to a private name
// and checks that what it moved is still the stale holder's lock, so two
// processes that both judged it stale cannot remove each other's fresh
// lock: the loser puts a live lock back.
func (t Tree) breakLock(p string, holder lockInfo, whole bool) {
	private := layout.TempName(t.Root) // recover removes it if we die holding it
	if err := t.Fs.Rename(p, private); err != nil {
		return
	}
	moved, ok := t.readLock(private, whole)
	if ok && moved.PID != holder.PID && !t.stale(moved) {
		t.Fs.Rename(private, p) // a fresh lock: give it back
		return
	}
	t.Fs.Remove(private)
}

func (t Tree) pid() int {
	if t.PID != 0 {
		return t.PID
	}
	return os.Getpid()
}

func (t Tree) host() string {
	if t.Host != "" {
		return t.Host
	}
	h, _ := os.Hostname()
	return h
}

func (t Tree) now() time.Time {
	if t.Clock != nil {
		return t.Clock()
	}
	return time.Now()
}

func (t Tree) staleAfter() time.Duration {
	if t.StaleAfter > 0 {
		return t.StaleAfter
	}
	return DefaultStaleAfter
}

func (t Tree) pollInterval() time.Duration {
	if t.PollInterval > 0 {
		return t.PollInterval
	}
	return 200 * time.Millisecond
}

func (t Tree) alive(pid int) bool {
	if t.ProcessAlive != nil {
		return t.ProcessAlive(pid)
	}
	return processAlive(pid)
}

// processAlive reports whether a process with this PID exists on this
// host: signal 0 checks for it without touching it (kill(2)). EPERM means
// it exists under another user.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
