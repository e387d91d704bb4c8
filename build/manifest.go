package build

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/npm"
	"github.com/cdnserve/cdnserve/versioning"
	"go.yaml.in/yaml/v3"
)

// DefaultManifestName is the manifest file that `cdnserve build` reads when
// -f is not given.
const DefaultManifestName = "cdnserve.yaml"

// Manifest is a decoded cdnserve.yaml. It expresses what the seed's JFile
// expressed for JBundle: bundles, single files, a source dir, a target dir,
// a version, and token substitutions. The YAML keys are fixed (see
// docs/manifest.md); Decode rejects any other key.
type Manifest struct {
	// Name is the manifest's file name, used in error messages.
	Name string
	// Library is the library the build publishes into (key "name"): a
	// named library, dist/<name>/<version>/, whose name follows npm's
	// rules (layout.CheckLibraryName). Empty publishes into the root
	// library, dist/<version>/, as every manifest did before names.
	Library string
	// Version is the version to publish, strict MAJOR.MINOR.PATCH[-PRERELEASE]
	// (key "version"). It is checked by versioning.Parse when building, so
	// that `build --version` can override an invalid or missing one.
	Version string
	// SrcDir is where bundle and file sources are read from, relative to the
	// manifest's directory (key "src_dir"; default ".").
	SrcDir string
	// TargetDir is the dist root the version directories are written to,
	// relative to the manifest's directory (key "target_dir"; default "dist").
	TargetDir string
	// Target is the esbuild target of minified and bundled JavaScript
	// (key "target"; default "es5"). Sources that use newer syntax than the
	// target are an error.
	Target string
	// Sourcemap writes name.min.js.map beside each minified file and links it
	// with a sourceMappingURL comment (key "sourcemap"; default false).
	Sourcemap bool
	// Bundles are the outputs built from several sources, in manifest order
	// (key "bundles").
	Bundles []Bundle
	// Files are single files: .js and .css are built like one-file bundles,
	// anything else is copied byte for byte (key "files").
	Files []File
	// Substitutions are literal token replacements (key "substitutions").
	Substitutions Substitutions

	// pos remembers where each field path was declared, for error messages.
	pos map[string]int
}

// Bundle is one entry of "bundles": an output name and how to build it.
// Exactly one of Files and Entry is set.
type Bundle struct {
	// Name is the output file name, such as "pusher.js" or "style.css".
	// Its extension decides the language: .js (or .mjs) is JavaScript,
	// .css is CSS.
	Name string
	// License is a file whose text leads the plain and minified outputs
	// (key "license"; optional).
	License string
	// Files are concatenated in this order, each followed by "\n", as
	// JBundle did for script-style libraries (key "files").
	Files []string
	// Entry is an ES module entry point that esbuild bundles (key "entry").
	Entry string
	// Format is the bundle format for Entry: iife, esm or cjs
	// (key "format"; default iife).
	Format string
	// Target overrides the manifest's target for this bundle (key
	// "target"), such as es2015 for one bundle that uses const.
	Target string
	// GlobalName is the global variable an iife bundle assigns its exports
	// to (key "global_name"; iife only).
	GlobalName string
}

// File is one entry of "files": a source path and the output name.
type File struct {
	// From is the source path below src_dir, or an npm package's file:
	// "npm:name@1.2.3/dist/file.js" (NPM).
	From string
	// NPM is From read as an npm package's file, with an exact version,
	// when From starts with "npm:". Such a file is copied byte for byte
	// (Copy) from the package's tarball, verified against the registry's
	// integrity string.
	NPM *npm.Spec
	// To is the output name; it defaults to From.
	To string
	// Copy sends the bytes out exactly as they are (key "copy"): no
	// substitution, no minifying, no .min twin. For vendored files.
	Copy bool
	// Target overrides the manifest's target for this file (key
	// "target").
	Target string
}

// Substitutions are literal token replacements, applied to sources and
// license text. All applies first, then Src for plain outputs or Min for
// minified ones. In a value, "{{version}}" stands for the version being
// built.
type Substitutions struct {
	All, Src, Min []Substitution
}

// Substitution replaces every occurrence of Token with Value.
type Substitution struct {
	Token, Value string
}

// ManifestError is a problem with the manifest. It names the manifest
// file, the line, and the field path such as "bundles.pusher.js.files[2]".
type ManifestError struct {
	File  string
	Line  int // 0 when the position is unknown
	Field string
	Err   error
}

func (e *ManifestError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ManifestError) Unwrap() error { return e.Err }

// MaxManifestSize bounds the manifest file; a larger one is refused before
// it is parsed.
const MaxManifestSize = 1 << 20

// Decode parses a manifest strictly: unknown keys, duplicate keys, wrong
// types and contradictory fields are errors naming the line and field.
// It fills defaults and validates everything that needs no file system;
// Builder checks that the named files exist.
func Decode(name string, data []byte) (*Manifest, error) {
	if len(data) > MaxManifestSize {
		return nil, &ManifestError{File: name, Err: fmt.Errorf("manifest is %d bytes, larger than the %d byte limit", len(data), MaxManifestSize)}
	}
	var doc yaml.Node
	err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc)
	if errors.Is(err, io.EOF) || (err == nil && len(doc.Content) == 0) {
		return nil, &ManifestError{File: name, Err: errors.New("manifest is empty")}
	}
	if err != nil {
		return nil, &ManifestError{File: name, Line: yamlErrorLine(err), Err: fmt.Errorf("not valid YAML: %w", err)}
	}
	d := decoder{m: &Manifest{Name: name, SrcDir: ".", TargetDir: "dist", Target: "es5", pos: map[string]int{}}}
	d.top(doc.Content[0])
	if d.err != nil {
		return nil, d.err
	}
	if err := d.m.validate(); err != nil {
		return nil, err
	}
	return d.m, nil
}

// yamlErrorLine digs "line N" out of a yaml.v3 syntax error, which carries
// no structured position.
func yamlErrorLine(err error) int {
	var n int
	if i := strings.Index(err.Error(), "line "); i >= 0 {
		fmt.Sscanf(err.Error()[i:], "line %d", &n)
	}
	return n
}

// decoder walks the YAML node tree. It stops at the first error, which
// keeps every message precise.
type decoder struct {
	m   *Manifest
	err error
}

func (d *decoder) fail(n *yaml.Node, field, format string, args ...any) {
	if d.err == nil {
		d.err = &ManifestError{File: d.m.Name, Line: n.Line, Field: field, Err: fmt.Errorf(format, args...)}
	}
}

// mapping checks that n is a mapping with no duplicate or unknown keys and
// calls fn for each pair in order. known == nil allows any key.
func (d *decoder) mapping(n *yaml.Node, field string, known []string, fn func(key string, k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, field, "expected a mapping, got %s", describe(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content) && d.err == nil; i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.fail(k, field, "keys must be plain strings, got %s", describe(k))
			return
		}
		sub := join(field, k.Value)
		if seen[k.Value] {
			d.fail(k, sub, "duplicate key %q", k.Value)
			return
		}
		seen[k.Value] = true
		if known != nil && !slices.Contains(known, k.Value) {
			d.fail(k, field, "unknown key %q (known keys: %s)", k.Value, strings.Join(known, ", "))
			return
		}
		d.m.pos[sub] = k.Line
		fn(k.Value, k, v)
	}
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%s %q", strings.TrimPrefix(n.ShortTag(), "!!"), n.Value)
	}
	return "nothing"
}

// str decodes a string scalar. YAML reads `version: 1.0` as a float, so
// version fields accept any scalar and leave the check to versioning.
func (d *decoder) str(n *yaml.Node, field string, anyScalar bool) string {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" || (!anyScalar && n.ShortTag() != "!!str") {
		d.fail(n, field, "expected a string, got %s", describe(n))
		return ""
	}
	return n.Value
}

func (d *decoder) boolean(n *yaml.Node, field string) bool {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		d.fail(n, field, "expected true or false, got %s", describe(n))
		return false
	}
	return n.Value == "true"
}

func (d *decoder) strList(n *yaml.Node, field string) []string {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, field, "expected a list of file names, got %s", describe(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, c := range n.Content {
		sub := fmt.Sprintf("%s[%d]", field, i)
		d.m.pos[sub] = c.Line
		out = append(out, d.str(c, sub, false))
	}
	return out
}

func (d *decoder) top(n *yaml.Node) {
	known := []string{"name", "version", "src_dir", "target_dir", "target", "sourcemap", "bundles", "files", "substitutions"}
	d.mapping(n, "", known, func(key string, _, v *yaml.Node) {
		switch key {
		case "name":
			d.m.Library = d.str(v, key, false)
		case "version":
			d.m.Version = d.str(v, key, true)
		case "src_dir":
			d.m.SrcDir = d.str(v, key, false)
		case "target_dir":
			d.m.TargetDir = d.str(v, key, false)
		case "target":
			d.m.Target = d.str(v, key, false)
		case "sourcemap":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
				d.fail(v, key, "expected true or false, got %s", describe(v))
				return
			}
			d.m.Sourcemap = v.Value == "true" || v.Value == "True" || v.Value == "TRUE"
		case "bundles":
			d.mapping(v, key, nil, func(name string, _, bv *yaml.Node) {
				d.m.Bundles = append(d.m.Bundles, d.bundle(bv, name))
			})
		case "files":
			d.files(v)
		case "substitutions":
			d.substitutions(v)
		}
	})
}

func (d *decoder) bundle(n *yaml.Node, name string) Bundle {
	field := "bundles." + name
	b := Bundle{Name: name}
	d.mapping(n, field, []string{"license", "files", "entry", "format", "global_name", "target"}, func(key string, _, v *yaml.Node) {
		sub := join(field, key)
		switch key {
		case "license":
			b.License = d.str(v, sub, false)
		case "files":
			b.Files = d.strList(v, sub)
		case "entry":
			b.Entry = d.str(v, sub, false)
		case "format":
			b.Format = d.str(v, sub, false)
		case "global_name":
			b.GlobalName = d.str(v, sub, false)
		case "target":
			b.Target = d.str(v, sub, false)
		}
	})
	return b
}

func (d *decoder) files(n *yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, "files", "expected a list, got %s", describe(n))
		return
	}
	for i, c := range n.Content {
		field := fmt.Sprintf("files[%d]", i)
		d.m.pos[field] = c.Line
		if c.Kind == yaml.ScalarNode {
			from := d.str(c, field, false)
			d.m.Files = append(d.m.Files, File{From: from, To: from})
			continue
		}
		var f File
		d.mapping(c, field, []string{"from", "to", "copy", "target"}, func(key string, _, v *yaml.Node) {
			switch key {
			case "from":
				f.From = d.str(v, join(field, key), false)
			case "to":
				f.To = d.str(v, join(field, key), false)
			case "copy":
				f.Copy = d.boolean(v, join(field, key))
			case "target":
				f.Target = d.str(v, join(field, key), false)
			}
		})
		if d.err == nil && f.From == "" {
			d.fail(c, field, `a file entry needs "from" (and optionally "to")`)
		}
		if d.err == nil && strings.HasPrefix(f.From, "npm:") {
			d.npmFile(c, field, &f)
		}
		if f.To == "" {
			f.To = f.From
		}
		d.m.Files = append(d.m.Files, f)
	}
}

// npmFile reads a file entry's "from: npm:name@1.2.3/path". The version
// must be exact, so that the build is reproducible; the file is copied
// byte for byte, to the package's path unless "to" says otherwise.
func (d *decoder) npmFile(n *yaml.Node, field string, f *File) {
	sp, err := npm.ParseSpec(f.From)
	switch {
	case err != nil:
		d.fail(n, join(field, "from"), "%v", err)
		return
	case sp.Path == "":
		d.fail(n, join(field, "from"), "%q names a package but no file in it: npm:%s@%s/dist/file.js", f.From, sp.Name, sp.Range)
		return
	}
	if _, err := versioning.Parse(sp.Range); err != nil {
		d.fail(n, join(field, "from"), "%q: a build takes an exact version, not %q, so that it builds the same bytes tomorrow; pin one, such as npm:%s@1.2.3/%s", f.From, sp.Range, sp.Name, sp.Path)
		return
	}
	if f.Target != "" {
		d.fail(n, join(field, "target"), "a file from npm is copied as it is: it has no target")
		return
	}
	f.NPM, f.Copy = &sp, true
	if f.To == "" {
		f.To = sp.Path
	}
}

func (d *decoder) substitutions(n *yaml.Node) {
	d.mapping(n, "substitutions", []string{"all", "src", "min"}, func(set string, _, v *yaml.Node) {
		field := "substitutions." + set
		var subs []Substitution
		d.mapping(v, field, nil, func(token string, k, tv *yaml.Node) {
			if token == "" {
				d.fail(k, field, "a token must not be empty")
				return
			}
			if tv.Kind != yaml.ScalarNode || tv.ShortTag() == "!!null" {
				d.fail(tv, join(field, token), `expected a string value (write "" for an empty one), got %s`, describe(tv))
				return
			}
			subs = append(subs, Substitution{Token: token, Value: tv.Value})
		})
		switch set {
		case "all":
			d.m.Substitutions.All = subs
		case "src":
			d.m.Substitutions.Src = subs
		case "min":
			d.m.Substitutions.Min = subs
		}
	})
}

// errAt builds a ManifestError for a field, using the line it was declared on.
func (m *Manifest) errAt(field string, format string, args ...any) error {
	return &ManifestError{File: m.Name, Line: m.line(field), Field: field, Err: fmt.Errorf(format, args...)}
}

// line returns the line a field path was declared on, or that of its
// nearest declared parent.
func (m *Manifest) line(field string) int {
	for f := field; f != ""; {
		if l, ok := m.pos[f]; ok {
			return l
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return 0
}

// validate checks everything that needs no file system.
func (m *Manifest) validate() error {
	if _, ok := m.pos["name"]; ok {
		if err := layout.CheckLibraryName(m.Library); err != nil {
			return m.errAt("name", "library name %q %w", m.Library, err)
		}
	}
	if _, ok := esbuildTargets[m.Target]; !ok {
		return m.errAt("target", "unknown target %q (one of %s)", m.Target, strings.Join(targetNames(), ", "))
	}
	for _, f := range []struct{ field, val string }{{"src_dir", m.SrcDir}, {"target_dir", m.TargetDir}} {
		if f.val == "" {
			return m.errAt(f.field, "must not be empty")
		}
	}
	if len(m.Bundles) == 0 && len(m.Files) == 0 {
		return &ManifestError{File: m.Name, Err: errors.New(`nothing to build: declare "bundles" or "files"`)}
	}
	outputs := map[string]string{} // output name -> field that declared it
	claim := func(name, field string) error {
		if prev, ok := outputs[name]; ok {
			return m.errAt(field, "output %q is already written by %s", name, prev)
		}
		outputs[name] = field
		return nil
	}
	for _, b := range m.Bundles {
		if err := m.validateBundle(b); err != nil {
			return err
		}
		field := "bundles." + b.Name
		if err := claim(b.Name, field); err != nil {
			return err
		}
		if err := claim(MinName(b.Name), field); err != nil {
			return err
		}
	}
	for i, f := range m.Files {
		field := fmt.Sprintf("files[%d]", i)
		if err := m.checkTarget(field+".target", f.Target); err != nil {
			return err
		}
		if f.Copy && f.Target != "" {
			return m.errAt(field+".target", `a "copy" entry is sent as it is: it has no target`)
		}
		if err := layout.CheckPath(f.From); err != nil && f.NPM == nil {
			return m.errAt(field, "from %q: %w", f.From, err)
		}
		if err := layout.CheckPath(f.To); err != nil {
			return m.errAt(field, "to %q: %w", f.To, err)
		}
		if err := claim(f.To, field); err != nil {
			return err
		}
		if IsBuilt(f.To) && !f.Copy {
			if err := claim(MinName(f.To), field); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkTarget accepts an empty target (the manifest's) or a known one.
func (m *Manifest) checkTarget(field, target string) error {
	if _, ok := esbuildTargets[target]; target != "" && !ok {
		return m.errAt(field, "unknown target %q (one of %s)", target, strings.Join(targetNames(), ", "))
	}
	return nil
}

func (m *Manifest) validateBundle(b Bundle) error {
	field := "bundles." + b.Name
	if err := m.checkTarget(field+".target", b.Target); err != nil {
		return err
	}
	if err := layout.CheckPath(b.Name); err != nil {
		return m.errAt(field, "output name %q: %w", b.Name, err)
	}
	lang := languageOf(b.Name)
	if lang == "" {
		return m.errAt(field, "output name %q must end in .js, .mjs or .css", b.Name)
	}
	switch {
	case len(b.Files) > 0 && b.Entry != "":
		return m.errAt(field, `set either "files" or "entry", not both`)
	case len(b.Files) == 0 && b.Entry == "":
		return m.errAt(field, `needs "files" (concatenated) or "entry" (bundled ES module)`)
	}
	if b.Entry == "" && (b.Format != "" || b.GlobalName != "") {
		return m.errAt(field, `"format" and "global_name" apply only to an "entry" bundle`)
	}
	if b.Entry != "" {
		if lang != "js" {
			return m.errAt(field+".entry", `"entry" bundles must be JavaScript; concatenate CSS with "files"`)
		}
		if _, ok := esbuildFormats[b.bundleFormat()]; !ok {
			return m.errAt(field+".format", "unknown format %q (one of iife, esm, cjs)", b.Format)
		}
		if b.GlobalName != "" && b.bundleFormat() != "iife" {
			return m.errAt(field+".global_name", "applies only to format iife, not %q", b.Format)
		}
		if err := layout.CheckPath(b.Entry); err != nil {
			return m.errAt(field+".entry", "%q: %w", b.Entry, err)
		}
	}
	for i, f := range b.Files {
		if err := layout.CheckPath(f); err != nil {
			return m.errAt(fmt.Sprintf("%s.files[%d]", field, i), "%q: %w", f, err)
		}
	}
	if b.License != "" {
		if err := layout.CheckPath(b.License); err != nil {
			return m.errAt(field+".license", "%q: %w", b.License, err)
		}
	}
	return nil
}

func (b Bundle) bundleFormat() string {
	if b.Format == "" {
		return "iife"
	}
	return b.Format
}

// languageOf returns "js" or "css" for names that cdnserve builds and
// minifies, and "" for files that are copied as they are.
func languageOf(name string) string {
	switch path.Ext(name) {
	case ".js", ".mjs":
		return "js"
	case ".css":
		return "css"
	}
	return ""
}

// IsBuilt reports whether an output name is built (substituted and
// minified) rather than copied byte for byte.
func IsBuilt(name string) bool { return languageOf(name) != "" }

// MinName inserts ".min" before the extension: "pusher.js" becomes
// "pusher.min.js", as JBundle named its minified files.
func MinName(name string) string {
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext) + ".min" + ext
}
