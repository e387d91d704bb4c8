package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Configuration comes from four places, first found wins:
//
//  1. a flag on the command line;
//  2. its CDNSERVE_* environment variable (--tls-addr: CDNSERVE_TLS_ADDR);
//  3. the config file named by --config or CDNSERVE_CONFIG, a YAML
//     mapping whose keys are the flag names (tls-addr: ":8443");
//  4. the flag's default.
//
// parseConfigured applies them in that order and records each value's
// source, which `serve --print-config` shows.

// configFlag registers --config on a command that reads a config file.
func configFlag(fs *flag.FlagSet) {
	fs.String("config", "", "YAML `file` of settings, keyed by flag name (flags and CDNSERVE_* variables win over it)")
}

// parseConfigured parses a command that takes flags and no arguments, with
// the precedence above, and returns where each flag's value came from.
func parseConfigured(fs *flag.FlagSet, e *env, args []string) (map[string]string, error) {
	if err := parseFlagsOnly(fs, e, args); err != nil {
		return nil, err
	}
	src := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { src[f.Name] = "default" })
	fs.Visit(func(f *flag.Flag) { src[f.Name] = "flag" })
	fromEnv, err := applyEnv(fs, e)
	if err != nil {
		return nil, err
	}
	for name, v := range fromEnv {
		src[name] = "env " + v
	}
	if cf := fs.Lookup("config"); cf != nil && cf.Value.String() != "" {
		lines, err := applyConfigFile(fs, e.abs(cf.Value.String()), src)
		if err != nil {
			return nil, err
		}
		for name, where := range lines {
			src[name] = "config " + where
		}
	}
	return src, nil
}

// applyEnv sets each flag not given on the command line from its
// CDNSERVE_* environment variable, and returns flag name -> variable.
func applyEnv(fs *flag.FlagSet, e *env) (map[string]string, error) {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	set := map[string]string{}
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		name := "CDNSERVE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := e.lookupEnv(name); ok {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("%s=%q: %w", name, v, serr)
				return
			}
			set[f.Name] = name
		}
	})
	return set, err
}

// applyConfigFile sets, from a YAML config file, each flag whose source
// is still its default. Unknown keys, duplicates and values that a flag
// refuses are errors naming the file and line. It returns flag name ->
// file:line for the values it set.
func applyConfigFile(fs *flag.FlagSet, path string, src map[string]string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: not valid YAML: %w", path, err)
	}
	set := map[string]string{}
	if len(doc.Content) == 0 {
		return set, nil
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want a mapping of flag names to values", path, m.Line)
	}
	var known []string
	fs.VisitAll(func(f *flag.Flag) {
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
			return nil, fmt.Errorf("%s: unknown key %q (keys are the flags of this command: %s)", where, k.Value, strings.Join(known, ", "))
		case seen[k.Value]:
			return nil, fmt.Errorf("%s: duplicate key %q", where, k.Value)
		}
		seen[k.Value] = true
		value, err := configValue(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", where, k.Value, err)
		}
		if src[k.Value] != "default" {
			continue // a flag or the environment set it: they win
		}
		if err := fs.Set(k.Value, value); err != nil {
			return nil, fmt.Errorf("%s: %s: %q: %w", where, k.Value, value, err)
		}
		set[k.Value] = where
	}
	return set, nil
}

// configValue turns a YAML value into a flag value: a scalar as it is
// written, a list of scalars joined with commas (cors-origins).
func configValue(v *yaml.Node) (string, error) {
	switch {
	case v.Kind == yaml.ScalarNode && v.ShortTag() != "!!null":
		return v.Value, nil
	case v.Kind == yaml.SequenceNode:
		var items []string
		for _, c := range v.Content {
			if c.Kind != yaml.ScalarNode {
				return "", errors.New("a list may hold only plain values")
			}
			items = append(items, c.Value)
		}
		return strings.Join(items, ","), nil
	}
	return "", errors.New("want a value or a list of values")
}

// printConfig writes every setting of a command with its effective value
// and where it came from, secrets redacted.
func printConfig(e *env, fs *flag.FlagSet, src map[string]string) {
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "print-config" {
			return
		}
		fmt.Fprintf(e.stdout, "%s: %q  # %s\n", f.Name, redactSetting(f.Name, f.Value.String()), src[f.Name])
	})
}

// redactSetting hides what could be a secret: any setting named like one,
// and, in a storage URL, user info and query values other than the
// endpoint's address and region. Credentials belong in the AWS
// environment, but a URL may still carry them.
func redactSetting(name, value string) string {
	lower := strings.ToLower(name)
	if strings.Contains(lower, "secret") || strings.Contains(lower, "password") || strings.Contains(lower, "token") {
		return "REDACTED"
	}
	if name != "storage" || !strings.Contains(value, "://") {
		return value
	}
	u, err := url.Parse(value)
	if err != nil {
		return "REDACTED"
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	q := u.Query()
	safe := []string{"endpoint", "region", "use_path_style", "disable_https", "accelerate", "ssetype"}
	for k := range q {
		if !slices.Contains(safe, k) {
			q.Set(k, "REDACTED")
		} else if ep, err := url.Parse(q.Get(k)); err == nil && ep.User != nil {
			ep.User = url.User("REDACTED")
			q.Set(k, ep.String())
		}
	}
	u.RawQuery = q.Encode()
	if readable, err := url.QueryUnescape(u.RawQuery); err == nil {
		u.RawQuery = readable // for a person to read, not to parse
	}
	return u.String()
}
