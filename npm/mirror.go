package npm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"runtime/debug"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"
	"github.com/spf13/afero"
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
	// AllowDependencies lets a package that Allow does not name be
	// fetched for an import map's graph when a package of the graph
	// declares it in its dependencies, peerDependencies or
	// optionalDependencies (EnsureFor). Asked for by name, it is still
	// refused.
	AllowDependencies bool
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
	// Concurrent bounds the packages fetched and extracted at once
	// (default 4): each holds its tarball and its files in memory, up to
	// Limits.Package apiece.
	Concurrent int
	// QueueWait is how long a fetch waits for a free slot before it is
	// refused with ErrBusy (default 5 s).
	QueueWait time.Duration

	slotsOnce sync.Once
	slots     chan struct{}
	group     singleflight.Group
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
	return m.EnsureFor(ctx, name, spec, "")
}

// EnsureFor is Ensure for a package of an import map's graph: dependent
// is the package whose dependencies declare it ("" for one asked for by
// name). With AllowDependencies, a dependency is fetched whether or not
// Allow names it; the graph follows only declared dependencies from
// packages that were allowed, so nothing that no allowed package
// depends on is ever fetched.
func (m *Mirror) EnsureFor(ctx context.Context, name, spec, dependent string) (string, error) {
	if !m.Allowed(name) && (dependent == "" || !m.AllowDependencies) {
		why := "is not allowed by --npm-allow"
		if dependent != "" {
			why += " (a dependency of " + dependent + "; --npm-allow-dependencies allows those)"
		}
		return "", fmt.Errorf("npm package %s %s: %w", name, why, ErrNotFound)
	}
	if err := m.ours(name); err != nil {
		return "", err
	}
	if m.Client.Offline {
		if v, ok := m.storedMatch(name, spec); ok {
			return v, nil
		}
	}
	if err := m.tokenOnly(ctx, name); err != nil {
		return "", err
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
		release, err := m.slot(ctx)
		if err != nil {
			return nil, err
		}
		defer release()
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

// ErrBusy is a fetch refused because Concurrent fetches are running and
// none finished within QueueWait. A server answers 503 with Retry-After
// (RetryAfter).
var ErrBusy error = busyError{}

type busyError struct{}

func (busyError) Error() string {
	return "the mirror is busy fetching other packages; try again shortly"
}

// RetryAfter is how long a client should wait before asking again.
func (busyError) RetryAfter() time.Duration { return 5 * time.Second }

// slot waits up to QueueWait for one of the Concurrent fetch slots, and
// returns its release.
func (m *Mirror) slot(ctx context.Context) (func(), error) {
	m.slotsOnce.Do(func() {
		n := m.Concurrent
		if n <= 0 {
			n = 4
		}
		m.slots = make(chan struct{}, n)
	})
	wait := m.QueueWait
	if wait <= 0 {
		wait = 5 * time.Second
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case m.slots <- struct{}{}:
		return func() {
			<-m.slots
			debug.FreeOSMemory() // a package's tarball and files go back to the system now, not minutes later
		}, nil
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, ErrBusy
	}
}

// ErrNotMirrored is a library that storage holds and that did not come
// from npm: the mirror never adds versions to it, whatever --npm-allow
// says, so that a registry's package of the same name cannot take it
// over (dependency confusion). It is a kind of fs.ErrNotExist: the
// server answers from storage alone.
var ErrNotMirrored error = kindError{"the library is published here, not fetched from npm: the mirror never extends it", fs.ErrNotExist}

// ours refuses a library that storage holds with any version not
// fetched from npm (its provenance has no registry), and logs the
// collision. A library found to be npm's is not looked at again for
// DocTTL.
func (m *Mirror) ours(name string) error {
	m.storedMu.Lock()
	at, ok := m.stored["npm:"+name]
	m.storedMu.Unlock()
	if ok && m.Client.Clock().Sub(at) < m.Client.DocTTL {
		return nil
	}
	if err := m.foreign(name); err != nil {
		return err
	}
	m.storedMu.Lock()
	if m.stored == nil {
		m.stored = map[string]time.Time{}
	}
	m.stored["npm:"+name] = m.Client.Clock()
	m.storedMu.Unlock()
	return nil
}

// foreign reads a library's versions' provenance: an error when one was
// not fetched from npm.
func (m *Mirror) foreign(name string) error {
	tree, err := m.Tree.Library(name)
	if err != nil {
		return err
	}
	entries, err := afero.ReadDir(tree.Fs, tree.Root)
	if err != nil {
		return nil // absent: the mirror may create it
	}
	for _, e := range entries {
		if layout.ClassifyDir(e.Name()) != layout.Exact {
			continue
		}
		raw, err := afero.ReadFile(tree.Fs, path.Join(tree.Root, e.Name(), layout.ManifestName))
		if err != nil {
			continue
		}
		var mf layout.Manifest
		if json.Unmarshal(raw, &mf) == nil && mf.Provenance.Registry != "" {
			continue
		}
		if m.Log != nil && m.collided(name) {
			m.Log.Warn("an npm package has the name of a library published here: the mirror does not fetch it (dependency confusion); rename one of them, or remove the name from --npm-allow", "library", name, "version", e.Name())
		}
		return fmt.Errorf("npm package %s: %w", name, ErrNotMirrored)
	}
	return nil
}

// collided reports whether a collision was not logged within DocTTL.
func (m *Mirror) collided(name string) bool {
	m.storedMu.Lock()
	defer m.storedMu.Unlock()
	if m.stored == nil {
		m.stored = map[string]time.Time{}
	}
	key := "collision:" + name
	if at, ok := m.stored[key]; ok && m.Client.Clock().Sub(at) < m.Client.DocTTL {
		return false
	}
	m.stored[key] = m.Client.Clock()
	return true
}

// recordedPrivate reports whether the library's record in storage makes
// it private (an unreadable record counts as private).
func (m *Mirror) recordedPrivate(name string) bool {
	tree, err := m.Tree.Library(name)
	if err != nil {
		return false
	}
	p, err := tree.Private()
	return p || err != nil
}

// tokenOnly refuses a package that its registry serves only with a
// token, unless its library is private here (by a pattern, or by its
// record in storage, read only for such a package): the mirror never
// makes a private package public. A registry that cannot be asked is
// an error (502/504 for the server), never a 404.
func (m *Mirror) tokenOnly(ctx context.Context, name string) error {
	if m.Private != nil && m.Private(name) {
		return nil
	}
	public, err := m.Client.IsPublic(ctx, name)
	if err != nil || public || m.recordedPrivate(name) {
		return err
	}
	if m.Log != nil {
		m.Log.Warn("not fetching an npm package that only a token opens into a public library; make it private with cdnserve private NAME or serve --private", "package", name)
	}
	return fmt.Errorf("npm package %s is private at its registry, and its library is not private here (cdnserve private NAME, or serve --private): %w", name, ErrNotFound)
}

// storedMatch resolves spec against the versions storage holds, for an
// offline mirror: an exact version, a range (npm's rules: the highest
// match, a prerelease only when the range names one of its line), or
// "latest" (the highest stable version). Other tags need the package's
// document.
func (m *Mirror) storedMatch(name, spec string) (string, bool) {
	tree, err := m.Tree.Library(name)
	if err != nil {
		return "", false
	}
	stored, err := tree.Versions()
	if err != nil || len(stored) == 0 {
		return "", false
	}
	if spec == "" || spec == "latest" {
		spec = "*"
	}
	r, err := versioning.ParseRange(spec)
	if err != nil {
		return "", false
	}
	var best *semver.Version
	for _, v := range stored {
		if r.MatchNPM(v) && (best == nil || v.GreaterThan(best)) {
			best = v
		}
	}
	if best == nil {
		return "", false
	}
	return best.Original(), true
}
