package loader

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/sync/singleflight"
)

// Loader builds versioned asset URLs and loads the files behind them. It
// is safe for concurrent use.
type Loader struct {
	opts  Options
	group singleflight.Group
	// deprecatedOnce reports a deprecated version once.
	deprecatedOnce sync.Once

	mu    sync.Mutex
	files map[string][]byte // verified successes, by file name
	meta  map[string]string // file -> SRI, once fetched
}

// New checks the options and returns a Loader.
func New(o Options) (*Loader, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return &Loader{opts: o.withDefaults(), files: map[string][]byte{}}, nil
}

// Root is the chosen CDN base with trailing slashes stripped, then "/",
// the library and "/" (for a named library), and the version: CDNHTTPS
// when encrypted, CDNHTTP otherwise, as the seed's
// DependencyLoader.getRoot did.
func (l *Loader) Root(encrypted bool) string {
	base := l.opts.CDNHTTP
	if encrypted {
		base = l.opts.CDNHTTPS
	}
	return l.rootOf(base)
}

// rootOf is the version's directory on one base URL.
func (l *Loader) rootOf(base string) string {
	return strings.TrimRight(base, "/") + "/" + l.libraryPrefix() + l.opts.Version
}

// ownHost reports whether host is the CDN's own (CDNHTTP's or
// CDNHTTPS's): the only hosts the token is sent to.
func (l *Loader) ownHost(host string) bool {
	for _, b := range []string{l.opts.CDNHTTP, l.opts.CDNHTTPS} {
		if u, err := url.Parse(b); err == nil && b != "" && u.Host == host {
			return true
		}
	}
	return false
}

// libraryPrefix is "<library>/", or "" for the root library.
func (l *Loader) libraryPrefix() string {
	if l.opts.Library == "" {
		return ""
	}
	return l.opts.Library + "/"
}

// Path is the URL of a .js dependency: the root, "/", the name, the suffix
// and ".js" (the seed's DependencyLoader.getPath).
func (l *Loader) Path(name string, encrypted bool) string {
	return l.Root(encrypted) + "/" + l.jsFile(name)
}

// PathOf is the URL of any file in the version, used as it is: no suffix,
// no ".js" (for WebSocketMain.swf, style.min.css).
func (l *Loader) PathOf(file string, encrypted bool) string {
	return l.Root(encrypted) + "/" + file
}

func (l *Loader) jsFile(name string) string { return name + l.opts.Suffix + ".js" }

// Load returns the bytes of the .js dependency name (its file is
// name + Suffix + ".js"), verified against the version's integrity
// manifest. Successes are cached; failures are not, so the next call
// tries again. Concurrent calls for one name share one request.
func (l *Loader) Load(ctx context.Context, name string) ([]byte, error) {
	return l.LoadFile(ctx, l.jsFile(name))
}

// LoadFile is Load for a file named exactly, such as "WebSocketMain.swf".
func (l *Loader) LoadFile(ctx context.Context, file string) ([]byte, error) {
	if !validName(file) {
		return nil, fmt.Errorf("loader: file name %q: must be a relative path with no '..', '\\', '?' or '#'", file)
	}
	l.mu.Lock()
	data, ok := l.files[file]
	l.mu.Unlock()
	if ok {
		return data, nil
	}
	// The shared load runs on a context of its own, bounded by Timeout, so
	// one caller giving up does not fail the others; each caller still
	// stops waiting when its own context ends.
	ch := l.group.DoChan("file:"+file, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.opts.Timeout)
		defer cancel()
		data, err := l.load(fctx, file)
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		l.files[file] = data
		l.mu.Unlock()
		return data, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.([]byte), nil
	case <-ctx.Done():
		return nil, ctxError(ctx.Err())
	}
}

// Prefetch loads the named .js dependencies concurrently and returns every
// failure, joined with errors.Join.
func (l *Loader) Prefetch(ctx context.Context, names ...string) error {
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = l.Load(ctx, name)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func ctxError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &timeoutError{err}
	}
	return err
}

// validName accepts a relative, slash-separated file name that stays in
// the version directory and needs no URL escaping of '?' or '#'.
func validName(name string) bool {
	if name == "" || strings.HasPrefix(name, "/") || strings.ContainsAny(name, "\\?#\x00") {
		return false
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}
