package server

import (
	"io/fs"
	"maps"
	"net/http"
	"strconv"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"
)

// deprecation is a deprecated version as served: the message, and the
// headers its responses carry (RFC 9745 Deprecation, and a Link to the
// newest version of the same major that is not deprecated).
type deprecation struct {
	layout.Deprecation
	header    []string // "@<unix seconds>"
	successor string   // the newest non-deprecated version of its major, or ""
}

// lifecycle is what a library's records say of its versions: which are
// deprecated, and which were removed when. Immutable: a refresh that
// finds the records changed replaces it.
type lifecycle struct {
	deprecated map[string]*deprecation
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
func (s *store) loadRecords(entries []fs.FileInfo, versions []*semver.Version) {
	seen := map[string]recordInfo{}
	for _, e := range entries {
		if e.Name() == layout.DeprecatedName || e.Name() == layout.RemovedName {
			seen[e.Name()] = recordInfo{e.ModTime(), e.Size()}
		}
	}
	s.recordsMu.Lock()
	defer s.recordsMu.Unlock()
	if s.recordsSeen == nil || !maps.Equal(seen, s.recordsSeen) {
		var err error
		if s.deprecations, err = layout.ReadDeprecations(s.fs, s.dir); err != nil {
			s.ignore(s.entry(layout.DeprecatedName), "unreadable: its versions are taken as not deprecated")
		}
		if s.removals, err = layout.ReadRemovals(s.fs, s.dir); err != nil {
			s.ignore(s.entry(layout.RemovedName), "unreadable: its versions are taken as not removed")
		}
		s.recordsSeen = seen
	}
	lc := &lifecycle{deprecated: make(map[string]*deprecation, len(s.deprecations)), removed: s.removals}
	for v, rec := range s.deprecations {
		d := deprecation{Deprecation: rec}
		d.header = []string{"@" + strconv.FormatInt(d.At.Unix(), 10)}
		if sv, err := versioning.Parse(v); err == nil {
			for _, o := range versions { // newest first
				if _, dep := s.deprecations[o.Original()]; o.Major() == sv.Major() && !dep && !versioning.IsPrerelease(o) {
					d.successor = o.Original()
					break
				}
			}
		}
		lc.deprecated[v] = &d
	}
	s.lifecycle.Store(lc)
}

// deprecated returns a version's deprecation, or nil. Lock-free.
func (s *store) deprecated(version string) *deprecation {
	if lc := s.lifecycle.Load(); lc != nil {
		return lc.deprecated[version]
	}
	return nil
}

// removedAt returns when an exact version was removed, if it was.
func (s *store) removedAt(version string) (time.Time, bool) {
	if lc := s.lifecycle.Load(); lc != nil {
		t, ok := lc.removed[version]
		return t, ok
	}
	return time.Time{}, false
}

// deprecationHeaders adds Deprecation (RFC 9745) and, when there is a
// newer version of the same major, Link rel="successor-version" to a
// deprecated version's response. file is the file asked for ("" for a
// page).
func (s *Server) deprecationHeaders(h http.Header, v *version, file string) {
	d := v.lib.deprecated(v.exact)
	if d == nil {
		return
	}
	h["Deprecation"] = d.header
	if d.successor != "" {
		h["Link"] = []string{"<" + v.lib.prefix + d.successor + "/" + file + `>; rel="successor-version"`}
	}
}

// gone answers 410 for an exact version removed less than GoneFor ago.
func (s *Server) gone(w http.ResponseWriter, r *http.Request, lib *store, version string) (int, int64, routeKind, bool) {
	at, ok := lib.removedAt(version)
	if !ok || s.cfg.Clock().Sub(at) > s.cfg.GoneFor {
		return 0, 0, 0, false
	}
	w.Header()["Cache-Control"] = s.policy.notFound
	status, n, kind := s.writeErrorCached(w, r, kindExact, http.StatusGone,
		"version "+version+" was removed on "+at.UTC().Format("2006-01-02")+"; the published versions are listed at "+lib.prefix+" and /-/versions"+lib.versionsPath(), s.policy.notFound)
	return status, n, kind, true
}
