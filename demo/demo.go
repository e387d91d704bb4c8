// Package demo holds a small library embedded in the cdnserve binary. When
// `cdnserve serve` has nothing else to serve, it builds and publishes this
// library into memory through the real build and publish code, so a
// newcomer can try every URL form at once.
package demo

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/cdnserve/cdnserve/build"
	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

//go:embed lib
var lib embed.FS

// Versions are the versions Publish publishes, oldest first.
var Versions = []string{"1.0.0", "1.1.0"}

// Publish builds the embedded library at each of Versions and publishes
// them into fsys under root. It returns the published versions.
func Publish(ctx context.Context, fsys afero.Fs, root string) ([]string, error) {
	data, err := lib.ReadFile("lib/cdnserve.yaml")
	if err != nil {
		return nil, err
	}
	m, err := build.Decode("demo/cdnserve.yaml", data)
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(lib, "lib/"+m.SrcDir)
	if err != nil {
		return nil, err
	}
	src := afero.FromIOFS{FS: sub}
	tree := dist.NewTree(fsys, root)
	for _, v := range Versions {
		res, err := build.Build(ctx, build.Options{Manifest: m, Src: src, Version: v})
		if err != nil {
			return nil, fmt.Errorf("building demo %s: %w", v, err)
		}
		if _, err := tree.Publish(ctx, dist.Request{Version: res.Version, Files: res.Artifacts,
			Provenance: layout.Provenance{Tool: "cdnserve", Source: "embedded demo"}}); err != nil {
			return nil, fmt.Errorf("publishing demo %s: %w", v, err)
		}
	}
	return Versions, nil
}
