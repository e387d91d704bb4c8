package dist

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"
	"github.com/spf13/afero"
)

// Problem is one way a published directory differs from its manifest.
type Problem struct {
	// Dir is the version or alias directory; Path the file within it.
	Dir, Path string
	// Kind is "missing", "extra", "altered", "no-manifest" or "alias".
	Kind string
	// Detail says what was found.
	Detail string
}

func (p Problem) String() string {
	where := p.Dir
	if p.Path != "" {
		where += "/" + p.Path
	}
	return fmt.Sprintf("%s: %s: %s", where, p.Kind, p.Detail)
}

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	// Versions and Aliases are the directories checked; Files the public
	// files re-hashed.
	Versions, Aliases []string
	Files             int
	// Problems make the tree fail verification.
	Problems []Problem
	// Notes are harmless states worth knowing: leftovers of an interrupted
	// publish that the next publish removes, a held lock.
	Notes []string
}

// OK reports whether the tree verified without problems.
func (r *VerifyReport) OK() bool { return len(r.Problems) == 0 }

// Verify re-hashes every version and alias directory against its
// integrity manifest: every listed file and sidecar must be there with
// the recorded size and SHA-256, no other file may be there, and an alias
// must hold exactly the files of the version it names.
func (t Tree) Verify() (*VerifyReport, error) {
	if t.w == nil {
		return nil, errors.New("dist: a Tree must be made with NewTree")
	}
	entries, err := afero.ReadDir(t.Fs, t.Root)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", t.Root, err)
	}
	r := &VerifyReport{}
	manifests := map[string]*layout.Manifest{}
	switching := t.pendingSwitches(entries)
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, layout.TmpPrefix):
			r.Notes = append(r.Notes, fmt.Sprintf("%s: staging directory of an interrupted publish; never served, removed by the next publish", name))
			continue
		case strings.HasPrefix(name, journalPrefix):
			r.Notes = append(r.Notes, fmt.Sprintf("%s: an alias switch was interrupted; the next publish finishes it", name))
			continue
		case name == LockName:
			r.Notes = append(r.Notes, fmt.Sprintf("%s: a publisher holds the lock (or was killed; a stale lock is taken over)", name))
			continue
		case layout.ClassifyDir(name) == layout.Internal:
			continue
		case t.library == "" && (layout.ClassifyDir(name) == layout.Library || layout.ClassifyDir(name) == layout.Scope):
			continue // a named library: VerifyAll verifies it as a tree of its own
		case e.Mode()&fs.ModeSymlink != 0:
			r.Problems = append(r.Problems, Problem{Dir: name, Kind: "link", Detail: "a symbolic link: never served or listed; replace it with a directory, or remove it"})
			continue
		case !e.IsDir():
			r.Problems = append(r.Problems, Problem{Dir: name, Kind: "extra", Detail: "a file in the dist root, outside any version"})
			continue
		}
		m := t.verifyDir(r, name, switching[name])
		if m == nil {
			continue
		}
		manifests[name] = m
		if m.AliasOf != "" {
			r.Aliases = append(r.Aliases, name)
		} else {
			r.Versions = append(r.Versions, name)
		}
	}
	for _, a := range r.Aliases {
		t.verifyAlias(r, a, manifests)
	}
	t.verifyAliasesCurrent(r, manifests)
	return r, nil
}

// verifyAliasesCurrent reports each major.minor line whose alias does not
// hold the line's highest stable version: a publish that stopped after
// the version went live and before the alias moved. Publishing that
// version again moves it.
func (t Tree) verifyAliasesCurrent(r *VerifyReport, manifests map[string]*layout.Manifest) {
	highest := map[string]*semver.Version{}
	for _, name := range r.Versions {
		v, err := versioning.Parse(name)
		if err != nil || versioning.IsPrerelease(v) {
			continue
		}
		line := versioning.AliasDir(v)
		if h := highest[line]; h == nil || v.GreaterThan(h) {
			highest[line] = v
		}
	}
	for line, v := range highest {
		holds := "does not exist"
		if m, ok := manifests[line]; ok && m.AliasOf != "" {
			if m.AliasOf == v.Original() {
				continue
			}
			holds = "holds " + m.AliasOf
		}
		r.Problems = append(r.Problems, Problem{Dir: line, Kind: "alias-lags",
			Detail: fmt.Sprintf("%s, but %s is the newest stable version of its line: a publish stopped before it moved the alias; publish %s again to finish", holds, v.Original(), v.Original())})
	}
}

// pendingSwitches reads the journals of interrupted alias switches: alias
// directory -> the version it is being switched to.
func (t Tree) pendingSwitches(entries []os.FileInfo) map[string]string {
	out := map[string]string{}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), journalPrefix) {
			continue
		}
		data, err := afero.ReadFile(t.Fs, path.Join(t.Root, e.Name()))
		var j journal
		if err == nil && json.Unmarshal(data, &j) == nil {
			out[j.Alias] = j.To
		}
	}
	return out
}

// verifyDir checks one directory against its manifest and returns the
// manifest, or nil when there is none to check against. An alias whose
// switch to switchingTo was interrupted may hold files of either
// version, until the next publish finishes the switch.
func (t Tree) verifyDir(r *VerifyReport, name, switchingTo string) *layout.Manifest {
	dir := path.Join(t.Root, name)
	m, err := t.readManifest(dir)
	if err != nil && t.w.inPlace() && errors.Is(err, os.ErrNotExist) {
		r.Notes = append(r.Notes, fmt.Sprintf("%s: files without an integrity manifest: an interrupted publish, invisible to readers; publishing the version again finishes it", name))
		return nil
	}
	if errors.Is(err, os.ErrNotExist) {
		r.Problems = append(r.Problems, Problem{Dir: name, Kind: "no-manifest", Detail: layout.NoManifestAdvice(name)})
		return nil
	}
	if err != nil {
		r.Problems = append(r.Problems, Problem{Dir: name, Kind: "no-manifest", Detail: err.Error()})
		return nil
	}
	expected := fileHashes(m)
	alternative := map[string]string{}
	if switchingTo != "" {
		if next, err := t.readManifest(path.Join(t.Root, switchingTo)); err == nil {
			alternative = fileHashes(next)
			for p := range alternative {
				if _, ok := expected[p]; !ok {
					expected[p] = alternative[p]
				}
			}
		}
	}
	var present []string
	links := map[string]bool{}
	afero.Walk(t.Fs, dir, func(p string, info fs.FileInfo, err error) error {
		rel := strings.TrimPrefix(p, dir+"/")
		switch {
		case err != nil, info.IsDir():
		case !info.Mode().IsRegular():
			links[rel] = true
			r.Problems = append(r.Problems, Problem{Dir: name, Path: rel, Kind: "link", Detail: "not a regular file (a symbolic link?): never served; replace it with the file"})
		default:
			present = append(present, rel)
		}
		return nil
	})
	for _, p := range present {
		if _, ok := expected[p]; !ok {
			r.Problems = append(r.Problems, Problem{Dir: name, Path: p, Kind: "extra", Detail: "not listed in the integrity manifest"})
		}
	}
	paths := make([]string, 0, len(expected))
	for p := range expected {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		if p == layout.ManifestName || links[p] {
			continue
		}
		data, err := afero.ReadFile(t.Fs, path.Join(dir, p))
		if err != nil {
			r.Problems = append(r.Problems, Problem{Dir: name, Path: p, Kind: "missing", Detail: "listed in the integrity manifest but not found"})
			continue
		}
		r.Files++
		if got := layout.SHA256Hex(data); got != expected[p] && got != alternative[p] {
			r.Problems = append(r.Problems, Problem{Dir: name, Path: p, Kind: "altered", Detail: fmt.Sprintf("sha256 %.12s…, manifest says %.12s…", got, expected[p])})
		}
	}
	t.checkDirName(r, name, m)
	return m
}

// fileHashes maps every path a manifest covers (files and sidecars, and
// the manifest itself with no hash) to its SHA-256.
func fileHashes(m *layout.Manifest) map[string]string {
	out := map[string]string{layout.ManifestName: ""}
	for _, f := range m.Files {
		out[f.Path] = f.SHA256
		for encName, sc := range f.Encodings {
			if enc, ok := layout.EncodingNamed(encName); ok {
				out[f.Path+enc.Suffix] = sc.SHA256
			}
		}
	}
	return out
}

// checkDirName checks that a directory's name matches its manifest: an
// exact version's own name, or an alias's major.minor.
func (t Tree) checkDirName(r *VerifyReport, name string, m *layout.Manifest) {
	v, err := versioning.Parse(m.Version)
	switch {
	case err != nil:
		r.Problems = append(r.Problems, Problem{Dir: name, Path: layout.ManifestName, Kind: "altered", Detail: err.Error()})
	case m.AliasOf == "" && name != m.Version:
		r.Problems = append(r.Problems, Problem{Dir: name, Path: layout.ManifestName, Kind: "altered", Detail: fmt.Sprintf("manifest is for version %s", m.Version)})
	case m.AliasOf != "" && (m.AliasOf != m.Version || name != versioning.AliasDir(v)):
		r.Problems = append(r.Problems, Problem{Dir: name, Path: layout.ManifestName, Kind: "alias", Detail: fmt.Sprintf("alias_of %s does not belong in directory %s", m.AliasOf, name)})
	}
}

// verifyAlias checks that an alias holds exactly what its version holds.
func (t Tree) verifyAlias(r *VerifyReport, alias string, manifests map[string]*layout.Manifest) {
	am := manifests[alias]
	vm, ok := manifests[am.AliasOf]
	if !ok {
		r.Problems = append(r.Problems, Problem{Dir: alias, Kind: "alias", Detail: fmt.Sprintf("holds %s, which is not published", am.AliasOf)})
		return
	}
	want := map[string]string{}
	for _, f := range vm.Files {
		want[f.Path] = f.SHA256
	}
	for _, f := range am.Files {
		if want[f.Path] != f.SHA256 {
			r.Problems = append(r.Problems, Problem{Dir: alias, Path: f.Path, Kind: "alias", Detail: fmt.Sprintf("differs from %s/%s", am.AliasOf, f.Path)})
		}
		delete(want, f.Path)
	}
	for p := range want {
		r.Problems = append(r.Problems, Problem{Dir: alias, Path: p, Kind: "alias", Detail: fmt.Sprintf("in %s but not in the alias", am.AliasOf)})
	}
}
