package dist

import (
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

// content is a version's files with their sidecars and manifest, ready to
// write into any directory.
type content struct {
	files    []layout.File // public files and sidecars, sorted; no manifest
	manifest layout.Manifest
	sidecars int
	progress func(done, total int, name string) // may be nil
}

// wrote reports progress after the i-th file of c was written.
func (c *content) wrote(i int) {
	if c.progress != nil {
		c.progress(i+1, len(c.files), c.files[i].Name)
	}
}

func newContent(version string, files []layout.File, prov layout.Provenance, level layout.Level) *content {
	c := &content{manifest: layout.Manifest{Format: layout.ManifestFormat, Version: version, Provenance: prov}}
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b layout.File) int { return strings.Compare(a.Name, b.Name) })
	// Compressing is most of a publish's time: the files are compressed
	// on every core at once, each into its own slot, so the content is
	// the same whatever the order they finish in.
	all := make([][]sidecar, len(sorted))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(sorted)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				all[i] = precompress(sorted[i], level)
			}
		}()
	}
	for i := range sorted {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, f := range sorted {
		scs := all[i]
		c.manifest.Files = append(c.manifest.Files, describe(f, scs))
		c.files = append(c.files, f)
		for _, s := range scs {
			c.files = append(c.files, layout.File{Name: f.Name + s.enc.Suffix, Data: s.data})
			c.sidecars++
		}
	}
	return c
}

// storedContent is a published version's content as it is stored: its
// manifest, its files and the sidecars it was published with (which
// another compression level would not reproduce byte for byte), for an
// alias that must hold exactly what the version holds.
func (t Tree) storedContent(dir string, m *layout.Manifest) (*content, error) {
	c := &content{manifest: *m}
	c.manifest.AliasOf = ""
	for _, mf := range m.Files {
		for _, o := range mf.Stored() {
			b, err := afero.ReadFile(t.Fs, path.Join(dir, o.Name))
			if err != nil {
				return nil, err
			}
			c.files = append(c.files, layout.File{Name: o.Name, Data: b, Module: mf.IsModule()})
			if o.Encoding != "" {
				c.sidecars++
			}
		}
	}
	return c, nil
}

// manifestFor returns the manifest bytes for a directory: the version's
// own, or the alias's with alias_of.
func (c *content) manifestFor(aliasOf string) []byte {
	m := c.manifest
	m.AliasOf = aliasOf
	return m.Encode()
}

// sidecar is one precompressed variant of a file.
type sidecar struct {
	enc  layout.Encoding
	data []byte
}

// precompress returns the sidecars of a file: brotli at quality 11 and
// gzip at level 9, each kept only when smaller than the original.
func precompress(f layout.File, level layout.Level) []sidecar {
	if !layout.Compressible(f.Name) {
		return nil
	}
	var out []sidecar
	for _, enc := range layout.Encodings {
		if z := enc.Compress(f.Data, level); len(z) < len(f.Data) {
			out = append(out, sidecar{enc: enc, data: z})
		}
	}
	return out
}

// describe makes a file's manifest entry.
func describe(f layout.File, sidecars []sidecar) layout.ManifestFile {
	mf := layout.ManifestFile{
		Path:        f.Name,
		Size:        int64(len(f.Data)),
		ContentType: layout.ContentType(f.Name),
		SHA256:      layout.SHA256Hex(f.Data),
		Integrity:   layout.SRI(f.Data),
		Module:      f.Module,
	}
	for _, s := range sidecars {
		if mf.Encodings == nil {
			mf.Encodings = map[string]layout.Sidecar{}
		}
		mf.Encodings[s.enc.Name] = layout.Sidecar{Size: int64(len(s.data)), SHA256: layout.SHA256Hex(s.data)}
	}
	return mf
}

// names is the set of paths a directory holding c has: its files, their
// sidecars and the manifest.
func (c *content) names() map[string]bool {
	keep := map[string]bool{layout.ManifestName: true}
	for _, f := range c.files {
		keep[f.Name] = true
	}
	return keep
}
