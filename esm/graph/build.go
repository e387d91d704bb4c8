package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"
	"github.com/evanw/esbuild/pkg/api"
)

// build is a package version's published build.
type build struct {
	key string
	man *layout.Manifest
	// outs maps each subpath built to its output file.
	outs map[string]string
}

// scheme numbers the way builds are made: a change to the options,
// the plugin or the CommonJS wrapper must change it, so that a new
// cdnserve never serves an old build under a key that now means
// something else.
const scheme = "cdnserve-esm/1"

// EsbuildVersion is the esbuild that builds, as go.mod requires it (a
// test keeps the two equal): part of every build's key and provenance.
const EsbuildVersion = "v0.28.2"

// buildAll builds every package of the graph that cannot run as it is.
func (t *trace) buildAll() error {
	for _, n := range t.sortedNodes() {
		if n.raw || len(n.subs) == 0 {
			continue
		}
		b, ran, err := t.m.build(t.ctx, n)
		if err != nil {
			return err
		}
		n.build = b
		if ran {
			t.built++
		}
	}
	return nil
}

// outputName is the file a subpath's entry is built to: "." is
// index.js, "./client" client.js, "./addons/x.js" addons/x.js.
func outputName(sub string) string {
	if sub == "." {
		return "index"
	}
	s := strings.TrimPrefix(sub, "./")
	for _, ext := range []string{".js", ".mjs", ".cjs"} {
		s = strings.TrimSuffix(s, ext)
	}
	return s
}

// key names a build by all its inputs: the package (its name, version,
// npm integrity and every file's hash), the entry points, and how it is
// built (scheme, format, conditions, target, esbuild's version).
func (m *Maker) key(n *node, subs []string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s@%s\n%s\n", scheme, n.name, n.version, n.man.Provenance.Integrity)
	for _, f := range n.man.Files {
		fmt.Fprintf(h, "%s %s\n", f.Path, f.SHA256)
	}
	fmt.Fprintf(h, "format=esm target=es2020 env=%s conditions=%s esbuild=%s\nentries=%s\n",
		m.env, strings.Join(m.conds, ","), EsbuildVersion, strings.Join(subs, ","))
	return "m" + hex.EncodeToString(h.Sum(nil)[:10]) // a library name: it may not start with a digit
}

// build returns a package's build for the subpaths the graph reaches:
// found in storage, or built and published (ran is true). Replicas
// building one key at once are kept apart by the tree's lock, and make
// the same bytes.
func (m *Maker) build(ctx context.Context, n *node) (b *build, ran bool, err error) {
	subs := make([]string, 0, len(n.subs))
	for s := range n.subs {
		subs = append(subs, s)
	}
	slices.Sort(subs)
	key := m.key(n, subs)
	outs := map[string]string{}
	files := map[string]string{} // an entry file built once, for each subpath that names it
	for _, s := range subs {
		e := n.subs[s]
		if prev, ok := files[e.file]; ok {
			outs[s] = prev
			continue
		}
		outs[s] = outputName(s) + ".js"
		files[e.file] = outs[s]
	}
	m.mu.Lock()
	b = m.builds[key]
	m.mu.Unlock()
	if b != nil {
		return b, false, nil
	}
	tree, err := dist.NewTree(m.o.Fs, path.Join(m.o.Root, BuildsDir)).Library(key)
	if err != nil {
		return nil, false, err
	}
	v, err, _ := m.group.Do("build "+key, func() (any, error) {
		if man, err := tree.Manifest(n.version); err == nil {
			return &build{key: key, man: man, outs: outs}, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		release, err := m.slot(ctx)
		if err != nil {
			return nil, &Error{Package: n.id(), Reason: err.Error(), Err: err}
		}
		start := time.Now()
		out, err := m.runBuild(ctx, n, subs, outs, release)
		if err != nil {
			return nil, err
		}
		sv, err := versioning.Parse(n.version)
		if err != nil {
			return nil, err
		}
		prov := n.man.Provenance
		prov.Tool = strings.TrimSpace(m.o.Tool + " with esbuild " + EsbuildVersion)
		prov.Source = fmt.Sprintf("esm build of npm %s (%s; entries %s)", n.id(), m.env, strings.Join(subs, " "))
		prov.BuiltAt = time.Time{}
		if _, err := tree.Publish(ctx, dist.Request{Version: sv, Files: out, NoAlias: true, Unrecorded: true, Wait: true, Compression: layout.Fast, Provenance: prov}); err != nil {
			return nil, fmt.Errorf("publishing the build of %s: %w", n.id(), err)
		}
		man, err := tree.Manifest(n.version)
		if err != nil {
			return nil, err
		}
		m.o.Log.Info("built an npm package as ES modules", "package", n.id(), "key", key, "entries", len(subs), "files", len(out), "duration", time.Since(start).Round(time.Millisecond))
		return &build{key: key, man: man, outs: outs}, nil
	})
	if err != nil {
		return nil, false, err
	}
	b = v.(*build)
	m.mu.Lock()
	_, was := m.builds[key]
	m.builds[key] = b
	m.mu.Unlock()
	return b, !was, nil
}

// slot waits up to QueueWait for one of the build slots.
func (m *Maker) slot(ctx context.Context) (func(), error) {
	t := time.NewTimer(m.o.QueueWait)
	defer t.Stop()
	select {
	case m.slots <- struct{}{}:
		return func() { <-m.slots }, nil
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// runBuild runs esbuild on a package's entry points, in its own
// goroutine: past BuildTimeout it returns ErrBuildTimeout, and the slot
// is released only when esbuild returns.
func (m *Maker) runBuild(ctx context.Context, n *node, subs []string, outs map[string]string, release func()) ([]layout.File, error) {
	dir, err := m.unpack(ctx, n)
	if err != nil {
		release()
		return nil, err
	}
	opts := m.esbuildOptions(n, dir)
	opts.Metafile = false
	opts.Splitting = true
	opts.ChunkNames = "_chunks/[name]-[hash]"
	opts.MinifyWhitespace = m.env == "production"
	opts.MinifySyntax = m.env == "production"
	opts.MinifyIdentifiers = m.env == "production"
	opts.LegalComments = api.LegalCommentsEndOfFile
	done := map[string]bool{}
	for _, s := range subs {
		e := n.subs[s]
		if done[outs[s]] {
			continue
		}
		done[outs[s]] = true
		in := "./" + e.file
		if e.cjs {
			in = nsCJS + ":" + e.file
		}
		opts.EntryPointsAdvanced = append(opts.EntryPointsAdvanced, api.EntryPoint{InputPath: in, OutputPath: strings.TrimSuffix(outs[s], ".js")})
	}
	result := make(chan api.BuildResult, 1)
	go func() {
		defer release()
		result <- api.Build(opts)
	}()
	timer := time.NewTimer(m.o.BuildTimeout)
	defer timer.Stop()
	var res api.BuildResult
	select {
	case res = <-result:
	case <-timer.C:
		return nil, &Error{Package: n.id(), Reason: fmt.Sprintf("the build ran past %s", m.o.BuildTimeout), Err: ErrBuildTimeout}
	}
	if len(res.Errors) > 0 {
		return nil, buildError(n, n.name, res.Errors)
	}
	var files []layout.File
	for _, f := range res.OutputFiles {
		rel, err := filepath.Rel(opts.Outdir, f.Path)
		if err != nil || strings.HasPrefix(rel, "..") {
			return nil, fmt.Errorf("esbuild wrote %s, outside its output directory", f.Path)
		}
		files = append(files, layout.File{Name: filepath.ToSlash(rel), Data: f.Contents, Module: true})
	}
	return files, nil
}
