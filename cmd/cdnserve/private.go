package main

import (
	"context"
	"fmt"
)

const privateExamples = `  cdnserve private @corp/widgets --storage 's3://assets/cdn?region=eu-west-1'
  cdnserve private -                    # the root library
  cdnserve public @corp/widgets
`

// runPrivate records a library as private in storage: every replica
// then needs a token or a signed URL for it, whatever its flags.
func runPrivate(ctx context.Context, e *env, args []string) error {
	return setPrivate(ctx, e, "private", args)
}

// runPublic records a library as public again.
func runPublic(ctx context.Context, e *env, args []string) error {
	return setPrivate(ctx, e, "public", args)
}

func setPrivate(ctx context.Context, e *env, cmd string, args []string) error {
	fs := newSettings(e, cmd, "NAME [flags]", privateExamples)
	storageURL := fs.StorageFlag("dist", "the `storage` that holds the library")
	wait := fs.Bool("wait", false, "wait for another publisher's lock instead of failing")
	pos, err := fs.ParseArgs(args, 1, 1, "need one library NAME ('-' for the root library)")
	if err != nil {
		return err
	}
	library := pos[0]
	if library == "-" {
		library = ""
	}
	st, tree, err := openStorage(ctx, e, *storageURL, library)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := tree.SetPrivate(ctx, cmd == "private", *wait); err != nil {
		return err
	}
	if cmd == "private" {
		fmt.Fprintf(e.stdout, "%s is private: every replica asks for a token or a signed URL from its next refresh, and sends it with Cache-Control: private\n", pos[0])
	} else {
		fmt.Fprintf(e.stdout, "%s is public from every replica's next refresh; what was sent before stays private where it was kept\n", pos[0])
	}
	return nil
}
