package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cdnserve/cdnserve/access"
)

// accessPolicy reads serve's --private, --tokens and --url-signing-keys.
// Private libraries need at least one way in.
func accessPolicy(e *env, private []string, tokensFile, keysFile string) (*access.Policy, error) {
	if len(private) == 0 {
		if tokensFile != "" || keysFile != "" {
			return nil, errors.New("--tokens or --url-signing-keys is set, but no --private library: name the libraries they protect")
		}
		return nil, nil
	}
	if err := access.CheckPatterns("--private", private); err != nil {
		return nil, err
	}
	if tokensFile == "" && keysFile == "" {
		return nil, errors.New("--private needs --tokens FILE or --url-signing-keys FILE: without them nobody could read those libraries")
	}
	p := &access.Policy{Private: private}
	if tokensFile != "" {
		tokens, err := access.LoadTokens(e.abs(tokensFile))
		if err != nil {
			return nil, fmt.Errorf("--tokens: %w", err)
		}
		p.Tokens = tokens
	}
	if keysFile != "" {
		keys, _, err := access.LoadKeys(e.abs(keysFile))
		if err != nil {
			return nil, fmt.Errorf("--url-signing-keys: %w", err)
		}
		p.Keys = keys
	}
	return p, nil
}

// parseTTL reads a duration that may be in days: "90d", "12h", "30m".
func parseTTL(flag, s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%s %q: a number of days such as 90d, or a duration such as 12h", flag, s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s %q: a number of days such as 90d, or a duration such as 12h", flag, s)
	}
	return d, nil
}

// jsonLine is v as one line of JSON.
func jsonLine(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	return append(b, '\n'), err
}
