package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cdnserve/cdnserve/access"
	"github.com/cdnserve/cdnserve/demo"
	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/esm/graph"
	"github.com/cdnserve/cdnserve/internal/settings"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/npm"
	"github.com/cdnserve/cdnserve/purge"
	"github.com/cdnserve/cdnserve/redact"
	"github.com/cdnserve/cdnserve/server"
	"github.com/cdnserve/cdnserve/storage"
)

const serveExamples = `  cdnserve serve                                   # ./dist, or the embedded demo when ./dist holds no published version
  cdnserve serve --storage /srv/dist --addr :80
  cdnserve serve --storage /srv/dist --tls-addr :443 --tls-cert cert.pem --tls-key key.pem
  cdnserve serve --storage 's3://assets/cdn?endpoint=https://s3.example.com&region=us-east-1'
  CDNSERVE_STORAGE=/srv/dist CDNSERVE_CORS_ORIGINS=https://app.example cdnserve serve
  cdnserve serve --npm-mirror --npm-allow '@corp/*' --npm-allow sockjs-client   # fetch allowed npm packages on first request, for good
`

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newSettings(e, "serve", "[flags]", serveExamples)
	var cfg server.Config
	var listen server.ListenOptions
	var logFormat string
	storageURL := fs.StorageFlag("", "serve this `storage` (default ./dist, or the embedded demo in memory when that holds no published version)")
	fs.StringVar(&listen.Addr, "addr", ":8080", "plain HTTP listen `address`; empty disables it")
	fs.StringVar(&listen.TLSAddr, "tls-addr", "", "HTTPS listen `address` (needs --tls-cert and --tls-key); serves HTTP/2")
	fs.StringVar(&listen.AdminAddr, "admin-addr", server.DefaultAdminAddr, "the operator's listen `address` for /-/metrics (and /-/healthz, /-/readyz), plain HTTP; keep it on loopback or a private network, its metrics name private libraries; empty disables it")
	fs.StringVar(&listen.TLSCert, "tls-cert", "", "TLS certificate `file` (PEM)")
	fs.StringVar(&listen.TLSKey, "tls-key", "", "TLS private key `file` (PEM)")
	fs.StringVar(&cfg.ExactCacheControl, "cache-exact", server.DefaultExactCacheControl, "Cache-Control for exact versions")
	fs.StringVar(&cfg.AliasCacheControl, "cache-alias", server.DefaultAliasCacheControl, "Cache-Control for aliases, /latest/ targets and /-/versions")
	fs.StringVar(&cfg.RedirectCacheControl, "cache-redirect", server.DefaultRedirectCacheControl, "Cache-Control for range redirects")
	fs.StringVar(&cfg.NotFoundCacheControl, "cache-404", server.DefaultNotFoundCacheControl, "Cache-Control for 404s")
	fs.StringVar(&cfg.PublicURL, "public-url", "", "the `URL` clients reach this server at (shown with http and https on the browse pages and /-/snippet); default: from each request")
	trustedProxies := fs.String("trusted-proxies", "", "comma-separated `networks` (CIDR or address) of the proxies in front whose X-Forwarded-For names the client, for the per-client limits (127.0.0.1/32,10.0.0.0/8)")
	corsOrigins := fs.String("cors-origins", "", "comma-separated `origins` allowed by CORS; empty allows any (*)")
	fs.DurationVar(&cfg.Refresh, "refresh", server.DefaultRefresh, "how often aliases and the version list are re-read, also on SIGHUP (10s when the default is left on S3)")
	cacheMB := fs.Int("cache-mb", server.DefaultCacheBytes>>20, "in-memory file cache size in `MiB`")
	fs.IntVar(&cfg.MaxRanges, "max-ranges", server.DefaultMaxRanges, "most byte ranges honoured in one request")
	fs.BoolVar(&cfg.AccessLog, "access-log", true, "log one line per request")
	fs.StringVar(&logFormat, "log-format", "", "log format: text or json (default text on a terminal, json otherwise)")
	fs.DurationVar(&listen.WriteTimeout, "write-timeout", 10*time.Minute, "longest time to send one response (sized for big files on slow links)")
	fs.DurationVar(&listen.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long in-flight requests may finish after SIGINT or SIGTERM")
	npmMirror := fs.Bool("npm-mirror", false, "fetch npm packages that storage lacks on their first request, verified, and store them for good (needs --npm-allow)")
	var npmAllow settings.StringList
	fs.Var(&npmAllow, "npm-allow", "an npm package `pattern` the mirror may fetch: a name, or a glob such as '@corp/*' (repeatable)")
	npmDeps := fs.Bool("npm-allow-dependencies", true, "let the mirror fetch, for an import map's graph, the packages that a fetched package declares as dependencies, even when --npm-allow does not name them (asked for by name, they are still refused)")
	esmOn := fs.Bool("esm", true, "answer /-/importmap for npm packages with the map of their whole dependency graph, building with esbuild the packages a browser cannot run as they are")
	esmBuilds := fs.Int("esm-builds", 2, "most esbuild builds at once; more wait, then get 503")
	esmTimeout := fs.Duration("esm-build-timeout", 2*time.Minute, "longest one build may take before its map answers 504")
	esmMaxMB := fs.Int("esm-max-package-mb", 64, "most `MiB` of files of one package a build reads (its memory limit); a bigger package's map answers 503")
	npmDocTTL := fs.Duration("npm-doc-ttl", 60*time.Second, "how long the mirror reuses a package's document from the registry")
	var nf npmFlags
	nf.register(e, fs)
	fs.DurationVar(&cfg.GoneFor, "gone-for", 7*24*time.Hour, "how long a removed exact version answers 410 Gone before 404 (cdnserve prune)")
	fs.DurationVar(&cfg.StatsFlush, "stats-flush", time.Minute, "how often this replica writes its usage counts into the tree's daily stats files (and once more on shutdown)")
	cacheTags := cacheTagsFlag("both")
	fs.Var(&cacheTags, "cache-tags", "send the cache tags edges purge by: both (Surrogate-Key and Cache-Tag), surrogate-key (Varnish xkey, Fastly), cache-tag (Cloudflare), or off; one header is faster (docs/benchmarks.md)")
	var private settings.StringList
	fs.Var(&private, "private", "make the libraries matching this `pattern` private ('@corp/*', 'internal-sdk'; '-' for the root library; repeatable): they need a token or a signed URL")
	tokensFile := fs.String("tokens", "", "`file` of the bearer tokens' SHA-256 hashes, with the libraries each opens (cdnserve token create)")
	keysFile := fs.String("url-signing-keys", "", "`file` of URL-signing keys, one \"KID SECRET\" a line (cdnserve sign)")
	var purgeURLs settings.StringList
	fs.Var(&purgeURLs, "purge", "tell this edge when this replica sees an alias move, after --refresh and a margin (repeatable; the schemes of build --purge)")
	fs.Derive(func() error {
		if *storageURL == "" {
			spec, why := defaultServeStorage(e)
			fs.SetDerived("storage", spec, why)
		}
		if storage.KindOf(*storageURL) == storage.S3 {
			fs.SetDerived("refresh", "10s", "on S3, each refresh lists the bucket")
		}
		return nil
	})
	if _, err := fs.ParseArgs(args, 0, 0, ""); err != nil {
		return err
	}
	if err := listen.Validate(); err != nil {
		return err
	}
	if *npmMirror && len(npmAllow) == 0 {
		return errors.New("--npm-mirror needs --npm-allow: name the packages (or '@scope/*') it may fetch; there is no open mirror")
	}
	if !*npmMirror && len(npmAllow) > 0 {
		return errors.New("--npm-allow is set but --npm-mirror is not: add --npm-mirror to fetch those packages")
	}
	if err := npm.CheckAllow(npmAllow); err != nil {
		return err
	}
	purgers := &purge.Set{After: cfg.Refresh + purgeMargin}
	for _, raw := range purgeURLs {
		pg, err := purge.Parse(raw, func(k string) string { v, _ := e.lookupEnv(k); return v }, nil)
		if err != nil {
			return err
		}
		purgers.Purgers = append(purgers.Purgers, pg)
	}
	cfg.DisableCacheTags, cfg.CacheTagHeader = cacheTags.config()
	files, err := accessFiles(e, private, *tokensFile, *keysFile)
	if err != nil {
		return err
	}
	cfg.AccessFiles = files
	patterns := &access.Policy{Private: private}
	logger, err := newLogger(e.stderr, logFormat)
	if err != nil {
		return err
	}
	cfg.Logger = logger
	cfg.CacheBytes = int64(*cacheMB) << 20
	cfg.CORSOrigins = settings.SplitList(*corsOrigins)
	if cfg.TrustedProxies, err = parseNetworks("--trusted-proxies", *trustedProxies); err != nil {
		return err
	}
	st, demoVersions, err := openServeStorage(ctx, e, *storageURL)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := missingRoot(st, *npmMirror, logger); err != nil {
		return err
	}
	cfg.Fs, cfg.Root = st.Fs, st.Root
	var mirror *npm.Mirror
	if *npmMirror {
		client, err := nf.gatedClient(e, e.dir, st.Fs, st.Root, logger)
		if err != nil {
			return err
		}
		client.DocTTL = *npmDocTTL
		mirror = &npm.Mirror{Client: client, Tree: dist.NewTree(st.Fs, st.Root), Allow: npmAllow, AllowDependencies: *npmDeps,
			Tool: "cdnserve " + toolVersion(), Log: logger, Private: patterns.IsPrivate}
		cfg.Mirror, cfg.Upstreams = mirror, client.Upstreams
		logger.Info("npm mirror on", "allow", strings.Join(npmAllow, ","), "dependencies", *npmDeps, "registries", client.Config.String(),
			"offline", client.Offline, "policy", nf.policy.Digest(), "policy_source", nf.policy.Source)
	}
	if *esmOn {
		o := graph.Options{Fs: st.Fs, Root: st.Root, Tool: "cdnserve " + toolVersion(), Log: logger,
			Builds: *esmBuilds, BuildTimeout: *esmTimeout, MaxPackageBytes: int64(*esmMaxMB) << 20}
		if mirror != nil {
			o.Fetch = mirror
		}
		maker, err := graph.New(o)
		if err != nil {
			return err
		}
		defer maker.Close()
		cfg.Modules = maker
	}
	var srv *server.Server
	if len(purgers.Purgers) > 0 {
		purgers.Log = logger
		purgers.OnResult = func(r purge.Result) { srv.CountPurge(r.Err) }
		purgers.Private = private
		// Each change recorded in storage (a publish, a deprecation, a
		// removal), purged by whichever replica claims it first, after
		// the replicas' refresh and a margin counted from the change:
		// every replica serves it when the edge refills (docs/deploy.md).
		journal := &purge.Journal{Tree: dist.NewTree(st.Fs, st.Root), Set: purgers}
		go journal.Run(ctx, cfg.Refresh)
	}
	srv, err = server.New(cfg)
	if err != nil {
		return err
	}
	listen.Listening = func(ls []server.Listening) {
		var local string
		for _, l := range ls {
			if l.Scheme == "admin" {
				fmt.Fprintf(e.stdout, "operator endpoints on http://%s/-/metrics (and /-/healthz, /-/readyz)\n", displayAddr(l.Addr))
				continue
			}
			base := printListening(e.stdout, l.Scheme, l.Addr)
			if local == "" {
				local = base
			}
		}
		printExamples(e.stdout, local, srv, demoVersions)
	}
	return srv.ListenAndServe(ctx, listen)
}

// defaultServeStorage is what serve serves when no storage is given:
// ./dist when it holds a published version, or else the embedded demo,
// published into memory.
func defaultServeStorage(e *env) (spec, why string) {
	if hasPublishedVersion(e.abs("dist")) {
		return "dist", "./dist holds a published version"
	}
	return "mem://", "./dist holds no published version: the embedded demo"
}

// openServeStorage opens the storage to serve. A mem:// storage gets the
// embedded demo, whose versions it returns.
func openServeStorage(ctx context.Context, e *env, spec string) (*storage.Storage, []string, error) {
	st, err := storage.Open(ctx, spec, e.dir)
	if err != nil {
		return nil, nil, err
	}
	if st.Kind != storage.Memory {
		return st, nil, nil
	}
	versions, err := demo.Publish(ctx, st.Fs, st.Root)
	if err != nil {
		return nil, nil, fmt.Errorf("publishing the embedded demo: %w", err)
	}
	return st, versions, nil
}

// missingRoot deals with a local dist root that does not exist: the
// mirror's store starts empty, so with --npm-mirror it is created (and
// the log says so); without, nothing could ever be served from it, and
// the error says what to run.
func missingRoot(st *storage.Storage, mirror bool, logger *slog.Logger) error {
	if st.Kind != storage.Local {
		return nil
	}
	if _, err := os.Stat(st.Root); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if !mirror {
		return fmt.Errorf("--storage %s: no such directory; publish into it first (cdnserve build, publish or add --storage %s), or create it empty (mkdir -p %s) for --npm-mirror to fill", st.Root, st.Root, st.Root)
	}
	if err := os.MkdirAll(st.Root, 0o755); err != nil {
		return fmt.Errorf("--storage %s: creating the mirror's empty store: %w", st.Root, err)
	}
	logger.Info("created the empty dist root for the npm mirror to fill", "storage", st.Root)
	return nil
}

// hasPublishedVersion reports whether dir holds a version directory with
// an integrity manifest, of the root library or of a named one. (In this
// repository ./dist is a Go package.)
func hasPublishedVersion(dir string) bool {
	for _, pattern := range []string{"*", "*/*", "@*/*/*"} {
		matches, _ := filepath.Glob(filepath.Join(dir, pattern, layout.ManifestName))
		for _, m := range matches {
			rel, _ := filepath.Rel(dir, filepath.Dir(filepath.Dir(m)))
			if lib := filepath.ToSlash(rel); lib == "." || layout.IsLibraryName(lib) {
				return true
			}
		}
	}
	return false
}

func newLogger(w io.Writer, format string) (*slog.Logger, error) {
	if format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	switch format {
	case "text":
		return slog.New(redact.Handler(slog.NewTextHandler(w, nil))), nil
	case "json":
		return slog.New(redact.Handler(slog.NewJSONHandler(w, &slog.HandlerOptions{ReplaceAttr: durationSeconds}))), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// durationSeconds writes a duration in a JSON log as seconds (0.0042),
// as log pipelines and Prometheus read them, rather than slog's default
// nanoseconds. The text format keeps Go's duration text (4.2ms).
func durationSeconds(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.Float64Value(a.Value.Duration().Seconds())
	}
	return a
}

// displayAddr turns ":8080" or "[::]:8080" into a URL host a person can
// open on this machine.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// printListening says the address a listener really listens on, and the
// URLs that reach it: from this machine, and, when it listens on every
// interface, from the network (as `npx serve` does). It returns the
// local base URL.
func printListening(w io.Writer, scheme string, a net.Addr) string {
	local := scheme + "://" + displayAddr(a)
	host, port, _ := net.SplitHostPort(a.String())
	ip := net.ParseIP(host)
	every := ip == nil || ip.IsUnspecified()
	where := ""
	if every {
		where = ", every interface"
	}
	fmt.Fprintf(w, "cdnserve is listening on %s (%s%s)\n", a, scheme, where)
	fmt.Fprintf(w, "  Local:    %s/\n", local)
	if every {
		for _, n := range networkIPs() {
			fmt.Fprintf(w, "  Network:  %s://%s/\n", scheme, net.JoinHostPort(n, port))
		}
	}
	return local
}

// networkIPs lists this machine's addresses that others can reach: not
// loopback, not link-local.
func networkIPs() []string {
	addrs, _ := net.InterfaceAddrs()
	var out []string
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if ok && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() && n.IP.To4() != nil {
			out = append(out, n.IP.String())
		}
	}
	return out
}

// printExamples shows URLs to try: of the demo, or of the latest version
// of the public library published last (server.Newest).
func printExamples(w io.Writer, base string, srv *server.Server, demoVersions []string) {
	if len(demoVersions) == 0 {
		lib, newest, alias, files := srv.Newest()
		if newest == "" {
			fmt.Fprintf(w, "No public version is published yet. Try:\n  %s/\n", base)
			return
		}
		prefix, meta, versions, what := "/", "/-/meta/", "/-/versions", ""
		if lib != "" {
			prefix, meta, versions, what = "/"+lib+"/", "/-/meta/"+lib+"/", "/-/versions/"+lib, " of "+lib
		}
		fmt.Fprintf(w, "Serving %s%s (the public library published last) and every other published version. Try:\n", newest, what)
		paths := []string{"/"}
		if lib != "" {
			paths = append(paths, prefix)
		}
		if len(files) > 0 {
			paths = append(paths, prefix+newest+"/"+files[0])
			if alias != "" {
				paths = append(paths, prefix+alias+"/"+files[0])
			}
			paths = append(paths, prefix+"latest/"+files[0])
			if lib != "" {
				paths = append(paths, "/"+lib+"@"+newest+"/"+files[0])
			}
		}
		paths = append(paths, prefix+newest+"/", versions, meta+newest)
		if lib != "" {
			paths = append(paths, "/-/libraries")
		}
		for _, p := range paths {
			fmt.Fprintf(w, "  %s%s\n", base, p)
		}
		return
	}
	latest := demoVersions[len(demoVersions)-1]
	minor := latest[:strings.LastIndex(latest, ".")]
	fmt.Fprintf(w, "No storage given and ./dist holds no published version (or mem:// was asked for): serving the embedded demo (versions %s), published into memory.\nTry:\n", strings.Join(demoVersions, ", "))
	for _, p := range []string{
		"/" + latest + "/demo.min.js", "/" + minor + "/demo.js", "/latest/widget.min.js", "/^1.0.0/demo.css",
		"/-/versions", "/-/meta/" + latest, "/-/healthz",
	} {
		fmt.Fprintf(w, "  %s%s\n", base, p)
	}
}

// cacheTagsFlag is serve's --cache-tags: which tag headers to send. It
// is also a boolean flag, as it was: --cache-tags alone or =true is
// both, =false is off.
type cacheTagsFlag string

func (c *cacheTagsFlag) String() string { return string(*c) }

func (c *cacheTagsFlag) Set(v string) error {
	switch strings.ToLower(v) {
	case "both", "true", "1":
		*c = "both"
	case "off", "false", "0":
		*c = "off"
	case "surrogate-key", "cache-tag":
		*c = cacheTagsFlag(strings.ToLower(v))
	default:
		return fmt.Errorf("%q: want both, surrogate-key, cache-tag or off", v)
	}
	return nil
}

// IsBoolFlag lets --cache-tags stand alone.
func (c *cacheTagsFlag) IsBoolFlag() bool { return true }

// config is the flag as server.Config says it.
func (c cacheTagsFlag) config() (disable bool, header string) {
	switch c {
	case "off":
		return true, ""
	case "surrogate-key":
		return false, "Surrogate-Key"
	case "cache-tag":
		return false, "Cache-Tag"
	}
	return false, ""
}

// parseNetworks reads a comma-separated list of CIDRs or addresses.
func parseNetworks(flag, list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, n := range settings.SplitList(list) {
		p, err := netip.ParsePrefix(n)
		if err != nil {
			a, aerr := netip.ParseAddr(n)
			if aerr != nil {
				return nil, fmt.Errorf("%s %q: not a network such as 10.0.0.0/8 or an address such as 127.0.0.1", flag, n)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
