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

// accessFiles reads serve's --private, --tokens and --url-signing-keys:
// where the server loads its policy from, and loads it again on SIGHUP
// or when a file changes. Tokens and keys without --private are for the
// libraries private by their records in storage.
func accessFiles(e *env, private []string, tokensFile, keysFile string) (*access.Files, error) {
	if err := access.CheckPatterns("--private", private); err != nil {
		return nil, err
	}
	if len(private) > 0 && tokensFile == "" && keysFile == "" {
		return nil, errors.New("--private needs --tokens FILE or --url-signing-keys FILE: without them nobody could read those libraries")
	}
	f := &access.Files{Private: private}
	if tokensFile != "" {
		f.TokensFile = e.abs(tokensFile)
	}
	if keysFile != "" {
		f.KeysFile = e.abs(keysFile)
	}
	return f, nil // server.New loads them, and names a bad file and line
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
