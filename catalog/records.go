package catalog

import (
	"io/fs"
	"maps"
	"strconv"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"
)

// deprecation is a deprecated version as served: the message, and the
// headers its responses carry (RFC 9745 Deprecation, and a Link to the
// newest version of the same major that is not deprecated).
type Deprecation struct {
	layout.Deprecation
	// Header is the Deprecation header's value (RFC 9745): "@<unix seconds>".
	Header []string
	// Successor is the newest version of its major that is not
	// deprecated, or "".
	Successor string
}

// lifecycle is what a library's records say of its versions: which are
// deprecated, and which were removed when. Immutable: a refresh that
// finds the records changed replaces it.
type lifecycle struct {
	deprecated map[string]*Deprecation
	removed    map[string]time.Time
}

// recordInfo is what a refresh saw of a record file, to read it again
// only when it changed.
type recordInfo struct {
	modTime time.Time
	size    int64
}

// loadRecords re-reads the library's deprecation and removal records
// when their listing changed (modification time or size), and computes
// each deprecated version's headers against the current version list.
// Called by update with the directory's entries.
func (s *Library) loadRecords(entries []fs.FileInfo, versions []*semver.Version) {
	seen := map[string]recordInfo{}
	for _, e := range entries {
		if e.Name() == layout.DeprecatedName || e.Name() == layout.RemovedName || e.Name() == layout.AccessName {
			seen[e.Name()] = recordInfo{e.ModTime(), e.Size()}
		}
	}
	s.recordsMu.Lock()
	defer s.recordsMu.Unlock()
	if s.recordsSeen == nil || !maps.Equal(seen, s.recordsSeen) {
		var err error
		if s.deprecations, err = layout.ReadDeprecations(s.fs, s.dir); err != nil {
			s.ignore(s.Entry(layout.DeprecatedName), "unreadable: its versions are taken as not deprecated")
		}
		if s.removals, err = layout.ReadRemovals(s.fs, s.dir); err != nil {
			s.ignore(s.Entry(layout.RemovedName), "unreadable: its versions are taken as not removed")
		}
		acc, err := layout.ReadAccess(s.fs, s.dir)
		if err != nil {
			// Fail closed: a record that cannot be read may say private.
			s.ignore(s.Entry(layout.AccessName), "unreadable: the library is taken as private")
			acc.Private = true
			seen = nil // read it again on the next refresh
		}
		s.private.Store(acc.Private)
		s.recordsSeen = seen
	}
	lc := &lifecycle{deprecated: make(map[string]*Deprecation, len(s.deprecations)), removed: s.removals}
	for v, rec := range s.deprecations {
		d := Deprecation{Deprecation: rec}
		d.Header = []string{"@" + strconv.FormatInt(d.At.Unix(), 10)}
		if sv, err := versioning.Parse(v); err == nil {
			for _, o := range versions { // newest first
				if _, dep := s.deprecations[o.Original()]; o.Major() == sv.Major() && !dep && !versioning.IsPrerelease(o) {
					d.Successor = o.Original()
					break
				}
			}
		}
		lc.deprecated[v] = &d
	}
	s.lifecycle.Store(lc)
}

// deprecated returns a version's deprecation, or nil. Lock-free.
func (s *Library) Deprecated(version string) *Deprecation {
	if lc := s.lifecycle.Load(); lc != nil {
		return lc.deprecated[version]
	}
	return nil
}

// removedAt returns when an exact version was removed, if it was.
func (s *Library) RemovedAt(version string) (time.Time, bool) {
	if lc := s.lifecycle.Load(); lc != nil {
		t, ok := lc.removed[version]
		return t, ok
	}
	return time.Time{}, false
}
