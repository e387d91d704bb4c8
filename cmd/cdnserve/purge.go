package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cdnserve/cdnserve/access"
	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/internal/settings"
	"github.com/cdnserve/cdnserve/purge"
	"github.com/cdnserve/cdnserve/server"
	"github.com/cdnserve/cdnserve/storage"
	"github.com/cdnserve/cdnserve/versioning"
)

// purgeMargin is added to the replicas' refresh interval before a purge:
// the time a refresh itself may take.
const purgeMargin = 500 * time.Millisecond

// purgeFlags are --purge and --purge-after, for build, publish, add and
// serve.
type purgeFlags struct {
	urls    settings.StringList
	after   time.Duration
	timeout time.Duration
	private settings.StringList
}

// register adds the flags; the default of --purge-after follows the
// storage's kind, as serve's --refresh does: 2.5 s, or 10.5 s on S3.
func (p *purgeFlags) register(fs *settings.Set, storageURL *string) {
	fs.Var(&p.urls, "purge", "tell this edge when an alias moves: http(s)://host:port (PURGE), xkey+http(s)://host:port (Varnish xkey), webhook+https://…, cloudflare://ZONE, fastly://SERVICE, cloudfront://DISTRIBUTION (repeatable; docs/deploy.md)")
	fs.Var(&p.private, "private", "the libraries serve keeps private (serve --private): never named in a purge, and never cached at an edge (repeatable)")
	fs.DurationVar(&p.after, "purge-after", server.DefaultRefresh+purgeMargin, "wait this long after publishing before purging: the replicas' --refresh and a margin, so the edge refills from replicas that all serve the new alias")
	fs.DurationVar(&p.timeout, "purge-timeout", purge.DefaultTimeout, "how long one purge target may take, retries included, before it is given up (each attempt at most 15s); the publish stands either way")
	fs.Derive(func() error {
		if storage.KindOf(*storageURL) == storage.S3 {
			fs.SetDerived("purge-after", (10*time.Second + purgeMargin).String(), "on S3 the replicas refresh every 10s")
		}
		return nil
	})
}

// set makes the purgers; getenv reads their tokens.
func (p *purgeFlags) set(e *env) (*purge.Set, error) {
	if err := access.CheckPatterns("--private", p.private); err != nil {
		return nil, err
	}
	if p.timeout <= 0 {
		return nil, fmt.Errorf("--purge-timeout %s: want a positive duration, such as 60s", p.timeout)
	}
	s := &purge.Set{After: p.after, Timeout: p.timeout}
	for _, raw := range p.urls {
		pg, err := purge.Parse(raw, func(k string) string { v, _ := e.lookupEnv(k); return v }, nil)
		if err != nil {
			return nil, err
		}
		s.Purgers = append(s.Purgers, pg)
	}
	s.Private = p.private
	return s, nil
}

// isPrivate reports whether --private names a library: publish, build
// and add then record it as private in storage.
func (p *purgeFlags) isPrivate(library string) bool {
	return (&access.Policy{Private: p.private}).IsPrivate(library)
}

// purgeAfterPublish tells the edges what a publish into a library's tree
// changed (the change it recorded, claimed for this process), after
// --purge-after, and says how it went. A failed purge is reported, never
// returned: the publish has happened, and its record is left for the
// replicas with serve --purge to try again.
func purgeAfterPublish(ctx context.Context, e *env, pf publishFlags, set *purge.Set, tree dist.Tree, res *dist.Result) {
	if res == nil {
		return
	}
	if res.ChangeErr != nil {
		fmt.Fprintf(e.stderr, "warning: %v; no replica will purge it, and the edge keeps the old alias until it expires\n", res.ChangeErr)
	}
	if set == nil || len(set.Purgers) == 0 || res.Change == nil || res.ChangeErr != nil {
		return
	}
	events := set.Public(purge.EventsOf(*res.Change))
	if private, err := tree.Private(); private || err != nil {
		events = nil // recorded private in storage (or unreadable): never named to an edge
	}
	if len(events) > 0 && !pf.quiet && !pf.asJSON {
		fmt.Fprintf(e.stdout, "purging in %s, after the replicas' refresh: %s\n", set.After, joinEvents(events))
	}
	j := &purge.Journal{Tree: tree.Top(), Set: set}
	for _, r := range j.Purge(ctx, *res.Change) {
		switch {
		case r.Err != nil:
			fmt.Fprintf(e.stderr, "purge FAILED: %s: %s, after %s: %v; the publish stands, and the edge keeps the old alias until it expires, or a replica with --purge purges it\n", r.Purger, r.Event, count(r.Attempts, "attempt"), r.Err)
		case !pf.quiet && !pf.asJSON:
			fmt.Fprintf(e.stdout, "purged %s: %s\n", r.Purger, r.Event)
		}
	}
}

func joinEvents(events []purge.Event) string {
	var s []string
	for _, ev := range events {
		s = append(s, ev.String())
	}
	return strings.Join(s, "; ")
}

const purgeExamples = `  cdnserve purge pusher@2.2 --purge xkey+http://127.0.0.1:6081       # the alias 2.2 of the library pusher
  cdnserve purge @2.2 --purge https://edge.example.com                 # the root library's alias 2.2
  cdnserve purge @corp/widgets@1.0 --purge cloudflare://ZONE_ID --storage 's3://assets/cdn?region=eu-west-1'
`

// runPurge purges one alias by hand, now: its files, its page, and the
// library's moving responses.
func runPurge(ctx context.Context, e *env, args []string) error {
	fs := newSettings(e, "purge", "NAME@ALIAS --purge URL [flags]", purgeExamples)
	storageURL := fs.StorageFlag("dist", "the `storage` that holds the alias")
	var pf purgeFlags
	pf.register(fs, storageURL)
	pos, err := fs.ParseArgs(args, 1, 1, "need one NAME@ALIAS (@ALIAS for the root library)")
	if err != nil {
		return err
	}
	i := strings.LastIndexByte(pos[0], '@')
	if i < 0 {
		return fs.UsageError("need NAME@ALIAS, such as pusher@2.2 (@2.2 for the root library)")
	}
	library, alias := pos[0][:i], pos[0][i+1:]
	if !versioning.IsAliasName(alias) {
		return fmt.Errorf("%s: %q is not a major.minor alias such as 2.2", pos[0], alias)
	}
	if len(pf.urls) == 0 {
		return errors.New("no --purge given: name the edge to purge (see cdnserve purge --help)")
	}
	set, err := pf.set(e)
	if err != nil {
		return err
	}
	set.After = 0
	st, tree, err := openStorage(ctx, e, *storageURL, library)
	if err != nil {
		return err
	}
	defer st.Close()
	ev, err := purge.AliasEvent(tree, library, alias)
	if err != nil {
		return fmt.Errorf("%s: the alias is not published in %s: %w", pos[0], st.Display, err)
	}
	failed := 0
	for _, r := range set.Purge(ctx, ev) {
		if r.Err != nil {
			failed++
			fmt.Fprintf(e.stderr, "purge FAILED: %s: %s, after %s: %v\n", r.Purger, r.Event, count(r.Attempts, "attempt"), r.Err)
			continue
		}
		fmt.Fprintf(e.stdout, "purged %s: %s (tags %s; %s)\n", r.Purger, r.Event, strings.Join(ev.Tags(), " "), count(len(ev.Paths()), "URL"))
	}
	if failed > 0 {
		return fmt.Errorf("%s failed", count(failed, "purger"))
	}
	return nil
}
