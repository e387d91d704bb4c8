package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// applyConfigFile sets, from a YAML config file, each flag whose source
// is still its default. Unknown keys (with the nearest known one),
// duplicates and values that a flag refuses are errors naming the file
// and line.
func (s *settings) applyConfigFile(path string) error {
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
			if near := nearest(k.Value, known); near != "" {
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
