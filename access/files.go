package access

import (
	"fmt"
	"os"
	"sync"
)

// Files are where a serving process's policy comes from: the --private
// patterns, a tokens file and a keys file. Load reads them; Changed says
// whether either file changed since, so that a server can reload them on
// SIGHUP or when they change, without a restart.
type Files struct {
	// Private are the --private patterns.
	Private []string
	// TokensFile and KeysFile are the files' paths; "" for none.
	TokensFile, KeysFile string

	mu     sync.Mutex
	loaded string // the files' stamps at the last Load
}

// stamp identifies the files' contents as far as stat can: each file's
// size and modification time (or its absence).
func (f *Files) stamp() string {
	out := ""
	for _, name := range []string{f.TokensFile, f.KeysFile} {
		if name == "" {
			out += "-;"
			continue
		}
		fi, err := os.Stat(name)
		if err != nil {
			out += "missing;"
			continue
		}
		out += fmt.Sprintf("%d/%d;", fi.Size(), fi.ModTime().UnixNano())
	}
	return out
}

// Load reads the files into a Policy. Errors name the file and line.
func (f *Files) Load() (*Policy, error) {
	stamp := f.stamp()
	p := &Policy{Private: f.Private}
	if f.TokensFile != "" {
		tokens, err := LoadTokens(f.TokensFile)
		if err != nil {
			return nil, fmt.Errorf("--tokens: %w", err)
		}
		p.Tokens = tokens
	}
	if f.KeysFile != "" {
		keys, _, err := LoadKeys(f.KeysFile)
		if err != nil {
			return nil, fmt.Errorf("--url-signing-keys: %w", err)
		}
		p.Keys = keys
	}
	f.mu.Lock()
	f.loaded = stamp
	f.mu.Unlock()
	return p, nil
}

// Changed reports whether a file changed (its size or modification
// time) since the last Load.
func (f *Files) Changed() bool {
	if f == nil {
		return false
	}
	stamp := f.stamp()
	f.mu.Lock()
	defer f.mu.Unlock()
	return stamp != f.loaded
}

// HasCredentials reports whether a policy has any token or key: without
// either, no private library can be opened.
func (p *Policy) HasCredentials() bool {
	return p != nil && (len(p.Tokens) > 0 || len(p.Keys) > 0)
}
