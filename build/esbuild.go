package build

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
	"github.com/spf13/afero"
)

// esbuildTargets maps the manifest's "target" values to esbuild targets.
var esbuildTargets = map[string]api.Target{
	"es5": api.ES5, "es2015": api.ES2015, "es2016": api.ES2016, "es2017": api.ES2017,
	"es2018": api.ES2018, "es2019": api.ES2019, "es2020": api.ES2020, "es2021": api.ES2021,
	"es2022": api.ES2022, "es2023": api.ES2023, "es2024": api.ES2024, "esnext": api.ESNext,
}

func targetNames() []string {
	names := make([]string, 0, len(esbuildTargets))
	for n := range esbuildTargets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// esbuildFormats maps the manifest's bundle "format" values.
var esbuildFormats = map[string]api.Format{"iife": api.FormatIIFE, "esm": api.FormatESModule, "cjs": api.FormatCommonJS}

// srcNamespace is the esbuild namespace of files read from the source
// afero.Fs. It never reaches the real file system.
const srcNamespace = "cdnserve-src"

// job is one esbuild run: the options that a manifest entry turns into, in
// a form that tests can inspect without running esbuild.
type job struct {
	lang      string // "js" or "css"
	minify    bool
	target    api.Target
	sourcemap bool
	// Transform mode (concatenated files): the source and its display name.
	name string
	// Bundle mode: the entry point, format and global name.
	entry      string
	format     api.Format
	globalName string
}

// compile turns manifest settings for one output into an esbuild job.
// It is the one place where manifest options become esbuild options.
func compile(m *Manifest, b Bundle, minify bool) job {
	target := m.Target
	if b.Target != "" {
		target = b.Target
	}
	j := job{lang: languageOf(b.Name), minify: minify, target: esbuildTargets[target], name: b.Name, sourcemap: minify && m.Sourcemap}
	if b.Entry != "" {
		j.entry = b.Entry
		j.format = esbuildFormats[b.bundleFormat()]
		j.globalName = b.GlobalName
	}
	return j
}

func (j job) loader() api.Loader {
	if j.lang == "css" {
		return api.LoaderCSS
	}
	return api.LoaderJS
}

func (j job) transformOptions() api.TransformOptions {
	o := api.TransformOptions{
		Loader:            j.loader(),
		Sourcefile:        j.name,
		MinifyWhitespace:  j.minify,
		MinifyIdentifiers: j.minify,
		MinifySyntax:      j.minify,
		LogLevel:          api.LogLevelSilent,
	}
	if j.lang == "js" {
		o.Target = j.target
	}
	if j.sourcemap {
		o.Sourcemap = api.SourceMapExternal
		o.SourcesContent = api.SourcesContentInclude
	}
	return o
}

func (j job) buildOptions(src afero.Fs, subst func([]byte) []byte) api.BuildOptions {
	o := api.BuildOptions{
		EntryPoints:       []string{j.entry},
		Bundle:            true,
		Format:            j.format,
		GlobalName:        j.globalName,
		Target:            j.target,
		MinifyWhitespace:  j.minify,
		MinifyIdentifiers: j.minify,
		MinifySyntax:      j.minify,
		Outfile:           j.outName(),
		Write:             false,
		LogLevel:          api.LogLevelSilent,
		// esbuild resolves nothing on disk: the plugin below serves every
		// file from src. The working dir only shapes output paths.
		AbsWorkingDir: "/",
		Plugins:       []api.Plugin{aferoPlugin(src, subst)},
	}
	if j.sourcemap {
		o.Sourcemap = api.SourceMapExternal
		o.SourcesContent = api.SourcesContentInclude
	}
	return o
}

func (j job) outName() string {
	if j.minify {
		return MinName(j.name)
	}
	return j.name
}

// loaders are the source types an entry bundle may import.
var loaders = map[string]api.Loader{
	".js": api.LoaderJS, ".mjs": api.LoaderJS, ".cjs": api.LoaderJS, ".jsx": api.LoaderJSX,
	".ts": api.LoaderTS, ".tsx": api.LoaderTSX, ".json": api.LoaderJSON, ".css": api.LoaderCSS,
}

// resolveSuffixes are tried in order when an import names no extension.
var resolveSuffixes = []string{"", ".js", ".mjs", ".ts", ".json", "/index.js", "/index.mjs", "/index.ts"}

// aferoPlugin makes esbuild read every module from src, applying the
// substitutions as it loads. Only relative imports inside src resolve; a
// bare import ("lodash") is an error, since cdnserve has no node_modules
// resolution.
func aferoPlugin(src afero.Fs, subst func([]byte) []byte) api.Plugin {
	return api.Plugin{Name: "cdnserve-afero", Setup: func(pb api.PluginBuild) {
		pb.OnResolve(api.OnResolveOptions{Filter: ".*"}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			spec := a.Path
			if a.Kind != api.ResolveEntryPoint {
				if !strings.HasPrefix(spec, "./") && !strings.HasPrefix(spec, "../") {
					return api.OnResolveResult{}, fmt.Errorf("cannot import %q: only relative imports of files under src_dir are supported", spec)
				}
				spec = path.Join(path.Dir(a.Importer), spec)
				if spec == ".." || strings.HasPrefix(spec, "../") {
					return api.OnResolveResult{}, fmt.Errorf("cannot import %q: it is outside src_dir", a.Path)
				}
			}
			for _, suffix := range resolveSuffixes {
				if fi, err := src.Stat(spec + suffix); err == nil && !fi.IsDir() {
					return api.OnResolveResult{Path: spec + suffix, Namespace: srcNamespace}, nil
				}
			}
			return api.OnResolveResult{}, fmt.Errorf("cannot import %q: no such file under src_dir", a.Path)
		})
		pb.OnLoad(api.OnLoadOptions{Filter: ".*", Namespace: srcNamespace}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
			l, ok := loaders[path.Ext(a.Path)]
			if !ok {
				return api.OnLoadResult{}, fmt.Errorf("cannot bundle %q: unsupported file type", a.Path)
			}
			data, err := afero.ReadFile(src, a.Path)
			if err != nil {
				return api.OnLoadResult{}, err
			}
			s := string(subst(data))
			return api.OnLoadResult{Contents: &s, Loader: l}, nil
		})
	}}
}

// SourceError is a problem in a source file, located as an editor expects:
// path from the manifest's directory, 1-based line and column.
type SourceError struct {
	File   string
	Line   int
	Column int
	Msg    string
}

func (e *SourceError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// messagesError converts esbuild messages into SourceErrors joined with
// errors.Join. locate maps esbuild's (file, line) to the real source.
func messagesError(msgs []api.Message, locate func(file string, line int) (string, int)) error {
	errs := make([]error, 0, len(msgs))
	for _, m := range msgs {
		if m.Location == nil {
			errs = append(errs, errors.New(m.Text))
			continue
		}
		file, line := locate(m.Location.File, m.Location.Line)
		errs = append(errs, &SourceError{File: file, Line: line, Column: m.Location.Column + 1, Msg: m.Text})
	}
	return errors.Join(errs...)
}

// isNotExist reports a missing source in either os or afero form.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
