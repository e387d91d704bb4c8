package dist

import (
	"fmt"
	"slices"

	"github.com/cdnserve/cdnserve/layout"
)

// requestContent is what a request publishes: its files with sidecars
// compressed now, or, for a Stored request, the files and sidecars as
// they were stored (checkStored has checked them).
func requestContent(req Request) (*content, error) {
	if req.Stored == nil {
		c := newContent(req.Version.Original(), req.Files, req.Provenance, req.Compression)
		c.manifest.Entry = req.Entry
		return c, nil
	}
	data := map[string]layout.File{}
	for _, f := range req.Files {
		data[f.Name] = f
	}
	c := &content{manifest: *req.Stored}
	c.manifest.AliasOf = ""
	for _, mf := range c.manifest.Files {
		for _, o := range mf.Stored() {
			c.files = append(c.files, layout.File{Name: o.Name, Data: data[o.Name].Data, Module: mf.IsModule()})
			if o.Encoding != "" {
				c.sidecars++
			}
		}
	}
	return c, nil
}

// checkStored checks a Stored request: the manifest is of the version,
// its paths are clean and public, and Files hold exactly its files and
// sidecars, each with the size and SHA-256 the manifest gives. An error
// names the first file that does not match; nothing is written.
func checkStored(req Request) error {
	m := req.Stored
	if m.Version != req.Version.Original() {
		return fmt.Errorf("dist: the stored manifest is of version %q, not %q", m.Version, req.Version.Original())
	}
	var public []layout.File
	want := map[string]layout.Sidecar{}
	for _, mf := range m.Files {
		public = append(public, layout.File{Name: mf.Path})
		for _, o := range mf.Stored() {
			want[o.Name] = layout.Sidecar{Size: o.Size, SHA256: o.SHA256}
		}
	}
	if len(public) == 0 {
		return fmt.Errorf("dist: the stored manifest of %s lists no file", m.Version)
	}
	if err := checkFiles(public); err != nil {
		return fmt.Errorf("dist: the stored manifest of %s: %w", m.Version, err)
	}
	if m.Entry != "" && !slices.ContainsFunc(public, func(f layout.File) bool { return f.Name == m.Entry }) {
		return fmt.Errorf("dist: the stored manifest of %s names the entry %q, which it does not list", m.Version, m.Entry)
	}
	seen := map[string]bool{}
	for _, f := range req.Files {
		w, ok := want[f.Name]
		switch {
		case !ok:
			return fmt.Errorf("dist: %s/%s is not in the stored manifest", m.Version, f.Name)
		case seen[f.Name]:
			return fmt.Errorf("dist: %s/%s is given twice", m.Version, f.Name)
		case int64(len(f.Data)) != w.Size || layout.SHA256Hex(f.Data) != w.SHA256:
			return fmt.Errorf("dist: %s/%s does not match the stored manifest (%d bytes, sha256 %.12s…; want %d bytes, %.12s…)",
				m.Version, f.Name, len(f.Data), layout.SHA256Hex(f.Data), w.Size, w.SHA256)
		}
		seen[f.Name] = true
	}
	for name := range want {
		if !seen[name] {
			return fmt.Errorf("dist: %s/%s is in the stored manifest but not given", m.Version, name)
		}
	}
	return nil
}
