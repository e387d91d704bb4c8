package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cdnserve/cdnserve/access"
)

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
	pos, err := fs.ParseArgs(args, 1, 1, "need one PATH")
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
