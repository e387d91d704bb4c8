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

// ReadDir reads a directory built by another tool (webpack, rollup, a
// checked-in dist/) for `cdnserve publish`. It skips dot-files and
// dot-directories, which are never published, and .br/.gz files whose
// uncompressed original is there too, since cdnserve writes its own
// sidecars. It returns the files sorted by path, and what it skipped.
func ReadDir(fsys afero.Fs, dir string) (files []layout.File, skipped []string, err error) {
	var names []string
	err = afero.Walk(fsys, dir, func(p string, info fs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		if rel == "" {
			return nil
		}
		if strings.HasPrefix(info.Name(), ".") {
			skipped = append(skipped, rel)
			if info.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if info.Mode().IsRegular() {
			names = append(names, rel)
		} else if !info.IsDir() {
			skipped = append(skipped, rel)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	slices.Sort(names)
	for _, rel := range names {
		if isOwnSidecar(rel, names) {
			skipped = append(skipped, rel)
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
