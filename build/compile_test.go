package build

import (
	"testing"

	"github.com/evanw/esbuild/pkg/api"
	"github.com/spf13/afero"
)

// TestCompile checks how manifest options become esbuild options, without
// running esbuild.
func TestCompile(t *testing.T) {
	m := &Manifest{Target: "es2017", Sourcemap: true}
	concat := compile(m, Bundle{Name: "lib.js", Files: []string{"a.js"}}, true)
	to := concat.transformOptions()
	if to.Target != api.ES2017 || to.Loader != api.LoaderJS || !to.MinifyIdentifiers || !to.MinifySyntax || !to.MinifyWhitespace ||
		to.Sourcemap != api.SourceMapExternal || to.Sourcefile != "lib.js" {
		t.Errorf("minified transform options = %+v", to)
	}
	if plain := compile(m, Bundle{Name: "lib.js", Files: []string{"a.js"}}, false); plain.sourcemap || plain.transformOptions().MinifyWhitespace {
		t.Errorf("plain output must not be minified or mapped: %+v", plain)
	}
	css := compile(m, Bundle{Name: "s.css", Files: []string{"a.css"}}, true).transformOptions()
	if css.Loader != api.LoaderCSS || css.Target != 0 {
		t.Errorf("css options = %+v, want CSS loader and no JS target", css)
	}
	entry := compile(m, Bundle{Name: "app.js", Entry: "index.js", GlobalName: "App"}, true)
	bo := entry.buildOptions(afero.NewMemMapFs(), func(b []byte) []byte { return b })
	if !bo.Bundle || bo.Format != api.FormatIIFE || bo.GlobalName != "App" || bo.Outfile != "app.min.js" ||
		bo.Write || bo.EntryPoints[0] != "index.js" || len(bo.Plugins) != 1 || bo.Target != api.ES2017 {
		t.Errorf("entry build options = %+v", bo)
	}
	if esm := compile(m, Bundle{Name: "app.js", Entry: "index.js", Format: "esm"}, false).buildOptions(nil, nil); esm.Format != api.FormatESModule || esm.Outfile != "app.js" {
		t.Errorf("esm build options = %+v", esm)
	}
}
