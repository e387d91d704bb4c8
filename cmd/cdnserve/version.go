package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version and commit are set at link time, as the Dockerfile does:
// -ldflags "-X main.version=1.2.3 -X main.commit=abc123".
var (
	version = ""
	commit  = ""
)

// toolVersion is cdnserve's version: the link-time one, else the module
// version Go recorded, else "devel".
func toolVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// toolCommit is the source commit: the link-time one, else the VCS
// revision Go recorded, else "unknown".
func toolCommit() string {
	if commit != "" {
		return commit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

const versionExamples = `  cdnserve version
`

func runVersion(_ context.Context, e *env, args []string) error {
	fs := newSettings(e, "version", "", versionExamples)
	if _, err := fs.ParseArgs(args, 0, 0, ""); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "cdnserve %s\ncommit %s\n%s %s/%s\n", toolVersion(), toolCommit(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
