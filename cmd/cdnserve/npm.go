package main

import (
	"os"
	"path/filepath"
	"time"

	"github.com/cdnserve/cdnserve/npm"
)

// npmFlags are the registry settings add, build and serve share.
type npmFlags struct {
	registry string
	cacheDir string
}

func (n *npmFlags) register(fs interface {
	StringVar(*string, string, string, string)
}) {
	fs.StringVar(&n.registry, "npm-registry", "", "fetch every npm package from this registry `URL`, whatever .npmrc says (its tokens still apply)")
	fs.StringVar(&n.cacheDir, "npm-cache", "", "keep verified npm tarballs in this `dir`, keyed by integrity (default: the user's cache dir/cdnserve/npm)")
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
	c := npm.NewClient(cfg)
	c.CacheDir = n.cacheDir
	if c.CacheDir == "" {
		c.CacheDir = defaultNPMCache(e)
	} else {
		c.CacheDir = e.abs(c.CacheDir)
	}
	c.HTTP.Timeout = 2 * time.Minute
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
