package bundle

import (
	"archive/tar"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/gate"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"
)

// ImportOptions say how a bundle is imported.
type ImportOptions struct {
	// Key, if set, must have signed the bundle's index; nil checks every
	// file against the index but not who wrote it.
	Key ed25519.PublicKey
	// Wait waits for another publisher's lock instead of failing.
	Wait bool
	// Progress, if set, is told of each version as it is published.
	Progress func(v Version, done, total int)
}

// ImportReport is what Import found and did.
type ImportReport struct {
	// Index is the bundle's index.
	Index *Index
	// Signed says the bundle carries a signature; KeyID names the key
	// that verified it ("" when none was given).
	Signed bool
	KeyID  string
	// Files is how many files were checked against the index.
	Files int
	// Imported are the versions published; Present those storage
	// already held with the same content (a no-op).
	Imported, Present []Version
	// Decisions is how many of the gate's decisions were added to the
	// audit log (AuditName); those it held already are not added again.
	Decisions int
}

// Refused is a bundle that import would not publish from: damaged,
// badly signed, or in conflict with storage. Nothing was imported.
type Refused struct {
	Reason string
}

func (e *Refused) Error() string { return e.Reason + "; nothing was imported" }

// Interrupted is an import that stopped after publishing some versions:
// each one is whole (dist publishes atomically), the rest are not
// published, and importing the same bundle again finishes the job.
type Interrupted struct {
	Done, Total int
	Version     Version
	Err         error
}

func (e *Interrupted) Error() string {
	return fmt.Sprintf("publishing %s: %v; %d of %d versions were imported, each whole, and the rest not at all: import the same bundle again to finish", e.Version, e.Err, e.Done, e.Total)
}

func (e *Interrupted) Unwrap() error { return e.Err }

// Import checks a bundle whole, then publishes each version storage lacks
// into the dist root top (see the package comment for the rules). f is
// read twice: once to check, once to publish.
func Import(ctx context.Context, top dist.Tree, f io.ReadSeeker, o ImportOptions) (*ImportReport, error) {
	chk, err := check(f, o.Key)
	if err != nil {
		return nil, err
	}
	rep := &ImportReport{Index: chk.idx, Signed: chk.sig != nil, Files: len(chk.idx.Files)}
	if o.Key != nil {
		rep.KeyID = KeyID(o.Key)
	}
	var todo []Version
	var conflicts []string
	for _, v := range chk.idx.Versions {
		tree, err := target(top, v)
		if err != nil {
			return nil, err
		}
		same, err := compareStored(tree, v, chk.manifests[v.Dir()])
		switch {
		case err != nil:
			conflicts = append(conflicts, err.Error())
		case same:
			rep.Present = append(rep.Present, v)
		default:
			todo = append(todo, v)
		}
	}
	if len(conflicts) > 0 {
		return nil, &Refused{Reason: "the bundle conflicts with storage: " + strings.Join(conflicts, "; ")}
	}
	if len(todo) > 0 {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		if err := publishAll(ctx, top, tar.NewReader(f), chk, todo, o, func(v Version) { rep.Imported = append(rep.Imported, v) }); err != nil {
			return rep, err
		}
	}
	rep.Decisions, err = importAudit(top, chk.decisions)
	return rep, err
}

// ReadIndex reads a bundle's index, once the bundle passes every check
// but the signature's (for export --since).
func ReadIndex(f io.Reader) (*Index, error) {
	chk, err := check(f, nil)
	if err != nil {
		return nil, err
	}
	return chk.idx, nil
}

// checked is a bundle that passed check: its index, signature, and the
// decoded manifest of each version (by its Dir).
type checked struct {
	idx       *Index
	sig       []byte
	manifests map[string]*layout.Manifest
	// below counts the files below each directory of the bundle.
	below map[string]int
	// decisions are the gate's decisions the bundle carries (AuditName).
	decisions []*gate.Decision
}

// maxIndex bounds the index and signature held in memory.
const maxIndex = 256 << 20

// check reads the whole bundle: every entry a regular file with a clean
// name, its SHA-256 and size as the index lists, nothing missing or
// extra; the signature, when key is set; every version's name, version
// and manifest. Any failure is a *Refused naming what failed.
func check(f io.Reader, key ed25519.PublicKey) (*checked, error) {
	sums := map[string]FileSum{}
	var rawIndex, rawSig, rawAudit []byte
	manifests := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, &Refused{Reason: fmt.Sprintf("not a readable tar file: %v", err)}
		}
		if h.Typeflag != tar.TypeReg {
			return nil, &Refused{Reason: fmt.Sprintf("%s: a tar entry of type %q; a bundle holds regular files only", h.Name, h.Typeflag)}
		}
		if err := layout.CheckPath(h.Name); err != nil {
			return nil, &Refused{Reason: fmt.Sprintf("%q: not a clean relative path: %v", h.Name, err)}
		}
		if _, dup := sums[h.Name]; dup || (h.Name == IndexName && rawIndex != nil) || (h.Name == SignatureName && rawSig != nil) {
			return nil, &Refused{Reason: h.Name + ": in the bundle twice"}
		}
		switch {
		case h.Name == IndexName || h.Name == SignatureName:
			b, err := io.ReadAll(io.LimitReader(tr, maxIndex+1))
			if err != nil || len(b) > maxIndex {
				return nil, &Refused{Reason: fmt.Sprintf("%s: unreadable or larger than %d MB", h.Name, maxIndex>>20)}
			}
			if h.Name == IndexName {
				rawIndex = b
			} else {
				rawSig = b
			}
			continue
		case h.Name == AuditName:
			b, err := io.ReadAll(io.LimitReader(tr, maxIndex+1))
			if err != nil || len(b) > maxIndex {
				return nil, &Refused{Reason: fmt.Sprintf("%s: unreadable or larger than %d MB", h.Name, maxIndex>>20)}
			}
			rawAudit = b
			sums[h.Name] = FileSum{Size: int64(len(b)), SHA256: layout.SHA256Hex(b)}
			continue
		case path.Base(h.Name) == layout.ManifestName:
			b, err := io.ReadAll(io.LimitReader(tr, maxIndex+1))
			if err != nil {
				return nil, &Refused{Reason: fmt.Sprintf("%s: %v", h.Name, err)}
			}
			manifests[path.Dir(h.Name)] = b
			sums[h.Name] = FileSum{Size: int64(len(b)), SHA256: layout.SHA256Hex(b)}
			continue
		}
		hs := sha256.New()
		n, err := io.Copy(hs, tr)
		if err != nil {
			return nil, &Refused{Reason: fmt.Sprintf("%s: %v", h.Name, err)}
		}
		sums[h.Name] = FileSum{Size: n, SHA256: hex.EncodeToString(hs.Sum(nil))}
	}
	if rawIndex == nil {
		return nil, &Refused{Reason: "no " + IndexName + " in it: not a cdnserve bundle"}
	}
	c := &checked{manifests: map[string]*layout.Manifest{}}
	if err := c.verifySignature(rawIndex, rawSig, key); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(rawIndex, &c.idx); err != nil || c.idx.Format != Format {
		return nil, &Refused{Reason: fmt.Sprintf("%s: not a %s index", IndexName, Format)}
	}
	for name, want := range c.idx.Files {
		got, ok := sums[name]
		switch {
		case !ok:
			return nil, &Refused{Reason: name + ": listed in the index but not in the bundle"}
		case got != want:
			return nil, &Refused{Reason: fmt.Sprintf("%s: %d bytes with sha256 %.16s…, but the index says %d bytes with %.16s…: the bundle was damaged or changed", name, got.Size, got.SHA256, want.Size, want.SHA256)}
		}
	}
	for name := range sums {
		if _, ok := c.idx.Files[name]; !ok {
			return nil, &Refused{Reason: name + ": in the bundle but not in its index"}
		}
	}
	if err := c.checkVersions(manifests); err != nil {
		return nil, err
	}
	var err error
	if c.decisions, err = parseAudit(rawAudit); err != nil {
		return nil, err
	}
	return c, nil
}

// verifySignature checks the index's signature with key; without a key
// there is nothing to check it with.
func (c *checked) verifySignature(rawIndex, rawSig []byte, key ed25519.PublicKey) error {
	if rawSig != nil {
		sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(rawSig)))
		if err != nil || len(sig) != ed25519.SignatureSize {
			return &Refused{Reason: SignatureName + ": not a base64 Ed25519 signature"}
		}
		c.sig = sig
	}
	switch {
	case key == nil:
		return nil
	case c.sig == nil:
		return &Refused{Reason: "the bundle is not signed, and --verify-key asks for a signature by " + KeyID(key)}
	case !ed25519.Verify(key, rawIndex, c.sig):
		return &Refused{Reason: "the bundle's signature does not verify with " + KeyID(key) + ": another key signed it, or its index was changed"}
	}
	return nil
}

// checkVersions checks each version the index lists: a library name,
// build key and version cdnserve can host, each listed once, and a
// manifest of that version, whose hash the index gives, listing exactly
// the files the bundle holds for it.
func (c *checked) checkVersions(raw map[string][]byte) error {
	seen := map[string]bool{}
	c.below = map[string]int{}
	for name := range c.idx.Files {
		for d := path.Dir(name); d != "."; d = path.Dir(d) {
			c.below[d]++
		}
	}
	for _, v := range c.idx.Versions {
		bad := func(why string) error {
			return &Refused{Reason: fmt.Sprintf("the index's version %q of %q%s: %s", v.Version, v.Library, v.Build, why)}
		}
		if v.Library != "" {
			if err := layout.CheckLibraryName(v.Library); err != nil {
				return bad("not a library name: " + err.Error())
			}
		}
		if v.Build != "" && (v.Library != "" || layout.CheckLibraryName(v.Build) != nil || strings.Contains(v.Build, "/")) {
			return bad("not a build's key")
		}
		if _, err := versioning.Parse(v.Version); err != nil {
			return bad("not a version: " + err.Error())
		}
		if seen[v.key()] {
			return bad("listed twice")
		}
		seen[v.key()] = true
		b, ok := raw[v.Dir()]
		if !ok || layout.SHA256Hex(b) != v.Manifest {
			return bad("its integrity manifest is missing, or not the one the index names")
		}
		m, err := layout.DecodeManifest(path.Join(v.Dir(), layout.ManifestName), b)
		if err != nil {
			return &Refused{Reason: err.Error()}
		}
		if m.Version != v.Version || m.AliasOf != "" {
			return bad("its manifest is of " + m.Version)
		}
		want := 1 // the manifest
		for _, mf := range m.Files {
			for _, o := range mf.Stored() {
				if _, ok := c.idx.Files[path.Join(v.Dir(), o.Name)]; !ok {
					return bad(o.Name + " is in its manifest but not in the bundle")
				}
				want++
			}
		}
		if c.below[v.Dir()] != want {
			return bad(fmt.Sprintf("the bundle holds %d files for it, its manifest and its files' sidecars are %d", c.below[v.Dir()], want))
		}
		c.manifests[v.Dir()] = m
	}
	for name := range c.idx.Files {
		if name != AuditName && !c.owned(name) {
			return &Refused{Reason: name + ": in no version the index lists"}
		}
	}
	return nil
}

// owned reports whether a file is below a version's directory.
func (c *checked) owned(name string) bool {
	for d := path.Dir(name); d != "."; d = path.Dir(d) {
		if c.manifests[d] != nil {
			return true
		}
	}
	return false
}

// target is the tree a version is published into.
func target(top dist.Tree, v Version) (dist.Tree, error) {
	if v.Build != "" {
		return dist.NewTree(top.Fs, path.Join(top.Root, BuildsDir)).Library(v.Build)
	}
	return top.Library(v.Library)
}

// compareStored says whether storage holds v already: same (true) when
// it holds it with the same files, an error naming the version when it
// holds other content, false when it lacks it.
func compareStored(tree dist.Tree, v Version, m *layout.Manifest) (bool, error) {
	old, err := tree.Manifest(v.Version)
	if errors.Is(err, fs.ErrNotExist) {
		if _, err := tree.Fs.Stat(path.Join(tree.Root, v.Version)); err == nil {
			return false, fmt.Errorf("%s is stored here without an integrity manifest", v)
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: reading what is stored: %v", v, err)
	}
	if len(old.Files) != len(m.Files) {
		return false, fmt.Errorf("%s is stored here with other content (%d files; the bundle's has %d)", v, len(old.Files), len(m.Files))
	}
	for i, f := range m.Files {
		if old.Files[i].Path != f.Path || old.Files[i].SHA256 != f.SHA256 {
			return false, fmt.Errorf("%s is stored here with other content (%s differs)", v, f.Path)
		}
	}
	return true, nil
}

// publishAll reads the bundle again and publishes each version of todo
// once all its files are read, each checked again against the index (the
// file may have changed since check read it).
func publishAll(ctx context.Context, top dist.Tree, tr *tar.Reader, chk *checked, todo []Version, o ImportOptions, done func(Version)) error {
	pending := map[string]Version{}
	for _, v := range todo {
		pending[v.Dir()] = v
	}
	files := map[string][]layout.File{}
	n := 0
	for len(pending) > 0 {
		h, err := tr.Next()
		if err != nil {
			return &Interrupted{Done: n, Total: len(todo), Err: fmt.Errorf("reading the bundle again: %w", err)}
		}
		dir, name, v, ok := chk.versionOf(h.Name, pending)
		if !ok {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil || (FileSum{Size: int64(len(data)), SHA256: layout.SHA256Hex(data)}) != chk.idx.Files[h.Name] {
			return &Interrupted{Done: n, Total: len(todo), Version: v, Err: fmt.Errorf("%s changed since it was checked", h.Name)}
		}
		if name != layout.ManifestName {
			files[dir] = append(files[dir], layout.File{Name: name, Data: data})
		}
		if len(files[dir]) < chk.below[dir]-1 {
			continue
		}
		if err := publishOne(ctx, top, v, chk.manifests[dir], files[dir], o.Wait); err != nil {
			return &Interrupted{Done: n, Total: len(todo), Version: v, Err: err}
		}
		delete(pending, dir)
		delete(files, dir)
		n++
		done(v)
		if o.Progress != nil {
			o.Progress(v, n, len(todo))
		}
	}
	return nil
}

// versionOf finds the pending version a tar entry belongs to.
func (c *checked) versionOf(name string, pending map[string]Version) (dir, rel string, v Version, ok bool) {
	for d := path.Dir(name); d != "."; d = path.Dir(d) {
		if pv, ok := pending[d]; ok {
			return d, strings.TrimPrefix(name, d+"/"), pv, true
		}
	}
	return "", "", Version{}, false
}

// publishOne publishes one version as the source stored it, and its
// deprecation.
func publishOne(ctx context.Context, top dist.Tree, v Version, m *layout.Manifest, files []layout.File, wait bool) error {
	tree, err := target(top, v)
	if err != nil {
		return err
	}
	sv, _ := versioning.Parse(v.Version) // checked
	build := v.Build != ""
	if _, err := tree.Publish(ctx, dist.Request{Version: sv, Files: files, Stored: m, Wait: wait, Private: v.Private, NoAlias: build, Unrecorded: build}); err != nil {
		return err
	}
	if v.Deprecated == "" {
		return nil
	}
	deps, err := tree.Deprecations()
	if err != nil || deps[v.Version].Message == v.Deprecated {
		return err
	}
	return tree.Deprecate(ctx, v.Version, v.Deprecated, wait)
}
