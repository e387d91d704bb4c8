package npm

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cdnserve/cdnserve/redact"
)

// DefaultRegistry is npm's public registry, the registry of every package
// that no .npmrc or --npm-registry places elsewhere.
const DefaultRegistry = "https://registry.npmjs.org/"

// Config says which registry serves which package, and with which token:
// what npm reads from .npmrc files. Tokens are unexported: they are sent
// in Authorization headers and never printed (String redacts them).
type Config struct {
	// Registry is the registry of unscoped packages and of scopes with no
	// registry of their own, with a trailing slash.
	Registry string
	// Scopes maps "@scope" to its registry, with a trailing slash.
	Scopes map[string]string
	// Upstreams are the rules that .npmrc cannot say (--npm-upstream):
	// several registries for a pattern, tried in order (Rule).
	Upstreams []Upstream
	// tokens maps a registry's "nerf dart" (//host[:port]/path/, the URL
	// without its scheme) to its token.
	tokens map[string]string
	// Sources are the files read, in order, for messages.
	Sources []string
}

// NewConfig is a configuration with one registry and no token.
func NewConfig(registry string) *Config {
	return &Config{Registry: withSlash(registry), Scopes: map[string]string{}, tokens: map[string]string{}}
}

// LoadConfig reads .npmrc files as npm does: the user's (home/.npmrc),
// then the project's (dir/.npmrc), a later file overriding an earlier
// one key by key. It understands registry=, @scope:registry= and
// //host/path/:_authToken=, and expands ${VAR} (and ${VAR?}, empty when
// unset) from env. A missing file is no error; an unreadable or
// malformed one names the file and line.
func LoadConfig(dir, home string, env func(string) string) (*Config, error) {
	c := NewConfig(DefaultRegistry)
	for _, p := range []string{filepath.Join(home, ".npmrc"), filepath.Join(dir, ".npmrc")} {
		if home == "" && p == filepath.Join(home, ".npmrc") {
			continue
		}
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := c.parse(p, data, env); err != nil {
			return nil, err
		}
		c.Sources = append(c.Sources, p)
	}
	return c, nil
}

// parse applies one .npmrc file's lines.
func (c *Config) parse(name string, data []byte, env func(string) string) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return fmt.Errorf("%s:%d: expected key=value", name, n)
		}
		key, value = strings.TrimSpace(expand(key, env)), strings.TrimSpace(expand(unquote(strings.TrimSpace(value)), env))
		switch {
		case key == "registry":
			if err := checkRegistry(value); err != nil {
				return fmt.Errorf("%s:%d: registry: %w", name, n, err)
			}
			c.Registry = withSlash(value)
		case strings.HasPrefix(key, "@") && strings.HasSuffix(key, ":registry"):
			if err := checkRegistry(value); err != nil {
				return fmt.Errorf("%s:%d: %s: %w", name, n, key, err)
			}
			c.Scopes[strings.TrimSuffix(key, ":registry")] = withSlash(value)
		case strings.HasPrefix(key, "//") && strings.HasSuffix(key, ":_authToken"):
			c.tokens[withSlash(strings.TrimSuffix(key, ":_authToken"))] = value
		}
	}
	return sc.Err()
}

// unquote strips one pair of matching quotes, as npm's ini parser does.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// expand replaces ${VAR} and ${VAR?} with the variable's value.
func expand(s string, env func(string) string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return b.String() + s
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return b.String() + s
		}
		b.WriteString(s[:i])
		b.WriteString(env(strings.TrimSuffix(s[i+2:i+j], "?")))
		s = s[i+j+1:]
	}
}

func checkRegistry(u string) error {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("%q is not an http or https URL", redact.URL(u))
	}
	return nil
}

func withSlash(s string) string {
	if strings.HasSuffix(s, "/") {
		return s
	}
	return s + "/"
}

// SetRegistry makes every package come from one registry, as
// --npm-registry does: it replaces the default and every scope's.
func (c *Config) SetRegistry(u string) error {
	if err := checkRegistry(u); err != nil {
		return err
	}
	c.Registry, c.Scopes = withSlash(u), map[string]string{}
	return nil
}

// SetToken sets the token sent to a registry (its URL) and below it.
func (c *Config) SetToken(registry, token string) {
	c.tokens[nerfDart(registry)] = token
}

// RegistryFor is the first registry a package comes from (Rule).
func (c *Config) RegistryFor(name string) string {
	return c.Rule(name).Registries[0]
}

// tokenFor returns the token for a request URL: the one configured for
// the longest registry prefix (//host[:port]/path/) the URL is under, so
// a scope's token goes to its registry and nowhere else.
func (c *Config) tokenFor(u string) string {
	nd := nerfDart(u)
	best, token := "", ""
	for prefix, t := range c.tokens {
		if strings.HasPrefix(nd, prefix) && len(prefix) > len(best) {
			best, token = prefix, t
		}
	}
	return token
}

// nerfDart is a URL without its scheme, query and fragment, as npm keys
// credentials: "https://r.example:8443/npm/x" is "//r.example:8443/npm/x".
func nerfDart(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return "//" + p.Host + p.Path
}

// String describes the configuration without its tokens: the registries,
// and which registries have a token.
func (c *Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "registry=%s", redact.URL(c.Registry))
	scopes := make([]string, 0, len(c.Scopes))
	for s := range c.Scopes {
		scopes = append(scopes, s)
	}
	sort.Strings(scopes)
	for _, s := range scopes {
		fmt.Fprintf(&b, " %s:registry=%s", s, redact.URL(c.Scopes[s]))
	}
	for _, u := range c.Upstreams {
		fmt.Fprintf(&b, " upstream %s=", u.Pattern)
		for i, r := range u.Registries {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(redact.URL(r))
		}
	}
	dart := make([]string, 0, len(c.tokens))
	for d := range c.tokens {
		dart = append(dart, d)
	}
	sort.Strings(dart)
	for _, d := range dart {
		fmt.Fprintf(&b, " %s:_authToken=(redacted)", d)
	}
	return b.String()
}
