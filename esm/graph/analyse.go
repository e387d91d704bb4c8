package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/cdnserve/cdnserve/esm"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/evanw/esbuild/pkg/api"
)

// entry is what one entry point of a package reaches: found by an
// esbuild bundle of it with every bare import left external.
type entry struct {
	sub  string
	file string // the entry's file, package-relative
	cjs  bool   // the entry is a CommonJS module
	// inputs are the package's files the entry reaches, package-relative.
	inputs []string
	// bare are the bare specifiers they import, in order, once each.
	bare []string
	// raw is true when a browser can run the inputs as they are; why
	// says what forbids it.
	raw bool
	why string
}

// esbuild namespaces of the modules the plugin makes.
const (
	nsRequire = "cdnserve-require" // a require() of another package
	nsCJS     = "cdnserve-cjs"     // a CommonJS entry point with named exports
)

// analyse finds what one subpath of a package reaches, once per
// package version and subpath for the Maker's life.
func (m *Maker) analyse(ctx context.Context, n *node, sub string) (*entry, error) {
	key := n.id() + " " + sub
	m.mu.Lock()
	e, known := m.entries[key]
	err := m.failed[key]
	m.mu.Unlock()
	if known {
		return e, err
	}
	e, err = m.analyseOnce(ctx, n, sub)
	if err == nil || ctx.Err() == nil && (errors.Is(err, ErrUnsupported) || errors.Is(err, fs.ErrNotExist)) {
		// A package version never changes: neither does what it
		// reaches, or what it fails with.
		m.mu.Lock()
		m.entries[key], m.failed[key] = e, err
		m.mu.Unlock()
	}
	return e, err
}

// analyseOnce is analyse's work.
func (m *Maker) analyseOnce(ctx context.Context, n *node, sub string) (*entry, error) {
	res, err := n.pkg.Export(sub, m.conds)
	switch {
	case errors.Is(err, esm.ErrNotExported):
		return nil, &Error{Package: n.id(), Specifier: specifier(n.name, sub), Reason: "the package does not export " + sub + " for browsers (its package.json's exports)", Err: fs.ErrNotExist}
	case err != nil:
		return nil, &Error{Package: n.id(), Specifier: specifier(n.name, sub), Reason: err.Error(), Err: ErrUnsupported}
	case res.External != "" || res.Dropped:
		return nil, &Error{Package: n.id(), Specifier: specifier(n.name, sub), Reason: "the package's browser field maps this entry point away", Err: fs.ErrNotExist}
	}
	file, ok := probe(n, res.Path)
	if !ok {
		return nil, &Error{Package: n.id(), Specifier: specifier(n.name, sub), Reason: "its package.json names " + res.Path + ", which the package does not have", Err: ErrUnsupported}
	}
	if !isScript(file) {
		return nil, &Error{Package: n.id(), Specifier: specifier(n.name, sub), Reason: file + " is not a JavaScript module", Err: ErrUnsupported}
	}
	dir, err := m.unpack(ctx, n)
	if err != nil {
		return nil, err
	}
	opts := m.esbuildOptions(n, dir)
	opts.EntryPoints = []string{"./" + file}
	out := api.Build(opts)
	if len(out.Errors) > 0 {
		return nil, buildError(n, specifier(n.name, sub), out.Errors)
	}
	e, err := readMetafile(out.Metafile, dir, file)
	if err != nil {
		return nil, &Error{Package: n.id(), Specifier: specifier(n.name, sub), Reason: err.Error(), Err: ErrUnsupported}
	}
	e.sub = sub
	return e, nil
}

// probe finds the file an entry names as a browser bundler would: the
// file itself, or with .js, .mjs or .cjs, or its directory's index.js.
func probe(n *node, p string) (string, bool) {
	for _, c := range []string{p, p + ".js", p + ".mjs", p + ".cjs", path.Join(p, "index.js")} {
		if _, ok := n.man.File(c); ok {
			return c, true
		}
	}
	return "", false
}

func isScript(file string) bool {
	switch path.Ext(file) {
	case ".js", ".mjs", ".cjs", ".jsx":
		return true
	}
	return false
}

// processEnv finds a use of process.env (or of process itself), which a
// browser lacks.
var processEnv = regexp.MustCompile(`\bprocess\s*\.\s*env\b|\bprocess\s*\[`)

// metafile is what esbuild's metafile says of the inputs.
type metafile struct {
	Inputs map[string]struct {
		Format  string `json:"format"`
		Imports []struct {
			Path     string `json:"path"`
			Kind     string `json:"kind"`
			External bool   `json:"external"`
			Original string `json:"original"`
		} `json:"imports"`
	} `json:"inputs"`
}

// readMetafile turns an analysis bundle's metafile into an entry: the
// files reached, the bare imports, and whether a browser can run the
// files as they are.
func readMetafile(raw, dir, file string) (*entry, error) {
	var mf metafile
	if err := json.Unmarshal([]byte(raw), &mf); err != nil {
		return nil, fmt.Errorf("reading esbuild's metafile: %w", err)
	}
	e := &entry{file: file, raw: true}
	notRaw := func(why string) {
		if e.raw {
			e.raw, e.why = false, why
		}
	}
	seen := map[string]bool{}
	names := make([]string, 0, len(mf.Inputs))
	for in := range mf.Inputs {
		names = append(names, in)
	}
	slices.Sort(names)
	for _, in := range names {
		input := mf.Inputs[in]
		if strings.Contains(in, ":") {
			notRaw("it uses require() on another package")
		} else {
			e.inputs = append(e.inputs, in)
			if in == file && input.Format == "cjs" {
				e.cjs = true
			}
			switch {
			case input.Format == "cjs":
				notRaw(in + " is CommonJS")
			case path.Ext(in) != ".js" && path.Ext(in) != ".mjs":
				notRaw(in + " is not a .js or .mjs file")
			default:
				if src, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(in))); err != nil || processEnv.Match(src) {
					notRaw(in + " reads process.env")
				}
			}
		}
		for _, imp := range input.Imports {
			if imp.Kind != "import-statement" && imp.Kind != "dynamic-import" {
				notRaw(in + " uses " + imp.Kind)
			}
			if imp.External {
				if !seen[imp.Path] {
					seen[imp.Path] = true
					e.bare = append(e.bare, imp.Path)
				}
				continue
			}
			if strings.Contains(in, ":") || strings.Contains(imp.Path, ":") {
				continue
			}
			if !strings.HasPrefix(imp.Original, "./") && !strings.HasPrefix(imp.Original, "../") ||
				path.Join(path.Dir(in), imp.Original) != imp.Path {
				notRaw(in + " imports " + strconv.Quote(imp.Original) + ", which a browser cannot find without a bundler")
			}
		}
	}
	slices.Sort(e.bare)
	return e, nil
}

// esbuildOptions are the options of every esbuild run on a package:
// the browser's conditions, process.env.NODE_ENV defined, bare imports
// left to the import map (the plugin).
func (m *Maker) esbuildOptions(n *node, dir string) api.BuildOptions {
	return api.BuildOptions{
		AbsWorkingDir: dir,
		Bundle:        true,
		Write:         false,
		Metafile:      true,
		Format:        api.FormatESModule,
		Platform:      api.PlatformBrowser,
		Target:        api.ES2020,
		Conditions:    []string{"module", m.env},
		MainFields:    []string{"browser", "module", "main"},
		Define: map[string]string{
			"process.env.NODE_ENV": strconv.Quote(m.env),
			"global":               "globalThis",
		},
		Outdir:   filepath.Join(dir, ".out"),
		LogLevel: api.LogLevelSilent,
		Charset:  api.CharsetUTF8,
		Plugins:  []api.Plugin{m.plugin(n, dir)},
	}
}

// plugin leaves every bare import of another package (and of the
// package itself) to the import map: external, so that the map gives
// each dependency one instance. A require() of one becomes an import of
// it. Node built-ins, and names the browser field maps, are left to
// esbuild, which applies the browser field or fails naming the module.
func (m *Maker) plugin(n *node, dir string) api.Plugin {
	mapped := browserMapped(n.pkg)
	return api.Plugin{Name: "cdnserve-graph", Setup: func(b api.PluginBuild) {
		b.OnResolve(api.OnResolveOptions{Filter: `^` + nsCJS + `:`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			return api.OnResolveResult{Path: strings.TrimPrefix(a.Path, nsCJS+":"), Namespace: nsCJS}, nil
		})
		b.OnResolve(api.OnResolveOptions{Filter: `^[^./#]`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			name, _ := splitBare(a.Path)
			if a.Namespace == nsRequire {
				return api.OnResolveResult{Path: a.Path, External: true}, nil
			}
			if !layout.IsLibraryName(name) || builtin[name] || mapped[a.Path] || mapped[name] {
				return api.OnResolveResult{}, nil
			}
			if a.Kind == api.ResolveJSRequireCall {
				return api.OnResolveResult{Path: a.Path, Namespace: nsRequire}, nil
			}
			return api.OnResolveResult{Path: a.Path, External: true}, nil
		})
		b.OnLoad(api.OnLoadOptions{Filter: `.*`, Namespace: nsRequire}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
			q := strconv.Quote(a.Path)
			js := "import * as ns from " + q + ";\nexport * from " + q + ";\nexport default ns.default;\n"
			return api.OnLoadResult{Contents: &js, ResolveDir: dir, Loader: api.LoaderJS}, nil
		})
		b.OnLoad(api.OnLoadOptions{Filter: `.*`, Namespace: nsCJS}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
			js := m.cjsWrapper(n, dir, a.Path)
			return api.OnLoadResult{Contents: &js, ResolveDir: dir, Loader: api.LoaderJS}, nil
		})
	}}
}

// browserMapped lists the bare names a package's browser field maps.
func browserMapped(p *esm.Package) map[string]bool {
	var obj map[string]json.RawMessage
	out := map[string]bool{}
	if json.Unmarshal(p.Browser, &obj) == nil {
		for k := range obj {
			if !strings.HasPrefix(k, ".") {
				out[k] = true
			}
		}
	}
	return out
}

// buildError names the package, the specifier and esbuild's first
// error, with its file and line.
func buildError(n *node, spec string, msgs []api.Message) error {
	msg := msgs[0]
	where := ""
	if msg.Location != nil {
		where = fmt.Sprintf("%s:%d:%d: ", strings.TrimPrefix(msg.Location.File, "./"), msg.Location.Line, msg.Location.Column)
	}
	text := msg.Text
	for _, note := range msg.Notes {
		if strings.Contains(note.Text, "built into node") {
			text += " (a Node built-in, which browsers lack; the package's browser field does not map it away)"
		}
	}
	return &Error{Package: n.id(), Specifier: spec, Reason: where + text, Err: ErrUnsupported}
}

// unpack writes a package version's files into the work directory, once,
// for esbuild to read: each checked against the integrity manifest, the
// whole bounded by MaxPackageBytes.
func (m *Maker) unpack(ctx context.Context, n *node) (string, error) {
	id := n.id()
	m.mu.Lock()
	dir := m.unpacked[id]
	m.mu.Unlock()
	if dir != "" {
		return dir, nil
	}
	v, err, _ := m.group.Do("unpack "+id, func() (any, error) {
		var total int64
		for _, f := range n.man.Files {
			total += f.Size
		}
		if total > m.o.MaxPackageBytes {
			return nil, &Error{Package: id, Err: ErrTooLarge, Reason: fmt.Sprintf("its files hold %d bytes, more than a build may read (%d)", total, m.o.MaxPackageBytes)}
		}
		work, err := m.workDir()
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256([]byte(id))
		final := filepath.Join(work, hex.EncodeToString(sum[:12]))
		if _, err := os.Stat(filepath.Join(final, "package.json")); err == nil {
			return final, nil
		}
		tmp, err := os.MkdirTemp(work, ".unpack-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		for _, f := range n.man.Files {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			data, err := m.readFile(n.name, n.version, n.man, f.Path)
			if err != nil {
				return nil, &Error{Package: id, Reason: "reading " + f.Path + ": " + err.Error(), Err: err}
			}
			p := filepath.Join(tmp, filepath.FromSlash(f.Path))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				return nil, err
			}
		}
		os.RemoveAll(final)
		if err := os.Rename(tmp, final); err != nil {
			return nil, err
		}
		return final, nil
	})
	if err != nil {
		return "", err
	}
	dir = v.(string)
	m.mu.Lock()
	m.unpacked[id] = dir
	m.mu.Unlock()
	return dir, nil
}

// builtin are Node's built-in modules (node -p 'require("module").builtinModules').
var builtin = func() map[string]bool {
	out := map[string]bool{}
	for _, b := range strings.Fields(`assert async_hooks buffer child_process cluster console constants crypto dgram
		diagnostics_channel dns domain events fs http http2 https inspector module net os path perf_hooks process
		punycode querystring readline repl stream string_decoder sys timers tls trace_events tty url util v8 vm
		wasi worker_threads zlib`) {
		out[b] = true
	}
	return out
}()
