package loader

import (
	"context"
	"errors"
	"fmt"

	"github.com/cdnserve/cdnserve/retry"
)

// Sentinel errors, for errors.Is. Every error Load returns wraps one of
// them, or a *StatusError.
var (
	// ErrNotFound: the file is not in the version (its integrity manifest
	// does not list it), or the CDN answered 404 or 410 for it (or for the
	// version's metadata).
	ErrNotFound = errors.New("not found")
	// ErrIntegrity: the bytes did not match their SRI hash, or the
	// metadata is not a cdnserve integrity document. The loader fails
	// closed. (A file the version's manifest does not list is
	// ErrNotFound.)
	ErrIntegrity = errors.New("integrity check failed")
	// ErrTimeout: an attempt or the whole load ran out of time.
	ErrTimeout = errors.New("timed out")
)

// StatusError is an HTTP answer that is not a success: a 5xx or 429
// after all retries, or a 4xx. It matches ErrNotFound for 404 and 410.
type StatusError struct {
	URL    string
	Status int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("GET %s: HTTP %d", e.URL, e.Status)
}

// Is makes a 404 or 410 match ErrNotFound.
func (e *StatusError) Is(target error) bool {
	return target == ErrNotFound && (e.Status == 404 || e.Status == 410)
}

// retryable reports whether another attempt may succeed: 5xx and 429.
func (e *StatusError) retryable() bool { return retry.Retryable(e.Status) }

// timeoutError marks a deadline: it matches ErrTimeout and
// context.DeadlineExceeded.
type timeoutError struct{ err error }

func (e *timeoutError) Error() string { return "timed out: " + e.err.Error() }
func (e *timeoutError) Unwrap() error { return e.err }
func (e *timeoutError) Is(target error) bool {
	return target == ErrTimeout || target == context.DeadlineExceeded
}

// notInVersionError is a file the version's integrity manifest does not
// list: the version has no such file. It matches ErrNotFound.
type notInVersionError struct {
	file, version string
}

func (e *notInVersionError) Error() string {
	return fmt.Sprintf("%s: %s: version %s has no such file (its files are listed at /-/meta/%s)", e.file, ErrNotFound, e.version, e.version)
}
func (e *notInVersionError) Unwrap() error { return ErrNotFound }

// integrityError says which file failed and why.
type integrityError struct {
	file, detail string
}

func (e *integrityError) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.file, ErrIntegrity, e.detail)
}
func (e *integrityError) Unwrap() error { return ErrIntegrity }
