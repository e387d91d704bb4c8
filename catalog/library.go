package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"
	"github.com/spf13/afero"
)

// ErrStorage marks a failure to read storage, as opposed to something
// being absent; it maps to 503.
var ErrStorage = errors.New("storage unavailable")

// ErrDamaged marks a version directory whose integrity manifest is there
// but cannot be used: undecodable, or naming another version. It maps to
// 500: the tree needs repair, and retrying will not help.
var ErrDamaged = errors.New("integrity manifest damaged")

// treeEnv is what every library's store shares: the storage, the clock,
// the log of ignored entries, and the generation of what the server
// shows.
type treeEnv struct {
	fs     afero.Fs
	root   string // the dist root
	negTTL time.Duration
	clock  func() time.Time
	log    *slog.Logger

	ignoredMu sync.Mutex
	ignored   map[string]bool // entries logged as ignored, each once

	// newLibrary, newVersion and forgetLibrary are Options'.
	newLibrary    func(*Library) any
	newData       func(*Library, *Version) any
	forgetLibrary func(name string)

	// gen counts changes to what the server shows (a library's version
	// list, its aliases, the libraries): pages rendered from it are kept
	// until it moves.
	gen atomic.Uint64
}

// ignore logs, once per entry, that an entry of the tree is not served.
// The entry is named by its path below the dist root.
func (e *treeEnv) ignore(name, why string) {
	e.ignoredMu.Lock()
	first := !e.ignored[name]
	e.ignored[name] = true
	e.ignoredMu.Unlock()
	if first {
		e.log.Warn("ignoring an entry of the dist tree: never served, never listed", "entry", name, "why", why)
	}
}

// store is the server's view of one library's tree: the root library's,
// or a named library's (package layout). It lists version directories
// at start and on each refresh, loads a version's integrity manifest the
// first time it is asked for, and precomputes everything a request needs
// from it. Exact versions, once loaded, are kept for good; aliases are
// re-read on refresh.
//
// Only plain directories and regular files are part of the tree: a
// symbolic link, a device or a socket where a version directory, a
// manifest or a file should be is never served and never listed, and is
// logged once (by ignore).
type Library struct {
	*treeEnv
	name   string // the library's name; "" for the root library
	dir    string // its directory: layout.LibraryDir(root, lib)
	prefix string // its URL prefix: "/" or "/<lib>/"
	// Data is what the catalog's NewLibrary made for this library (the
	// server's metrics and usage counters), made once.
	Data any

	mu         sync.RWMutex
	sorted     []*semver.Version   // published exact versions, newest first
	known      map[string]bool     // directory names known to hold a manifest
	loadedDirs map[string]*Version // exact versions and aliases, by directory name
	checked    map[string]bool     // listed versions whose manifests checked out (checkOnce)
	negative   map[string]time.Time
	resolved   map[string]resolution // range spec -> its answer, until the next refresh
	// lastRefresh is when the last refresh succeeded, and refreshErr
	// what the last one failed with (nil when it succeeded): readiness.
	lastRefresh time.Time
	refreshErr  error

	// lifecycle is the deprecation and removal records (lifecycle.go),
	// read lock-free by requests. The records as last read, and what the
	// refresh saw of their files, are kept to read them only on change.
	lifecycle    atomic.Pointer[lifecycle]
	recordsMu    sync.Mutex
	recordsSeen  map[string]recordInfo
	deprecations layout.Deprecations
	removals     layout.Removals
	// private is what the access record (layout.AccessName) says.
	private atomic.Bool
}

// Private reports whether the library's access record in storage makes
// it private, as of the last refresh.
func (s *Library) Private() bool { return s.private.Load() }

// Version is one loaded version or alias directory. It is immutable: a
// refresh that finds an alias changed replaces the whole value.
type Version struct {
	Lib      *Library // the library it belongs to
	Name     string   // directory name: "1.7.1" or "1.7"
	Exact    string   // the exact version it holds
	Alias    bool     // an alias directory ("1.7"), not an exact version
	Manifest *layout.Manifest
	raw      []byte // the manifest's bytes, to notice an alias switch
	// ModTime is when it was built (the manifest's provenance).
	ModTime time.Time
	// Served is what the catalog's NewVersion made for this version (the
	// server's files with their headers), made once, when it was loaded.
	Served any
}

func newStore(env *treeEnv, lib string) *Library {
	prefix := "/"
	if lib != "" {
		prefix = "/" + lib + "/"
	}
	s := &Library{treeEnv: env, name: lib, dir: layout.LibraryDir(env.root, lib), prefix: prefix,
		known: map[string]bool{}, loadedDirs: map[string]*Version{}, checked: map[string]bool{}, negative: map[string]time.Time{}, resolved: map[string]resolution{}}
	if env.newLibrary != nil {
		s.Data = env.newLibrary(s)
	}
	return s
}

// Name is the library's name; "" for the root library.
func (s *Library) Name() string { return s.name }

// Prefix is the library's URL prefix: "/" for the root library, or
// "/<name>/". URLs below a library mirror its directory in the tree.
func (s *Library) Prefix() string { return s.prefix }

// VersionsPath is the library's part of its /-/versions URL: "" or
// "/<name>".
func (s *Library) VersionsPath() string {
	if s.name == "" {
		return ""
	}
	return "/" + s.name
}

// MetaPath is the library's /-/meta/ path of a version: "<version>" or
// "<name>/<version>".
func (s *Library) MetaPath(version string) string {
	if s.name == "" {
		return version
	}
	return s.name + "/" + version
}

// Entry names an entry of this library's directory by its path below the
// dist root, for the log.
func (s *Library) Entry(name string) string { return path.Join(s.name, name) }

// ready reports whether the last refresh succeeded within maxAge.
func (s *Library) Ready(maxAge time.Duration) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch {
	case s.refreshErr != nil:
		return s.refreshErr
	case s.clock().Sub(s.lastRefresh) > maxAge:
		return fmt.Errorf("the last successful refresh was %s ago, more than %s", s.clock().Sub(s.lastRefresh).Round(time.Second), maxAge)
	}
	return nil
}

// refresh re-lists the library's directory (update).
func (s *Library) Refresh() error {
	entries, err := afero.ReadDir(s.fs, s.dir)
	if err != nil {
		err = fmt.Errorf("%w: listing %s: %v", ErrStorage, s.dir, err)
		s.mu.Lock()
		s.refreshErr = err
		s.mu.Unlock()
		return err
	}
	s.update(entries)
	return nil
}

// update applies a listing of the library's directory: new version
// directories (with a manifest) become known, removed ones are
// forgotten, loaded aliases are re-read, and the range and negative
// caches are cleared. In the root library's directory, named libraries
// are the catalog's, and are skipped here.
func (s *Library) update(entries []fs.FileInfo) {
	s.mu.RLock()
	known := make(map[string]bool, len(s.known))
	for name := range s.known {
		known[name] = true
	}
	var aliases []*Version
	for _, v := range s.loadedDirs {
		if v.Alias {
			aliases = append(aliases, v)
		}
	}
	s.mu.RUnlock()

	present := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		switch {
		case layout.ClassifyDir(name) == layout.Internal:
			continue
		case s.name == "" && (layout.ClassifyDir(name) == layout.Library || layout.ClassifyDir(name) == layout.Scope):
			continue // a named library: the catalog lists it
		case !layout.IsVersionDir(name):
			s.ignore(s.Entry(name), "not a version or alias name")
			continue
		case e.Mode()&fs.ModeSymlink != 0:
			s.ignore(s.Entry(name), "a symbolic link")
			continue
		case !e.IsDir():
			s.ignore(s.Entry(name), "not a directory")
			continue
		}
		present[name] = true
		if !known[name] {
			switch err := s.hasManifest(name); {
			case err == nil:
				known[name] = true
			case errors.Is(err, fs.ErrNotExist):
				s.ignore(s.Entry(name), layout.NoManifestAdvice(name)+" (on object storage, also: a publish in progress)")
			}
		}
	}
	for name := range known {
		if !present[name] {
			delete(known, name)
		}
	}
	reloaded := map[string]*Version{}
	for _, a := range aliases {
		if !known[a.Name] {
			continue
		}
		if raw, err := afero.ReadFile(s.fs, path.Join(s.dir, a.Name, layout.ManifestName)); err == nil && !bytes.Equal(raw, a.raw) {
			if v, err := s.parse(a.Name, raw); err == nil {
				reloaded[a.Name] = v
			}
		}
	}

	s.mu.Lock()
	s.known = known
	s.sorted = sortedExact(known)
	s.gen.Add(1)
	for name := range s.loadedDirs {
		if !known[name] {
			delete(s.loadedDirs, name)
		}
	}
	for name := range s.checked {
		if !known[name] {
			delete(s.checked, name)
		}
	}
	for name, v := range reloaded {
		s.loadedDirs[name] = v
	}
	s.resolved = map[string]resolution{}
	s.negative = map[string]time.Time{}
	s.lastRefresh, s.refreshErr = s.clock(), nil
	exact := s.sorted
	s.mu.Unlock()
	s.loadRecords(entries, exact)
}

func sortedExact(known map[string]bool) []*semver.Version {
	out := make([]*semver.Version, 0, len(known))
	for name := range known {
		if v, err := versioning.Parse(name); err == nil {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b *semver.Version) int { return b.Compare(a) })
	return out
}

// get returns a loaded version or alias by directory name, loading it
// from storage on first use. A name storage does not have is remembered
// as absent for negTTL. The error is fs.ErrNotExist, or wraps ErrStorage
// or ErrDamaged; a damaged version is dropped from the version list.
func (s *Library) Get(name string) (*Version, error) {
	if v := s.Loaded(name); v != nil {
		return v, nil
	}
	s.mu.RLock()
	neg, isNeg := s.negative[name]
	s.mu.RUnlock()
	if !layout.IsVersionDir(name) || (isNeg && s.clock().Before(neg)) {
		return nil, fs.ErrNotExist
	}
	raw, m, err := s.readManifest(name)
	var v *Version
	if err == nil {
		v = s.newVersion(name, m, raw)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.mu.Lock()
		if len(s.negative) > 10000 {
			s.negative = map[string]time.Time{}
		}
		s.negative[name] = s.clock().Add(s.negTTL)
		s.mu.Unlock()
		return nil, err
	case errors.Is(err, ErrDamaged):
		s.ignore(s.Entry(name), err.Error())
		s.forget(name)
		return nil, err
	case err != nil:
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.loadedDirs[name]; ok {
		return cur, nil // another request loaded it first
	}
	s.loadedDirs[name] = v
	if !s.known[name] {
		s.known[name] = true
		s.sorted = sortedExact(s.known)
		s.gen.Add(1)
		s.resolved = map[string]resolution{}
	}
	return v, nil
}

// hasManifest checks, without reading it, that a version directory and
// its manifest are plain: enough to list a version at start without
// reading every manifest. The manifest is read and checked when the
// version is first loaded, resolved or listed (servable).
func (s *Library) hasManifest(name string) error {
	for _, e := range []struct {
		entry string // below the library, as the log names it
		dir   bool
	}{{name, true}, {path.Join(name, layout.ManifestName), false}} {
		_, why, err := layout.NotPlain(s.fs, path.Join(s.dir, e.entry), e.dir)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return fs.ErrNotExist
		case err != nil:
			return fmt.Errorf("%w: reading %s: %v", ErrStorage, name, err)
		case why != "":
			s.ignore(s.Entry(e.entry), why)
			return fs.ErrNotExist
		}
	}
	return nil
}

// servable returns the published versions, newest first, whose manifests
// check out: each is read once (get), and one that is damaged or gone is
// dropped from the list, so /-/versions and / list only what can be
// served.
func (s *Library) Servable() []*semver.Version {
	versions := s.Versions()
	out := make([]*semver.Version, 0, len(versions))
	for _, v := range versions {
		if s.checkOnce(v.Original()) {
			out = append(out, v)
		}
	}
	return out
}

// checkOnce reports whether a listed version's manifest checks out,
// reading it the first time only and keeping nothing but the answer; a
// damaged one is logged and dropped from the list.
func (s *Library) checkOnce(name string) bool {
	s.mu.RLock()
	_, loaded := s.loadedDirs[name]
	ok := loaded || s.checked[name]
	s.mu.RUnlock()
	if ok {
		return true
	}
	_, _, err := s.readManifest(name)
	switch {
	case err == nil:
		s.mu.Lock()
		s.checked[name] = true
		s.mu.Unlock()
		return true
	case errors.Is(err, ErrDamaged):
		s.ignore(s.Entry(name), err.Error())
		s.forget(name)
	}
	return false
}

// readManifest reads and checks a version directory's manifest. The
// directory and the manifest must be plain (hasManifest): anything else
// is absent.
func (s *Library) readManifest(name string) ([]byte, *layout.Manifest, error) {
	if err := s.hasManifest(name); err != nil {
		return nil, nil, err
	}
	raw, err := afero.ReadFile(s.fs, path.Join(s.dir, name, layout.ManifestName))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, nil, fs.ErrNotExist
	case err != nil:
		return nil, nil, fmt.Errorf("%w: reading %s: %v", ErrStorage, name, err)
	}
	m, err := checkManifest(name, raw)
	return raw, m, err
}

// forget drops a version from the list and from the range cache, so that
// no range resolves to it.
func (s *Library) forget(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.known[name] {
		delete(s.known, name)
		delete(s.loadedDirs, name)
		delete(s.checked, name)
		s.sorted = sortedExact(s.known)
		s.gen.Add(1)
		s.resolved = map[string]resolution{}
	}
}

// checkManifest decodes a directory's manifest. One that cannot be
// decoded, or that does not belong in its directory, is ErrDamaged.
func checkManifest(name string, raw []byte) (*layout.Manifest, error) {
	m, err := layout.DecodeManifest(path.Join(name, layout.ManifestName), raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	sv, err := versioning.Parse(m.Version)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: version: %v", ErrDamaged, name, err)
	}
	alias := m.AliasOf != ""
	if (!alias && name != m.Version) || (alias && (m.AliasOf != m.Version || name != versioning.AliasDir(sv))) {
		return nil, fmt.Errorf("%w: %s holds the manifest of %s", ErrDamaged, name, m.Version)
	}
	return m, nil
}

// parse builds a version from its manifest bytes.
func (s *Library) parse(name string, raw []byte) (*Version, error) {
	m, err := checkManifest(name, raw)
	if err != nil {
		return nil, err
	}
	return s.newVersion(name, m, raw), nil
}

// newVersion makes a loaded version from a checked manifest, and asks
// the catalog's NewVersion for what its reader keeps beside it.
func (s *Library) newVersion(name string, m *layout.Manifest, raw []byte) *Version {
	v := &Version{Lib: s, Name: name, Exact: m.Version, Alias: m.AliasOf != "", Manifest: m, raw: raw, ModTime: m.Provenance.BuiltAt}
	if s.treeEnv.newData != nil {
		v.Served = s.treeEnv.newData(s, v)
	}
	return v
}

// loaded returns a version or alias that is loaded already, or nil; it
// never reads storage.
func (s *Library) Loaded(name string) *Version {
	s.mu.RLock()
	v := s.loadedDirs[name]
	s.mu.RUnlock()
	return v
}

// versions returns the published exact versions, newest first.
func (s *Library) Versions() []*semver.Version {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.sorted
}
