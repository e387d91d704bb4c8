package loader

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/cdnserve/cdnserve/retry"
)

// maxBody bounds one response body; a CDN file larger than this is an
// error rather than an unbounded allocation.
const maxBody = 512 << 20

// load fetches one file: from the disk cache when it verifies, otherwise
// from the chosen CDN and then each mirror, checking it against its SRI.
func (l *Loader) load(ctx context.Context, file string) ([]byte, error) {
	var sri string
	if !l.opts.SkipIntegrity {
		m, err := l.metadata(ctx)
		if err != nil {
			return nil, err
		}
		var ok bool
		if sri, ok = m[file]; !ok {
			return nil, &notInVersionError{file: file, version: l.opts.Version}
		}
		// An exact version never changes: a cached file that still matches
		// its SRI needs no request at all.
		if data, _, ok := l.diskGet(file); ok && checkSRI(data, sri) == nil {
			return data, nil
		}
	}
	cached, etag, _ := l.diskGet(file)
	if !l.opts.SkipIntegrity {
		cached, etag = nil, "" // it failed its SRI above: fetch afresh
	}
	check := func(data []byte) error {
		if sri == "" {
			return nil
		}
		if err := checkSRI(data, sri); err != nil {
			return &integrityError{file: file, detail: err.Error()}
		}
		return nil
	}
	res, err := l.fromAnyBase(ctx, file, func(base string) string { return l.rootOf(base) + "/" + file }, etag, check)
	if err != nil {
		return nil, err
	}
	if res.notModified {
		return cached, nil
	}
	l.diskPut(file, res.body, res.etag)
	return res.body, nil
}

// metadata returns the version's file -> SRI map, fetched once from
// /-/meta/<version> (or the disk cache) and shared by concurrent callers.
func (l *Loader) metadata(ctx context.Context) (map[string]string, error) {
	l.mu.Lock()
	m := l.meta
	l.mu.Unlock()
	if m != nil {
		return m, nil
	}
	v, err, _ := l.group.Do("meta", func() (any, error) {
		if raw, ok := l.diskMeta(); ok {
			if m, err := l.parseMeta(raw); err == nil {
				return m, nil
			}
		}
		res, err := l.fromAnyBase(ctx, "/-/meta/"+l.libraryPrefix()+l.opts.Version, func(base string) string {
			return strings.TrimRight(base, "/") + "/-/meta/" + l.libraryPrefix() + l.opts.Version
		}, "", func(b []byte) error { _, err := l.parseMeta(b); return err })
		if err != nil {
			return nil, fmt.Errorf("fetching the integrity manifest: %w", err)
		}
		m, _ := l.parseMeta(res.body)
		l.diskPutMeta(res.body)
		return m, nil
	})
	if err != nil {
		return nil, err
	}
	m = v.(map[string]string)
	l.mu.Lock()
	l.meta = m
	l.mu.Unlock()
	return m, nil
}

func (l *Loader) parseMeta(raw []byte) (map[string]string, error) {
	var doc struct {
		Version string `json:"version"`
		Files   []struct {
			Path      string `json:"path"`
			Integrity string `json:"integrity"`
		} `json:"files"`
		Deprecated *struct {
			Message string `json:"message"`
		} `json:"deprecated"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, &integrityError{file: "/-/meta/" + l.libraryPrefix() + l.opts.Version, detail: "not a cdnserve metadata document: " + err.Error()}
	}
	if doc.Version != l.opts.Version {
		return nil, &integrityError{file: "/-/meta/" + l.libraryPrefix() + l.opts.Version, detail: fmt.Sprintf("describes version %q", doc.Version)}
	}
	m := make(map[string]string, len(doc.Files))
	for _, f := range doc.Files {
		m[f.Path] = f.Integrity
	}
	if doc.Deprecated != nil {
		l.deprecatedOnce.Do(func() {
			if l.opts.OnDeprecated != nil {
				l.opts.OnDeprecated(l.opts.Version, doc.Deprecated.Message)
			} else {
				slog.Warn("this version is deprecated", "version", l.opts.Version, "library", l.opts.Library, "message", doc.Deprecated.Message)
			}
		})
	}
	return m, nil
}

// bases lists the base URLs to try, in order: the chosen CDN, then the
// mirrors.
func (l *Loader) bases() []string {
	first := l.opts.CDNHTTP
	if l.opts.Encrypted {
		first = l.opts.CDNHTTPS
	}
	return append([]string{first}, l.opts.Mirrors...)
}

// result is one successful answer.
type result struct {
	body        []byte
	etag        string
	notModified bool
}

// fromAnyBase tries each base in turn, with retries on each, until one
// answers with bytes that pass check. The error joins every base's.
func (l *Loader) fromAnyBase(ctx context.Context, what string, urlOf func(base string) string, etag string, check func([]byte) error) (result, error) {
	var errs []error
	for _, base := range l.bases() {
		u := urlOf(base)
		res, err := l.withRetries(ctx, u, etag)
		if err == nil && !res.notModified {
			err = check(res.body)
		}
		if err == nil {
			return res, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return result{}, fmt.Errorf("loading %s: %w", what, errors.Join(errs...))
}

// withRetries makes up to Attempts requests for one URL. Network errors,
// timeouts of one attempt, 5xx and 429 are retried after an exponential
// backoff with jitter, or after the server's Retry-After; other 4xx are
// not.
func (l *Loader) withRetries(ctx context.Context, url, etag string) (result, error) {
	var res result
	policy := retry.Policy{Attempts: l.opts.Attempts, Backoff: l.opts.Backoff, MaxBackoff: l.opts.MaxBackoff, MaxRetryAfter: l.opts.MaxRetryAfter}
	_, err := retry.Do(ctx, policy, func(ctx context.Context) error {
		r, err := l.attempt(ctx, url, etag)
		var se *StatusError
		if errors.As(err, &se) && !se.retryable() {
			return retry.Permanent(err)
		}
		res = r
		return err
	})
	var stopped *retry.Stopped
	if errors.As(err, &stopped) {
		return result{}, fmt.Errorf("%w (after %v)", ctxError(stopped.Cause), stopped.Last)
	}
	return res, err
}

// attempt makes one request, bounded by AttemptTimeout.
func (l *Loader) attempt(ctx context.Context, url, etag string) (result, error) {
	actx, cancel := context.WithTimeout(ctx, l.opts.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, url, nil)
	if err != nil {
		return result{}, err
	}
	if l.opts.Token != "" && l.ownHost(req.URL.Host) {
		req.Header.Set("Authorization", "Bearer "+l.opts.Token)
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := l.opts.HTTPClient.Do(req)
	if err != nil {
		return result{}, attemptError(actx, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && etag != "":
		return result{notModified: true, etag: etag}, nil
	case resp.StatusCode != http.StatusOK:
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		se := &StatusError{URL: url, Status: resp.StatusCode}
		return result{}, retry.After(se, retry.RetryAfter(resp.Header, time.Now()))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return result{}, attemptError(actx, fmt.Errorf("GET %s: reading the body: %w", url, err))
	}
	if len(body) > maxBody {
		return result{}, fmt.Errorf("GET %s: body larger than %d bytes", url, maxBody)
	}
	return result{body: body, etag: resp.Header.Get("Etag")}, nil
}

func attemptError(actx context.Context, err error) error {
	if errors.Is(actx.Err(), context.DeadlineExceeded) {
		return &timeoutError{err}
	}
	return err
}

// checkSRI verifies data against a Subresource Integrity value: one or
// more "alg-base64" tokens; the strongest algorithm present must match
// (W3C SRI §3.3.3).
func checkSRI(data []byte, sri string) error {
	rank := map[string]int{"sha256": 1, "sha384": 2, "sha512": 3}
	best, bestRank := "", 0
	for _, tok := range strings.Fields(sri) {
		alg, _, _ := strings.Cut(tok, "-")
		if r := rank[alg]; r > bestRank {
			best, bestRank = tok, r
		}
	}
	if bestRank == 0 {
		return fmt.Errorf("no sha256, sha384 or sha512 hash in %q", sri)
	}
	alg, want, _ := strings.Cut(best, "-")
	want, _, _ = strings.Cut(want, "?") // options after '?' are ignored
	var h hash.Hash
	switch alg {
	case "sha256":
		h = sha256.New()
	case "sha384":
		h = sha512.New384()
	default:
		h = sha512.New()
	}
	h.Write(data)
	if got := base64.StdEncoding.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("content hashes to %s-%s, want %s", alg, got, best)
	}
	return nil
}
