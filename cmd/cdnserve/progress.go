package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progress draws one line that it rewrites in place ("building 3/12
// pusher.js"), on a terminal only: when stderr is a pipe or a file, as in
// CI, it writes nothing, so logs stay clean.
type progress struct {
	w     io.Writer
	on    bool
	mu    sync.Mutex
	last  time.Time
	drawn bool
}

func newProgress(e *env, quiet bool) *progress {
	return &progress{w: e.stderr, on: e.stderrTTY && !quiet}
}

// step returns a callback for build.Options.Progress or
// dist.Request.Progress that labels its lines with what.
func (p *progress) step(what string) func(done, total int, name string) {
	if !p.on {
		return nil
	}
	return func(done, total int, name string) {
		p.mu.Lock()
		defer p.mu.Unlock()
		// At most ten redraws a second, and always the last one.
		if done < total && time.Since(p.last) < 100*time.Millisecond {
			return
		}
		p.last = time.Now()
		fmt.Fprintf(p.w, "\r%s %d/%d %s\x1b[K", what, done, total, name)
		p.drawn = true
	}
}

// done clears the progress line, so that what follows starts clean.
func (p *progress) done() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}
