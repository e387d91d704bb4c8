// Package graph makes one import map, with integrity, for a whole npm
// dependency graph (issue 26): it follows what the asked-for packages'
// modules import, with esbuild's resolver and parser, chooses one version
// per package where the ranges allow it (the rest go to scopes), fetches
// what storage lacks through the npm mirror, and builds with esbuild, once
// and for good, the packages whose files a browser cannot run as they are.
//
// A package's files are served as they are (from /<name>/<version>/) when
// every module reached is an ES module whose relative imports name their
// files exactly, that uses no require and no process.env, and whose bare
// imports are all its dependencies'. Anything else (CommonJS, extension-less
// imports, the browser field's remaps, process.env.NODE_ENV) is built: all
// of the package's reached entry points in one esbuild run, split into
// shared chunks so that each module exists once, bare imports left to the
// import map so that each dependency exists once (one React), CommonJS
// entries given the named exports Node finds. A build is published into
// <root>/.esm/<key>/<version>/, a library of the tree's own rules (atomic,
// immutable, an integrity manifest with provenance), under a key of all
// its inputs; the server serves it at /-/esm/<key>/<version>/.
//
// It links esbuild, so the server reaches it only through an interface
// (server.Modules), wired by the command.
package graph

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cdnserve/cdnserve/catalog"
	"github.com/cdnserve/cdnserve/esm"
	"github.com/cdnserve/cdnserve/importmap"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"
	"github.com/spf13/afero"
	"golang.org/x/sync/singleflight"
)

// BuildsDir is the directory below the dist root that holds the builds.
const BuildsDir = importmap.BuildsDir

// Fetcher makes storage hold a package version that it lacks (the npm
// mirror, npm.Mirror.EnsureFor).
type Fetcher interface {
	// EnsureFor returns the exact version of name that spec (a range, a
	// tag or a version) names upstream, once storage holds it.
	// dependent is the package whose dependencies declare name, or ""
	// for a package asked for by name; the fetcher decides which it
	// allows. Its error is fs.ErrNotExist when the package is not
	// there or not allowed.
	EnsureFor(ctx context.Context, name, spec, dependent string) (string, error)
}

// Options say where the packages are and how builds are bounded.
type Options struct {
	// Fs and Root are the storage and the dist root: packages are its
	// libraries, builds go below Root/.esm.
	Fs   afero.Fs
	Root string
	// Fetch, if set, fetches what storage lacks.
	Fetch Fetcher
	// Development builds with the development condition and
	// process.env.NODE_ENV "development"; the default is production.
	Development bool
	// Tool names the builder in the builds' provenance.
	Tool string
	// Builds bounds the esbuild runs at once (default 2); a build waits
	// up to QueueWait (default 10 s) for a slot, then fails with ErrBusy.
	Builds    int
	QueueWait time.Duration
	// BuildTimeout bounds one build (default 2 min): past it the map
	// fails with ErrBuildTimeout, and the build goes on, holding its
	// slot, until esbuild returns.
	BuildTimeout time.Duration
	// MaxPackageBytes bounds the bytes of one package's files that a
	// build reads into memory and onto the work directory (default 64
	// MiB): the memory limit of a build.
	MaxPackageBytes int64
	// MaxPackages bounds the packages of one graph (default 500).
	MaxPackages int
	// WorkDir is where packages are unpacked for esbuild to read
	// (default: a new directory below os.TempDir, removed by Close).
	WorkDir string
	// Log hears of builds and of entry points that were skipped.
	Log *slog.Logger
}

// Errors a map can fail with, besides *Error's reasons.
var (
	// ErrBusy is a build that found every slot taken for QueueWait.
	ErrBusy error = busyError{}
	// ErrBuildTimeout is a build that ran past BuildTimeout (also
	// context.DeadlineExceeded).
	ErrBuildTimeout = fmt.Errorf("the build ran past its time limit: %w", context.DeadlineExceeded)
	// ErrTooLarge is a package past MaxPackageBytes, or a graph past
	// MaxPackages.
	ErrTooLarge = importmap.ErrTooLarge
	// ErrUnsupported is a module a browser cannot run and a build
	// cannot fix: a Node built-in, a syntax error, a missing file.
	ErrUnsupported = importmap.ErrUnsupported
)

type busyError struct{}

func (busyError) Error() string { return "every build slot is taken; try again shortly" }

// RetryAfter is how long a client should wait before asking again.
func (busyError) RetryAfter() time.Duration { return 5 * time.Second }

// Error is a map that cannot be made: it names the package, the
// specifier and why. Err is its kind: fs.ErrNotExist (a package or
// version that is not there, or a subpath not exported), ErrUnsupported,
// ErrTooLarge, ErrBusy, ErrBuildTimeout, or the fetcher's error.
type Error struct {
	// Package is "name@version", or the spec asked for.
	Package string
	// Specifier is what was being resolved, when there is one.
	Specifier string
	Reason    string
	Err       error
}

func (e *Error) Error() string {
	s := e.Package
	if e.Specifier != "" {
		s += ": " + e.Specifier
	}
	return s + ": " + e.Reason
}

func (e *Error) Unwrap() error { return e.Err }

// Maker makes import maps for graphs. Make one with New; it is safe for
// concurrent use.
type Maker struct {
	o       Options
	cat     *catalog.Catalog
	conds   []string
	env     string
	work    string
	ownWork bool
	// workOnce makes the work directory once (workDir).
	workOnce sync.Once
	workErr  error
	slots    chan struct{}
	group    singleflight.Group

	mu       sync.Mutex
	unpacked map[string]string // name@version -> its directory below work
	entries  map[string]*entry // name@version + " " + subpath -> its analysis
	failed   map[string]error  // … or why it cannot run
	builds   map[string]*build // key -> its published build
	pkgs     map[string]*esm.Package
	mans     map[string]*layout.Manifest
}

// New makes a Maker.
func New(o Options) (*Maker, error) {
	if o.Builds <= 0 {
		o.Builds = 2
	}
	if o.QueueWait <= 0 {
		o.QueueWait = 10 * time.Second
	}
	if o.BuildTimeout <= 0 {
		o.BuildTimeout = 2 * time.Minute
	}
	if o.MaxPackageBytes <= 0 {
		o.MaxPackageBytes = 64 << 20
	}
	if o.MaxPackages <= 0 {
		o.MaxPackages = 500
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	m := &Maker{o: o, conds: esm.BrowserConditions, env: "production", slots: make(chan struct{}, o.Builds),
		unpacked: map[string]string{}, entries: map[string]*entry{}, failed: map[string]error{}, builds: map[string]*build{},
		pkgs: map[string]*esm.Package{}, mans: map[string]*layout.Manifest{}}
	if o.Development {
		m.conds, m.env = esm.DevelopmentConditions, "development"
	}
	m.work = o.WorkDir
	m.cat = catalog.New(catalog.Options{Fs: o.Fs, Root: o.Root, NegativeTTL: time.Second})
	return m, nil
}

// workDir returns the work directory, made on first use (below
// os.TempDir, $TMPDIR, unless Options.WorkDir names one): a server in a
// root without /tmp starts, and only its builds fail, saying why.
func (m *Maker) workDir() (string, error) {
	m.workOnce.Do(func() {
		if m.work != "" {
			m.workErr = os.MkdirAll(m.work, 0o755)
			return
		}
		dir, err := os.MkdirTemp("", "cdnserve-esm-")
		if err != nil {
			m.workErr = fmt.Errorf("making the build work directory (set TMPDIR to a writable directory): %w", err)
			return
		}
		m.work, m.ownWork = dir, true
	})
	return m.work, m.workErr
}

// Close removes the work directory it made.
func (m *Maker) Close() error {
	m.workOnce.Do(func() {}) // none is made after Close
	if m.ownWork {
		return os.RemoveAll(m.work)
	}
	return nil
}

// node is one package version of the graph.
type node struct {
	name, version string
	pkg           *esm.Package
	man           *layout.Manifest
	subs          map[string]*entry // the subpaths reached
	scope         map[string]*node  // dependencies whose version is not the top one
	raw           bool
	build         *build
}

func (n *node) id() string { return n.name + "@" + n.version }

// trace is one map in the making.
type trace struct {
	m     *Maker
	ctx   context.Context
	top   map[string]*node
	nodes map[string]*node
	queue []want
	later []want // optional entry points, analysed after the others
	built int
	// pins, when set, are a lockfile's versions: nothing is resolved.
	pins *Pins
}

// want is a subpath of a node to analyse; optional ones (subpaths a
// root package exports, not asked for by name) are skipped when they
// cannot run in a browser.
type want struct {
	n        *node
	sub      string
	optional bool
}

// Make makes the import map for packages named "name@range" (a range, a
// tag or a version; "name" alone is name@latest), or
// "name@range/subpath" for one entry point; without a subpath, its main
// entry point, and every other entry point it exports by name whose
// imports the graph already holds (react/jsx-runtime, preact/hooks;
// not vue/server-renderer, which needs @vue/server-renderer). URLs start with
// base.
func (m *Maker) Make(ctx context.Context, base string, specs []string) (*importmap.Result, error) {
	return m.make(ctx, base, specs, nil)
}

// make is Make, with a lockfile's pins or without.
func (m *Maker) make(ctx context.Context, base string, specs []string, pins *Pins) (*importmap.Result, error) {
	t := &trace{m: m, ctx: ctx, top: map[string]*node{}, nodes: map[string]*node{}, pins: pins}
	base = strings.TrimSuffix(base, "/") + "/"
	var roots []want
	for _, spec := range specs {
		name, rng, sub, at := importmap.SplitSpec(spec)
		if !at {
			rng = "latest"
		}
		if err := layout.CheckLibraryName(name); err != nil {
			return nil, &Error{Package: spec, Reason: "not a package name: write name@range, such as react@^18", Err: fs.ErrNotExist}
		}
		n, err := t.choose(name, rng, nil)
		if err != nil {
			return nil, err
		}
		if sub != "" {
			roots = append(roots, want{n: n, sub: "./" + sub})
			continue
		}
		for _, s := range n.pkg.Subpaths() {
			roots = append(roots, want{n: n, sub: s, optional: s != "."})
		}
	}
	for _, w := range roots {
		t.add(w)
	}
	if err := t.run(); err != nil {
		return nil, err
	}
	if err := t.buildAll(); err != nil {
		return nil, err
	}
	return t.result(base, roots), nil
}

// run analyses every wanted subpath, and what their imports reach.
func (t *trace) run() error {
	for len(t.queue)+len(t.later) > 0 {
		var w want
		if len(t.queue) > 0 {
			w, t.queue = t.queue[0], t.queue[1:]
		} else {
			w, t.later = t.later[0], t.later[1:]
		}
		if _, done := w.n.subs[w.sub]; done {
			continue
		}
		e, err := t.m.analyse(t.ctx, w.n, w.sub)
		if err != nil && w.optional {
			t.m.o.Log.Debug("an entry point the package exports does not run in a browser; left out of the map", "package", w.n.id(), "subpath", w.sub, "err", err)
			continue
		}
		if err != nil {
			return err
		}
		w.n.subs[w.sub] = e
		for _, spec := range e.bare {
			err := t.follow(w, spec)
			if err != nil && w.optional {
				t.m.o.Log.Debug("an entry point the package exports imports what cannot be had; left out of the map", "package", w.n.id(), "subpath", w.sub, "err", err)
				delete(w.n.subs, w.sub)
				break
			}
			if err != nil {
				return err
			}
		}
	}
	for _, n := range t.nodes {
		n.raw = true
		for _, e := range n.subs {
			n.raw = n.raw && e.raw
		}
	}
	return nil
}

// follow resolves a bare specifier that the modules of a wanted entry
// point import. What an optional entry point (a subpath of a package
// asked for without one) imports must already be in the graph, at a
// version its range allows: it may add entry points to the graph's
// packages, never a package.
func (t *trace) follow(w want, spec string) error {
	n := w.n
	name, sub := splitBare(spec)
	if name == n.name {
		t.add(want{n: n, sub: sub, optional: w.optional})
		return nil
	}
	rng, declared := n.pkg.DependencyRange(name)
	if cur := t.top[name]; cur != nil && (!declared || w.optional) {
		if w.optional && declared && !t.fits(n, name, rng, cur) {
			return &Error{Package: n.id(), Specifier: spec, Err: fs.ErrNotExist, Reason: "needs another version of " + name + " than the graph's; name the subpath to map it"}
		}
		t.add(want{n: cur, sub: sub, optional: w.optional})
		return nil
	}
	if w.optional {
		return &Error{Package: n.id(), Specifier: spec, Err: fs.ErrNotExist, Reason: name + " is not in the graph; name the subpath to map it with its dependencies"}
	}
	if !declared {
		return &Error{Package: n.id(), Specifier: spec, Err: ErrUnsupported,
			Reason: fmt.Sprintf("a module imports %s, but the package.json declares no %s in dependencies, peerDependencies or optionalDependencies", spec, name)}
	}
	dep, err := t.choose(name, rng, n)
	if err != nil {
		return err
	}
	t.add(want{n: dep, sub: sub})
	return nil
}

// fits reports whether the graph's version of name is the one from
// should get: in its range, or the lockfile's.
func (t *trace) fits(from *node, name, rng string, cur *node) bool {
	if t.pins == nil {
		return satisfies(cur.version, rng)
	}
	if v, ok := t.pins.Plan.Scopes[from.id()][name]; ok {
		return v == cur.version
	}
	return t.pins.Plan.Top[name] == cur.version
}

// add queues an entry point to analyse: required ones first, so that
// optional ones find every package the graph needs already in it.
func (t *trace) add(w want) {
	if w.optional {
		t.later = append(t.later, w)
	} else {
		t.queue = append(t.queue, w)
	}
}

// choose picks the version of name for a range that from declares (nil
// for a package asked for): the graph's top version when it satisfies
// the range, as npm's dedupe does, else the newest that does, in from's
// scope.
func (t *trace) choose(name, rng string, from *node) (*node, error) {
	if t.pins != nil {
		return t.pinned(name, from)
	}
	cur := t.top[name]
	if cur != nil && satisfies(cur.version, rng) {
		return cur, nil
	}
	dependent := ""
	if from != nil {
		dependent = from.name
	}
	version, err := t.m.resolve(t.ctx, name, rng, dependent)
	if err != nil {
		return nil, err
	}
	n, err := t.node(name, version)
	if err != nil {
		return nil, err
	}
	switch {
	case cur == nil:
		t.top[name] = n
	case from != nil:
		if from.scope == nil {
			from.scope = map[string]*node{}
		}
		from.scope[name] = n
	}
	return n, nil
}

// node returns the graph's node of a package version, loading it.
func (t *trace) node(name, version string) (*node, error) {
	id := name + "@" + version
	if n := t.nodes[id]; n != nil {
		return n, nil
	}
	if len(t.nodes) >= t.m.o.MaxPackages {
		return nil, &Error{Package: id, Err: ErrTooLarge, Reason: fmt.Sprintf("the graph has more than %d packages", t.m.o.MaxPackages)}
	}
	pkg, man, err := t.m.load(name, version)
	if err != nil {
		return nil, err
	}
	n := &node{name: name, version: version, pkg: pkg, man: man, subs: map[string]*entry{}}
	t.nodes[id] = n
	return n, nil
}

// satisfies reports whether a version is in an npm range; a tag or an
// unparsable range never is.
func satisfies(version, rng string) bool {
	v, err := versioning.Parse(version)
	if err != nil {
		return false
	}
	r, err := versioning.ParseRange(rng)
	return err == nil && r.MatchNPM(v)
}

// splitBare splits a bare specifier into the package name and the
// subpath: "react-dom/client" is "react-dom" and "./client".
func splitBare(spec string) (name, sub string) {
	parts := strings.SplitN(spec, "/", 3)
	n := 1
	if strings.HasPrefix(spec, "@") && len(parts) > 1 {
		n = 2
	}
	if len(parts) <= n {
		return spec, "."
	}
	return strings.Join(parts[:n], "/"), "./" + strings.Join(parts[n:], "/")
}

// specifier is the bare specifier of a package's subpath.
func specifier(name, sub string) string {
	if sub == "." {
		return name
	}
	return name + sub[1:]
}

// resolve returns the exact version of a package for a range, from
// the fetcher when there is one (storage's newest match when upstream
// fails or refuses), else from storage.
func (m *Maker) resolve(ctx context.Context, name, rng, dependent string) (string, error) {
	var fetchErr error
	if lib, err := m.cat.Library(name); err == nil && lib.Loaded(rng) != nil {
		return rng, nil // an exact version storage holds (a lockfile's): nothing to ask
	}
	if m.o.Fetch != nil {
		v, err := m.o.Fetch.EnsureFor(ctx, name, rng, dependent)
		if err == nil {
			if lib := m.cat.Loaded(name); lib == nil || lib.Loaded(v) == nil {
				m.cat.Published(name) // new to storage, maybe: look again
			}
			return v, nil
		}
		fetchErr = err
	}
	lib, err := m.cat.Library(name)
	if err == nil {
		var v string
		if v, err = lib.Resolve(rng); err == nil {
			if fetchErr != nil && !errors.Is(fetchErr, fs.ErrNotExist) {
				m.o.Log.Warn("the mirror failed; the graph uses what storage holds", "package", name, "range", rng, "err", fetchErr)
			}
			return v, nil
		}
	}
	if errors.Is(err, catalog.ErrStorage) {
		return "", err
	}
	who := name + "@" + rng
	if dependent != "" {
		who += " (a dependency of " + dependent + ")"
	}
	if fetchErr != nil && !errors.Is(fetchErr, fs.ErrNotExist) {
		return "", &Error{Package: who, Reason: "fetching it failed: " + fetchErr.Error(), Err: fetchErr}
	}
	reason := "storage holds no version of it that matches"
	if fetchErr != nil {
		reason = fetchErr.Error()
	}
	return "", &Error{Package: who, Reason: reason, Err: fs.ErrNotExist}
}

// load reads a package version's integrity manifest and package.json
// from storage, once.
func (m *Maker) load(name, version string) (*esm.Package, *layout.Manifest, error) {
	id := name + "@" + version
	m.mu.Lock()
	pkg, man := m.pkgs[id], m.mans[id]
	m.mu.Unlock()
	if pkg != nil {
		return pkg, man, nil
	}
	lib, err := m.cat.Library(name)
	if err != nil {
		return nil, nil, &Error{Package: id, Reason: "not in storage", Err: err}
	}
	v, err := lib.Get(version)
	if err != nil {
		return nil, nil, &Error{Package: id, Reason: "not in storage", Err: err}
	}
	raw, err := m.readFile(name, version, v.Manifest, "package.json")
	if err != nil {
		return nil, nil, &Error{Package: id, Reason: "it has no package.json: it is not an npm package", Err: importmap.ErrNotPackage}
	}
	if pkg, err = esm.ParsePackage(raw); err != nil {
		return nil, nil, &Error{Package: id, Reason: err.Error(), Err: ErrUnsupported}
	}
	m.mu.Lock()
	m.pkgs[id], m.mans[id] = pkg, v.Manifest
	m.mu.Unlock()
	return pkg, v.Manifest, nil
}

// readFile reads one file of a package version from storage, checked
// against its manifest.
func (m *Maker) readFile(name, version string, man *layout.Manifest, file string) ([]byte, error) {
	mf, ok := man.File(file)
	if !ok {
		return nil, fs.ErrNotExist
	}
	data, err := afero.ReadFile(m.o.Fs, path.Join(layout.LibraryDir(m.o.Root, name), version, file))
	if err != nil {
		return nil, err
	}
	if layout.SHA256Hex(data) != mf.SHA256 {
		return nil, fmt.Errorf("%s@%s/%s does not match its integrity manifest: storage is damaged (cdnserve verify)", name, version, file)
	}
	return data, nil
}

// sortedNodes lists a trace's nodes by id.
func (t *trace) sortedNodes() []*node {
	out := make([]*node, 0, len(t.nodes))
	for _, n := range t.nodes {
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b *node) int { return strings.Compare(a.id(), b.id()) })
	return out
}
