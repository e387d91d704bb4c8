package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
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

const tokenExamples = `  cdnserve token create --library '@corp/*' --expires 90d          # prints the token once; appends its hash to ./tokens
  cdnserve token create --library internal-sdk --library '@corp/ui' --tokens /etc/cdnserve/tokens --note "partner X"
`

// runToken creates a bearer token: it prints the token, once, and
// appends only its SHA-256 to the tokens file.
func runToken(_ context.Context, e *env, args []string) error {
	fs := newSettings(e, "token", "create --library PATTERN [flags]", tokenExamples)
	var libs stringList
	fs.Var(&libs, "library", "a library `pattern` the token opens ('@corp/*', 'internal-sdk'; '-' for the root library; repeatable; required)")
	expires := fs.String("expires", "", "how long the token works: 90d, 12h (default: until it is removed from the file)")
	file := fs.String("tokens", "tokens", "the tokens `file` to append the hash to")
	note := fs.String("note", "", "a note kept with the hash: who has the token")
	pos, err := fs.parse(args, 1, 1, "need: token create --library PATTERN")
	if err != nil {
		return err
	}
	if pos[0] != "create" {
		return fs.usageError("unknown token command " + strconv.Quote(pos[0]) + ": the one there is, is create")
	}
	if len(libs) == 0 {
		return fs.usageError("need at least one --library")
	}
	if err := access.CheckPatterns("--library", libs); err != nil {
		return err
	}
	t := access.Token{Libraries: libs, Note: *note, Created: time.Now().UTC().Truncate(time.Second)}
	if *expires != "" {
		d, err := parseTTL("--expires", *expires)
		if err != nil {
			return err
		}
		t.Expires = t.Created.Add(d)
	}
	token := access.NewToken()
	t.SHA256 = access.HashToken(token)
	line, _ := jsonLine(t)
	f, err := os.OpenFile(e.abs(*file), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("--tokens: %w", err)
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		return fmt.Errorf("--tokens: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--tokens: %w", err)
	}
	fmt.Fprintln(e.stdout, token)
	until := "until its line is removed"
	if !t.Expires.IsZero() {
		until = "until " + t.Expires.Format(time.RFC3339)
	}
	fmt.Fprintf(e.stderr, "The token above is shown once: %s holds only its SHA-256. It opens %s, %s.\n", *file, strings.Join(libs, ", "), until)
	return nil
}

const signExamples = `  cdnserve sign /@corp/widgets/2.3.1/widgets.min.js --ttl 1h --public-url https://cdn.example.com/
  cdnserve sign /internal-sdk/latest/sdk.min.js --ttl 10m --url-signing-keys /etc/cdnserve/keys
`

// runSign prints a signed URL for a path: ?exp=…&kid=…&sig=…, with the
// newest key of the keys file.
func runSign(_ context.Context, e *env, args []string) error {
	fs := newSettings(e, "sign", "PATH --ttl DURATION [flags]", signExamples)
	ttl := fs.String("ttl", "1h", "how long the URL works: 10m, 1h, 7d")
	keysFile := fs.String("url-signing-keys", "keys", "the keys `file`; the last key signs")
	kid := fs.String("kid", "", "sign with this key id instead of the newest")
	publicURL := fs.String("public-url", "", "print the URL with this base (https://cdn.example.com/); default: the path alone")
	pos, err := fs.parse(args, 1, 1, "need one PATH")
	if err != nil {
		return err
	}
	p := pos[0]
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#") {
		return fmt.Errorf("%q: sign a URL path, such as /@corp/widgets/2.3.1/widgets.min.js, with no query", p)
	}
	d, err := parseTTL("--ttl", *ttl)
	if err != nil {
		return err
	}
	keys, newest, err := access.LoadKeys(e.abs(*keysFile))
	if err != nil {
		return fmt.Errorf("--url-signing-keys: %w", err)
	}
	if *kid == "" {
		*kid = newest
	}
	key, ok := keys[*kid]
	if !ok {
		return fmt.Errorf("--kid %q: no such key in %s", *kid, *keysFile)
	}
	exp := time.Now().Add(d)
	fmt.Fprintln(e.stdout, strings.TrimSuffix(*publicURL, "/")+p+"?"+access.Sign(key, *kid, p, exp))
	return nil
}

// jsonLine is v as one line of JSON.
func jsonLine(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	return append(b, '\n'), err
}
