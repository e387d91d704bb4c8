package dist

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

// Skipped is a path ReadDir or Libraries left out, and why.
type Skipped = layout.Skipped

// DefaultExcludes are left out of every directory read for publishing:
// dependencies installed next to a build are never part of it.
var DefaultExcludes = []string{"node_modules"}

// ReadDir reads a directory built by another tool (webpack, rollup, a
// checked-in dist/) for `cdnserve publish`. It skips dot-files and
// dot-directories, which are never published; anything that is not a
// regular file or a directory (a link); paths matching an exclude
// pattern (DefaultExcludes, then the caller's): a pattern without "/"
// matches any file or directory by name (path.Match), one with "/" the
// whole relative path; and .br/.gz files whose uncompressed original is
// there too, since cdnserve writes its own sidecars. It returns the
// files sorted by path, and what it skipped and why.
func ReadDir(fsys afero.Fs, dir string, exclude []string) (files []layout.File, skipped []Skipped, err error) {
	exclude = append(slices.Clone(DefaultExcludes), exclude...)
	for _, p := range exclude {
		if _, err := path.Match(p, ""); err != nil {
			return nil, nil, fmt.Errorf("exclude pattern %q: %w", p, err)
		}
	}
	var names []string
	err = afero.Walk(fsys, dir, func(p string, info fs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		if rel == "" {
			return nil
		}
		why := ""
		switch {
		case strings.HasPrefix(info.Name(), "."):
			why = "dot-files are never published"
		case excluded(rel, exclude) != "":
			why = "matches --exclude " + excluded(rel, exclude)
			if slices.Contains(DefaultExcludes, excluded(rel, exclude)) {
				why = excluded(rel, exclude) + " is never published"
			}
		case !info.IsDir() && !info.Mode().IsRegular():
			why = "not a regular file (a link?)"
		}
		if why != "" {
			skipped = append(skipped, Skipped{Path: rel, Why: why})
			if info.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !info.IsDir() {
			names = append(names, rel)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	slices.Sort(names)
	for _, rel := range names {
		if isOwnSidecar(rel, names) {
			skipped = append(skipped, Skipped{Path: rel, Why: "cdnserve writes its own .br and .gz"})
			continue
		}
		data, err := afero.ReadFile(fsys, path.Join(dir, rel))
		if err != nil {
			return nil, nil, fmt.Errorf("reading %s: %w", path.Join(dir, rel), err)
		}
		files = append(files, layout.File{Name: rel, Data: data})
	}
	if len(files) == 0 {
		return nil, skipped, fmt.Errorf("%s holds no files to publish", dir)
	}
	return files, skipped, nil
}

// excluded returns the pattern that rel matches, or "".
func excluded(rel string, patterns []string) string {
	for _, p := range patterns {
		target := path.Base(rel)
		if strings.Contains(p, "/") {
			target = rel
		}
		if ok, _ := path.Match(p, target); ok {
			return p
		}
	}
	return ""
}

// isOwnSidecar reports whether name is a .br or .gz file of another file
// in names that cdnserve will precompress itself.
func isOwnSidecar(name string, names []string) bool {
	base, _, ok := layout.SplitSidecar(name)
	if !ok {
		return false
	}
	_, found := slices.BinarySearch(names, base)
	return found
}
