package graph

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// CommonJS modules get named exports as Node finds them
// (cjs-module-lexer): assignments to exports.NAME and module.exports.NAME,
// Object.defineProperty(exports, "NAME"), the keys of an object literal
// assigned to module.exports, and what a module re-exports with
// module.exports = require("./other") or TypeScript's __exportStar. The
// module is first read with process.env.NODE_ENV defined and dead
// branches removed, so that React's index.js re-exports its production
// build and nothing else.
var (
	cjsAssign    = regexp.MustCompile(`(?:^|[^.\w$])(?:module\.)?exports\.([A-Za-z_$][\w$]*)\s*=[^=]`)
	cjsBracket   = regexp.MustCompile(`(?:^|[^.\w$])(?:module\.)?exports\[\s*["']([^"']+)["']\s*\]\s*=[^=]`)
	cjsDefine    = regexp.MustCompile(`Object\.defineProperty\(\s*(?:module\.)?exports\s*,\s*["']([^"']+)["']`)
	cjsReexport  = regexp.MustCompile(`module\.exports\s*=\s*require\(\s*["']([^"']+)["']\s*\)`)
	cjsStar      = regexp.MustCompile(`__exportStar\(\s*require\(\s*["']([^"']+)["']\s*\)`)
	cjsLiteral   = regexp.MustCompile(`module\.exports\s*=\s*\{([^{}]*)\}`)
	literalKey   = regexp.MustCompile(`(?:^|,)\s*(?:["']([^"']+)["']|([A-Za-z_$][\w$]*))\s*(?::|,|$)`)
	isIdentifier = regexp.MustCompile(`^[A-Za-z_$][\w$]*$`)
)

// cjsExports lists the names a CommonJS module of an unpacked package
// exports, sorted, following re-exports of the package's own files.
func (m *Maker) cjsExports(n *node, dir, file string) []string {
	names := map[string]bool{}
	seen := map[string]bool{}
	var walk func(file string, depth int)
	walk = func(file string, depth int) {
		if depth > 8 || seen[file] {
			return
		}
		seen[file] = true
		src, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(file)))
		if err != nil {
			return
		}
		res := api.Transform(string(src), api.TransformOptions{
			Define:       map[string]string{"process.env.NODE_ENV": strconv.Quote(m.env)},
			MinifySyntax: true,
			Loader:       api.LoaderJS,
			LogLevel:     api.LogLevelSilent,
		})
		code := string(src)
		if len(res.Errors) == 0 {
			code = string(res.Code)
		}
		for _, re := range []*regexp.Regexp{cjsAssign, cjsBracket, cjsDefine} {
			for _, sm := range re.FindAllStringSubmatch(code, -1) {
				names[sm[1]] = true
			}
		}
		for _, sm := range cjsLiteral.FindAllStringSubmatch(code, -1) {
			for _, km := range literalKey.FindAllStringSubmatch(sm[1], -1) {
				names[km[1]+km[2]] = true
			}
		}
		for _, re := range []*regexp.Regexp{cjsReexport, cjsStar} {
			for _, sm := range re.FindAllStringSubmatch(code, -1) {
				if target, ok := relativeFile(n, file, sm[1]); ok {
					walk(target, depth+1)
				}
			}
		}
	}
	walk(file, 0)
	out := make([]string, 0, len(names))
	for name := range names {
		if name != "default" && name != "__esModule" && isIdentifier.MatchString(name) && !reserved[name] {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// relativeFile finds the package's file a relative require names, as
// probe finds an entry's.
func relativeFile(n *node, from, spec string) (string, bool) {
	if !strings.HasPrefix(spec, "./") && !strings.HasPrefix(spec, "../") {
		return "", false
	}
	p := path.Join(path.Dir(from), spec)
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", false
	}
	return probe(n, p)
}

// cjsWrapper is the ES module an entry point that is CommonJS is built
// from: module.exports as the default export, as Node gives it, and
// each name the lexer finds as a named export.
func (m *Maker) cjsWrapper(n *node, dir, file string) string {
	q := strconv.Quote("./" + file)
	var b strings.Builder
	b.WriteString("import __cjs from " + q + ";\nexport default __cjs;\n")
	names := m.cjsExports(n, dir, file)
	for i, name := range names {
		b.WriteString("var __n" + strconv.Itoa(i) + " = __cjs[" + strconv.Quote(name) + "];\n")
	}
	if len(names) > 0 {
		b.WriteString("export {")
		for i, name := range names {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(" __n" + strconv.Itoa(i) + " as " + name)
		}
		b.WriteString(" };\n")
	}
	return b.String()
}

// reserved are the words no export name of the wrapper may be.
var reserved = func() map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.Fields(`await break case catch class const continue debugger default delete do else enum
		export extends false finally for function if implements import in instanceof interface let new null package
		private protected public return static super switch this throw true try typeof var void while with yield`) {
		out[w] = true
	}
	return out
}()
