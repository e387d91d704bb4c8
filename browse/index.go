package browse

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/cdnserve/cdnserve/catalog"
	"github.com/cdnserve/cdnserve/versioning"
)

// Requests says how many requests a version of a library served in the
// last 7 days, and whether any were recorded.
type Requests func(library, version string) (int64, bool)

// Index page sizes: each major shows its newest indexRecent versions on
// /, and all of them, indexPage a page, on /?major=N&page=P. So / stays
// small at 5,000 versions.
const (
	indexRecent = 8
	indexPage   = 100
)

// indexVersion is one version in the index.
type indexVersion struct {
	Name       string
	Pre        bool
	Deprecated bool
	// Requests are its requests in the last 7 days; -1 when none are
	// recorded.
	Requests int64
}

// indexMajor is one major line in the index: its newest versions (or a
// page of them) and its aliases.
type indexMajor struct {
	Major            uint64
	Count            int
	Versions         []indexVersion
	Aliases          []indexAlias
	More             bool // more versions than shown: link to the major's pages
	Page, Pages      int  // on a major's own page
	PrevURL, NextURL string
}

type indexAlias struct{ Name, Holds string }

// LibraryList is the libraries part of /: a page of them.
type LibraryList struct {
	Count, Page, Pages int
	Rows               []libraryRow
	PrevURL, NextURL   string
	// Query is the search the list answers ("" for every library), and
	// All how many libraries there are to search.
	Query string
	All   int
}

type libraryRow struct{ Name, Latest string }

// librariesPage is how many libraries / lists a page: 100 rows keep it
// near 10 KB, however many libraries there are.
const librariesPage = 100

// Libraries is one page of the named libraries that visible shows and
// whose names contain query (any case; "" for all), each with its latest
// version; nil when the page does not exist. A search reads only the
// sorted names it already holds: at 1,000 libraries, a scan of their
// names.
func Libraries(cat *catalog.Catalog, visible func(string) bool, pageParam, query string) *LibraryList {
	var names []string
	all := 0
	needle := strings.ToLower(strings.TrimSpace(query))
	for _, name := range cat.Libraries() {
		if !visible(name) {
			continue
		}
		all++
		if strings.Contains(name, needle) { // names are lower case
			names = append(names, name)
		}
	}
	out := &LibraryList{Count: len(names), Page: 1, Pages: max(1, (len(names)+librariesPage-1)/librariesPage), Query: query, All: all}
	if pageParam != "" {
		p, err := strconv.Atoi(pageParam)
		if err != nil || p < 1 || p > out.Pages {
			return nil
		}
		out.Page = p
	}
	for _, name := range names[min(len(names), (out.Page-1)*librariesPage):min(len(names), out.Page*librariesPage)] {
		row := libraryRow{Name: name}
		if lib := cat.Loaded(name); lib != nil {
			row.Latest, _ = lib.Resolve("latest")
		}
		out.Rows = append(out.Rows, row)
	}
	search := ""
	if query != "" {
		search = "&q=" + url.QueryEscape(query)
	}
	if out.Page > 1 {
		out.PrevURL = fmt.Sprintf("/?libraries=%d%s", out.Page-1, search)
	}
	if out.Page < out.Pages {
		out.NextURL = fmt.Sprintf("/?libraries=%d%s", out.Page+1, search)
	}
	return out
}

// Index gathers a library's index, or one major's page of it; nil
// when the major or page does not exist.
func Index(lib *catalog.Library, majorParam, pageParam string, requests Requests) map[string]any {
	versions := lib.Servable()
	var majors []*indexMajor
	byMajor := map[uint64]*indexMajor{}
	for _, v := range versions {
		m := byMajor[v.Major()]
		if m == nil {
			m = &indexMajor{Major: v.Major()}
			byMajor[v.Major()] = m
			majors = append(majors, m)
		}
		m.Count++
	}
	heading, title := "Published versions", "cdnserve: published versions"
	if lib.Name() != "" {
		heading, title = lib.Name(), "cdnserve: "+lib.Name()
	}
	data := map[string]any{"Title": title, "Heading": heading, "Total": len(versions), "Base": lib.Prefix(), "VersionsPath": lib.VersionsPath()}
	data["Latest"], _ = lib.Resolve("latest")
	if majorParam != "" {
		n, err := strconv.ParseUint(majorParam, 10, 64)
		m := byMajor[n]
		if err != nil || m == nil {
			return nil
		}
		page := 1
		if pageParam != "" {
			if page, err = strconv.Atoi(pageParam); err != nil || page < 1 {
				return nil
			}
		}
		m.Pages = (m.Count + indexPage - 1) / indexPage
		if page > m.Pages {
			return nil
		}
		m.Page = page
		fillMajor(lib, m, versions, requests, (page-1)*indexPage, indexPage)
		if page > 1 {
			m.PrevURL = fmt.Sprintf("%s?major=%d&page=%d", lib.Prefix(), n, page-1)
		}
		if page < m.Pages {
			m.NextURL = fmt.Sprintf("%s?major=%d&page=%d", lib.Prefix(), n, page+1)
		}
		data["Title"] = fmt.Sprintf("%s: versions %d.x", title, n)
		if lib.Name() == "" {
			data["Heading"] = "Versions"
		}
		data["Majors"] = []*indexMajor{m}
		data["One"] = true
		return data
	}
	for _, m := range majors {
		fillMajor(lib, m, versions, requests, 0, indexRecent)
		m.More = m.Count > indexRecent
	}
	data["Majors"] = majors
	return data
}

// fillMajor lists versions skip..skip+n of a major (newest first), and
// the aliases of the minors shown.
func fillMajor(lib *catalog.Library, m *indexMajor, versions []*semver.Version, requests Requests, skip, n int) {
	seen := map[string]bool{}
	for _, v := range versions {
		if v.Major() != m.Major {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if len(m.Versions) == n {
			break
		}
		iv := indexVersion{Name: v.Original(), Pre: versioning.IsPrerelease(v), Deprecated: lib.Deprecated(v.Original()) != nil, Requests: -1}
		if n, ok := requests(lib.Name(), v.Original()); ok {
			iv.Requests = n
		}
		m.Versions = append(m.Versions, iv)
		name := versioning.AliasDir(v)
		if seen[name] {
			continue
		}
		seen[name] = true
		if a, err := lib.Get(name); err == nil && a.Alias {
			m.Aliases = append(m.Aliases, indexAlias{name, a.Exact})
		}
	}
}
