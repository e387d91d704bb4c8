package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cdnserve/cdnserve/gate"
	"github.com/cdnserve/cdnserve/internal/settings"
	"github.com/cdnserve/cdnserve/npm"
	"github.com/spf13/afero"
)

// npmFlags are the registry and supply-chain settings add, build and
// serve share (and dev and importmap, which fetch too).
type npmFlags struct {
	registry string
	cacheDir string
	// upstreams are the --npm-upstream rules; offline never touches the
	// network; the breaker's settings say when a registry is skipped.
	upstreams       settings.StringList
	offline         bool
	breakerFailures int
	breakerCooldown time.Duration
	// The supply-chain gate (package gate): a policy file, and flags for
	// the common cases, which win over it.
	policyFile string
	signatures string
	provenance settings.StringList
	osvDB      string
	minAge     string
	licenses   string
	keys       string
	// policy is what the gate enforces, made once every setting is read.
	policy *gate.Policy
}

func (n *npmFlags) register(e *env, fs *settings.Set) {
	fs.StringVar(&n.registry, "npm-registry", "", "fetch every npm package from this registry `URL`, whatever .npmrc says (its tokens still apply)")
	fs.Var(&n.upstreams, "npm-upstream", "the registries of the npm packages matching a pattern, tried in `order`: 'PATTERN=URL [URL…]', such as '@corp/*=https://npm.corp.example/' or '*=https://registry.npmjs.org/ https://mirror.example/' (repeatable); a later URL is asked only while the earlier ones are down, and a package is never asked of another pattern's registries")
	fs.BoolVar(&n.offline, "offline", false, "never touch the network: resolve and serve from storage and the npm cache only; what they lack fails (504 when serving), naming it")
	fs.IntVar(&n.breakerFailures, "npm-breaker-failures", 3, "failed requests in a row after which a registry is skipped (its circuit breaker opens)")
	fs.DurationVar(&n.breakerCooldown, "npm-breaker-cooldown", 30*time.Second, "how long a registry whose breaker opened is skipped before one request tries it again")
	fs.StringVar(&n.cacheDir, "npm-cache", "", "keep verified npm tarballs in this `dir`, keyed by integrity (default: the user's cache dir/cdnserve/npm)")
	fs.StringVar(&n.policyFile, "policy", "", "the supply-chain gate's policy, a YAML `file` (docs/security.md); the --npm-* gate flags win over it")
	fs.StringVar(&n.signatures, "npm-signatures", "auto", "check the registry's signatures: off, warn, require, or auto (require when the registry publishes keys at /-/npm/v1/keys; otherwise warn once)")
	fs.Var(&n.provenance, "npm-provenance", "require a verified Sigstore provenance for the npm packages matching this `pattern` ('@corp/*'; repeatable)")
	fs.StringVar(&n.osvDB, "osv-db", "", "an OSV database for npm (a .json file, a directory of them, or OSV's all.zip): versions with a MAL- entry are refused, advisories recorded")
	fs.StringVar(&n.minAge, "npm-min-age", "", "refuse npm versions published less than this `duration` ago (72h), by the document's time")
	fs.StringVar(&n.licenses, "npm-licenses", "", "admit only npm versions whose licence satisfies these SPDX `expressions` (MIT,ISC,Apache-2.0)")
	fs.StringVar(&n.keys, "npm-keys", "", "a pinned `file` of the registry's signing keys (the format of /-/npm/v1/keys), for offline use")
	fs.Derive(func() error {
		p, err := n.makePolicy(e, fs)
		n.policy = p
		return err
	})
	fs.AlsoPrint(func(w io.Writer) {
		fmt.Fprintf(w, "# the supply-chain policy in force (%s, %s):\n", n.policy.Source, n.policy.Digest())
		for _, line := range strings.Split(strings.TrimRight(string(n.policy.YAML()), "\n"), "\n") {
			fmt.Fprintln(w, "#   "+line)
		}
	})
}

// makePolicy reads --policy, then lays the gate flags over it (the
// flags' paths are relative to the directory).
func (n *npmFlags) makePolicy(e *env, fs *settings.Set) (*gate.Policy, error) {
	p := &gate.Policy{Source: "defaults"}
	if n.policyFile != "" {
		var err error
		if p, err = gate.ReadPolicy(n.policyFile, e.abs(n.policyFile)); err != nil {
			return nil, err
		}
	}
	var flags []string
	for _, s := range [][3]string{{"npm-signatures", "signatures", n.signatures}, {"npm-min-age", "min_age", n.minAge}, {"npm-licenses", "licenses", n.licenses}} {
		if fs.IsDefault(s[0]) {
			continue
		}
		if err := p.Settings.Set(s[1], s[2]); err != nil {
			return nil, fmt.Errorf("--%s: %v", s[0], err)
		}
		flags = append(flags, "--"+s[0])
	}
	for _, pat := range n.provenance {
		if err := p.RequireProvenance(pat); err != nil {
			return nil, fmt.Errorf("--npm-provenance %v", err)
		}
		flags = append(flags, "--npm-provenance")
	}
	if n.osvDB != "" {
		p.OSVDB, flags = e.abs(n.osvDB), append(flags, "--osv-db")
	}
	if n.keys != "" {
		p.Keys, flags = e.abs(n.keys), append(flags, "--npm-keys")
	}
	p.Overridden(flags)
	return p, nil
}

// gate makes the supply-chain gate of the policy, logging its decisions
// into the storage the command writes to (fsys nil: none, for dev).
func (n *npmFlags) gate(e *env, fsys afero.Fs, root string, logger *slog.Logger) (*gate.Gate, error) {
	o := gate.Options{Policy: n.policy, Logger: logger}
	if fsys != nil {
		o.Log = &gate.AuditLog{Fs: fsys, Root: root}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return gate.New(o)
}

// client reads .npmrc as npm does (the user's, then the one in dir) and
// makes a registry client with the flags applied.
func (n *npmFlags) client(e *env, dir string) (*npm.Client, error) {
	home, _ := e.lookupEnv("HOME")
	cfg, err := npm.LoadConfig(dir, home, func(k string) string { v, _ := e.lookupEnv(k); return v })
	if err != nil {
		return nil, err
	}
	if n.registry != "" {
		if err := cfg.SetRegistry(n.registry); err != nil {
			return nil, err
		}
	}
	for _, rule := range n.upstreams {
		u, err := npm.ParseUpstream(rule)
		if err != nil {
			return nil, fmt.Errorf("--npm-upstream %w", err)
		}
		if err := cfg.AddUpstream(u); err != nil {
			return nil, err
		}
	}
	c := npm.NewClient(cfg)
	c.Offline, c.BreakerFailures, c.BreakerCooldown = n.offline, n.breakerFailures, n.breakerCooldown
	c.CacheDir = n.cacheDir
	if c.CacheDir == "" {
		c.CacheDir = defaultNPMCache(e)
	} else {
		c.CacheDir = e.abs(c.CacheDir)
	}
	c.HTTP.Timeout = 2 * time.Minute
	return c, nil
}

// gatedClient is client with the gate, logging into fsys.
func (n *npmFlags) gatedClient(e *env, dir string, fsys afero.Fs, root string, logger *slog.Logger) (*npm.Client, error) {
	c, err := n.client(e, dir)
	if err != nil {
		return nil, err
	}
	if c.Gate, err = n.gate(e, fsys, root, logger); err != nil {
		return nil, err
	}
	return c, nil
}

// defaultNPMCache is $XDG_CACHE_HOME/cdnserve/npm, or ~/.cache/cdnserve/npm.
func defaultNPMCache(e *env) string {
	if x, ok := e.lookupEnv("XDG_CACHE_HOME"); ok && x != "" {
		return filepath.Join(x, "cdnserve", "npm")
	}
	if home, ok := e.lookupEnv("HOME"); ok && home != "" {
		return filepath.Join(home, ".cache", "cdnserve", "npm")
	}
	return filepath.Join(os.TempDir(), "cdnserve-npm")
}
