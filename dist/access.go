package dist

import (
	"context"
	"errors"

	"github.com/cdnserve/cdnserve/layout"
)

// AccessName is the library's access record (layout.Access).
const AccessName = layout.AccessName

// Private reports whether the library's access record makes it
// private.
func (t Tree) Private() (bool, error) {
	a, err := layout.ReadAccess(t.Fs, t.Root)
	return a.Private, err
}

// SetPrivate records the library as private or public, under its lock.
// Every replica reads the record on its next refresh; a library made
// public again is served with the public cache policy from then on,
// and what an edge kept while it was private was never cacheable there.
func (t Tree) SetPrivate(ctx context.Context, private, wait bool) error {
	if t.w == nil {
		return errors.New("dist: a Tree must be made with NewTree")
	}
	if err := t.Fs.MkdirAll(t.Root, 0o755); err != nil {
		return err
	}
	unlock, err := t.lock(ctx, wait)
	if err != nil {
		return err
	}
	defer unlock()
	return t.writeAccess(private)
}

// writeAccess writes the access record (the lock held), unless it
// already says the same.
func (t Tree) writeAccess(private bool) error {
	if cur, err := t.Private(); err == nil && cur == private {
		return nil
	}
	return t.writeJSON(AccessName, layout.Access{Private: private, At: t.now().UTC()})
}
