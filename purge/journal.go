package purge

import (
	"context"
	"sync"
	"time"

	"github.com/cdnserve/cdnserve/dist"
)

// Journal purges the changes recorded in a dist root (dist.ChangesDir):
// each record is claimed by one purger (a replica's Journal, or the
// publisher that made it), purged, and deleted. So each change is purged
// once, by whichever replica sees it first, whatever the replicas have
// served and whenever they started; a replica started after a publish
// purges what nobody has yet. A purge that fails is released, and tried
// again at the next poll, by this replica or another, until the record
// expires (dist.ChangeExpiry). Only a purger that dies holding a claim can
// make a change purged twice: two replicas may both take its stale claim
// over, and purging is idempotent.
type Journal struct {
	// Tree is the dist root's tree.
	Tree dist.Tree
	Set  *Set
	// ClaimTTL is how old another purger's claim must be to be taken
	// over (it died, or hangs); default: Set.After plus twice the purge
	// timeout.
	ClaimTTL time.Duration

	mu       sync.Mutex
	inflight map[string]bool
	wg       sync.WaitGroup
}

// Poll lists the recorded changes and starts a purge, in the background,
// of each one this process can claim.
func (j *Journal) Poll(ctx context.Context) error {
	changes, err := j.Tree.Changes()
	if err != nil {
		return err
	}
	for _, c := range changes {
		j.mu.Lock()
		busy := j.inflight[c.ID]
		j.mu.Unlock()
		if busy {
			continue
		}
		ok, err := j.Tree.Claim(c.ID, j.claimTTL())
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		j.mu.Lock()
		if j.inflight == nil {
			j.inflight = map[string]bool{}
		}
		j.inflight[c.ID] = true
		j.mu.Unlock()
		j.wg.Add(1)
		go func() {
			defer j.wg.Done()
			j.Purge(ctx, c)
			j.mu.Lock()
			delete(j.inflight, c.ID)
			j.mu.Unlock()
		}()
	}
	return nil
}

// Run polls every interval until ctx ends, then waits for the purges
// under way (each bounded by the Set's timeout).
func (j *Journal) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := j.Poll(ctx); err != nil && j.Set.Log != nil {
			j.Set.Log.Warn("reading the changes to purge", "err", err)
		}
		select {
		case <-ctx.Done():
			j.wg.Wait()
			return
		case <-t.C:
		}
	}
}

// Purge purges one claimed change, after the replicas' refresh counted
// from when it was made, and then deletes it, or releases it when a
// purger failed. A private library's change is deleted unpurged: it is
// never named to an edge.
func (j *Journal) Purge(ctx context.Context, c dist.Change) []Result {
	if tree, err := j.Tree.Library(c.Library); err != nil {
		j.Tree.Done(c.ID) // a name no library can have: nothing to purge
		return nil
	} else if private, err := tree.Private(); err != nil {
		j.Tree.Release(c.ID)
		return nil
	} else if private {
		j.Tree.Done(c.ID)
		return nil
	}
	results := j.Set.PurgeSince(ctx, c.At, EventsOf(c)...) // ctx ending purges at once
	failed := false
	for _, r := range results {
		failed = failed || r.Err != nil
	}
	if failed {
		j.Tree.Release(c.ID)
	} else if err := j.Tree.Done(c.ID); err != nil && j.Set.Log != nil {
		j.Set.Log.Warn("could not delete a purged change; it may be purged again", "change", c.ID, "err", err)
	}
	return results
}

func (j *Journal) claimTTL() time.Duration {
	if j.ClaimTTL > 0 {
		return j.ClaimTTL
	}
	timeout := j.Set.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return j.Set.After + 2*timeout
}
