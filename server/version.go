package server

import (
	"encoding/json"
	"net/http"
	"path"

	"github.com/cdnserve/cdnserve/catalog"
	"github.com/cdnserve/cdnserve/content"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/stats"
)

// store is one library of the tree, as the catalog keeps it.
type store = catalog.Library

// version is a loaded version or alias as the server serves it: the
// catalog's version, and everything a request needs from it, computed
// once when the catalog loaded it (newVersion). Immutable.
type version struct {
	*catalog.Version
	files map[string]*content.File
	meta  []byte // the /-/meta JSON, encoded once
	// lastModified is ModTime as the header value http.ServeContent sends.
	lastModified []string
	// tags are its responses' cache tags.
	tags tagSet
	// use counts the requests for its files, under the exact version.
	use *stats.Counter
}

// served is the server's version of a catalog version.
func served(cv *catalog.Version) *version { return cv.Served.(*version) }

// kind is what a response with this version's files is: an exact
// version's, or an alias's, for the cache policy and the metrics.
func (v *version) kind() routeKind {
	if v.Alias {
		return kindAlias
	}
	return kindExact
}

// loadedVersion returns a version or alias of lib that is loaded
// already, or nil; it never reads storage.
func loadedVersion(lib *store, name string) *version {
	if cv := lib.Loaded(name); cv != nil {
		return served(cv)
	}
	return nil
}

// getVersion returns a version or alias of lib, loading it on first use
// (catalog.Library.Get).
func getVersion(lib *store, name string) (*version, error) {
	cv, err := lib.Get(name)
	if err != nil {
		return nil, err
	}
	return served(cv), nil
}

// libData is what the server keeps beside each library: its request
// metrics, resolved once.
type libData struct {
	counts *libraryMetrics
}

// dataOf is the server's data of a library.
func dataOf(lib *store) *libData { return lib.Data.(*libData) }

// newVersion precomputes everything a request needs from a checked
// manifest.
func (s *Server) newVersion(lib *store, cv *catalog.Version) any {
	return s.newVersionIn(s.cfg.Root, lib, cv, s.usage.Counter(lib.Name(), cv.Manifest.Version))
}

// newVersionIn is newVersion for a version of a catalog rooted at root,
// whose requests count in use.
func (s *Server) newVersionIn(root string, lib *store, cv *catalog.Version, use *stats.Counter) *version {
	m := cv.Manifest
	v := &version{Version: cv, files: make(map[string]*content.File, len(m.Files)), tags: versionTags(lib.Name(), m.Version, cv.Name), use: use}
	if !v.ModTime.IsZero() {
		v.lastModified = []string{v.ModTime.UTC().Format(http.TimeFormat)}
	}
	// An alias holds exactly the files of the version it names, so its
	// bytes are read from that version's immutable directory. A reader
	// then never depends on the alias directory, which a publish rewrites
	// (file by file on object storage): it gets whole, matching bytes even
	// in the middle of a switch.
	dir := path.Join(layout.LibraryDir(root, lib.Name()), m.Version)
	for _, mf := range m.Files {
		if layout.CheckPath(mf.Path) != nil {
			continue // never serve a path that could leave the directory
		}
		v.files[mf.Path] = content.NewFile(dir, mf)
	}
	v.meta, _ = json.Marshal(v.Meta())
	return v
}
