package browse

import (
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/cdnserve/cdnserve/catalog"
	"github.com/cdnserve/cdnserve/layout"
)

// ListingPage is how many entries one page of a directory shows: a
// version of 2,000 files in one directory stays a page of tens of KB.
const ListingPage = 100

// Entry is one row of a directory's listing: a file, or a subdirectory
// collapsed to its file count and total size.
type Entry struct {
	// Name is the entry's name in its directory; a directory's ends in
	// "/".
	Name string `json:"name"`
	// Path is below the version; URL is its escaped URL on this server.
	Path string `json:"path"`
	URL  string `json:"url"`
	Dir  bool   `json:"-"`
	Kind string `json:"type"` // "file" or "directory"
	// Files counts a directory's files, at any depth.
	Files int   `json:"files,omitempty"`
	Size  int64 `json:"size"`
	// A file's compressed sizes, type and SRI.
	Gzip        int64  `json:"gzip,omitempty"`
	Br          int64  `json:"br,omitempty"`
	ContentType string `json:"contentType,omitempty"`
	Integrity   string `json:"integrity,omitempty"`
}

// Listing is one page of a directory of a version.
type Listing struct {
	// Dir is the directory below the version: "" for its root, else a
	// path ending in "/".
	Dir     string
	Entries []Entry
	// Dirs and FileCount count the directory's own entries; Files and
	// Size, every file below it.
	Dirs, FileCount, Files int
	Size                   int64
	Page, Pages            int
	PrevURL, NextURL       string
}

// List lists dir ("" or a path ending in "/") of a version: its
// subdirectories first, collapsed, then its files in reading order, a
// page (from 1) of ListingPage entries at a time. It reports false when
// the version has no such directory or page.
func List(v *catalog.Version, dir string, page int) (*Listing, bool) {
	all, ok := entries(v, dir)
	if !ok {
		return nil, false
	}
	l := &Listing{Dir: dir, Page: page, Pages: max(1, (len(all)+ListingPage-1)/ListingPage)}
	for _, e := range all {
		if e.Dir {
			l.Dirs++
			l.Files += e.Files
		} else {
			l.FileCount++
			l.Files++
		}
		l.Size += e.Size
	}
	if page < 1 || page > l.Pages {
		return nil, false
	}
	from := (page - 1) * ListingPage
	l.Entries = all[from:min(len(all), from+ListingPage)]
	self := v.Lib.Prefix() + v.Name + "/" + escapePath(dir)
	if page > 1 {
		l.PrevURL = self + "?page=" + strconv.Itoa(page-1)
		if page == 2 {
			l.PrevURL = self
		}
	}
	if page < l.Pages {
		l.NextURL = self + "?page=" + strconv.Itoa(page+1)
	}
	return l, true
}

// ListAll is every entry of dir, unpaged, for JSON; false when the
// version has no such directory.
func ListAll(v *catalog.Version, dir string) ([]Entry, bool) { return entries(v, dir) }

// entries gathers dir's subdirectories (sorted by name) and files (in
// reading order).
func entries(v *catalog.Version, dir string) ([]Entry, bool) {
	base := v.Lib.Prefix() + v.Name + "/"
	dirs := map[string]*Entry{}
	var files []Entry
	for _, mf := range layout.ReadingOrder(v.Manifest.Files) {
		rest, ok := strings.CutPrefix(mf.Path, dir)
		if !ok {
			continue
		}
		if sub, _, deeper := strings.Cut(rest, "/"); deeper {
			d := dirs[sub]
			if d == nil {
				p := dir + sub + "/"
				d = &Entry{Name: sub + "/", Path: p, URL: base + escapePath(p), Dir: true, Kind: "directory"}
				dirs[sub] = d
			}
			d.Files++
			d.Size += mf.Size
			continue
		}
		files = append(files, Entry{Name: rest, Path: mf.Path, URL: base + escapePath(mf.Path), Kind: "file", Size: mf.Size,
			Gzip: mf.Encodings["gzip"].Size, Br: mf.Encodings["br"].Size, ContentType: mf.ContentType, Integrity: mf.Integrity})
	}
	if len(dirs) == 0 && len(files) == 0 && dir != "" {
		return nil, false
	}
	out := make([]Entry, 0, len(dirs)+len(files))
	for _, d := range dirs {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return append(out, files...), true
}

// escapePath escapes a path below a version for a URL.
func escapePath(p string) string { return (&url.URL{Path: p}).EscapedPath() }

// Crumb is one step of a directory page's trail.
type Crumb struct{ Name, URL string }

// DirData is what a directory's page shows.
type DirData struct {
	Title, Library, Base, Name, Exact, MetaPath string
	Crumbs                                      []Crumb
	Switcher                                    *Switcher
	*Listing
}

// Dir gathers a directory's page: a trail from the version, and one page
// of its listing.
func Dir(v *catalog.Version, l *Listing) *DirData {
	d := &DirData{Title: "cdnserve: " + v.Lib.MetaPath(v.Name) + "/" + l.Dir, Library: v.Lib.Name(), Base: v.Lib.Prefix(),
		Name: v.Name, Exact: v.Exact, MetaPath: v.Lib.MetaPath(v.Name), Listing: l, Switcher: NewSwitcher(v.Lib, v.Name, l.Dir)}
	at := v.Lib.Prefix() + v.Name + "/"
	for _, seg := range strings.Split(strings.TrimSuffix(l.Dir, "/"), "/") {
		at += escapePath(seg) + "/"
		d.Crumbs = append(d.Crumbs, Crumb{seg, at})
	}
	return d
}

// SwitcherMax bounds the versions a version switcher offers: the newest.
const SwitcherMax = 100

// Switcher is a version switcher: a form that opens the same path in
// another version (GET /-/switch), with no script.
type Switcher struct {
	Library, Path, Current string
	// View keeps the file viewer in the other version.
	View bool
	// Options are the versions to offer, newest first; the current one
	// is among them.
	Options []string
	// More counts the versions left out.
	More int
}

// NewSwitcher offers a library's newest versions, and current, for path
// ("" for the version's page, a directory ending in "/", or a file).
func NewSwitcher(lib *catalog.Library, current, path string) *Switcher {
	sw := &Switcher{Library: lib.Name(), Path: path, Current: current}
	versions := lib.Versions()
	for _, v := range versions {
		if len(sw.Options) == SwitcherMax {
			break
		}
		sw.Options = append(sw.Options, v.Original())
	}
	sw.More = len(versions) - len(sw.Options)
	if !slices.Contains(sw.Options, current) {
		sw.Options = append(sw.Options, current)
	}
	return sw
}
