package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cdnserve/cdnserve/access"
	"github.com/cdnserve/cdnserve/internal/settings"
)

const tokenExamples = `  cdnserve token create --library '@corp/*' --expires 90d          # prints the token once; appends its hash to ./tokens
  cdnserve token create --library internal-sdk --library '@corp/ui' --tokens /etc/cdnserve/tokens --note "partner X"
`

// runToken creates a bearer token: it prints the token, once, and
// appends only its SHA-256 to the tokens file.
func runToken(_ context.Context, e *env, args []string) error {
	fs := newSettings(e, "token", "create --library PATTERN [flags]", tokenExamples)
	var libs settings.StringList
	fs.Var(&libs, "library", "a library `pattern` the token opens ('@corp/*', 'internal-sdk'; '-' for the root library; repeatable; required)")
	expires := fs.String("expires", "", "how long the token works: 90d, 12h (default: until it is removed from the file)")
	file := fs.String("tokens", "tokens", "the tokens `file` to append the hash to")
	note := fs.String("note", "", "a note kept with the hash: who has the token")
	pos, err := fs.ParseArgs(args, 1, 1, "need: token create --library PATTERN")
	if err != nil {
		return err
	}
	if pos[0] != "create" {
		return fs.UsageError("unknown token command " + strconv.Quote(pos[0]) + ": the one there is, is create")
	}
	if len(libs) == 0 {
		return fs.UsageError("need at least one --library")
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
