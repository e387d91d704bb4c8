package retry

import (
	"sync"
	"time"
)

// The states of a Breaker, as /-/upstreams and the metrics name them.
const (
	// Closed: calls go through.
	Closed = "closed"
	// Open: calls are refused until the cooldown ends.
	Open = "open"
	// HalfOpen: the cooldown ended and one trial call is let through;
	// the others are refused until it ends.
	HalfOpen = "half-open"
)

// Breaker is a circuit breaker for one upstream: after Failures failed
// calls in a row it opens, and refuses calls (Allow is false) for
// Cooldown, so that a dead upstream costs its callers nothing; then it
// lets one trial call through (half-open), whose success closes it and
// whose failure opens it again. Make one with NewBreaker; it is safe for
// concurrent use.
type Breaker struct {
	// Failures is how many failures in a row open the breaker.
	Failures int
	// Cooldown is how long an open breaker refuses calls.
	Cooldown time.Duration
	// Clock is the time.
	Clock func() time.Time

	mu       sync.Mutex
	state    string
	inRow    int
	openedAt time.Time
	trial    bool // a half-open trial call is out
	total    BreakerCounts
	lastErr  string
	lastAt   time.Time
}

// BreakerCounts are a breaker's calls since it was made.
type BreakerCounts struct {
	// Calls is every call let through; Failures those that failed;
	// Skipped the calls refused while open.
	Calls    int64 `json:"calls"`
	Failures int64 `json:"failures"`
	Skipped  int64 `json:"skipped"`
}

// BreakerState is a breaker as an operator sees it (/-/upstreams).
type BreakerState struct {
	State string `json:"state"`
	// FailuresInRow is the failures since the last success.
	FailuresInRow int `json:"failures_in_row"`
	// RetryAt is when an open breaker lets a trial call through.
	RetryAt   *time.Time `json:"retry_at,omitempty"`
	LastError string     `json:"last_error,omitempty"`
	LastErrAt *time.Time `json:"last_error_at,omitempty"`
	BreakerCounts
}

// NewBreaker is a closed breaker that opens after failures failures in a
// row, for cooldown (defaults 3 and 30 s for values ≤ 0).
func NewBreaker(failures int, cooldown time.Duration, clock func() time.Time) *Breaker {
	if failures <= 0 {
		failures = 3
	}
	if cooldown <= 0 {
		cooldown = 30 * time.Second
	}
	if clock == nil {
		clock = time.Now
	}
	return &Breaker{Failures: failures, Cooldown: cooldown, Clock: clock, state: Closed}
}

// Allow reports whether a call may go to the upstream now. A caller that
// is allowed must report the call's outcome with Done.
func (b *Breaker) Allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.state == Closed:
	case b.state == Open && b.Clock().Sub(b.openedAt) >= b.Cooldown:
		b.state, b.trial = HalfOpen, true
	case b.state == HalfOpen && !b.trial:
		b.trial = true
	default:
		b.total.Skipped++
		return false
	}
	b.total.Calls++
	return true
}

// Done reports an allowed call's outcome: failed is an upstream that
// did not answer or failed (a refused connection, a timeout, a 5xx), not
// an answer such as a 404. why is kept for the operator.
func (b *Breaker) Done(failed bool, why string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.trial = false
	if !failed {
		b.state, b.inRow = Closed, 0
		return
	}
	b.total.Failures++
	b.inRow++
	b.lastErr, b.lastAt = why, b.Clock()
	if b.state == HalfOpen || b.inRow >= b.Failures {
		b.state, b.openedAt = Open, b.Clock()
	}
}

// State is the breaker's state now.
func (b *Breaker) State() BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := BreakerState{State: b.state, FailuresInRow: b.inRow, LastError: b.lastErr, BreakerCounts: b.total}
	if b.state == Open {
		at := b.openedAt.Add(b.Cooldown).UTC()
		s.RetryAt = &at
	}
	if !b.lastAt.IsZero() {
		at := b.lastAt.UTC()
		s.LastErrAt = &at
	}
	return s
}

// Upstream is one upstream as an operator sees it (/-/upstreams, the
// metrics): its URL without credentials, the patterns of names sent to
// it, and its breaker.
type Upstream struct {
	URL      string   `json:"url"`
	Patterns []string `json:"patterns"`
	BreakerState
}
