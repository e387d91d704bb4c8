package bundle

import (
	"archive/tar"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/spf13/afero"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"
)

// BuildsDir is where derived ES-module builds live below a dist root
// (esm/graph's Root/.esm); the same name as importmap.BuildsDir.
const BuildsDir = ".esm"

// Selection is what to export.
type Selection struct {
	// Specs are "NAME@RANGE" (every stored version the range matches, by
	// npm's rules) or "NAME" (every stored version).
	Specs []string
	// Pins are exact versions, as a lockfile pins them; each must be
	// stored.
	Pins []Pin
	// All exports every version of every library.
	All bool
	// SinceTime leaves out versions published before it; SinceIndex
	// those an earlier bundle holds with the same manifest.
	SinceTime  time.Time
	SinceIndex *Index
	// Since describes the two above for the index ("2026-12-01",
	// "bundle.tar").
	Since string
}

// Pin is one exact version a lockfile needs.
type Pin struct{ Name, Version string }

// ExportOptions say how a bundle is written.
type ExportOptions struct {
	// Key signs the index; nil leaves the bundle unsigned.
	Key ed25519.PrivateKey
	// Tool is written into the index ("cdnserve 1.2.3").
	Tool string
	// Clock is the time (default time.Now).
	Clock func() time.Time
}

// ExportReport is what Export wrote.
type ExportReport struct {
	// Versions and Builds are the library versions and derived builds
	// written; Unchanged those --since left out.
	Versions, Builds, Unchanged int
	Files                       int
	// Bytes is the bundle's size.
	Bytes int64
	// KeyID names the signing key ("" when unsigned).
	KeyID string
}

// MissingError is a selection that names versions storage lacks: a
// lockfile's pins, or a range nothing stored matches.
type MissingError struct{ Missing []string }

func (e *MissingError) Error() string {
	return fmt.Sprintf("storage lacks %d of what was asked for: %s; nothing was written (cdnserve missing --lockfile lists a lockfile's)", len(e.Missing), strings.Join(e.Missing, ", "))
}

// Export writes a bundle of what sel names in the dist root top to w.
func Export(ctx context.Context, top dist.Tree, sel Selection, w io.Writer, o ExportOptions) (*ExportReport, error) {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	items, err := selectVersions(top, sel)
	if err != nil {
		return nil, err
	}
	rep := &ExportReport{}
	cw := &countingWriter{w: w}
	tw := tar.NewWriter(cw)
	idx := &Index{Format: Format, Created: o.Clock().UTC().Truncate(time.Second), Tool: o.Tool, Since: sel.Since, Files: map[string]FileSum{}}
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if sel.SinceIndex != nil && sel.SinceIndex.holds(it.v) || !sel.SinceTime.IsZero() && !it.v.BuiltAt.After(sel.SinceTime) {
			rep.Unchanged++
			continue
		}
		if err := writeVersion(tw, it, idx); err != nil {
			return nil, err
		}
		idx.Versions = append(idx.Versions, it.v)
		if it.v.Build != "" {
			rep.Builds++
		} else {
			rep.Versions++
		}
	}
	audit, err := auditOf(top, items)
	if err != nil {
		return nil, err
	}
	if len(audit) > 0 {
		if err := writeEntry(tw, AuditName, audit, idx.Created); err != nil {
			return nil, err
		}
		idx.Files[AuditName] = FileSum{Size: int64(len(audit)), SHA256: layout.SHA256Hex(audit)}
	}
	rep.Files = len(idx.Files)
	raw, _ := json.MarshalIndent(idx, "", " ") // plain data: cannot fail
	raw = append(raw, '\n')
	if err := writeEntry(tw, IndexName, raw, idx.Created); err != nil {
		return nil, err
	}
	if o.Key != nil {
		sig := base64.StdEncoding.EncodeToString(ed25519.Sign(o.Key, raw)) + "\n"
		if err := writeEntry(tw, SignatureName, []byte(sig), idx.Created); err != nil {
			return nil, err
		}
		rep.KeyID = KeyID(o.Key.Public().(ed25519.PublicKey))
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	rep.Bytes = cw.n
	return rep, nil
}

// item is one version to export, the tree it is in, and its manifest,
// decoded and as stored (written into the bundle as read, once).
type item struct {
	v      Version
	tree   dist.Tree
	man    *layout.Manifest
	rawMan []byte
}

// selectVersions lists the versions sel names, with their manifests and
// records, libraries first (by name, then version), then their builds.
func selectVersions(top dist.Tree, sel Selection) ([]item, error) {
	want := map[string][]*semver.Version{} // library → versions
	var missing []string
	addAll := func(name string) error {
		tree, err := top.Library(name)
		if err != nil {
			return err
		}
		vs, err := tree.Versions()
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		want[name] = append(want[name], vs...)
		return nil
	}
	if sel.All {
		names, _, err := dist.Libraries(top.Fs, top.Root)
		if err != nil {
			return nil, err
		}
		for _, n := range append([]string{""}, names...) {
			if err := addAll(n); err != nil {
				return nil, err
			}
		}
	}
	for _, spec := range sel.Specs {
		name, rng := SplitSpec(spec)
		tree, err := top.Library(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", spec, err)
		}
		stored, err := tree.Versions()
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		r, err := versioning.ParseRange(rng)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a version range: %v", spec, rng, err)
		}
		n := 0
		for _, v := range stored {
			if r.MatchNPM(v) {
				want[name] = append(want[name], v)
				n++
			}
		}
		if n == 0 {
			missing = append(missing, spec+" (no stored version matches)")
		}
	}
	for _, p := range sel.Pins {
		tree, err := top.Library(p.Name)
		if err != nil {
			return nil, fmt.Errorf("%s@%s: %w", p.Name, p.Version, err)
		}
		if _, err := tree.Manifest(p.Version); err != nil {
			missing = append(missing, p.Name+"@"+p.Version)
			continue
		}
		v, _ := versioning.Parse(p.Version)
		want[p.Name] = append(want[p.Name], v)
	}
	if len(missing) > 0 {
		return nil, &MissingError{Missing: missing}
	}
	var items []item
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	slices.Sort(names)
	picked := map[string]bool{} // "name@version", for the builds
	for _, name := range names {
		tree, _ := top.Library(name)
		access, err := layout.ReadAccess(top.Fs, tree.Root)
		if err != nil {
			return nil, err
		}
		deps, err := layout.ReadDeprecations(top.Fs, tree.Root)
		if err != nil {
			return nil, err
		}
		vs := want[name]
		slices.SortFunc(vs, func(a, b *semver.Version) int { return a.Compare(b) })
		vs = slices.CompactFunc(vs, func(a, b *semver.Version) bool { return a.Equal(b) })
		for _, sv := range vs {
			it, err := readItem(tree, Version{Library: name, Version: sv.Original(), Private: access.Private, Deprecated: deps[sv.Original()].Message})
			if err != nil {
				return nil, err
			}
			items = append(items, it)
			picked[name+"@"+sv.Original()] = true
		}
	}
	builds, err := selectBuilds(top, func(pkg string) bool { return sel.All || picked[pkg] })
	return append(items, builds...), err
}

// SplitSpec splits "NAME@RANGE" ("@scope/name@^1"); a bare name is every
// version ("*").
func SplitSpec(spec string) (name, rng string) {
	if i := strings.LastIndex(spec, "@"); i > 0 {
		return spec[:i], spec[i+1:]
	}
	return spec, "*"
}

// readItem reads a version's manifest and its hash.
func readItem(tree dist.Tree, v Version) (item, error) {
	raw, err := afero.ReadFile(tree.Fs, path.Join(tree.Root, v.Version, layout.ManifestName))
	if err != nil {
		return item{}, fmt.Errorf("%s: reading its integrity manifest: %w", v, err)
	}
	m, err := layout.DecodeManifest(path.Join(tree.Root, v.Version, layout.ManifestName), raw)
	if err != nil {
		return item{}, err
	}
	v.Manifest, v.BuiltAt = layout.SHA256Hex(raw), m.Provenance.BuiltAt
	return item{v: v, tree: tree, man: m, rawMan: raw}, nil
}

// buildSourcePrefix starts the provenance source of an npm package's
// ES-module build (esm/graph): "esm build of npm NAME@VERSION (…".
const buildSourcePrefix = "esm build of npm "

// selectBuilds lists the derived builds of the packages want accepts
// ("name@version").
func selectBuilds(top dist.Tree, want func(pkg string) bool) ([]item, error) {
	builds := dist.NewTree(top.Fs, path.Join(top.Root, BuildsDir))
	keys, err := afero.ReadDir(top.Fs, builds.Root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var items []item
	for _, k := range keys {
		tree, err := builds.Library(k.Name())
		if err != nil || !k.IsDir() {
			continue // not a build's key: nothing esm/graph wrote
		}
		vs, err := tree.Versions()
		if err != nil {
			return nil, err
		}
		for _, sv := range vs {
			it, err := readItem(tree, Version{Build: k.Name(), Version: sv.Original()})
			if err != nil {
				return nil, err
			}
			pkg, _, _ := strings.Cut(strings.TrimPrefix(it.man.Provenance.Source, buildSourcePrefix), " ")
			if strings.HasPrefix(it.man.Provenance.Source, buildSourcePrefix) && want(pkg) {
				items = append(items, it)
			}
		}
	}
	return items, nil
}

// writeVersion writes a version's manifest (the bytes selectVersions
// read), files and sidecars, as stored, and lists them in the index.
func writeVersion(tw *tar.Writer, it item, idx *Index) error {
	put := func(name string, data []byte) error {
		p := path.Join(it.v.Dir(), name)
		idx.Files[p] = FileSum{Size: int64(len(data)), SHA256: layout.SHA256Hex(data)}
		return writeEntry(tw, p, data, it.v.BuiltAt)
	}
	if err := put(layout.ManifestName, it.rawMan); err != nil {
		return err
	}
	for _, mf := range it.man.Files {
		for _, o := range mf.Stored() {
			data, err := afero.ReadFile(it.tree.Fs, path.Join(it.tree.Root, it.v.Version, o.Name))
			if err != nil {
				return fmt.Errorf("%s: %w", it.v, err)
			}
			if err := put(o.Name, data); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeEntry(tw *tar.Writer, name string, data []byte, mod time.Time) error {
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: 0o644, ModTime: mod, Format: tar.FormatPAX}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

// holds reports whether an earlier bundle has this version, with the
// same manifest.
func (idx *Index) holds(v Version) bool {
	for _, old := range idx.Versions {
		if old.key() == v.key() && old.Manifest == v.Manifest {
			return true
		}
	}
	return false
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
