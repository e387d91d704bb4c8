// Package settings is the one way every cdnserve command reads its
// settings, in this order of precedence:
//
//  1. a flag on the command line;
//  2. its CDNSERVE_* environment variable (--tls-addr: CDNSERVE_TLS_ADDR;
//     a repeatable flag takes a comma-separated list);
//  3. the config file named by --config or CDNSERVE_CONFIG, a YAML
//     mapping whose keys are the command's flag names (tls-addr: ":8443");
//  4. the flag's default, or a default derived from other settings (serve's
//     refresh from the storage's kind, build's storage from the manifest).
//
// Every command has --config and --print-config, which prints each
// effective value and where it came from, secrets redacted (package
// redact). Commands that read or write a tree take --storage (and the
// deprecated --root).
package settings

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cdnserve/cdnserve/redact"
	"go.yaml.in/yaml/v3"
)

// ErrUsage marks a command-line mistake: usage was printed, exit code 2.
var ErrUsage = errors.New("usage")

// Env is what a command may touch: its output, its environment and its
// working directory, so tests run commands in-process.
type Env struct {
	Stdout, Stderr io.Writer
	// LookupEnv reads the environment; nil means none.
	LookupEnv func(string) (string, bool)
	// Environ lists the environment as NAME=value, to find a misspelt
	// CDNSERVE_ variable; nil means no such check.
	Environ func() []string
	// Dir is the working directory.
	Dir string
}

func (e Env) lookupEnv(name string) (string, bool) {
	if e.LookupEnv == nil {
		return "", false
	}
	return e.LookupEnv(name)
}

// abs resolves a path from the command line against the working dir.
func (e Env) abs(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(e.Dir, p)
}

// StringList is a repeatable flag: each use adds a value.
type StringList []string

func (s *StringList) String() string     { return strings.Join(*s, ",") }
func (s *StringList) Set(v string) error { *s = append(*s, v); return nil }
func (s *StringList) repeatable()        {}

// SplitList splits a comma-separated flag value, trimming spaces.
func SplitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// ErrPrinted says a command did what --print-config asked: exit 0.
var ErrPrinted = errors.New("printed the configuration")

// Set is one command's flags, parsed by the rules above.
type Set struct {
	*flag.FlagSet
	e              Env
	args, examples string
	config         *string
	printConfig    *bool
	storage, root  *string // set by storageFlag
	src            map[string]string
	pos            []string
	derived        []func() error
	printers       []func(io.Writer)
}

// New makes a command's flag set, with --config and
// --print-config; args describes its positional arguments in the usage.
func New(e Env, name, args, examples string) *Set {
	s := &Set{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), e: e, args: args, examples: examples}
	s.config = s.String("config", "", "YAML `file` of settings, keyed by flag name (flags and CDNSERVE_* variables win over it)")
	s.printConfig = s.Bool("print-config", false, "print the effective settings, where each came from, with secrets redacted; then exit")
	return s
}

// usage writes the command's usage, flags and examples.
func (s *Set) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: cdnserve %s %s\n\nFlags:\n", s.Name(), s.args)
	s.SetOutput(w)
	s.PrintDefaults()
	fmt.Fprintf(w, "\nExamples:\n%s", s.examples)
}

// StorageFlag registers --storage, and --root, its deprecated alias for a
// local directory. The default is def; "" lets the command choose.
func (s *Set) StorageFlag(def, what string) *string {
	s.storage = s.String("storage", def, what+": a directory, mem:// or s3://bucket/prefix?endpoint=…&region=…")
	s.root = s.String("root", "", "deprecated: the same as --storage `dir`")
	return s.storage
}

// AlsoPrint registers what --print-config prints after the settings: a
// policy made from them, say.
func (s *Set) AlsoPrint(fn func(io.Writer)) { s.printers = append(s.printers, fn) }

// Derive registers a step that fills a default from other settings. It
// runs after every source is read, before --print-config prints.
func (s *Set) Derive(fn func() error) { s.derived = append(s.derived, fn) }

// ParseArgs reads the command line, the environment and the config file, in
// that order of precedence, and returns the positional arguments, of
// which there must be between min and max (max < 0: no limit); need says
// what they are when the count is wrong. With --print-config it prints
// and returns ErrPrinted.
func (s *Set) ParseArgs(args []string, min, max int, need string) ([]string, error) {
	pos, err := s.parseLine(args)
	if err != nil {
		return nil, err
	}
	if len(pos) < min || (max >= 0 && len(pos) > max) {
		msg := need
		if max >= 0 && len(pos) > max {
			msg = fmt.Sprintf("unexpected argument %q", pos[max])
		}
		return nil, s.UsageError(msg)
	}
	s.pos = pos
	s.src = map[string]string{}
	s.VisitAll(func(f *flag.Flag) { s.src[f.Name] = "default" })
	s.Visit(func(f *flag.Flag) { s.src[f.Name] = "flag" })
	if err := s.applyEnv(); err != nil {
		return nil, err
	}
	if *s.config != "" {
		if err := s.applyConfigFile(s.e.abs(*s.config)); err != nil {
			return nil, err
		}
	}
	if err := s.applyRoot(); err != nil {
		return nil, err
	}
	for _, fn := range s.derived {
		if err := fn(); err != nil {
			return nil, err
		}
	}
	if *s.printConfig {
		s.print()
		for _, fn := range s.printers {
			fn(s.e.Stdout)
		}
		return nil, ErrPrinted
	}
	return pos, nil
}

// parseLine parses flags that may come before, between or after the
// positional arguments (`publish out --version 1.0.0`), and returns the
// positional ones; "--" ends the flags. -h prints the usage on stdout.
func (s *Set) parseLine(args []string) ([]string, error) {
	var pos []string
	for {
		var msg bytes.Buffer
		s.SetOutput(&msg)
		s.Usage = func() {}
		err := s.Parse(args)
		switch {
		case errors.Is(err, flag.ErrHelp):
			s.usage(s.e.Stdout)
			return nil, err
		case err != nil:
			line := strings.TrimSpace(msg.String())
			if name, ok := strings.CutPrefix(line, "flag provided but not defined: -"); ok {
				if near := Nearest(strings.TrimLeft(name, "-"), s.flagNames()); near != "" {
					line += "; did you mean --" + near + "?"
				}
			} else if m := invalidValue.FindStringSubmatch(line); m != nil {
				if f := s.Lookup(m[2]); f != nil && strings.HasSuffix(line, "parse error") {
					line = fmt.Sprintf("--%s %s: %s", m[2], m[1], want(f))
				}
			}
			return nil, s.UsageError(line)
		}
		rest := s.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// UsageError prints a command-line mistake on stderr, with the
// command's usage line and where its help is (not the whole help, which
// would bury the mistake): exit 2.
func (s *Set) UsageError(msg string) error {
	fmt.Fprintf(s.e.Stderr, "cdnserve %s: %s\nUsage: cdnserve %s %s (cdnserve %s -h: its flags and examples)\n", s.Name(), msg, s.Name(), s.args, s.Name())
	return ErrUsage
}

func (s *Set) flagNames() []string {
	var names []string
	s.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// EnvName is a flag's environment variable: --tls-addr is
// CDNSERVE_TLS_ADDR.
func EnvName(flagName string) string {
	return "CDNSERVE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// applyEnv sets each flag not given on the command line from its
// CDNSERVE_* environment variable.
func (s *Set) applyEnv() error {
	var err error
	s.VisitAll(func(f *flag.Flag) {
		if s.src[f.Name] != "default" || f.Name == "print-config" || err != nil {
			return
		}
		name := EnvName(f.Name)
		v, ok := s.e.lookupEnv(name)
		if !ok {
			return
		}
		if serr := setValue(f, splitIfRepeatable(f, v)); serr != nil {
			err = fmt.Errorf("%s=%q: %s", name, v, describe(f, serr))
			return
		}
		s.src[f.Name] = "env " + name
	})
	s.warnMisspeltEnv()
	return err
}

// warnMisspeltEnv warns of a CDNSERVE_ variable that is not a setting of
// this command but is one or two letters from one (CDNSERVE_REFRES): it
// is ignored, which would otherwise go unnoticed. A variable far from
// every setting may belong to another command or a script, and is left
// alone.
func (s *Set) warnMisspeltEnv() {
	if s.e.Environ == nil {
		return
	}
	var names []string
	s.VisitAll(func(f *flag.Flag) { names = append(names, EnvName(f.Name)) })
	for _, kv := range s.e.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "CDNSERVE_") || slices.Contains(names, name) {
			continue
		}
		for _, known := range names {
			if editDistance(name, known) <= 2 {
				fmt.Fprintf(s.e.Stderr, "cdnserve %s: warning: %s is not a setting of this command, and is ignored; did you mean %s?\n", s.Name(), name, known)
				break
			}
		}
	}
}

// invalidValue is the flag package's message for a value it could not
// parse: the flag's name and the value.
var invalidValue = regexp.MustCompile(`^invalid (?:boolean )?value ("[^"]*") for (?:flag )?-+([\w-]+): `)

// describe says what a flag's value should be when setting it failed
// with the flag package's bare "parse error", and otherwise the error.
func describe(f *flag.Flag, err error) string {
	if !strings.Contains(err.Error(), "parse error") {
		return err.Error()
	}
	return want(f)
}

// want says what values a flag takes, by its type.
func want(f *flag.Flag) string {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return "not a valid value"
	}
	switch g.Get().(type) {
	case time.Duration:
		return "not a duration: want a number and a unit, such as 500ms, 10s, 5m or 1h30m"
	case bool:
		return "want true or false"
	case int, int64, uint, uint64:
		return "want a whole number, such as 10"
	case float64:
		return "want a number, such as 0.5"
	}
	return "not a valid value"
}

// repeatable is a flag that collects one value per use (--mirror).
type repeatable interface{ repeatable() }

func splitIfRepeatable(f *flag.Flag, v string) []string {
	if _, ok := f.Value.(repeatable); ok {
		return SplitList(v)
	}
	return []string{v}
}

// setValue sets a flag from one value, or, for a repeatable flag, from
// each of several; a plain flag given several gets them comma-joined.
func setValue(f *flag.Flag, values []string) error {
	if _, ok := f.Value.(repeatable); !ok {
		return f.Value.Set(strings.Join(values, ","))
	}
	for _, v := range values {
		if err := f.Value.Set(v); err != nil {
			return err
		}
	}
	return nil
}

// applyRoot turns the deprecated --root into --storage, with one warning.
func (s *Set) applyRoot() error {
	if s.root == nil || s.src["root"] == "default" {
		return nil
	}
	fmt.Fprintf(s.e.Stderr, "cdnserve %s: warning: --root (%s) is deprecated; use --storage, which takes the same directory\n", s.Name(), s.src["root"])
	if s.src["storage"] != "default" {
		return fmt.Errorf("--root (%s) and --storage (%s) both given: --root is a deprecated name of --storage; give only --storage", s.src["root"], s.src["storage"])
	}
	*s.storage = *s.root
	s.src["storage"] = s.src["root"] + " (as --root)"
	return nil
}

// SetDerived sets a flag still at its default to a value derived from
// other settings, and says why.
func (s *Set) SetDerived(name, value, why string) {
	if s.src[name] == "default" {
		s.Lookup(name).Value.Set(value)
		s.src[name] = "default: " + why
	}
}

// Positional returns the positional arguments, once parsed (for a
// Derive step).
func (s *Set) Positional() []string { return s.pos }

// Source says where a setting's value came from: "flag", "env NAME",
// "config FILE:LINE", "default" or "default: why".
func (s *Set) Source(name string) string { return s.src[name] }

// SetFrom sets a flag from another source (a positional argument, for
// example), and says which.
func (s *Set) SetFrom(name, value, source string) error {
	if err := s.Lookup(name).Value.Set(value); err != nil {
		return err
	}
	s.src[name] = source
	return nil
}

// IsDefault reports whether no source set the flag.
func (s *Set) IsDefault(name string) bool { return s.src[name] == "default" }

// print writes every setting with its effective value and where it came
// from, secrets redacted.
func (s *Set) print() {
	s.VisitAll(func(f *flag.Flag) {
		if f.Name == "print-config" || (f.Name == "root" && s.src["root"] == "default") {
			return
		}
		fmt.Fprintf(s.e.Stdout, "%s: %q  # %s\n", f.Name, redact.Setting(f.Name, f.Value.String()), s.src[f.Name])
	})
}

// Nearest returns the candidate closest to name by edit distance, when it
// is close enough to be a typo, or "".
func Nearest(name string, candidates []string) string {
	best, bestD := "", len(name)/3+2
	for _, c := range candidates {
		if d := editDistance(name, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// applyConfigFile sets, from a YAML config file, each flag whose source
// is still its default. Unknown keys (with the nearest known one),
// duplicates and values that a flag refuses are errors naming the file
// and line.
func (s *Set) applyConfigFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: not valid YAML: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: want a mapping of flag names to values", path, m.Line)
	}
	var known []string
	s.VisitAll(func(f *flag.Flag) {
		if f.Name != "config" && f.Name != "print-config" {
			known = append(known, f.Name)
		}
	})
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		where := fmt.Sprintf("%s:%d", path, k.Line)
		switch {
		case !slices.Contains(known, k.Value):
			hint := ""
			if near := Nearest(k.Value, known); near != "" {
				hint = fmt.Sprintf("did you mean %q? ", near)
			}
			return fmt.Errorf("%s: unknown key %q (%skeys are the flags of this command: %s)", where, k.Value, hint, strings.Join(known, ", "))
		case seen[k.Value]:
			return fmt.Errorf("%s: duplicate key %q", where, k.Value)
		}
		seen[k.Value] = true
		values, err := configValues(v)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", where, k.Value, err)
		}
		if s.src[k.Value] != "default" {
			continue // a flag or the environment set it: they win
		}
		if err := setValue(s.Lookup(k.Value), values); err != nil {
			return fmt.Errorf("%s: %s: %q: %w", where, k.Value, strings.Join(values, ","), err)
		}
		s.src[k.Value] = "config " + where
	}
	return nil
}

// configValues turns a YAML value into flag values: a scalar as it is
// written, or a list of scalars (cors-origins, mirror).
func configValues(v *yaml.Node) ([]string, error) {
	switch {
	case v.Kind == yaml.ScalarNode && v.ShortTag() != "!!null":
		return []string{v.Value}, nil
	case v.Kind == yaml.SequenceNode:
		var items []string
		for _, c := range v.Content {
			if c.Kind != yaml.ScalarNode {
				return nil, errors.New("a list may hold only plain values")
			}
			items = append(items, c.Value)
		}
		return items, nil
	}
	return nil, errors.New("want a value or a list of values")
}
