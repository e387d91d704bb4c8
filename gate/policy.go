package gate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/cdnserve/cdnserve/internal/settings"
	"go.yaml.in/yaml/v3"
)

// Level is how a check is applied: Off does not run it, Warn runs it and
// records what it found but admits, Require refuses what fails it. Auto,
// for signatures alone, is Require when the registry publishes signing
// keys and Warn (said once) when it does not.
type Level uint8

const (
	Off Level = iota
	Warn
	Require
	Auto
)

var levelNames = map[Level]string{Off: "off", Warn: "warn", Require: "require", Auto: "auto"}

func (l Level) String() string { return levelNames[l] }

// MarshalText writes the level's name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// ParseLevel reads off, warn or require (and auto when auto is true).
func ParseLevel(s string, auto bool) (Level, error) {
	for l, name := range levelNames {
		if name == s && (l != Auto || auto) {
			return l, nil
		}
	}
	if auto {
		return 0, fmt.Errorf("%q is not off, warn, require or auto", s)
	}
	return 0, fmt.Errorf("%q is not off, warn or require", s)
}

// Severity ranks an advisory, as GitHub's advisories do.
type Severity uint8

const (
	Low Severity = iota + 1
	Moderate
	High
	Critical
)

var severityNames = map[Severity]string{Low: "low", Moderate: "moderate", High: "high", Critical: "critical"}

func (s Severity) String() string {
	if n, ok := severityNames[s]; ok {
		return n
	}
	return "unknown"
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// ParseSeverity reads low, moderate (or medium), high or critical, in
// any case.
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(s) {
	case "low":
		return Low, nil
	case "moderate", "medium":
		return Moderate, nil
	case "high":
		return High, nil
	case "critical":
		return Critical, nil
	}
	return 0, fmt.Errorf("%q is not low, moderate, high or critical", s)
}

// Duration is a time.Duration written as "72h".
type Duration time.Duration

// MarshalText writes the duration as time.Duration prints it.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Settings are the checks' levels and parameters. In a Policy, a nil
// field is not set there: it takes the default, or what an earlier layer
// set.
type Settings struct {
	// Signatures checks the registry's ECDSA signatures (dist.signatures)
	// against its keys (/-/npm/v1/keys).
	Signatures *Level `yaml:"signatures,omitempty"`
	// Provenance verifies a version's Sigstore provenance attestation;
	// Require refuses a version without one.
	Provenance *Level `yaml:"provenance,omitempty"`
	// Repository is a path.Match glob the provenance's source repository
	// must match ("https://github.com/corp/*"); it needs provenance.
	Repository *string `yaml:"repository,omitempty"`
	// Malware refuses versions with a MAL- entry in the OSV database.
	Malware *Level `yaml:"malware,omitempty"`
	// Advisories applies to versions with advisories at or above
	// Severity.
	Advisories *Level    `yaml:"advisories,omitempty"`
	Severity   *Severity `yaml:"severity,omitempty"`
	MinAge     *Duration `yaml:"min_age,omitempty"`
	Age        *Level    `yaml:"age,omitempty"`
	Licenses   *[]string `yaml:"licenses,omitempty"`
	License    *Level    `yaml:"license,omitempty"`
	Scripts    *Level    `yaml:"install_scripts,omitempty"`
	Maintainer *Level    `yaml:"new_maintainers,omitempty"`
}

// Rule applies its settings to the packages its patterns match (a name,
// or a path.Match glob such as "@corp/*"). Rules apply in order, each
// over what came before.
type Rule struct {
	Match    []string `yaml:"match"`
	Settings `yaml:",inline"`
}

// Policy is what the gate checks, for every package and by rule. It is
// one YAML file (docs/security.md), or flags, or both: flags win.
type Policy struct {
	Settings `yaml:",inline"`
	// Keys is a pinned file of the registry's keys, in the format of
	// /-/npm/v1/keys, used instead of asking the registry (offline).
	Keys string `yaml:"keys,omitempty"`
	// TrustedRoot is a Sigstore trusted root (trusted_root.json); empty
	// uses the public-good root cdnserve embeds.
	TrustedRoot string `yaml:"trusted_root,omitempty"`
	// OSVDB is an OSV database for npm: a .json file, a directory of
	// them, or OSV's all.zip.
	OSVDB string `yaml:"osv_db,omitempty"`
	Rules []Rule `yaml:"rules,omitempty"`
	// Source says where the policy came from: a file, "flags", or both.
	Source string `yaml:"-"`
}

// Checks are the settings in force for one package: every field set.
type Checks struct {
	Signatures, Provenance, Malware, Advisories, Age, License, Scripts, Maintainer Level
	Repository                                                                     string
	Severity                                                                       Severity
	MinAge                                                                         time.Duration
	Licenses                                                                       []string
}

// defaults are the checks with no policy: signatures required where the
// registry signs, provenance verified where there is one, malware
// refused and advisories recorded when a database is given, install
// scripts and new maintainers recorded.
var defaults = Checks{Signatures: Auto, Provenance: Warn, Malware: Require, Advisories: Warn, Severity: High,
	Age: Require, License: Require, Scripts: Warn, Maintainer: Warn}

// For returns the checks in force for a package.
func (p *Policy) For(name string) Checks {
	c := defaults
	p.Settings.apply(&c)
	for _, r := range p.Rules {
		if r.matches(name) {
			r.Settings.apply(&c)
		}
	}
	return c
}

func (r *Rule) matches(name string) bool {
	for _, m := range r.Match {
		if ok, _ := path.Match(m, name); ok {
			return true
		}
	}
	return false
}

func (s *Settings) apply(c *Checks) {
	set := func(dst *Level, src *Level) {
		if src != nil {
			*dst = *src
		}
	}
	set(&c.Signatures, s.Signatures)
	set(&c.Provenance, s.Provenance)
	set(&c.Malware, s.Malware)
	set(&c.Advisories, s.Advisories)
	set(&c.Age, s.Age)
	set(&c.License, s.License)
	set(&c.Scripts, s.Scripts)
	set(&c.Maintainer, s.Maintainer)
	if s.Repository != nil {
		c.Repository = *s.Repository
	}
	if s.Severity != nil {
		c.Severity = *s.Severity
	}
	if s.MinAge != nil {
		c.MinAge = time.Duration(*s.MinAge)
	}
	if s.Licenses != nil {
		c.Licenses = *s.Licenses
	}
}

// Digest names the policy in force: the SHA-256 of its YAML. The audit
// log records it with every decision.
func (p *Policy) Digest() string {
	sum := sha256.Sum256(p.YAML())
	return "sha256:" + hex.EncodeToString(sum[:8])
}

// YAML is the policy as a file would say it.
func (p *Policy) YAML() []byte {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	enc.Encode(p)
	return b.Bytes()
}

// ReadPolicy reads a policy file; the files it names (keys, trusted
// root, database) are relative to it.
func ReadPolicy(name, file string) (*Policy, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--policy: %w", err)
	}
	p, err := ParsePolicy(name, data)
	if err != nil {
		return nil, err
	}
	for _, f := range []*string{&p.Keys, &p.TrustedRoot, &p.OSVDB} {
		if *f != "" && !filepath.IsAbs(*f) {
			*f = filepath.Join(filepath.Dir(file), *f)
		}
	}
	return p, nil
}

// RequireProvenance adds a rule that requires provenance for the
// packages a pattern matches (--npm-provenance).
func (p *Policy) RequireProvenance(pattern string) error {
	if _, err := path.Match(pattern, ""); err != nil || pattern == "" {
		return fmt.Errorf("%q: not a package name or a glob such as '@corp/*'", pattern)
	}
	req := Require
	p.Rules = append(p.Rules, Rule{Match: []string{pattern}, Settings: Settings{Provenance: &req}})
	return nil
}

// Overridden notes that flags changed the policy: its Source says
// which.
func (p *Policy) Overridden(flags []string) {
	if len(flags) == 0 {
		return
	}
	if p.Source == "" || p.Source == "defaults" {
		p.Source = "flags"
	} else {
		p.Source += " + flags"
	}
	p.Source += " " + strings.Join(flags, " ")
}

// settingNames are the keys a policy's mapping may hold, for errors.
var settingNames = []string{"signatures", "provenance", "repository", "malware", "advisories", "severity", "min_age", "age",
	"licenses", "license", "install_scripts", "new_maintainers", "keys", "trusted_root", "osv_db", "rules", "match"}

// ParsePolicy reads a policy file's bytes; errors name the file and the
// line.
func ParsePolicy(file string, data []byte) (*Policy, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %v", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	p := &Policy{Source: file}
	if len(root.Content) == 0 {
		return p, nil
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: a policy is a mapping of settings (signatures: require, …)", file, doc.Line)
	}
	if err := p.readMapping(file, doc, false); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Policy) readMapping(file string, m *yaml.Node, inRule bool) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		at := func(format string, a ...any) error {
			return fmt.Errorf("%s:%d: %s: %s", file, v.Line, k.Value, fmt.Sprintf(format, a...))
		}
		switch k.Value {
		case "keys", "trusted_root", "osv_db", "rules":
			if inRule {
				return fmt.Errorf("%s:%d: %s is set for the whole policy, not in a rule", file, k.Line, k.Value)
			}
		}
		switch k.Value {
		case "keys":
			p.Keys = v.Value
		case "trusted_root":
			p.TrustedRoot = v.Value
		case "osv_db":
			p.OSVDB = v.Value
		case "rules":
			if v.Kind != yaml.SequenceNode {
				return at("a list of rules, each with match: and settings")
			}
			for _, rn := range v.Content {
				if rn.Kind != yaml.MappingNode {
					return fmt.Errorf("%s:%d: a rule is a mapping with match: and settings", file, rn.Line)
				}
				sub := &Policy{}
				if err := sub.readMapping(file, rn, true); err != nil {
					return err
				}
				if len(sub.Rules) != 1 || len(sub.Rules[0].Match) == 0 {
					return fmt.Errorf("%s:%d: a rule needs match: a package name or a glob such as '@corp/*'", file, rn.Line)
				}
				r := sub.Rules[0]
				r.Settings = sub.Settings
				p.Rules = append(p.Rules, r)
			}
		case "match":
			if !inRule {
				return fmt.Errorf("%s:%d: match belongs in a rule (rules: - match: …)", file, k.Line)
			}
			var pats []string
			if err := v.Decode(&pats); err != nil {
				var one string
				if err := v.Decode(&one); err != nil {
					return at("a package name or glob, or a list of them")
				}
				pats = []string{one}
			}
			for _, pat := range pats {
				if _, err := path.Match(pat, ""); err != nil || pat == "" {
					return at("%q is not a package name or a glob such as '@corp/*'", pat)
				}
			}
			p.Rules = []Rule{{Match: pats}}
		default:
			if err := p.Settings.set(k.Value, v.Value, v); err != nil {
				if errors.Is(err, errUnknown) {
					msg := fmt.Sprintf("%s:%d: unknown setting %q", file, k.Line, k.Value)
					if near := settings.Nearest(k.Value, settingNames); near != "" {
						msg += "; did you mean " + near + "?"
					}
					return errors.New(msg)
				}
				return at("%v", err)
			}
		}
	}
	return nil
}

var errUnknown = errors.New("unknown setting")

// Set sets one setting by its name in the file (as a flag does).
func (s *Settings) Set(name, value string) error { return s.set(name, value, nil) }

func (s *Settings) set(name, value string, node *yaml.Node) error {
	level := func(dst **Level, auto bool) error {
		l, err := ParseLevel(value, auto)
		*dst = &l
		return err
	}
	switch name {
	case "signatures":
		return level(&s.Signatures, true)
	case "provenance":
		return level(&s.Provenance, false)
	case "malware":
		return level(&s.Malware, false)
	case "advisories":
		return level(&s.Advisories, false)
	case "age":
		return level(&s.Age, false)
	case "license":
		return level(&s.License, false)
	case "install_scripts":
		return level(&s.Scripts, false)
	case "new_maintainers":
		return level(&s.Maintainer, false)
	case "repository":
		if _, err := path.Match(value, ""); err != nil {
			return fmt.Errorf("%q is not a URL or a glob such as https://github.com/corp/*", value)
		}
		s.Repository = &value
	case "severity":
		sev, err := ParseSeverity(value)
		s.Severity = &sev
		return err
	case "min_age":
		d, err := time.ParseDuration(value)
		if err != nil || d < 0 {
			return fmt.Errorf("%q is not a duration such as 72h", value)
		}
		dd := Duration(d)
		s.MinAge = &dd
	case "licenses":
		var list []string
		if node != nil && node.Kind == yaml.SequenceNode {
			if err := node.Decode(&list); err != nil {
				return fmt.Errorf("a list of SPDX expressions such as [MIT, Apache-2.0]")
			}
		} else {
			for _, l := range strings.Split(value, ",") {
				if l = strings.TrimSpace(l); l != "" {
					list = append(list, l)
				}
			}
		}
		for _, l := range list {
			if _, err := parseSPDX(l); err != nil {
				return fmt.Errorf("%q: %v", l, err)
			}
		}
		s.Licenses = &list
	default:
		return errUnknown
	}
	return nil
}

// repositoryMatches reports whether a provenance's repository URL
// matches a policy's glob, with or without the URL's scheme.
func repositoryMatches(glob, repo string) bool {
	if glob == "" {
		return true
	}
	ok, _ := path.Match(glob, repo)
	if !ok {
		// "github.com/corp/*" matches "https://github.com/corp/x".
		ok, _ = path.Match(glob, schemeRE.ReplaceAllString(repo, ""))
	}
	return ok
}

var schemeRE = regexp.MustCompile(`^[a-z+]+://`)
