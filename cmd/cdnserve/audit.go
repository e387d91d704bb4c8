package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cdnserve/cdnserve/gate"
)

const auditExamples = `  cdnserve audit --osv-db osv-npm.zip                 # stored npm versions a newer database flags
  cdnserve audit --osv-db osv/ --deprecate            # and deprecate them, the advisory ids as the message
  cdnserve audit log                                  # the gate's decisions, one JSON line each
  cdnserve audit log lodash --storage 's3://assets/cdn?region=eu-west-1'
`

// runAudit reports stored npm versions that an OSV database flags (exit
// 1 while one is flagged and not deprecated), or, as "audit log",
// prints the supply-chain gate's audit log.
func runAudit(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "log" {
		return auditLog(ctx, e, args[1:])
	}
	fs := newSettings(e, "audit", "[log [NAME]] [flags]", auditExamples)
	storageURL := fs.StorageFlag("dist", "the `storage` to audit")
	deprecate := fs.Bool("deprecate", false, "deprecate each flagged version, with its advisories' ids as the message")
	var nf npmFlags
	nf.register(e, fs)
	if _, err := fs.ParseArgs(args, 0, 0, ""); err != nil {
		return err
	}
	if nf.policy.OSVDB == "" {
		return fs.UsageError("need an OSV database: --osv-db PATH (a .json file, a directory, or OSV's all.zip), or osv_db: in --policy")
	}
	db, err := gate.LoadOSV(nf.policy.OSVDB)
	if err != nil {
		return err
	}
	st, _, err := openStorage(ctx, e, *storageURL, "")
	if err != nil {
		return err
	}
	defer st.Close()
	findings, err := gate.Scan(st.Fs, st.Root, db, nf.policy)
	if err != nil {
		return err
	}
	open := 0
	for _, f := range findings {
		var ids []string
		for _, a := range f.Advisories {
			id := a.ID + " (" + a.Severity.String() + ")"
			if a.Malware {
				id = a.ID + " (malware)"
			}
			ids = append(ids, id)
		}
		state := "not deprecated"
		if f.Deprecated != "" {
			state = "deprecated"
		}
		if *deprecate {
			if done, err := f.Deprecate(ctx, st.Fs, st.Root); err != nil {
				return fmt.Errorf("deprecating %s@%s: %w", f.Library, f.Version, err)
			} else if done {
				state, f.Deprecated = "deprecated now", f.Message()
			}
		}
		if f.Deprecated == "" {
			open++
		}
		news := ""
		if len(f.New) > 0 {
			news = "; new since ingest: " + strings.Join(f.New, ", ")
		}
		fmt.Fprintf(e.stdout, "%s@%s: %s [%s%s]\n", f.Library, f.Version, strings.Join(ids, ", "), state, news)
	}
	fmt.Fprintf(e.stdout, "audited the stored npm versions against %s (%d npm records, %s): %s flagged, %d not deprecated\n",
		db.Path, db.Records, db.Digest, count(len(findings), "version"), open)
	if open > 0 {
		return errors.New("stored versions are flagged by the database; deprecate them (--deprecate) or prune them (cdnserve prune)")
	}
	return nil
}

// auditLog prints the gate's decisions, oldest first.
func auditLog(ctx context.Context, e *env, args []string) error {
	fs := newSettings(e, "audit log", "[NAME] [flags]", auditExamples)
	storageURL := fs.StorageFlag("dist", "the `storage` whose log to read")
	pos, err := fs.ParseArgs(args, 0, 1, "")
	if err != nil {
		return err
	}
	st, _, err := openStorage(ctx, e, *storageURL, "")
	if err != nil {
		return err
	}
	defer st.Close()
	name := ""
	if len(pos) == 1 {
		name = pos[0]
	}
	lines, err := (&gate.AuditLog{Fs: st.Fs, Root: st.Root}).Read(name)
	if err != nil {
		return err
	}
	for _, l := range lines {
		fmt.Fprintln(e.stdout, l)
	}
	return nil
}
