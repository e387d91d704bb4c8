package main

import (
	"context"
	"encoding/json"

	"github.com/cdnserve/cdnserve/catalog"
	"github.com/cdnserve/cdnserve/importmap"
)

const importmapExamples = `  cdnserve importmap widgets@^2 @corp/ui@1.4.0 --public-url https://cdn.example.com/ > importmap.json
  cdnserve importmap preact@latest htm --storage 's3://assets/cdn?region=eu-west-1' --public-url https://cdn.example.com/
  cdnserve importmap widgets@2.1.0/dist/widgets.core.mjs    # another entry than the library's
`

// runImportmap prints an import map with integrity for libraries in the
// tree, as /-/importmap serves it.
func runImportmap(ctx context.Context, e *env, args []string) error {
	fs := newSettings(e, "importmap", "NAME@RANGE... [flags]", importmapExamples)
	storageURL := fs.StorageFlag("dist", "the `storage` that holds the libraries")
	publicURL := fs.String("public-url", "/", "the `URL` pages load the CDN from; the default, /, gives root-relative URLs")
	libs, err := fs.ParseArgs(args, 1, -1, "need at least one NAME@RANGE")
	if err != nil {
		return err
	}
	st, _, err := openStorage(ctx, e, *storageURL, "")
	if err != nil {
		return err
	}
	defer st.Close()
	cat := catalog.New(catalog.Options{Fs: st.Fs, Root: st.Root})
	if err := cat.Refresh(); err != nil {
		return err
	}
	m, err := importmap.Make(cat, *publicURL, libs)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(m)
}
