package retry

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, header string
		want         time.Duration
	}{
		{"seconds", "3", 3 * time.Second},
		{"zero", "0", 0},
		{"an HTTP date", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"a date in the past", now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"absent", "", 0},
		{"garbage", "soon", 0},
		{"negative", "-5", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.header != "" {
				h.Set("Retry-After", tc.header)
			}
			if got := RetryAfter(h, now); got != tc.want {
				t.Errorf("RetryAfter(%q) = %v, want %v", tc.header, got, tc.want)
			}
		})
	}
}

func TestDelay(t *testing.T) {
	p := Policy{Backoff: 100 * time.Millisecond, MaxBackoff: 300 * time.Millisecond, MaxRetryAfter: 2 * time.Second}
	for _, tc := range []struct {
		name     string
		n        int
		last     error
		min, max time.Duration
	}{
		{"first retry: half fixed, half jitter", 1, errors.New("x"), 50 * time.Millisecond, 100 * time.Millisecond},
		{"doubled", 2, errors.New("x"), 100 * time.Millisecond, 200 * time.Millisecond},
		{"capped", 6, errors.New("x"), 150 * time.Millisecond, 300 * time.Millisecond},
		{"Retry-After wins", 1, After(errors.New("429"), time.Second), time.Second, time.Second},
		{"Retry-After capped", 1, After(errors.New("429"), time.Hour), 2 * time.Second, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 50 {
				if d := p.Delay(tc.n, tc.last); d < tc.min || d > tc.max {
					t.Fatalf("Delay(%d) = %v, want within [%v, %v]", tc.n, d, tc.min, tc.max)
				}
			}
		})
	}
}

func TestDo(t *testing.T) {
	fast := Policy{Attempts: 4, Backoff: time.Millisecond}
	for _, tc := range []struct {
		name      string
		fails     int   // tries that fail before one succeeds
		failWith  error // what they fail with
		wantTries int
		wantErr   bool
	}{
		{"succeeds at once", 0, nil, 1, false},
		{"succeeds on the third try", 2, errors.New("503"), 3, false},
		{"gives up after Attempts", 10, errors.New("503"), 4, true},
		{"a permanent error stops at once", 10, Permanent(errors.New("404")), 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			tries, err := Do(context.Background(), fast, func(context.Context) error {
				n++
				if n <= tc.fails {
					return tc.failWith
				}
				return nil
			})
			if tries != tc.wantTries || tries != n || (err != nil) != tc.wantErr {
				t.Errorf("Do = %d tries (%d calls), err %v; want %d tries, error %v", tries, n, err, tc.wantTries, tc.wantErr)
			}
			var perm *permanentError
			if errors.As(err, &perm) {
				t.Errorf("Do returned the Permanent wrapper, not the error: %v", err)
			}
		})
	}
}

// TestDoStopsWithTheContext: a wait never outlives the context, however
// long the server asked to wait.
func TestDoStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	tries, err := Do(ctx, Policy{Attempts: 5}, func(context.Context) error {
		return After(errors.New("429"), 20*time.Second)
	})
	var st *Stopped
	if !errors.As(err, &st) || !errors.Is(err, context.DeadlineExceeded) || st.Last == nil || tries != 1 {
		t.Fatalf("Do = %d, %v; want 1 try and a *Stopped with the deadline and the 429", tries, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Do took %v after a 50 ms context", took)
	}
}

// TestAttemptTimeout: each try gets its own deadline.
func TestAttemptTimeout(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			<-r.Context().Done() // hangs until the client gives up
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	client := NewHTTPClient(0)
	tries, err := Do(context.Background(), Policy{Attempts: 2, Backoff: time.Millisecond, AttemptTimeout: 100 * time.Millisecond}, func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	})
	if err != nil || tries != 2 {
		t.Errorf("Do = %d tries, %v; want a hung first try cut, and a second that succeeds", tries, err)
	}
}

func TestNewHTTPClientOwnsItsTransport(t *testing.T) {
	a, b := NewHTTPClient(time.Second), NewHTTPClient(0)
	if a.Transport == http.DefaultTransport || a.Transport == b.Transport || a.Timeout != time.Second {
		t.Errorf("clients share a transport, or use the default one: %p %p %p", a.Transport, b.Transport, http.DefaultTransport)
	}
}
