// Command cdnserve publishes and serves versioned front-end assets.
//
// It is a thin layer over the packages: each subcommand parses its flags
// into the packages' own options and calls them.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/internal/settings"
	"github.com/cdnserve/cdnserve/redact"
	"github.com/cdnserve/cdnserve/storage"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what a command may touch, so tests can run main in-process.
type env struct {
	stdout, stderr io.Writer
	dir            string                      // working directory
	getenv         func(string) (string, bool) // environment; nil means none
	environ        func() []string             // the environment as NAME=value; nil: not checked
	stderrTTY      bool                        // stderr is a terminal: draw progress
}

func (e *env) lookupEnv(name string) (string, bool) {
	if e.getenv == nil {
		return "", false
	}
	return e.getenv(name)
}

// isTerminal reports whether f is a terminal (a character device).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// newSettings makes a command's settings (package settings), with
// --config and --print-config; args describes its positional arguments
// in the usage.
func newSettings(e *env, name, args, examples string) *settings.Set {
	return settings.New(settings.Env{Stdout: e.stdout, Stderr: e.stderr, LookupEnv: e.getenv, Environ: e.environ, Dir: e.dir}, name, args, examples)
}

func commands() []command {
	return []command{
		{"serve", "serve a dist tree (or the embedded demo) over HTTP and HTTPS", runServe},
		{"dev", "serve a project's bundles rebuilt live from its sources (development only)", runDev},
		{"build", "publish a version from a manifest into versioned dist directories", runBuild},
		{"publish", "publish a directory built by another tool as a version", runPublish},
		{"add", "publish npm packages, verified, as libraries of the tree", runAdd},
		{"verify", "re-hash a dist tree against its integrity manifests", runVerify},
		{"export", "write a bundle (a tar, signed) of published versions, for a site with no network", runExport},
		{"import", "check a bundle whole, then publish what storage lacks of it", runImport},
		{"missing", "list what a package-lock.json pins that storage lacks", runMissing},
		{"audit", "report stored npm versions an OSV database flags; audit log prints the supply-chain gate's decisions", runAudit},
		{"purge", "tell edges to drop what they cached of an alias, now", runPurge},
		{"stats", "print a library's requests and bytes per version and day, from every replica", runStats},
		{"deprecate", "mark a version deprecated: still served, skipped by ranges, flagged", runDeprecate},
		{"undeprecate", "remove a version's deprecation", runUndeprecate},
		{"prune", "remove old prereleases or one version, safely; refuses versions still in use", runPrune},
		{"private", "record a library as private in storage: every replica then asks for a credential", runPrivate},
		{"public", "record a private library as public again", runPublic},
		{"token", "create a bearer token for private libraries (token create)", runToken},
		{"sign", "print a signed URL for a private library's path", runSign},
		{"fetch", "download and verify dependencies from a CDN, for vendoring", runFetch},
		{"importmap", "print an import map with integrity for libraries of the tree", runImportmap},
		{"healthcheck", "exit 0 when the local serve answers /-/healthz (for container HEALTHCHECKs)", runHealthcheck},
		{"version", "print the version, commit and Go version", runVersion},
		{"init", "scaffold a new library project (cdnserve.yaml and src/)", runInit},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cdnserve:", err)
		os.Exit(1)
	}
	code := run(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, dir: wd, getenv: os.LookupEnv, environ: os.Environ, stderrTTY: isTerminal(os.Stderr)}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes one command line and returns the process exit code:
// 0 success, 1 failure, 2 usage error.
func run(ctx context.Context, e *env, args []string) int {
	// Every error, warning and log line goes through the one redactor;
	// stdout does not: a signed URL or a new token is the answer there.
	e.stderr = redact.Writer(e.stderr)
	if len(args) == 1 && (args[0] == "--version" || args[0] == "-version") {
		args = []string{"version"}
	}
	if len(args) == 0 {
		usage(e.stderr)
		return 2
	}
	if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(e.stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp), errors.Is(err, settings.ErrPrinted):
			return 0
		case errors.Is(err, settings.ErrUsage):
			return 2
		}
		fmt.Fprintln(e.stderr, "cdnserve "+c.name+":", err)
		return 1
	}
	fmt.Fprintf(e.stderr, "cdnserve: unknown command %q%s\nUsage: cdnserve <command> [flags] (cdnserve help: the commands)\n", args[0], suggestCommand(args[0]))
	return 2
}

// suggestCommand names the command or root flag nearest to a mistyped
// one: "; did you mean serve?".
func suggestCommand(arg string) string {
	if strings.HasPrefix(arg, "-") {
		if near := settings.Nearest(strings.TrimLeft(arg, "-"), []string{"help", "version"}); near != "" {
			return "; did you mean --" + near + "?"
		}
		return ""
	}
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	if near := settings.Nearest(arg, names); near != "" {
		return "; did you mean " + near + "?"
	}
	return ""
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: cdnserve <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Examples:
  cdnserve serve                           # ./dist on :8080, or the built-in demo when ./dist holds no version
  cdnserve init mylib && cdnserve build    # a new library, published into dist/mylib/0.1.0/ and dist/mylib/0.1/
  cdnserve serve --storage 's3://assets/cdn?region=eu-west-1' --public-url https://cdn.example.com/
  cdnserve verify /srv/dist                # re-hash a tree after a restore
  cdnserve fetch --cdn https://cdn.example.com --version 2.2.3 pusher -o vendor/

Every command reads its settings the same way: flags, then CDNSERVE_*
environment variables (--tls-addr is CDNSERVE_TLS_ADDR), then a --config YAML
file keyed by flag name, then defaults; --print-config shows the result.
Commands that read or write a tree take --storage (a directory, mem:// or
s3://bucket/prefix); --root is its deprecated alias.
Run 'cdnserve <command> -h' for a command's flags and examples.
`)
}

// storageName names a storage in messages: a directory relative to the
// working dir, else its display form (a bucket's URL, redacted).
func storageName(e *env, st *storage.Storage) string {
	if st.Kind == storage.Local {
		return e.rel(st.Root)
	}
	return st.Display
}

// openStorage opens a --storage value (a directory, mem:// or s3://…)
// relative to the working dir, and the tree in it.
func openStorage(ctx context.Context, e *env, spec, library string) (*storage.Storage, dist.Tree, error) {
	st, err := storage.Open(ctx, spec, e.dir)
	if err != nil {
		return nil, dist.Tree{}, err
	}
	tree, err := dist.NewTree(st.Fs, st.Root).Library(library)
	if err != nil {
		st.Close()
		return nil, dist.Tree{}, err
	}
	return st, tree, nil
}

// abs resolves a path from the command line against the working dir.
func (e *env) abs(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(e.dir, p)
}

// rel shows a path relative to the working dir when it is below it.
func (e *env) rel(p string) string {
	if r, err := filepath.Rel(e.dir, p); err == nil && filepath.IsLocal(r) {
		return r
	}
	return p
}

// count says how many of a thing, in the singular or the plural: "1
// file", "2 files", "3 aliases".
func count(n int, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case strings.HasSuffix(noun, "s"):
		return fmt.Sprintf("%d %ses", n, noun)
	case strings.HasSuffix(noun, "ry"):
		return fmt.Sprintf("%d %sies", n, noun[:len(noun)-1])
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
