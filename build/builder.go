// Package build turns a cdnserve.yaml manifest and its sources into the
// in-memory files of one version: plain and minified bundles, single files,
// and sourcemaps. It reads sources only through an afero.Fs and writes
// nothing; package dist publishes the result.
package build

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/npm"
	"github.com/cdnserve/cdnserve/versioning"
	"github.com/evanw/esbuild/pkg/api"
	"github.com/spf13/afero"
)

// Options configure one build.
type Options struct {
	// Manifest is the decoded cdnserve.yaml. Required.
	Manifest *Manifest
	// Src holds the sources, rooted at the manifest's src_dir, so that the
	// manifest's file names are paths in it. Required.
	Src afero.Fs
	// Version overrides Manifest.Version when not empty (`build --version`).
	Version string
	// Progress, if set, is called after each bundle or file is built, with
	// how many of how many are done and the output's name.
	Progress func(done, total int, name string)
	// KeepGoing builds every bundle and file even when some fail, and
	// lists the failures in Result.Failed: what the dev server needs, so
	// that one broken bundle does not take the others down.
	KeepGoing bool
	// NPM fetches the files that come from npm packages ("from:
	// npm:name@1.2.3/path"), verified, from its tarball cache when it can.
	// Required when the manifest has such a file.
	NPM *npm.Client
}

// Validate reports missing options and an invalid version, naming the
// field or manifest line at fault.
func (o Options) Validate() error {
	if o.Manifest == nil {
		return fmt.Errorf("build.Options.Manifest is nil")
	}
	if o.Src == nil {
		return fmt.Errorf("build.Options.Src is nil")
	}
	_, err := o.version()
	return err
}

func (o Options) version() (*semver.Version, error) {
	if o.Version != "" {
		v, err := versioning.Parse(o.Version)
		if err != nil {
			return nil, fmt.Errorf("--version: %w", err)
		}
		return v, nil
	}
	if o.Manifest.Version == "" {
		return nil, o.Manifest.errAt("version", `is missing: set "version" in the manifest or pass --version`)
	}
	v, err := versioning.Parse(o.Manifest.Version)
	if err != nil {
		return nil, o.Manifest.errAt("version", "%w", err)
	}
	return v, nil
}

// Artifact is one output file of a build: its path inside a version
// directory and its bytes. It is the file type package dist publishes.
type Artifact = layout.File

// Result is everything a build produced for one version.
type Result struct {
	// Version is the version that was built.
	Version *semver.Version
	// Dirs are the directories below the dist root it belongs in
	// (versioning.Dirs).
	Dirs []string
	// Artifacts are the output files in manifest order: each bundle's plain
	// file, minified file and sourcemap, then each single file.
	Artifacts []Artifact
	// Report has one row per bundle or file, for the summary table.
	Report Report
	// Warnings are esbuild warnings, located like errors.
	Warnings []string
	// Failed are the bundles and files that failed, with Options.KeepGoing
	// (without it, the first failure is Build's error).
	Failed []Failure
}

// Failure is a bundle or file that failed to build, and the outputs it
// would have made.
type Failure struct {
	// Outputs are the paths it would have written: the plain and the
	// minified file of a bundle, or a file's target.
	Outputs []string
	Err     error
}

// Build runs a whole build. It stops at the first bundle or file that
// fails, unless Options.KeepGoing; every error names the manifest field
// or the source file, line and column at fault.
func Build(ctx context.Context, o Options) (*Result, error) {
	start := time.Now()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	v, _ := o.version()
	b := &builder{ctx: ctx, opts: o, m: o.Manifest, subs: newSubstituter(o.Manifest.Substitutions, v.Original())}
	res := &Result{Version: v, Dirs: versioning.Dirs(v)}
	total := len(b.m.Bundles) + len(b.m.Files)
	progress := func(name string) {
		if o.Progress != nil {
			o.Progress(len(res.Report.Rows), total, name)
		}
	}
	for _, bundle := range b.m.Bundles {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		arts, warns, err := b.bundle(bundle)
		if err != nil {
			if !o.KeepGoing {
				return nil, err
			}
			res.Failed = append(res.Failed, Failure{Outputs: []string{bundle.Name, MinName(bundle.Name)}, Err: err})
			continue
		}
		res.add(bundle.Name, arts, warns)
		progress(bundle.Name)
	}
	for i, f := range b.m.Files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		arts, warns, err := b.file(i, f)
		if err != nil {
			if !o.KeepGoing {
				return nil, err
			}
			outs := []string{f.To}
			if IsBuilt(f.To) {
				outs = append(outs, MinName(f.To))
			}
			res.Failed = append(res.Failed, Failure{Outputs: outs, Err: err})
			continue
		}
		res.add(f.To, arts, warns)
		progress(f.To)
	}
	res.Report.Duration = time.Since(start)
	return res, nil
}

func (r *Result) add(output string, arts []Artifact, warns []string) {
	r.Artifacts = append(r.Artifacts, arts...)
	r.Warnings = append(r.Warnings, warns...)
	r.Report.Rows = append(r.Report.Rows, reportRow(output, arts))
}

type builder struct {
	ctx  context.Context
	opts Options
	m    *Manifest
	subs substituter
}

// source is one input file after substitution, with the path it is
// reported under.
type source struct {
	display string // path from the manifest's directory, for messages
	data    []byte
}

// read loads a source named by a manifest field and applies a
// substitution set. A missing file names the field and its line.
func (b *builder) read(field, name string, subst func([]byte) []byte) (source, error) {
	data, err := afero.ReadFile(b.opts.Src, name)
	if err != nil {
		if isNotExist(err) {
			return source{}, b.m.errAt(field, "file %q does not exist in src_dir %q", name, b.m.SrcDir)
		}
		return source{}, b.m.errAt(field, "reading %q: %w", name, err)
	}
	return source{display: path.Join(b.m.SrcDir, name), data: subst(data)}, nil
}

// bundle builds one entry of "bundles": plain, minified and, if asked,
// the minified file's sourcemap.
func (b *builder) bundle(bd Bundle) ([]Artifact, []string, error) {
	return b.bundleAt("bundles."+bd.Name, bd)
}

// bundleAt builds a bundle declared by a manifest field (a bundle, or a
// files entry built like a one-file bundle).
func (b *builder) bundleAt(field string, bd Bundle) ([]Artifact, []string, error) {
	var arts []Artifact
	var warns []string
	for _, minify := range []bool{false, true} {
		subst := b.subs.plain
		if minify {
			subst = b.subs.min
		}
		var license []byte
		if bd.License != "" {
			lic, err := b.read(field+".license", bd.License, subst)
			if err != nil {
				return nil, nil, err
			}
			license = lic.data
		}
		j := compile(b.m, bd, minify)
		var out output
		var err error
		if bd.Entry != "" {
			out, err = b.bundleEntry(j, field, subst)
		} else {
			out, err = b.concatenate(j, field, bd.Files, subst)
		}
		if err != nil {
			return nil, nil, err
		}
		arts = append(arts, out.artifacts(j, license)...)
		warns = append(warns, out.warnings...)
	}
	return arts, warns, nil
}

// file builds one entry of "files": .js and .css like a one-file bundle
// without a license, anything else copied byte for byte.
func (b *builder) file(i int, f File) ([]Artifact, []string, error) {
	field := fmt.Sprintf("files[%d]", i)
	if f.NPM != nil {
		return b.npmFile(field, f)
	}
	if f.Copy || !IsBuilt(f.To) {
		src, err := b.read(field, f.From, func(d []byte) []byte { return d })
		if err != nil {
			return nil, nil, err
		}
		return []Artifact{{Name: f.To, Data: src.data}}, nil, nil
	}
	return b.bundleAt(field, Bundle{Name: f.To, Files: []string{f.From}, Target: f.Target})
}

// npmFile copies one file of an npm package, byte for byte.
func (b *builder) npmFile(field string, f File) ([]Artifact, []string, error) {
	if b.opts.NPM == nil {
		return nil, nil, b.m.errAt(field+".from", "%s comes from npm, and this build has no npm client", f.From)
	}
	data, _, err := b.opts.NPM.File(b.ctx, *f.NPM)
	if err != nil {
		return nil, nil, b.m.errAt(field+".from", "%w", err)
	}
	return []Artifact{{Name: f.To, Data: data}}, nil, nil
}

// output is what one esbuild job produced, before the license is added.
type output struct {
	code      []byte
	sourceMap []byte
	warnings  []string
}

// concatenate joins files as JBundle did, each followed by "\n". The plain
// output is that text. The minified output runs the same text through
// esbuild's transform; its errors are mapped back from the joined text to
// the source file and line they came from.
func (b *builder) concatenate(j job, field string, files []string, subst func([]byte) []byte) (output, error) {
	var joined strings.Builder
	srcs := make([]source, len(files))
	starts := make([]int, len(files)) // first line of each file in joined
	line := 1
	for i, name := range files {
		src, err := b.read(fmt.Sprintf("%s.files[%d]", field, i), name, subst)
		if err != nil {
			return output{}, err
		}
		srcs[i], starts[i] = src, line
		joined.Write(src.data)
		joined.WriteByte('\n')
		line += strings.Count(string(src.data), "\n") + 1
	}
	if !j.minify {
		return output{code: []byte(joined.String())}, nil
	}
	locate := func(_ string, l int) (string, int) {
		i := len(starts) - 1
		for i > 0 && starts[i] > l {
			i--
		}
		return srcs[i].display, l - starts[i] + 1
	}
	r := api.Transform(joined.String(), j.transformOptions())
	if len(r.Errors) > 0 {
		return output{}, b.buildError(field, messagesError(r.Errors, locate))
	}
	return output{code: r.Code, sourceMap: r.Map, warnings: warningTexts(r.Warnings, locate)}, nil
}

// buildError locates esbuild's errors under the manifest field that
// declared the output. Syntax the target cannot express says which key
// to change: the entry's own target, or the manifest's.
func (b *builder) buildError(field string, err error) error {
	if strings.Contains(err.Error(), "to the configured target environment") {
		return fmt.Errorf("%s: %w\n(to allow it, set %s.target to a newer target such as es2015 for this output alone, or raise the top-level target of %s; targets: %s)",
			field, err, field, b.m.Name, strings.Join(targetNames(), ", "))
	}
	return fmt.Errorf("%s: %w", field, err)
}

// srcMarker is the comment esbuild puts before each module of a plain
// bundle, which names our plugin's namespace ("// cdnserve-src:greet.js"):
// published bundles name the source file alone ("// greet.js").
var srcMarker = regexp.MustCompile(`(?m)^([ \t]*)// ` + srcNamespace + `:`)

// bundleEntry bundles an ES module entry point with esbuild, reading every
// module from the source file system.
func (b *builder) bundleEntry(j job, field string, subst func([]byte) []byte) (output, error) {
	if _, err := b.opts.Src.Stat(j.entry); err != nil {
		return output{}, b.m.errAt(field+".entry", "file %q does not exist in src_dir %q", j.entry, b.m.SrcDir)
	}
	locate := func(file string, l int) (string, int) {
		return path.Join(b.m.SrcDir, strings.TrimPrefix(file, srcNamespace+":")), l
	}
	r := api.Build(j.buildOptions(b.opts.Src, subst))
	if len(r.Errors) > 0 {
		return output{}, b.buildError(field, messagesError(r.Errors, locate))
	}
	var out output
	for _, f := range r.OutputFiles {
		if strings.HasSuffix(f.Path, ".map") {
			out.sourceMap = []byte(strings.ReplaceAll(string(f.Contents), `"`+srcNamespace+`:`, `"`))
		} else {
			out.code = srcMarker.ReplaceAll(f.Contents, []byte("$1// "))
		}
	}
	out.warnings = warningTexts(r.Warnings, locate)
	return out, nil
}

func warningTexts(msgs []api.Message, locate func(string, int) (string, int)) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, "warning: "+messagesError([]api.Message{m}, locate).Error())
	}
	return out
}

// artifacts lays out an output as JBundle did: the license followed by
// "\n", then the code. A sourcemap is shifted down by the license's lines
// and linked from the end of the minified file.
func (o output) artifacts(j job, license []byte) []Artifact {
	name := j.outName()
	var data []byte
	if license != nil {
		data = append(append(data, license...), '\n')
	}
	data = append(data, o.code...)
	module := j.format == api.FormatESModule
	if o.sourceMap == nil {
		return []Artifact{{Name: name, Data: data, Module: module}}
	}
	mapName := name + ".map"
	link := "//# sourceMappingURL=" + path.Base(mapName) + "\n"
	if j.lang == "css" {
		link = "/*# sourceMappingURL=" + path.Base(mapName) + " */\n"
	}
	if !strings.Contains(string(o.code), "sourceMappingURL=") {
		data = append(data, link...)
	}
	shift := 0
	if license != nil {
		shift = strings.Count(string(license), "\n") + 1
	}
	return []Artifact{{Name: name, Data: data, Module: module}, {Name: mapName, Data: shiftMappings(o.sourceMap, shift)}}
}

// shiftMappings prepends n empty generated lines to a source map's
// "mappings", which is how a map accounts for lines added above the code
// (Source Map Revision 3, "mappings": each ';' starts a generated line).
func shiftMappings(sm []byte, n int) []byte {
	if n == 0 {
		return sm
	}
	const key = `"mappings": "`
	s := string(sm)
	i := strings.Index(s, key)
	if i < 0 {
		return sm
	}
	i += len(key)
	return []byte(s[:i] + strings.Repeat(";", n) + s[i:])
}
