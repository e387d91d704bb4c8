package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/cdnserve/cdnserve/versioning"
)

// splitNameVersion reads NAME@VERSION ("@VERSION" for the root library).
func splitNameVersion(s string) (library, version string, err error) {
	i := strings.LastIndexByte(s, '@')
	if i < 0 {
		return "", "", fmt.Errorf("%q: write NAME@VERSION, such as pusher@2.2.3 (@2.2.3 for the root library)", s)
	}
	library, version = s[:i], s[i+1:]
	if _, err := versioning.Parse(version); err != nil {
		return "", "", fmt.Errorf("%q: %w", s, err)
	}
	return library, version, nil
}

const deprecateExamples = `  cdnserve deprecate pusher@2.2.3 --message "2.2.3 leaks sockets; use 2.2.4 or later"
  cdnserve deprecate @1.7.1 --message "the root library's 1.7.1 is unsupported" --storage /srv/dist
  cdnserve undeprecate pusher@2.2.3
`

// runDeprecate records a version deprecated, with a message; serve skips
// it in ranges and marks its responses.
func runDeprecate(ctx context.Context, e *env, args []string) error {
	return deprecate(ctx, e, "deprecate", args)
}

// runUndeprecate removes a version's deprecation.
func runUndeprecate(ctx context.Context, e *env, args []string) error {
	return deprecate(ctx, e, "undeprecate", args)
}

func deprecate(ctx context.Context, e *env, cmd string, args []string) error {
	fs := newSettings(e, cmd, "NAME@VERSION [flags]", deprecateExamples)
	message := ""
	if cmd == "deprecate" {
		fs.StringVar(&message, "message", "", "what users should know and do (required)")
	}
	storageURL := fs.StorageFlag("dist", "the `storage` that holds the library")
	wait := fs.Bool("wait", false, "wait for another publisher's lock instead of failing")
	pos, err := fs.ParseArgs(args, 1, 1, "need one NAME@VERSION")
	if err != nil {
		return err
	}
	if cmd == "deprecate" && strings.TrimSpace(message) == "" {
		return fs.UsageError("need --message: say why, and what to use instead")
	}
	library, version, err := splitNameVersion(pos[0])
	if err != nil {
		return err
	}
	st, tree, err := openStorage(ctx, e, *storageURL, library)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := tree.Deprecate(ctx, version, message, *wait); err != nil {
		return err
	}
	if cmd == "deprecate" {
		fmt.Fprintf(e.stdout, "deprecated %s: ranges and latest skip it unless nothing else matches; it is still served, and its /-/meta, page and aliases say Deprecation (replicas with serve --purge purge them at the edge)\n", pos[0])
	} else {
		fmt.Fprintf(e.stdout, "%s is no longer deprecated\n", pos[0])
	}
	return nil
}
