package npm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"sync"
	"time"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/layout"
	"golang.org/x/sync/singleflight"

	"github.com/cdnserve/cdnserve/redact"
)

// Mirror publishes allowed npm packages into a dist tree on demand: a
// server asks it for a package version that storage lacks, and serves
// it from storage from then on. It implements server.Mirror.
type Mirror struct {
	// Client fetches from the registries.
	Client *Client
	// Tree is the dist root the packages are published into, each as the
	// library of its name.
	Tree dist.Tree
	// Allow are the package patterns that may be fetched: a name
	// ("sockjs-client") or a path.Match glob ("@corp/*"). Nothing else is
	// ever fetched: there is no open mirror.
	Allow []string
	// Tool names the publisher in the provenance.
	Tool string
	// Timeout bounds one fetch and publish (default 2 min); it runs on
	// its own, so a client that goes away does not cancel it for the
	// others waiting on it.
	Timeout time.Duration
	// Log records what is fetched.
	Log *slog.Logger
	// Private reports whether the server keeps a library private. A
	// package that its registry serves only with a token is fetched only
	// into a private library: the mirror never makes a private package
	// public.
	Private func(library string) bool

	group singleflight.Group
	// stored remembers, for the client's DocTTL, the versions known to be
	// in storage, so that a range asked again costs no look at storage.
	storedMu sync.Mutex
	stored   map[string]time.Time
}

// CheckAllow checks allow patterns, naming a bad one.
func CheckAllow(patterns []string) error {
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil || p == "" {
			return fmt.Errorf("--npm-allow %q: not a package name or a glob such as '@corp/*'", p)
		}
	}
	return nil
}

// Allowed reports whether a package may be fetched.
func (m *Mirror) Allowed(name string) bool {
	for _, p := range m.Allow {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// Ensure returns the exact version that spec (a version, a range or a
// dist-tag) names in the package's registry, after making sure storage
// holds it: fetched, verified and published, for good. Concurrent calls
// for one version share one download and one publish; replicas are kept
// apart by the tree's lock. The error wraps ErrNotFound (also
// fs.ErrNotExist) when the registry has no such package or version,
// ErrTimeout (also context.DeadlineExceeded) when it did not answer in
// time, and otherwise says what failed.
func (m *Mirror) Ensure(ctx context.Context, name, spec string) (string, error) {
	if !m.Allowed(name) {
		return "", fmt.Errorf("npm package %s is not allowed by --npm-allow: %w", name, ErrNotFound)
	}
	if (m.Private == nil || !m.Private(name)) && !m.Client.IsPublic(ctx, name) {
		if m.Log != nil {
			m.Log.Warn("not fetching an npm package that only a token opens into a public library; make it private with serve --private", "package", name)
		}
		return "", fmt.Errorf("npm package %s is private at its registry, and its library is not private here (serve --private): %w", name, ErrNotFound)
	}
	v, doc, err := m.Client.Resolve(ctx, name, spec)
	if err != nil {
		return "", err
	}
	key := name + "@" + v.Version
	m.storedMu.Lock()
	at, known := m.stored[key]
	m.storedMu.Unlock()
	if known && m.Client.Clock().Sub(at) < m.Client.DocTTL {
		return v.Version, nil
	}
	_, err, _ = m.group.Do(key, func() (any, error) {
		timeout := m.Timeout
		if timeout == 0 {
			timeout = 2 * time.Minute
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		start := time.Now()
		added, err := Add(fctx, m.Client, m.Tree, Spec{Name: name, Range: v.Version}, AddOptions{Tool: m.Tool, Wait: true, Compression: layout.Fast})
		if err != nil {
			return nil, err
		}
		if !added.Stored && m.Log != nil {
			m.Log.Info("fetched an npm package into storage", "package", name, "version", v.Version,
				"registry", redact.URL(doc.Registry), "files", added.Publish.Files, "skipped", len(added.Skipped), "duration", time.Since(start).Round(time.Millisecond))
		}
		m.storedMu.Lock()
		if m.stored == nil {
			m.stored = map[string]time.Time{}
		}
		m.stored[key] = m.Client.Clock()
		m.storedMu.Unlock()
		return nil, nil
	})
	if err != nil {
		var ie *dist.ImmutableError
		if errors.As(err, &ie) {
			// Storage holds this version with other content (added with
			// --files, or published by hand): it is served as it is.
			return v.Version, nil
		}
		return "", err
	}
	return v.Version, nil
}
