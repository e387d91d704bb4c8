// Package scan finds the specifiers a JavaScript module imports, with
// esbuild's parser (issue 26, part 2): static imports and `export … from`,
// `import("literal")`, and CommonJS `require("literal")`. Nothing is
// resolved or bundled: every specifier is reported as written, once, in
// the order of first use. It links esbuild, so the server never imports
// it (layout's TestDependencyRules).
package scan

import (
	"fmt"
	"path"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// Kind is how a module uses a specifier.
type Kind string

// The kinds of use.
const (
	Static   Kind = "import"         // import … from, import "x", export … from
	Dynamic  Kind = "dynamic-import" // import("x")
	Require  Kind = "require"        // require("x")
	Resolved Kind = "require-resolve"
	CSS      Kind = "css-import" // @import and url() in CSS
)

// Import is one specifier a module uses.
type Import struct {
	Specifier string
	Kind      Kind
}

// Imports parses a module (file names it, for its loader and for
// errors: .js, .mjs, .cjs, .jsx, .ts, .tsx, .css) and lists what it
// imports. A syntax error names the file, line and column.
func Imports(source []byte, file string) ([]Import, error) {
	var out []Import
	seen := map[string]bool{}
	capture := api.Plugin{Name: "cdnserve-scan", Setup: func(pb api.PluginBuild) {
		pb.OnResolve(api.OnResolveOptions{Filter: ".*"}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			if a.Kind == api.ResolveEntryPoint {
				return api.OnResolveResult{}, nil
			}
			kind := kindOf(a.Kind)
			if key := string(kind) + "\x00" + a.Path; !seen[key] {
				seen[key] = true
				out = append(out, Import{Specifier: a.Path, Kind: kind})
			}
			return api.OnResolveResult{Path: a.Path, External: true}, nil
		})
	}}
	res := api.Build(api.BuildOptions{
		Stdin:     &api.StdinOptions{Contents: string(source), Sourcefile: file, Loader: loaderFor(file)},
		Bundle:    true,
		Write:     false,
		Format:    api.FormatESModule,
		Platform:  api.PlatformNeutral,
		LogLevel:  api.LogLevelSilent,
		Plugins:   []api.Plugin{capture},
		Target:    api.ESNext,
		Sourcemap: api.SourceMapNone,
	})
	if len(res.Errors) > 0 {
		e := res.Errors[0]
		if e.Location != nil {
			return nil, fmt.Errorf("%s:%d:%d: %s", file, e.Location.Line, e.Location.Column+1, e.Text)
		}
		return nil, fmt.Errorf("%s: %s", file, e.Text)
	}
	return out, nil
}

func kindOf(k api.ResolveKind) Kind {
	switch k {
	case api.ResolveJSDynamicImport:
		return Dynamic
	case api.ResolveJSRequireCall:
		return Require
	case api.ResolveJSRequireResolve:
		return Resolved
	case api.ResolveCSSImportRule, api.ResolveCSSURLToken:
		return CSS
	}
	return Static
}

func loaderFor(file string) api.Loader {
	switch strings.ToLower(path.Ext(file)) {
	case ".ts", ".mts", ".cts":
		return api.LoaderTS
	case ".tsx":
		return api.LoaderTSX
	case ".jsx":
		return api.LoaderJSX
	case ".css":
		return api.LoaderCSS
	}
	return api.LoaderJS
}
