// Package loop runs periodic work: the server's refresh and usage
// flush, and the dev server's poll. It imports nothing of ours.
package loop

import (
	"context"
	"time"
)

// Every calls fn every interval until ctx ends.
func Every(ctx context.Context, interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}
