package main

import (
	"context"
	"fmt"

	"github.com/cdnserve/cdnserve/build"
	"github.com/spf13/afero"
)

const initExamples = `  cdnserve init mylib        # writes cdnserve.yaml, src/mylib.js, src/license.txt here
  cdnserve init -C web mylib # the same inside ./web
`

func runInit(_ context.Context, e *env, args []string) error {
	fs := newSettings(e, "init", "[-C dir] NAME", initExamples)
	dir := fs.String("C", ".", "`directory` to scaffold into (created if missing)")
	pos, err := fs.ParseArgs(args, 1, 1, "need exactly one library NAME")
	if err != nil {
		return err
	}
	root := e.abs(*dir)
	osFs := afero.NewOsFs()
	if err := osFs.MkdirAll(root, 0o755); err != nil {
		return err
	}
	wrote, err := build.Scaffold(afero.NewBasePathFs(osFs, root), pos[0])
	if err != nil {
		return err
	}
	for _, p := range wrote {
		fmt.Fprintf(e.stdout, "created %s\n", p)
	}
	fmt.Fprintln(e.stdout, "\nNext: cdnserve build --dry-run, then cdnserve build")
	return nil
}
