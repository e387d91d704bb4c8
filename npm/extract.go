package npm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/cdnserve/cdnserve/layout"
)

// Limits bound what a package may hold, as jsDelivr's do.
type Limits struct {
	// Package bounds the tarball and the sum of its extracted files.
	Package int64
	// File bounds one file; a larger one is left out.
	File int64
	// Entries bounds the tarball's entries (files, directories, links):
	// a package with more is refused at once, before it costs minutes
	// of publishing. Zero is no bound.
	Entries int
}

// DefaultLimits are jsDelivr's: 50 MB a package, 20 MB a file; and
// 10,000 entries, well above the packages browsers load.
var DefaultLimits = Limits{Package: 50 << 20, File: 20 << 20, Entries: 10_000}

// Skipped is an entry of a tarball that Extract left out, and why.
type Skipped = layout.Skipped

// Extract reads a package tarball (gzip'd tar) and returns its regular
// files below "package/", with that prefix removed, in tarball order.
// Links, devices and directories are left out, as are files over
// Limits.File, dot-files (never published), files not matching include
// (globs with "**"; none means all), and .br/.gz files whose original is
// there too (cdnserve writes its own). A path that leaves package/
// ("../", an absolute path) is hostile: the whole package is refused,
// and so is one whose files add up to more than Limits.Package.
func Extract(tgz []byte, limits Limits, include []string) ([]layout.File, []Skipped, error) {
	return ExtractFrom(bytes.NewReader(tgz), limits, include)
}

// ExtractFrom is Extract reading the tarball as a stream: only the kept
// files are held in memory.
func ExtractFrom(tgz io.Reader, limits Limits, include []string) ([]layout.File, []Skipped, error) {
	zr, err := gzip.NewReader(tgz)
	if err != nil {
		return nil, nil, fmt.Errorf("not a gzip'd tarball: %w", err)
	}
	tr := tar.NewReader(zr)
	var files []layout.File
	var skipped []Skipped
	var total int64
	seen := map[string]bool{}
	for entries := 1; ; entries++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading the tarball: %w", err)
		}
		if limits.Entries > 0 && entries > limits.Entries {
			return nil, nil, fmt.Errorf("the tarball has more than %d entries: %w; nothing was published", limits.Entries, ErrTooBig)
		}
		name := strings.TrimPrefix(h.Name, "./")
		rel, under := strings.CutPrefix(name, "package/")
		if !under || layout.CheckPath(rel) != nil {
			if strings.HasPrefix(name, "/") || strings.Contains("/"+name+"/", "/../") {
				return nil, nil, fmt.Errorf("tarball entry %q leaves the package directory: the package is refused", h.Name)
			}
			if h.Typeflag != tar.TypeDir {
				skipped = append(skipped, Skipped{Path: h.Name, Why: "not below package/"})
			}
			continue
		}
		switch {
		case h.Typeflag == tar.TypeDir:
			continue
		case h.Typeflag == tar.TypeSymlink || h.Typeflag == tar.TypeLink:
			skipped = append(skipped, Skipped{Path: rel, Why: "a link (to " + h.Linkname + "): links are never published"})
			continue
		case h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA:
			skipped = append(skipped, Skipped{Path: rel, Why: "not a regular file"})
			continue
		case hasDotSegment(rel):
			skipped = append(skipped, Skipped{Path: rel, Why: "a dot-file: never published"})
			continue
		case !included(rel, include):
			continue
		case h.Size > limits.File:
			skipped = append(skipped, Skipped{Path: rel, Why: fmt.Sprintf("%d bytes, over the %d MB a file", h.Size, limits.File>>20)})
			continue
		case seen[rel]:
			skipped = append(skipped, Skipped{Path: rel, Why: "listed twice in the tarball; the first is kept"})
			continue
		}
		if total += h.Size; total > limits.Package {
			return nil, nil, fmt.Errorf("the package's files add up to more than %d MB: %w", limits.Package>>20, ErrTooBig)
		}
		data, err := io.ReadAll(io.LimitReader(tr, h.Size))
		if err != nil || int64(len(data)) != h.Size {
			return nil, nil, fmt.Errorf("reading %s from the tarball: %v", rel, err)
		}
		seen[rel] = true
		files = append(files, layout.File{Name: rel, Data: data})
	}
	out := files[:0]
	for _, f := range files {
		if base, enc, ok := layout.SplitSidecar(f.Name); ok && seen[base] {
			skipped = append(skipped, Skipped{Path: f.Name, Why: "a " + enc.Name + " copy of " + base + ": cdnserve writes its own"})
			continue
		}
		if f.Name == layout.ManifestName {
			skipped = append(skipped, Skipped{Path: f.Name, Why: "the name of cdnserve's integrity manifest"})
			continue
		}
		out = append(out, f)
	}
	return out, skipped, nil
}

func hasDotSegment(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if strings.HasPrefix(seg, ".") {
			return true
		}
	}
	return false
}

// included reports whether p matches one of the globs (all, when none).
func included(p string, globs []string) bool {
	if len(globs) == 0 {
		return true
	}
	for _, g := range globs {
		if MatchGlob(g, p) {
			return true
		}
	}
	return false
}

// MatchGlob matches a slash-separated path against a glob: each segment
// as path.Match does, and "**" for any number of segments ("dist/**"
// is everything below dist/, "**/*.js" every .js file).
func MatchGlob(glob, p string) bool {
	return matchSegments(strings.Split(glob, "/"), strings.Split(p, "/"))
}

func matchSegments(g, p []string) bool {
	for len(g) > 0 {
		if g[0] == "**" {
			for i := 0; i <= len(p); i++ {
				if matchSegments(g[1:], p[i:]) {
					return true
				}
			}
			return false
		}
		if len(p) == 0 {
			return false
		}
		if ok, _ := path.Match(g[0], p[0]); !ok {
			return false
		}
		g, p = g[1:], p[1:]
	}
	return len(p) == 0
}
