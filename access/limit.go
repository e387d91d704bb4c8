package access

import (
	"sync"
	"time"
)

// Limiter counts failed credentials per client address and stops a
// client that sends too many: after Max failures within Window, every
// credential it sends is refused, with 429 and Retry-After, until the
// window ends. Guessing tokens or signatures then costs an attacker a
// window per Max guesses. The zero Limiter takes the defaults.
type Limiter struct {
	// Max is the failures a client may make in one window (default 20).
	Max int
	// Window is how long failures count, from a client's first (default
	// one minute).
	Window time.Duration
	// Clock is the time (default time.Now).
	Clock func() time.Time

	mu      sync.Mutex
	clients map[string]*failures
}

// failures are one client's failures in its current window.
type failures struct {
	count int
	start time.Time
}

// maxClients bounds the addresses a Limiter remembers: past it, expired
// windows are swept, and a client that still finds no room is not
// counted (the limiter never grows without bound under a flood of
// addresses).
const maxClients = 100_000

func (l *Limiter) now() time.Time {
	if l.Clock != nil {
		return l.Clock()
	}
	return time.Now()
}

func (l *Limiter) limits() (int, time.Duration) {
	m, w := l.Max, l.Window
	if m <= 0 {
		m = 20
	}
	if w <= 0 {
		w = time.Minute
	}
	return m, w
}

// Blocked reports whether a client has used up its failures, and how
// long until it may try again (at least one second).
func (l *Limiter) Blocked(client string) (time.Duration, bool) {
	if l == nil {
		return 0, false
	}
	most, window := l.limits()
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.clients[client]
	if f == nil {
		return 0, false
	}
	left := f.start.Add(window).Sub(l.now())
	if left <= 0 {
		delete(l.clients, client)
		return 0, false
	}
	if f.count < most {
		return 0, false
	}
	return max(left, time.Second), true
}

// Fail counts one failed credential against a client.
func (l *Limiter) Fail(client string) {
	if l == nil {
		return
	}
	_, window := l.limits()
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.clients[client]
	if f != nil && now.Sub(f.start) >= window {
		f = nil
	}
	if f == nil {
		if l.clients == nil {
			l.clients = map[string]*failures{}
		}
		if len(l.clients) >= maxClients {
			l.sweep(now, window)
			if len(l.clients) >= maxClients {
				return
			}
		}
		f = &failures{start: now}
		l.clients[client] = f
	}
	f.count++
}

// sweep forgets the clients whose window has ended.
func (l *Limiter) sweep(now time.Time, window time.Duration) {
	for c, f := range l.clients {
		if now.Sub(f.start) >= window {
			delete(l.clients, c)
		}
	}
}
