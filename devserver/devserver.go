// Package devserver is the live development server behind `cdnserve
// dev`: it serves a project's bundles and files built from the current
// sources with the real build code (and so esbuild), rebuilt whenever an
// input changes. It is its own package so that package server, which
// production runs, links no build code.
package devserver

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cdnserve/cdnserve/build"
	"github.com/cdnserve/cdnserve/headers"
	"github.com/cdnserve/cdnserve/internal/loop"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/npm"
	"github.com/labstack/echo/v4"
	"github.com/spf13/afero"
)

// Config configures the development server, the successor of the
// seed's `jbundle server` on localhost:5555.
type Config struct {
	// Fs holds the project. Required.
	Fs afero.Fs
	// Manifest is the cdnserve.yaml's path in Fs; src_dir is relative to
	// its directory. Required.
	Manifest string
	// Poll is how often the sources are checked for changes in the
	// background, so /-/events can announce rebuilds (default 250ms).
	// Every request checks them too.
	Poll time.Duration
	// CORSOrigins is as for Config: empty allows any origin.
	CORSOrigins []string
	// Logger receives each rebuild and each build error (default:
	// discard).
	Logger *slog.Logger
	// NPM fetches the manifest's files from npm packages (build.Options.NPM).
	NPM *npm.Client
}

// devVersion is the version built when the manifest names none.
const devVersion = "0.0.0-dev"

// Server serves a project's bundles and files, built from the current
// sources with the real build code. It rebuilds only when an input's
// content changed: the manifest, or any file under src_dir.
type Server struct {
	cfg    Config
	echo   *echo.Echo
	builds atomic.Int64

	mu      sync.Mutex
	inputs  map[string]inputState // path -> what it was at the last check
	files   map[string][]byte     // the last build's outputs (of the bundles that built)
	failed  map[string]error      // output path -> why its bundle or file failed
	errs    []string              // each failed bundle's or file's error, once
	err     error                 // the last build's error, when nothing could be built
	version string                // the last good build's version
	library string                // the last good build's library (the manifest's name)
	built   bool

	subMu sync.Mutex
	subs  map[chan string]struct{}
}

type inputState struct {
	size    int64
	modTime time.Time
	sum     [32]byte
}

// New builds the project once and returns the dev server. A build
// error is not fatal: it is served until the sources are fixed.
func New(cfg Config) (*Server, error) {
	if cfg.Fs == nil || cfg.Manifest == "" {
		return nil, errors.New("dev config: Fs and Manifest are required")
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 250 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	for _, o := range cfg.CORSOrigins {
		if err := headers.CheckOrigin(o); err != nil {
			return nil, fmt.Errorf("dev config: CORS origin %q: %w", o, err)
		}
	}
	if _, err := cfg.Fs.Stat(cfg.Manifest); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	d := &Server{cfg: cfg, subs: map[chan string]struct{}{}}
	d.check(context.Background())
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	common := headers.NewCommon(cfg.CORSOrigins, headers.DefaultCORSMaxAge, 0)
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			common.Set(c.Response().Header(), r)
			if r.Method == http.MethodOptions {
				common.Preflight(c.Response().Writer, r)
				return nil
			}
			c.Response().Header()["Cache-Control"] = []string{"no-store"}
			return next(c)
		}
	})
	e.GET("/", d.handleIndex)
	e.GET("/-/events", d.handleEvents)
	e.GET("/*", d.handleFile)
	d.echo = e
	return d, nil
}

// ServeHTTP serves one request.
func (d *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { d.echo.ServeHTTP(w, r) }

// Builds counts the builds run so far.
func (d *Server) Builds() int64 { return d.builds.Load() }

// Run checks the sources every Poll until ctx ends, so that a change
// triggers a rebuild, and an event on /-/events, without a request.
func (d *Server) Run(ctx context.Context) {
	loop.Every(ctx, d.cfg.Poll, func() { d.check(ctx) })
}

// check rebuilds when an input's content changed since the last check.
// A file whose size and time are unchanged is not read; one that was
// only touched is read and hashed, and found unchanged.
func (d *Server) check(ctx context.Context) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.scan() && d.built {
		return
	}
	d.rebuild(ctx)
}

// scan updates the input states and reports whether any content changed,
// or a file appeared or vanished.
func (d *Server) scan() bool {
	next := map[string]inputState{}
	changed := false
	note := func(p string, fi fs.FileInfo) {
		prev, seen := d.inputs[p]
		if seen && prev.size == fi.Size() && prev.modTime.Equal(fi.ModTime()) {
			next[p] = prev
			return
		}
		data, err := afero.ReadFile(d.cfg.Fs, p)
		if err != nil {
			changed = true
			return
		}
		st := inputState{size: fi.Size(), modTime: fi.ModTime(), sum: sha256.Sum256(data)}
		if !seen || st.sum != prev.sum {
			changed = true
		}
		next[p] = st
	}
	if fi, err := d.cfg.Fs.Stat(d.cfg.Manifest); err == nil {
		note(d.cfg.Manifest, fi)
	}
	afero.Walk(d.cfg.Fs, d.srcDir(), func(p string, fi fs.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		if fi.IsDir() && p != d.srcDir() && (strings.HasPrefix(fi.Name(), ".") || fi.Name() == "node_modules") {
			return fs.SkipDir
		}
		if fi.Mode().IsRegular() {
			note(p, fi)
		}
		return nil
	})
	if len(next) != len(d.inputs) {
		changed = true
	}
	d.inputs = next
	return changed
}

// srcDir is the manifest's src_dir, read from the manifest as it is now.
func (d *Server) srcDir() string {
	dir := path.Dir(d.cfg.Manifest)
	if raw, err := afero.ReadFile(d.cfg.Fs, d.cfg.Manifest); err == nil {
		if m, err := build.Decode(d.cfg.Manifest, raw); err == nil {
			return path.Join(dir, m.SrcDir)
		}
	}
	return dir
}

// rebuild runs the real build and keeps its outputs, or its error.
func (d *Server) rebuild(ctx context.Context) {
	d.builds.Add(1)
	d.built = true
	start := time.Now()
	files, failures, version, library, err := d.buildOnce(ctx)
	if err != nil {
		d.err = err
		d.cfg.Logger.Error("build failed: " + err.Error())
		d.publish(map[string]any{"ok": false, "error": err.Error()})
		return
	}
	failed := map[string]error{}
	var errs []string
	for _, f := range failures {
		for _, out := range f.Outputs {
			failed[out] = f.Err
		}
		d.cfg.Logger.Error("build failed: "+f.Err.Error(), "outputs", f.Outputs)
		errs = append(errs, f.Err.Error())
	}
	d.files, d.failed, d.errs, d.err, d.version, d.library = files, failed, errs, nil, version, library
	d.cfg.Logger.Info("rebuilt", "version", version, "files", len(files), "failed", len(errs), "duration", time.Since(start).Round(time.Millisecond))
	d.publish(map[string]any{"ok": len(errs) == 0, "version": version, "files": len(files), "errors": errs})
}

// buildOnce builds every bundle and file it can: one that fails is kept
// out of the others' way, and its outputs answer with its error.
func (d *Server) buildOnce(ctx context.Context) (files map[string][]byte, failed []build.Failure, version, library string, err error) {
	raw, err := afero.ReadFile(d.cfg.Fs, d.cfg.Manifest)
	if err != nil {
		return nil, nil, "", "", err
	}
	m, err := build.Decode(path.Base(d.cfg.Manifest), raw)
	if err != nil {
		return nil, nil, "", "", err
	}
	version = m.Version
	if version == "" {
		version = devVersion
	}
	src := afero.NewReadOnlyFs(afero.NewBasePathFs(d.cfg.Fs, path.Join(path.Dir(d.cfg.Manifest), m.SrcDir)))
	res, err := build.Build(ctx, build.Options{Manifest: m, Src: src, Version: version, KeepGoing: true, NPM: d.cfg.NPM})
	if err != nil {
		return nil, nil, "", "", err
	}
	files = make(map[string][]byte, len(res.Artifacts))
	for _, a := range res.Artifacts {
		files[a.Name] = a.Data
	}
	return files, res.Failed, version, m.Library, nil
}

// handleFile serves a built file under any version prefix: /sockjs.js,
// /2.2.0/sockjs.js and /anything/sockjs.js are the same file, because a
// library's own dependency loader puts its version into the path. A
// named library's files are also served below its name, as serve
// serves them: /pusher/2.2.0/sockjs.js, /pusher@2/sockjs.js.
func (d *Server) handleFile(c echo.Context) error {
	d.check(c.Request().Context())
	p := strings.TrimPrefix(c.Request().URL.Path, "/")
	d.mu.Lock()
	files, failed, buildErr, library := d.files, d.failed, d.err, d.library
	d.mu.Unlock()
	p = withoutLibrary(p, library)
	name, ok := "", false
	for _, cand := range candidates(p) {
		if _, exists := files[cand]; exists && layout.CheckPath(cand) == nil {
			name, ok = cand, true
			break
		}
		if err := failed[cand]; err != nil {
			return d.serveBuildError(c, cand, err)
		}
	}
	if buildErr != nil && (ok || build.IsBuilt(p)) {
		return d.serveBuildError(c, p, buildErr)
	}
	if !ok {
		return c.String(http.StatusNotFound, "not built by this manifest: "+p+"\n(see / for what is served)\n")
	}
	h := c.Response().Header()
	h["Content-Type"] = []string{layout.ContentType(name)}
	return c.Blob(http.StatusOK, layout.ContentType(name), files[name])
}

// withoutLibrary strips a named library's prefix from a path:
// "pusher/2.2.0/x.js" and "pusher@2/x.js" become "2.2.0/x.js" and
// "2/x.js" ("pusher" is "").
func withoutLibrary(p, library string) string {
	if library == "" {
		return p
	}
	if rest, ok := strings.CutPrefix(p, library+"/"); ok {
		return rest
	}
	if rest, ok := strings.CutPrefix(p, library+"@"); ok {
		return rest
	}
	return p
}

// candidates are the paths a request may name: the path itself, and the
// path after a version prefix (/2.2.0/sockjs.js is sockjs.js).
func candidates(p string) []string {
	if _, rest, cut := strings.Cut(p, "/"); cut {
		return []string{p, rest}
	}
	return []string{p}
}

// buildFailedHeader marks a response whose body reports a build error.
const buildFailedHeader = "X-Cdnserve-Build-Failed"

// serveBuildError answers with a body that reports the error where the
// developer is looking: a script that calls console.error (with the
// file, line and column), or a CSS comment for a stylesheet. The status
// is 200, since a browser does not run a script that comes with an
// error status; X-Cdnserve-Build-Failed and no-store mark it.
func (d *Server) serveBuildError(c echo.Context, p string, err error) error {
	msg := "cdnserve dev: build failed:\n" + err.Error()
	c.Response().Header().Set(buildFailedHeader, "true")
	if strings.HasSuffix(p, ".css") {
		return c.Blob(http.StatusOK, layout.ContentType(p), []byte("/* "+strings.ReplaceAll(msg, "*/", "* /")+" */\n"))
	}
	lit, _ := json.Marshal(msg) // a JS string literal; < and > are escaped
	return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", []byte("console.error("+string(lit)+");\n"))
}

var devIndex = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>cdnserve dev</title>
<h1>cdnserve dev</h1>
{{if .Error}}<h2>Build failed</h2><pre>{{.Error}}</pre>{{end}}
<p>Build {{.Builds}}{{if .Library}} of {{.Library}}{{end}}. Every file is also served under any version prefix, such as <code>/{{.Version}}/{{.First}}</code>{{if .Library}}, and below the library's name, as <code>/{{.Library}}/{{.Version}}/{{.First}}</code>{{end}}.</p>
<ul>{{range .Files}}<li><a href="/{{.}}">{{.}}</a></li>{{end}}</ul>
<p>Live reload: <code>new EventSource("/-/events").addEventListener("rebuild", () => location.reload());</code></p>
</html>
`))

// handleIndex lists what is served, with links.
func (d *Server) handleIndex(c echo.Context) error {
	d.check(c.Request().Context())
	d.mu.Lock()
	names := make([]string, 0, len(d.files))
	for n := range d.files {
		names = append(names, n)
	}
	errText, version, library := "", d.version, d.library
	if d.err != nil {
		errText = d.err.Error()
	}
	if errText == "" {
		errText = strings.Join(d.errs, "\n")
	}
	d.mu.Unlock()
	slices.Sort(names)
	first := ""
	if len(names) > 0 {
		first = names[0]
	}
	c.Response().Header()["Content-Type"] = []string{"text/html; charset=utf-8"}
	c.Response().WriteHeader(http.StatusOK)
	return devIndex.Execute(c.Response(), map[string]any{
		"Files": names, "Error": errText, "Builds": d.Builds(), "Version": version, "First": first, "Library": library,
	})
}

// handleEvents is a Server-Sent Events stream with one "rebuild" event per
// build (data: JSON with ok, and version or error).
func (d *Server) handleEvents(c echo.Context) error {
	ch := make(chan string, 16)
	d.subMu.Lock()
	d.subs[ch] = struct{}{}
	d.subMu.Unlock()
	defer func() {
		d.subMu.Lock()
		delete(d.subs, ch)
		d.subMu.Unlock()
	}()
	w := c.Response()
	w.Header()["Content-Type"] = []string{"text/event-stream"}
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": connected\nretry: 1000\n\n")
	w.Flush()
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
	for {
		select {
		case <-c.Request().Context().Done():
			return nil
		case msg := <-ch:
			fmt.Fprintf(w, "event: rebuild\ndata: %s\n\n", msg)
			w.Flush()
		case <-heartbeat.C:
			fmt.Fprint(w, ": ping\n\n")
			w.Flush()
		}
	}
}

// publish sends an event to every /-/events subscriber; a subscriber
// that is not reading misses it rather than blocking the build.
func (d *Server) publish(v any) {
	data, _ := json.Marshal(v)
	d.subMu.Lock()
	defer d.subMu.Unlock()
	for ch := range d.subs {
		select {
		case ch <- string(data):
		default:
		}
	}
}
