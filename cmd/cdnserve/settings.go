package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/cdnserve/cdnserve/redact"
)

// Every command reads its settings the same way, through settings:
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
// effective value and where it came from. Commands that read or write a
// tree take --storage (and the deprecated --root).

// errPrinted says a command did what --print-config asked: exit 0.
var errPrinted = errors.New("printed the configuration")

// settings is one command's flags, parsed by the rules above.
type settings struct {
	*flag.FlagSet
	e              *env
	args, examples string
	config         *string
	printConfig    *bool
	storage, root  *string // set by storageFlag
	src            map[string]string
	pos            []string
	derived        []func() error
}

// newSettings makes a command's flag set, with --config and
// --print-config; args describes its positional arguments in the usage.
func newSettings(e *env, name, args, examples string) *settings {
	s := &settings{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), e: e, args: args, examples: examples}
	s.config = s.String("config", "", "YAML `file` of settings, keyed by flag name (flags and CDNSERVE_* variables win over it)")
	s.printConfig = s.Bool("print-config", false, "print the effective settings, where each came from, with secrets redacted; then exit")
	return s
}

// usage writes the command's usage, flags and examples.
func (s *settings) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: cdnserve %s %s\n\nFlags:\n", s.Name(), s.args)
	s.SetOutput(w)
	s.PrintDefaults()
	fmt.Fprintf(w, "\nExamples:\n%s", s.examples)
}

// storageFlag registers --storage, and --root, its deprecated alias for a
// local directory. The default is def; "" lets the command choose.
func (s *settings) storageFlag(def, what string) *string {
	s.storage = s.String("storage", def, what+": a directory, mem:// or s3://bucket/prefix?endpoint=…&region=…")
	s.root = s.String("root", "", "deprecated: the same as --storage `dir`")
	return s.storage
}

// derive registers a step that fills a default from other settings. It
// runs after every source is read, before --print-config prints.
func (s *settings) derive(fn func() error) { s.derived = append(s.derived, fn) }

// parse reads the command line, the environment and the config file, in
// that order of precedence, and returns the positional arguments, of
// which there must be between min and max (max < 0: no limit); need says
// what they are when the count is wrong. With --print-config it prints
// and returns errPrinted.
func (s *settings) parse(args []string, min, max int, need string) ([]string, error) {
	pos, err := s.parseLine(args)
	if err != nil {
		return nil, err
	}
	if len(pos) < min || (max >= 0 && len(pos) > max) {
		msg := need
		if max >= 0 && len(pos) > max {
			msg = fmt.Sprintf("unexpected argument %q", pos[max])
		}
		return nil, s.usageError(msg)
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
		return nil, errPrinted
	}
	return pos, nil
}

// parseLine parses flags that may come before, between or after the
// positional arguments (`publish out --version 1.0.0`), and returns the
// positional ones; "--" ends the flags. -h prints the usage on stdout.
func (s *settings) parseLine(args []string) ([]string, error) {
	var pos []string
	for {
		var msg bytes.Buffer
		s.SetOutput(&msg)
		s.Usage = func() {}
		err := s.Parse(args)
		switch {
		case errors.Is(err, flag.ErrHelp):
			s.usage(s.e.stdout)
			return nil, err
		case err != nil:
			line := strings.TrimSpace(msg.String())
			if name, ok := strings.CutPrefix(line, "flag provided but not defined: -"); ok {
				if near := nearest(strings.TrimLeft(name, "-"), s.flagNames()); near != "" {
					line += "; did you mean --" + near + "?"
				}
			}
			return nil, s.usageError(line)
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

// usageError prints a command-line mistake and the usage on stderr: exit 2.
func (s *settings) usageError(msg string) error {
	fmt.Fprintf(s.e.stderr, "cdnserve %s: %s\n\n", s.Name(), msg)
	s.usage(s.e.stderr)
	return errUsage
}

func (s *settings) flagNames() []string {
	var names []string
	s.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// envName is a flag's environment variable: --tls-addr is
// CDNSERVE_TLS_ADDR.
func envName(flagName string) string {
	return "CDNSERVE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// applyEnv sets each flag not given on the command line from its
// CDNSERVE_* environment variable.
func (s *settings) applyEnv() error {
	var err error
	s.VisitAll(func(f *flag.Flag) {
		if s.src[f.Name] != "default" || f.Name == "print-config" || err != nil {
			return
		}
		name := envName(f.Name)
		v, ok := s.e.lookupEnv(name)
		if !ok {
			return
		}
		if serr := setValue(f, splitIfRepeatable(f, v)); serr != nil {
			err = fmt.Errorf("%s=%q: %w", name, v, serr)
			return
		}
		s.src[f.Name] = "env " + name
	})
	return err
}

// repeatable is a flag that collects one value per use (--mirror).
type repeatable interface{ repeatable() }

func splitIfRepeatable(f *flag.Flag, v string) []string {
	if _, ok := f.Value.(repeatable); ok {
		return splitList(v)
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
func (s *settings) applyRoot() error {
	if s.root == nil || s.src["root"] == "default" {
		return nil
	}
	fmt.Fprintf(s.e.stderr, "cdnserve %s: warning: --root (%s) is deprecated; use --storage, which takes the same directory\n", s.Name(), s.src["root"])
	if s.src["storage"] != "default" {
		return fmt.Errorf("--root (%s) and --storage (%s) both given: --root is a deprecated name of --storage; give only --storage", s.src["root"], s.src["storage"])
	}
	*s.storage = *s.root
	s.src["storage"] = s.src["root"] + " (as --root)"
	return nil
}

// setDerived sets a flag still at its default to a value derived from
// other settings, and says why.
func (s *settings) setDerived(name, value, why string) {
	if s.src[name] == "default" {
		s.Lookup(name).Value.Set(value)
		s.src[name] = "default: " + why
	}
}

// isDefault reports whether no source set the flag.
func (s *settings) isDefault(name string) bool { return s.src[name] == "default" }

// print writes every setting with its effective value and where it came
// from, secrets redacted.
func (s *settings) print() {
	s.VisitAll(func(f *flag.Flag) {
		if f.Name == "print-config" || (f.Name == "root" && s.src["root"] == "default") {
			return
		}
		fmt.Fprintf(s.e.stdout, "%s: %q  # %s\n", f.Name, redact.Setting(f.Name, f.Value.String()), s.src[f.Name])
	})
}

// nearest returns the candidate closest to name by edit distance, when it
// is close enough to be a typo, or "".
func nearest(name string, candidates []string) string {
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
