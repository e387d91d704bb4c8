package npm

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/cdnserve/cdnserve/redact"
	"github.com/cdnserve/cdnserve/retry"
)

// Upstream is one rule of where packages come from: the packages that
// Pattern matches come from Registries, tried in order. A later registry
// is asked only when the ones before it are unavailable (refused, timed
// out, 5xx, or their breaker is open), never when one answers that it
// has no such package: a 404 is an answer, and a backup is a copy of the
// same packages, not a second source of names.
type Upstream struct {
	// Pattern is a package name ("left-pad"), a scope's glob ("@corp/*"),
	// another path.Match glob ("corp-*"), or "*": every package (matchName).
	Pattern string
	// Registries are the registry URLs, each with a trailing slash.
	Registries []string
	// From says where the rule was set, for messages (".npmrc",
	// "--npm-upstream").
	From string
}

// ParseUpstream reads one --npm-upstream rule: "PATTERN=URL [URL…]",
// the registries separated by spaces, in the order they are tried.
func ParseUpstream(s string) (Upstream, error) {
	pattern, urls, ok := strings.Cut(s, "=")
	pattern = strings.TrimSpace(pattern)
	if !ok || pattern == "" {
		return Upstream{}, fmt.Errorf("%q: want PATTERN=URL [URL…], such as '@corp/*=https://npm.corp.example/' or '*=https://registry.npmjs.org/ https://mirror.example/'", redact.Text(s))
	}
	if _, err := path.Match(pattern, "x"); err != nil {
		return Upstream{}, fmt.Errorf("%q: the pattern %q is not a valid glob: %v", redact.Text(s), pattern, err)
	}
	u := Upstream{Pattern: pattern, From: "--npm-upstream"}
	for _, r := range strings.Fields(urls) {
		if err := checkRegistry(r); err != nil {
			return Upstream{}, fmt.Errorf("%s: %w", pattern, err)
		}
		if slices.Contains(u.Registries, withSlash(r)) {
			return Upstream{}, fmt.Errorf("%s: %s is listed twice", pattern, redact.URL(r))
		}
		u.Registries = append(u.Registries, withSlash(r))
	}
	if len(u.Registries) == 0 {
		return Upstream{}, fmt.Errorf("%s: no registry URL after '='", pattern)
	}
	return u, nil
}

// AddUpstream adds a rule (ParseUpstream); a second rule for the same
// pattern is an error, since the order of two would be a guess.
func (c *Config) AddUpstream(u Upstream) error {
	for _, old := range c.Upstreams {
		if old.Pattern == u.Pattern {
			return fmt.Errorf("--npm-upstream %s is given twice; list every registry of a pattern in one rule, in order", u.Pattern)
		}
	}
	c.Upstreams = append(c.Upstreams, u)
	return nil
}

// Rule is the one rule a package's documents come from: the most
// specific of the --npm-upstream rules and the .npmrc scopes that match
// its name (an exact name, then the glob with the longest text before
// its first wildcard, then the earlier rule), else the default registry.
// Only that rule's registries are ever asked for the package, so a
// package whose scope or pattern has a registry of its own can never be
// fetched from another: dependency confusion is impossible by
// construction, whatever the public registry holds.
func (c *Config) Rule(name string) Upstream {
	rules := c.rules()
	best, bestRank := rules[len(rules)-1], -1
	for _, r := range rules {
		if !matchName(r.Pattern, name) {
			continue
		}
		if rank := specificity(r.Pattern); rank > bestRank {
			best, bestRank = r, rank
		}
	}
	return best
}

// matchName reports whether a rule's pattern matches a package name:
// "*" matches every name, scoped or not; another pattern is a path.Match
// glob, so "@corp/*" matches the scope's packages and "corp-*" unscoped
// names only.
func matchName(pattern, name string) bool {
	if pattern == "*" {
		return true
	}
	ok, _ := path.Match(pattern, name)
	return ok
}

// rules are every rule: --npm-upstream's, then .npmrc's scopes, then
// the default registry's, last.
func (c *Config) rules() []Upstream {
	var rules []Upstream
	rules = append(rules, c.Upstreams...)
	scopes := make([]string, 0, len(c.Scopes))
	for s := range c.Scopes {
		scopes = append(scopes, s)
	}
	sort.Strings(scopes)
	for _, s := range scopes {
		rules = append(rules, Upstream{Pattern: s + "/*", Registries: []string{c.Scopes[s]}, From: ".npmrc " + s + ":registry"})
	}
	return append(rules, Upstream{Pattern: "*", Registries: []string{c.Registry}, From: "registry"})
}

// specificity ranks a pattern: an exact name above every glob, then the
// longer the text before the first wildcard, the more specific.
func specificity(pattern string) int {
	i := strings.IndexAny(pattern, "*?[\\")
	if i < 0 {
		return 1 << 20
	}
	return i
}

// Upstreams are the registries this client asks, each with its breaker's
// state, in the order of the rules.
func (c *Client) Upstreams() []retry.Upstream {
	var out []retry.Upstream
	index := map[string]int{}
	for _, r := range c.Config.rules() {
		for _, reg := range r.Registries {
			i, ok := index[reg]
			if !ok {
				i = len(out)
				index[reg] = i
				out = append(out, retry.Upstream{URL: redact.URL(reg), BreakerState: c.breaker(reg).State()})
			}
			out[i].Patterns = append(out[i].Patterns, r.Pattern)
		}
	}
	return out
}

// breaker is a registry's circuit breaker, made on first use.
func (c *Client) breaker(registry string) *retry.Breaker {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.breakers == nil {
		c.breakers = map[string]*retry.Breaker{}
	}
	b := c.breakers[registry]
	if b == nil {
		b = retry.NewBreaker(c.BreakerFailures, c.BreakerCooldown, c.Clock)
		c.breakers[registry] = b
	}
	return b
}

// unavailable reports whether an error is the registry's failure (down,
// timed out, 5xx): what a breaker counts, and what sends a request on to
// the next registry of its rule.
func unavailable(err error) bool {
	return errors.Is(err, ErrUnavailable) || errors.Is(err, ErrTimeout)
}

// failure says why a registry failed, for /-/upstreams: the registry's
// part of the error ("registry unavailable (HTTP 503)", "registry timed
// out"), without the package or URL it was asked for, which may be a
// private name.
func failure(err error) string {
	if !unavailable(err) {
		return ""
	}
	switch msg := err.Error(); {
	case errors.Is(err, ErrTimeout):
		return ErrTimeout.Error()
	case strings.Contains(msg, ErrUnavailable.Error()):
		return redact.Text(msg[strings.LastIndex(msg, ErrUnavailable.Error()):])
	}
	return ErrUnavailable.Error()
}

// fromRule asks the registries of a package's rule in order, skipping
// those whose breaker is open, until one answers: an answer (a document,
// a 404, a refusal) ends the search; only an unavailable registry sends
// it on. fetch does one request to one registry.
func (c *Client) fromRule(name string, fetch func(registry string) (*Packument, error)) (*Packument, error) {
	rule := c.Config.Rule(name)
	var errs []error
	for _, registry := range rule.Registries {
		b := c.breaker(registry)
		if !b.Allow() {
			st := b.State()
			retryAt := ""
			if st.RetryAt != nil {
				retryAt = " until " + st.RetryAt.Format("15:04:05")
			}
			errs = append(errs, fmt.Errorf("%s: %w: skipped, its breaker is %s%s after %d failures", redact.URL(registry), ErrUnavailable, st.State, retryAt, st.FailuresInRow))
			continue
		}
		v, err := fetch(registry)
		failed := unavailable(err)
		b.Done(failed, failure(err))
		if !failed {
			return v, err
		}
		errs = append(errs, err)
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	return nil, fmt.Errorf("every registry for %s (%s) failed: %w", rule.Pattern, rule.From, errors.Join(errs...))
}
