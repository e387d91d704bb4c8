package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"slices"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"
	"github.com/spf13/afero"
)

// errStorage marks a failure to read storage, as opposed to something
// being absent; it maps to 503.
var errStorage = errors.New("storage unavailable")

// store is the server's view of the dist tree. It lists version
// directories at start and on each refresh, loads a version's integrity
// manifest the first time it is asked for, and precomputes everything a
// request needs from it. Exact versions, once loaded, are kept for good;
// aliases are re-read on refresh.
type store struct {
	fs     afero.Fs
	root   string
	negTTL time.Duration
	clock  func() time.Time

	mu         sync.RWMutex
	exact      []*semver.Version   // published exact versions, newest first
	known      map[string]bool     // directory names known to hold a manifest
	loadedDirs map[string]*version // exact versions and aliases, by directory name
	negative   map[string]time.Time
	resolved   map[string]string // range spec -> exact version, until the next refresh
}

// version is one loaded version or alias directory. It is immutable: a
// refresh that finds an alias changed replaces the whole value.
type version struct {
	name     string // directory name: "1.7.1" or "1.7"
	exact    string // the exact version it holds
	alias    bool
	manifest *layout.Manifest
	raw      []byte // the manifest's bytes, to notice an alias switch
	files    map[string]*file
	meta     []byte // the /-/meta JSON, encoded once
	modTime  time.Time
	// lastModified is modTime as the header value http.ServeContent sends.
	lastModified []string
}

// kind is what a response with this version's files is: an exact
// version's, or an alias's, for the cache policy and the metrics.
func (v *version) kind() routeKind {
	if v.alias {
		return kindAlias
	}
	return kindExact
}

func newStore(fsys afero.Fs, root string, negTTL time.Duration, clock func() time.Time) *store {
	return &store{fs: fsys, root: root, negTTL: negTTL, clock: clock,
		known: map[string]bool{}, loadedDirs: map[string]*version{}, negative: map[string]time.Time{}, resolved: map[string]string{}}
}

// refresh re-lists the tree: new version directories (with a manifest)
// become known, removed ones are forgotten, loaded aliases are re-read,
// and the range and negative caches are cleared.
func (s *store) refresh() error {
	entries, err := afero.ReadDir(s.fs, s.root)
	if err != nil {
		return fmt.Errorf("%w: listing %s: %v", errStorage, s.root, err)
	}
	s.mu.RLock()
	known := make(map[string]bool, len(s.known))
	for name := range s.known {
		known[name] = true
	}
	var aliases []*version
	for _, v := range s.loadedDirs {
		if v.alias {
			aliases = append(aliases, v)
		}
	}
	s.mu.RUnlock()

	present := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !layout.IsVersionDir(name) {
			continue
		}
		present[name] = true
		if !known[name] && s.hasManifest(name) {
			known[name] = true
		}
	}
	for name := range known {
		if !present[name] {
			delete(known, name)
		}
	}
	reloaded := map[string]*version{}
	for _, a := range aliases {
		if !known[a.name] {
			continue
		}
		if raw, err := afero.ReadFile(s.fs, path.Join(s.root, a.name, layout.ManifestName)); err == nil && !bytes.Equal(raw, a.raw) {
			if v, err := s.parse(a.name, raw); err == nil {
				reloaded[a.name] = v
			}
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.known = known
	s.exact = sortedExact(known)
	for name := range s.loadedDirs {
		if !known[name] {
			delete(s.loadedDirs, name)
		}
	}
	for name, v := range reloaded {
		s.loadedDirs[name] = v
	}
	s.resolved = map[string]string{}
	s.negative = map[string]time.Time{}
	return nil
}

func (s *store) hasManifest(name string) bool {
	fi, err := s.fs.Stat(path.Join(s.root, name, layout.ManifestName))
	return err == nil && !fi.IsDir()
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
// as absent for negTTL. The error is fs.ErrNotExist or wraps errStorage.
func (s *store) get(name string) (*version, error) {
	if v := s.loaded(name); v != nil {
		return v, nil
	}
	s.mu.RLock()
	neg, isNeg := s.negative[name]
	s.mu.RUnlock()
	if !layout.IsVersionDir(name) || (isNeg && s.clock().Before(neg)) {
		return nil, fs.ErrNotExist
	}
	raw, err := afero.ReadFile(s.fs, path.Join(s.root, name, layout.ManifestName))
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: reading %s: %v", errStorage, name, err)
		}
		s.mu.Lock()
		if len(s.negative) > 10000 {
			s.negative = map[string]time.Time{}
		}
		s.negative[name] = s.clock().Add(s.negTTL)
		s.mu.Unlock()
		return nil, fs.ErrNotExist
	}
	v, err := s.parse(name, raw)
	if err != nil {
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
		s.exact = sortedExact(s.known)
		s.resolved = map[string]string{}
	}
	return v, nil
}

// parse builds a version from its manifest bytes. A manifest that does
// not belong in its directory is treated as absent.
func (s *store) parse(name string, raw []byte) (*version, error) {
	m, err := layout.DecodeManifest(path.Join(name, layout.ManifestName), raw)
	if err != nil {
		return nil, fs.ErrNotExist
	}
	sv, err := versioning.Parse(m.Version)
	if err != nil {
		return nil, fs.ErrNotExist
	}
	alias := m.AliasOf != ""
	if (!alias && name != m.Version) || (alias && (m.AliasOf != m.Version || name != versioning.AliasDir(sv))) {
		return nil, fs.ErrNotExist
	}
	v := &version{name: name, exact: m.Version, alias: alias, manifest: m, raw: raw,
		files: make(map[string]*file, len(m.Files)), modTime: m.Provenance.BuiltAt}
	if !v.modTime.IsZero() {
		v.lastModified = []string{v.modTime.UTC().Format(http.TimeFormat)}
	}
	// An alias holds exactly the files of the version it names, so its
	// bytes are read from that version's immutable directory. A reader
	// then never depends on the alias directory, which a publish rewrites
	// (file by file on object storage): it gets whole, matching bytes even
	// in the middle of a switch.
	dir := path.Join(s.root, m.Version)
	for _, mf := range m.Files {
		if layout.CheckPath(mf.Path) != nil {
			continue // never serve a path that could leave the directory
		}
		v.files[mf.Path] = newFile(dir, mf)
	}
	v.meta, _ = json.Marshal(metaOf(v))
	return v, nil
}

// loaded returns a version or alias that is loaded already, or nil; it
// never reads storage.
func (s *store) loaded(name string) *version {
	s.mu.RLock()
	v := s.loadedDirs[name]
	s.mu.RUnlock()
	return v
}

// versions returns the published exact versions, newest first.
func (s *store) versions() []*semver.Version {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.exact
}
