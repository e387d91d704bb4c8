package server

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cdnserve/cdnserve/layout"
)

// Mirror fetches libraries that storage lacks from elsewhere, and
// publishes them into storage for good (npm.Mirror, for npm packages).
// The server asks it only for libraries it allows, and only when storage
// cannot answer alone: a version or alias it does not hold, or a range or
// tag, which the mirror resolves upstream.
type Mirror interface {
	// Allowed reports whether a library may be fetched.
	Allowed(library string) bool
	// Ensure returns the exact version spec (a version, a range or a tag)
	// names upstream, once storage holds it. Its error is fs.ErrNotExist
	// when upstream has no such library or version,
	// context.DeadlineExceeded when upstream did not answer in time, and
	// anything else when it failed.
	Ensure(ctx context.Context, library, spec string) (exact string, err error)
}

// mirrored makes storage hold what a request for an allowed library
// names, through the mirror, before the request is answered from
// storage as any other. It returns the library's store (found anew when
// the mirror published it) and, when the request cannot be answered, the
// upstream error. When upstream fails, what storage holds is still
// served: an exact version it has, and a range resolved against the
// versions it has (stale-if-error). The assetPath comes back with the
// version upstream resolved a range or tag to.
func (s *Server) mirrored(r *http.Request, ap *assetPath, lib *store, libErr error) (*store, error, error) {
	spec := ap.spec
	if !ap.at {
		spec, _, _ = strings.Cut(ap.rest, "/")
	}
	if spec == "" || len(spec) > maxSpecLen || strings.ContainsAny(spec, "\\\x00") || spec == "." || spec == ".." {
		return lib, libErr, nil
	}
	if lib != nil && layout.IsVersionDir(spec) {
		if _, err := getVersion(lib, spec); err == nil {
			return lib, nil, nil // stored: upstream is not asked
		}
	}
	client := s.clientAddr(r)
	if lib == nil {
		// A name storage lacks costs a registry request: a client may
		// cause only so many that the registry does not have.
		if wait, blocked := s.misses.Blocked(client); blocked {
			return lib, libErr, &tooManyMisses{wait}
		}
	}
	exact, err := s.cfg.Mirror.Ensure(r.Context(), ap.lib, spec)
	if lib == nil && errors.Is(err, fs.ErrNotExist) {
		s.misses.Fail(client)
	}
	if err == nil {
		if lib == nil || loadedVersion(lib, exact) == nil {
			s.cat.Published(ap.lib)
		}
		if !layout.IsVersionDir(spec) {
			ap.resolved = exact
		}
		lib, libErr = s.cat.Library(ap.lib)
		return lib, libErr, nil
	}
	if lib != nil && !errors.Is(err, fs.ErrNotExist) {
		if _, gerr := getVersion(lib, spec); gerr == nil {
			return lib, nil, nil
		}
		if _, rerr := lib.Resolve(spec); rerr == nil {
			s.log.Warn("the mirror's upstream failed; serving what storage holds", "library", ap.lib, "spec", spec, "err", err)
			return lib, nil, nil
		}
	}
	if lib != nil && errors.Is(err, fs.ErrNotExist) {
		return lib, nil, nil // the library's own 404 lists what storage holds
	}
	return lib, libErr, err
}

// upstreamError answers a request the mirror could not fetch: 404 when
// upstream has no such library or version, 504 when it did not answer in
// time, 502 when it failed. The 5xx are cached briefly (policy.retry).
// Upstream's details go to the log, not to the client.
func (s *Server) upstreamError(w http.ResponseWriter, r *http.Request, ap assetPath, err error) (int, int64, routeKind) {
	var later interface{ RetryAfter() time.Duration }
	var misses *tooManyMisses
	var refused refusal
	switch {
	case errors.As(err, &refused):
		return s.writeRefusal(w, r, kindOther, refused)
	case errors.As(err, &misses):
		w.Header()["Retry-After"] = []string{strconv.Itoa(int(misses.wait.Seconds() + 0.999))}
		return s.writeErrorCached(w, r, kindOther, http.StatusTooManyRequests, "too many requests for packages the registry does not have, from this address; try again after Retry-After seconds", noStore)
	case errors.As(err, &later):
		s.log.Warn("the mirror is busy; a request was refused with 503", "library", ap.lib)
		w.Header()["Retry-After"] = []string{strconv.Itoa(int(later.RetryAfter().Seconds()))}
		return s.writeErrorCached(w, r, kindOther, http.StatusServiceUnavailable, "the mirror is busy fetching other packages; try again after Retry-After seconds", noStore)
	case errors.Is(err, fs.ErrNotExist):
		return s.writeError(w, r, kindOther, http.StatusNotFound, "the registry has no package "+ap.lib+" matching what was asked for")
	case isOfflineMiss(err):
		return s.writeErrorCached(w, r, kindOther, http.StatusGatewayTimeout, "this server is offline (--offline) and storage holds no "+asked(ap)+
			"; nothing is fetched: import a bundle that holds it (cdnserve import), or add it where the registry is reachable", s.policy.retry)
	case errors.Is(err, context.DeadlineExceeded):
		s.log.Error("fetching a library from upstream timed out", "library", ap.lib, "err", err)
		return s.writeErrorCached(w, r, kindOther, http.StatusGatewayTimeout, "the registry did not answer in time for "+ap.lib+"; the fetch goes on, so try again shortly", s.policy.retry)
	}
	s.log.Error("fetching a library from upstream failed", "library", ap.lib, "err", err)
	return s.writeErrorCached(w, r, kindOther, http.StatusBadGateway, s.upstreamFailure(ap, err), s.policy.retry)
}

// upstreamFailure says what a failed fetch means for the client: which
// version was asked for, whether it is the registry's bytes that failed
// their integrity check, and which versions are stored here, unless the
// library is private. It names no registry, URL or credential.
func (s *Server) upstreamFailure(ap assetPath, err error) string {
	var integrity interface{ IntegrityFailure() bool }
	msg := "fetching " + asked(ap) + " from the registry failed"
	if errors.As(err, &integrity) && integrity.IntegrityFailure() {
		msg += ": what the registry sent failed its integrity check, so none of it was stored"
	} else {
		msg += ", and nothing of it is stored (this says nothing of whether it exists; the server's log says why)"
	}
	if lib := s.cat.Loaded(ap.lib); lib != nil && !s.isPrivate(ap.lib, lib) && len(lib.Versions()) > 0 {
		var stored []string
		for i, v := range lib.Versions() {
			if i == 10 {
				stored = append(stored, "…")
				break
			}
			stored = append(stored, v.Original())
		}
		msg += "; versions stored here: " + strings.Join(stored, ", ") + " (/-/versions/" + ap.lib + ")"
	}
	return msg
}

// refusal is a version the supply-chain gate refused at ingest
// (gate.Refused): its GateRefusal is the JSON answer, with the reason
// and each check's outcome.
type refusal interface {
	error
	GateRefusal() any
}

// writeRefusal answers 403 for a version the gate refused: the reason in
// JSON, or a page for a browser. The refusal holds until the policy or
// the database changes, so it is cached only briefly.
func (s *Server) writeRefusal(w http.ResponseWriter, r *http.Request, kind routeKind, ref refusal) (int, int64, routeKind) {
	w.Header()["Cache-Control"] = s.policy.retry
	varyAccept(w.Header())
	if wantsHTML(r) {
		status, n := s.errorPage(w, r, http.StatusForbidden, ref.Error(), nil, nil)
		return status, n, kind
	}
	status, n := writeJSON(w, r, http.StatusForbidden, ref.GateRefusal())
	return status, n, kind
}

// tooManyMisses is a client over its misses: requests for names that
// the registry does not have.
type tooManyMisses struct{ wait time.Duration }

func (e *tooManyMisses) Error() string { return "too many misses from one client" }

// asked is the library and version spec a request names: "react@^18".
func asked(ap assetPath) string {
	if ap.spec != "" {
		return ap.lib + "@" + ap.spec
	} else if spec, _, _ := strings.Cut(ap.rest, "/"); spec != "" {
		return ap.lib + "@" + spec
	}
	return ap.lib
}

// isOfflineMiss reports an error of an offline mirror (npm.ErrOffline):
// what was asked for is in neither storage nor the cache.
func isOfflineMiss(err error) bool {
	var offline interface{ OfflineMiss() bool }
	return errors.As(err, &offline) && offline.OfflineMiss()
}
