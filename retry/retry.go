// Package retry is the one owner of how cdnserve retries outgoing work
// and sets up its HTTP clients: the npm registry client, the Go loader
// and the purgers all use it.
//
// The rules it keeps:
//
//   - A try that fails is tried again after an exponential backoff with
//     jitter (half of the wait fixed, half random, so that many clients do
//     not retry in step), capped by MaxBackoff.
//   - A server's Retry-After, in seconds or as an HTTP date (RFC 9110
//     §10.2.3), replaces the backoff, capped by MaxRetryAfter.
//   - An error marked Permanent is never retried.
//   - Every wait ends with the context: Do never sleeps past it.
//   - Each try may be bounded by AttemptTimeout.
//   - An HTTP client is made by NewHTTPClient and injected where it is
//     used; no package keeps a global one.
//
// It imports nothing of ours.
package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Policy says how often to try and how long to wait. The zero value of
// each field takes the default in its comment.
type Policy struct {
	// Attempts is how many times the work is tried in all (default 3).
	Attempts int
	// Backoff is the wait before the first retry; each retry doubles it
	// (default 200 ms).
	Backoff time.Duration
	// MaxBackoff caps the doubled wait (default 10 s).
	MaxBackoff time.Duration
	// MaxRetryAfter caps a server's Retry-After (default 30 s).
	MaxRetryAfter time.Duration
	// AttemptTimeout bounds each try (default: none but the context's).
	AttemptTimeout time.Duration
}

func (p Policy) withDefaults() Policy {
	if p.Attempts <= 0 {
		p.Attempts = 3
	}
	if p.Backoff <= 0 {
		p.Backoff = 200 * time.Millisecond
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = 10 * time.Second
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = 30 * time.Second
	}
	return p
}

// Delay is the wait before retry number n (1 for the first retry) after
// last failed: last's Retry-After when it carries one (After), else the
// jittered backoff.
func (p Policy) Delay(n int, last error) time.Duration {
	p = p.withDefaults()
	var ra *afterError
	if errors.As(last, &ra) && ra.d > 0 {
		return min(ra.d, p.MaxRetryAfter)
	}
	d := p.Backoff
	for i := 1; i < n && d < p.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

// Stopped is Do's error when the context ended before the work
// succeeded: Cause is the context's error, Last the last try's (nil
// when no try ran). errors.Is finds both.
type Stopped struct {
	Cause, Last error
}

func (s *Stopped) Error() string {
	if s.Last == nil {
		return s.Cause.Error()
	}
	return fmt.Sprintf("%v (after %v)", s.Cause, s.Last)
}

func (s *Stopped) Unwrap() []error {
	if s.Last == nil {
		return []error{s.Cause}
	}
	return []error{s.Cause, s.Last}
}

// Do calls try until it returns nil, a Permanent error, or Attempts
// tries were made, waiting Delay between tries. It returns how many
// tries it made and the last error (unwrapped from Permanent). When ctx
// ends first, the error is a *Stopped.
func Do(ctx context.Context, p Policy, try func(ctx context.Context) error) (tries int, err error) {
	p = p.withDefaults()
	var last error
	for tries = 1; ; tries++ {
		if tries > 1 {
			if err := Sleep(ctx, p.Delay(tries-1, last)); err != nil {
				return tries - 1, &Stopped{Cause: err, Last: last}
			}
		}
		last = attempt(ctx, p.AttemptTimeout, try)
		var perm *permanentError
		switch {
		case last == nil:
			return tries, nil
		case errors.As(last, &perm):
			return tries, perm.err
		case tries >= p.Attempts:
			return tries, last
		case ctx.Err() != nil:
			return tries, &Stopped{Cause: ctx.Err(), Last: last}
		}
	}
}

func attempt(ctx context.Context, timeout time.Duration, try func(ctx context.Context) error) error {
	if timeout <= 0 {
		return try(ctx)
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return try(actx)
}

// Sleep waits d, or until ctx ends, when it returns ctx's error.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that no retry can fix (a 404, refused
// credentials, a malformed request): Do stops and returns err.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type afterError struct {
	err error
	d   time.Duration
}

func (e *afterError) Error() string { return e.err.Error() }
func (e *afterError) Unwrap() error { return e.err }

// After marks err as retried after d, the wait a server asked for.
func After(err error, d time.Duration) error {
	if err == nil || d <= 0 {
		return err
	}
	return &afterError{err, d}
}

// RetryAfter reads a response's Retry-After as seconds or an HTTP date
// (RFC 9110 §10.2.3); absent, unreadable or past is 0.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Retryable reports whether an HTTP status is worth another try: 429 and
// every 5xx (RFC 9110 §15.6; 501 and 505 too, as a proxy may answer them
// for a moment).
func Retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// NewHTTPClient is the one HTTP client set-up: its own transport (never
// http.DefaultTransport, which a test or a library may change), and an
// overall timeout per request (0: none; each try is then bounded by the
// context or the Policy's AttemptTimeout).
func NewHTTPClient(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	return &http.Client{Timeout: timeout, Transport: t}
}
