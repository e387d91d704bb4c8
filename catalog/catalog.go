package catalog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

// catalog is the server's view of a dist root: the root library's store
// and one store per named library (layout). A refresh lists the root,
// each scope and each library's directory, and reads no manifest. A
// library published after start is found on its first request, as a
// version is.
type Catalog struct {
	env  *treeEnv
	root *Library

	mu       sync.RWMutex
	libs     map[string]*Library
	names    []string             // sorted
	negative map[string]time.Time // library names storage lacks, until then
}

func newCatalog(env *treeEnv) *Catalog {
	return &Catalog{env: env, root: newStore(env, ""), libs: map[string]*Library{}, negative: map[string]time.Time{}}
}

// refreshWorkers bounds how many library directories a refresh lists at
// once: on object storage each listing is a round trip.
const refreshWorkers = 8

// refresh lists the dist root: the root library's versions, and every
// named library, each of which is re-listed (store.update). Libraries
// gone from storage are dropped.
func (c *Catalog) Refresh() error {
	entries, err := afero.ReadDir(c.env.fs, c.env.root)
	if err != nil {
		err = fmt.Errorf("%w: listing %s: %v", ErrStorage, c.env.root, err)
		c.root.mu.Lock()
		c.root.refreshErr = err
		c.root.mu.Unlock()
		return err
	}
	names, err := c.list(entries)
	if err != nil {
		c.root.mu.Lock()
		c.root.refreshErr = err
		c.root.mu.Unlock()
		return err
	}
	c.mu.RLock()
	stores := make([]*Library, len(names))
	for i, name := range names {
		if st := c.libs[name]; st != nil {
			stores[i] = st
		} else {
			stores[i] = newStore(c.env, name)
		}
	}
	c.mu.RUnlock()

	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	sem := make(chan struct{}, refreshWorkers)
	for i, st := range stores {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = st.Refresh()
		}()
	}
	c.root.update(entries)
	wg.Wait()

	libs := make(map[string]*Library, len(stores))
	c.mu.Lock()
	for i, st := range stores {
		if errs[i] == nil || c.libs[names[i]] == st {
			libs[names[i]] = st // a known library that fails to list keeps what it had
		}
	}
	for name := range c.libs {
		if libs[name] == nil && c.env.forgetLibrary != nil {
			c.env.forgetLibrary(name)
		}
	}
	c.libs, c.names, c.negative = libs, sortedNames(libs), map[string]time.Time{}
	c.mu.Unlock()
	c.env.gen.Add(1)
	return errors.Join(errs...)
}

// list finds the named libraries in a listing of the dist root
// (layout.ListLibraries), and logs once each entry it leaves out.
func (c *Catalog) list(entries []fs.FileInfo) ([]string, error) {
	names, unlisted, err := layout.ListLibraries(c.env.fs, c.env.root, entries)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStorage, err)
	}
	for _, u := range unlisted {
		c.env.ignore(u.Path, u.Why)
	}
	return names, nil
}

func sortedNames(libs map[string]*Library) []string {
	out := make([]string, 0, len(libs))
	for name := range libs {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// loaded returns a known library's store, or nil; it never reads
// storage, and it does not allocate.
func (c *Catalog) Loaded(name string) *Library {
	if name == "" {
		return c.root
	}
	c.mu.RLock()
	st := c.libs[name]
	c.mu.RUnlock()
	return st
}

// known reports whether a named library is loaded.
func (c *Catalog) Known(name string) bool { return c.Loaded(name) != nil }

// library returns a library's store, finding a library published since
// the last refresh in storage. A name storage lacks is remembered as
// absent for the negative TTL, so unknown names cost one look each. The
// error is fs.ErrNotExist (also for a name that is no library name), or
// wraps ErrStorage.
func (c *Catalog) Library(name string) (*Library, error) {
	if st := c.Loaded(name); st != nil {
		return st, nil
	}
	if !layout.IsLibraryName(name) {
		return nil, fs.ErrNotExist
	}
	c.mu.RLock()
	neg, isNeg := c.negative[name]
	c.mu.RUnlock()
	if isNeg && c.env.clock().Before(neg) {
		return nil, fs.ErrNotExist
	}
	_, why, err := layout.NotPlain(c.env.fs, layout.LibraryDir(c.env.root, name), true)
	switch {
	case errors.Is(err, os.ErrNotExist), err == nil && why != "":
		c.mu.Lock()
		if len(c.negative) > 10000 {
			c.negative = map[string]time.Time{}
		}
		c.negative[name] = c.env.clock().Add(c.env.negTTL)
		c.mu.Unlock()
		return nil, fs.ErrNotExist
	case err != nil:
		return nil, fmt.Errorf("%w: reading library %s: %v", ErrStorage, name, err)
	}
	st := newStore(c.env, name)
	if err := st.Refresh(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur := c.libs[name]; cur != nil {
		return cur, nil // another request found it first
	}
	c.libs[name] = st
	c.names = sortedNames(c.libs)
	c.env.gen.Add(1)
	return st, nil
}

// published makes a library that was just published (by the mirror)
// visible at once: its absence is forgotten, and its store, if loaded,
// re-lists its directory, so new versions and moved aliases show.
func (c *Catalog) Published(name string) {
	c.mu.Lock()
	delete(c.negative, name)
	st := c.libs[name]
	c.mu.Unlock()
	if st != nil {
		st.Refresh()
	}
}

// all returns every library's store, the root library's first.
func (c *Catalog) All() []*Library {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*Library, 0, len(c.libs)+1)
	out = append(out, c.root)
	for _, name := range c.names {
		out = append(out, c.libs[name])
	}
	return out
}

// libraries returns the named libraries' names, sorted.
func (c *Catalog) Libraries() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.names
}
