package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/cdnserve/cdnserve/dist"
)

const verifyExamples = `  cdnserve verify              # checks ./dist: the root library and every named library
  cdnserve verify /srv/dist    # after restoring a backup (the same as --storage /srv/dist)
  cdnserve verify 's3://assets/cdn?region=eu-west-1'
`

func runVerify(ctx context.Context, e *env, args []string) error {
	fs := newSettings(e, "verify", "[STORAGE] [flags]", verifyExamples)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	storageURL := fs.StorageFlag("dist", "verify this `storage`")
	fs.Derive(func() error {
		pos := fs.Positional()
		if len(pos) == 0 {
			return nil
		}
		if !fs.IsDefault("storage") {
			return fmt.Errorf("verify %s and --storage (%s) both given: STORAGE is a shorthand for --storage; give one", pos[0], fs.Source("storage"))
		}
		return fs.SetFrom("storage", pos[0], "argument")
	})
	if _, err := fs.ParseArgs(args, 0, 1, ""); err != nil {
		return err
	}
	st, tree, err := openStorage(ctx, e, *storageURL, "")
	if err != nil {
		return err
	}
	defer st.Close()
	name := storageName(e, st)
	reports, err := tree.VerifyAll()
	if err != nil {
		return err
	}
	if *asJSON {
		if err := writeVerifyJSON(e, reports); err != nil {
			return err
		}
	} else {
		printVerify(e, name, reports)
	}
	var damaged []string
	problems := 0
	for _, r := range reports {
		if !r.OK() {
			damaged = append(damaged, libraryLabel(r.Library))
			problems += len(r.Problems)
		}
	}
	switch {
	case problems == 0:
		return nil
	case len(reports) == 1 && reports[0].Library == "":
		return fmt.Errorf("%s does not match its integrity manifests (%s)", name, count(problems, "problem"))
	}
	return fmt.Errorf("%s does not match its integrity manifests (%s, in %s)", name, count(problems, "problem"), strings.Join(damaged, ", "))
}

// libraryLabel names a library in verify's report: "root library" for
// the root library.
func libraryLabel(lib string) string {
	if lib == "" {
		return "root library"
	}
	return lib
}

// printVerify prints each library's problems, notes and summary line.
// A tree that holds the root library alone reads as it did before
// libraries: one summary, paths relative to the root.
func printVerify(e *env, name string, reports []dist.LibraryReport) {
	only := len(reports) == 1 && reports[0].Library == ""
	var versions, aliases, files int
	for _, r := range reports {
		prefix := ""
		if r.Library != "" {
			prefix = r.Library + "/"
		}
		for _, p := range r.Problems {
			fmt.Fprintln(e.stdout, prefix+p.String())
		}
		for _, n := range r.Notes {
			fmt.Fprintln(e.stdout, "note: "+prefix+n)
		}
		versions, aliases, files = versions+len(r.Versions), aliases+len(r.Aliases), files+r.Files
		if !only {
			fmt.Fprintf(e.stdout, "%s: %s, %s, %s: %s\n", libraryLabel(r.Library), count(len(r.Versions), "version"), count(len(r.Aliases), "alias"), count(r.Files, "file"), verifyStatus(r.VerifyReport))
		}
	}
	if only {
		fmt.Fprintf(e.stdout, "verified %s: %s, %s, %s: %s\n", name, count(versions, "version"), count(aliases, "alias"), count(files, "file"), verifyStatus(reports[0].VerifyReport))
		return
	}
	status := "OK"
	for _, r := range reports {
		if !r.OK() {
			status = "DAMAGED"
		}
	}
	fmt.Fprintf(e.stdout, "verified %s: %s, %s, %s, %s: %s\n", name, count(len(reports), "library"), count(versions, "version"), count(aliases, "alias"), count(files, "file"), status)
}

func verifyStatus(r *dist.VerifyReport) string {
	if r.OK() {
		return "OK"
	}
	return count(len(r.Problems), "problem")
}

// writeVerifyJSON prints the root library's report, as before libraries,
// with each named library's report in "libraries".
func writeVerifyJSON(e *env, reports []dist.LibraryReport) error {
	type named struct {
		Library string `json:"library"`
		*dist.VerifyReport
	}
	out := struct {
		*dist.VerifyReport
		OK        bool    `json:"ok"`
		Libraries []named `json:"libraries"`
	}{VerifyReport: &dist.VerifyReport{}, OK: true, Libraries: []named{}}
	for _, r := range reports {
		out.OK = out.OK && r.OK()
		if r.Library == "" {
			out.VerifyReport = r.VerifyReport
		} else {
			out.Libraries = append(out.Libraries, named{r.Library, r.VerifyReport})
		}
	}
	return writeJSON(e.stdout, out)
}
