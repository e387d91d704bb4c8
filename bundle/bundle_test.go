package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/gate"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/storage"
	"github.com/cdnserve/cdnserve/versioning"
)

// diskTree is an empty dist root on disk.
func diskTree(t testing.TB) (dist.Tree, string) {
	dir := t.TempDir()
	return dist.NewTree(storage.NewBasePathFs(afero.NewOsFs(), dir), "dist"), filepath.Join(dir, "dist")
}

func publish(t *testing.T, top dist.Tree, lib, version string, files map[string]string) {
	t.Helper()
	tree, err := top.Library(lib)
	if err != nil {
		t.Fatal(err)
	}
	var fl []layout.File
	for n, d := range files {
		fl = append(fl, layout.File{Name: n, Data: []byte(d)})
	}
	sv, _ := versioning.Parse(version)
	if _, err := tree.Publish(context.Background(), dist.Request{Version: sv, Files: fl}); err != nil {
		t.Fatal(err)
	}
}

// source is a tree with a public library (two stable versions, a
// prerelease, one deprecated), a private one, and the root library.
func source(t *testing.T) (dist.Tree, string) {
	top, dir := diskTree(t)
	big := strings.Repeat("export const greeting = 'hello';\n", 200)
	publish(t, top, "greet", "1.0.0", map[string]string{"greet.js": big + "//1.0.0", "greet.min.js": "x=1", "sub/README.md": "# hi"})
	publish(t, top, "greet", "1.1.0", map[string]string{"greet.js": big + "//1.1.0", "greet.min.js": "x=2"})
	publish(t, top, "greet", "2.0.0-beta.1", map[string]string{"greet.js": "beta"})
	publish(t, top, "@corp/secret", "1.0.0", map[string]string{"index.js": "secret"})
	publish(t, top, "", "1.7.1", map[string]string{"pusher.js": big})
	greet, _ := top.Library("greet")
	if err := greet.Deprecate(context.Background(), "1.0.0", "use 1.1", false); err != nil {
		t.Fatal(err)
	}
	secret, _ := top.Library("@corp/secret")
	if err := secret.SetPrivate(context.Background(), true, false); err != nil {
		t.Fatal(err)
	}
	log := &gate.AuditLog{Fs: top.Fs, Root: top.Root}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, d := range []*gate.Decision{
		{Time: at, Package: "greet", Version: "1.0.0", Admitted: true, Checks: []gate.Result{{Check: "signatures", Level: "require", Outcome: "pass"}}},
		{Time: at.Add(time.Second), Package: "greet", Version: "9.0.0", Admitted: false, Checks: []gate.Result{{Check: "osv", Level: "require", Outcome: "fail", Detail: "MAL-2026-1"}}},
		{Time: at.Add(2 * time.Second), Package: "left-pad", Version: "1.3.0", Admitted: true},
	} {
		if err := log.Append(d); err != nil {
			t.Fatal(err)
		}
	}
	return top, dir
}

func export(t *testing.T, top dist.Tree, sel Selection, key ed25519.PrivateKey) ([]byte, *ExportReport) {
	t.Helper()
	var b bytes.Buffer
	rep, err := Export(context.Background(), top, sel, &b, ExportOptions{Key: key, Tool: "cdnserve test"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Bytes != int64(b.Len()) {
		t.Errorf("report says %d bytes, wrote %d", rep.Bytes, b.Len())
	}
	return b.Bytes(), rep
}

// files lists every file below a directory with its bytes.
func files(t *testing.T, dir string) map[string]string {
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if strings.Contains(rel, ".changes") || strings.HasSuffix(rel, ".lock") || strings.HasPrefix(rel, ".audit") {
			return nil // the tree's own journal of changes and its lock differ by time; the audit log is compared by its lines
		}
		b, _ := afero.ReadFile(afero.NewOsFs(), p)
		out[rel] = string(b)
		return nil
	})
	return out
}

func TestExportImportRoundTrip(t *testing.T) {
	src, srcDir := source(t)
	pub, key, _ := ed25519.GenerateKey(nil)
	raw, rep := export(t, src, Selection{All: true}, key)
	if rep.Versions != 5 || rep.Builds != 0 || rep.KeyID != KeyID(pub) {
		t.Fatalf("export: %+v", rep)
	}
	dst, dstDir := diskTree(t)
	got, err := Import(context.Background(), dst, bytes.NewReader(raw), ImportOptions{Key: pub})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Imported) != 5 || len(got.Present) != 0 || !got.Signed || got.KeyID != KeyID(pub) || got.Files != rep.Files {
		t.Fatalf("import: %+v", got)
	}
	want, have := files(t, srcDir), files(t, dstDir)
	var names []string
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	at := regexp.MustCompile(`"at": ?"[^"]*"`) // a record's time is the import's
	for _, n := range names {
		if strings.HasSuffix(n, ".deprecated.json") || strings.HasSuffix(n, ".access.json") {
			if w, h := at.ReplaceAllString(want[n], ""), at.ReplaceAllString(have[n], ""); w != h {
				t.Errorf("%s: imported %s, the source has %s", n, h, w)
			}
			continue
		}
		if have[n] != want[n] {
			t.Errorf("%s: imported %d bytes, the source has %d", n, len(have[n]), len(want[n]))
		}
	}
	for n := range have {
		if _, ok := want[n]; !ok {
			t.Errorf("%s: imported, not in the source", n)
		}
	}
	for _, n := range []string{"greet/1.1/greet.js.br", "greet/1.0.0/_cdnserve.json", "greet/.deprecated.json", "@corp/secret/.access.json", "1.7/pusher.js.gz"} {
		if _, ok := have[filepath.FromSlash(n)]; !ok {
			t.Errorf("%s was not imported (aliases, sidecars, manifests and records are): %v", n, names)
		}
	}

	// The gate's decisions on exported versions travel; others do not.
	if got.Decisions != 1 {
		t.Errorf("%d decisions imported, want greet@1.0.0's", got.Decisions)
	}
	lines, err := (&gate.AuditLog{Fs: dst.Fs, Root: dst.Root}).Read("")
	if err != nil || len(lines) != 1 || !strings.Contains(lines[0], `"package":"greet","version":"1.0.0"`) || !strings.Contains(lines[0], `"outcome":"pass"`) {
		t.Errorf("the imported audit log: %q %v", lines, err)
	}
	again, err := Import(context.Background(), dst, bytes.NewReader(raw), ImportOptions{Key: pub})
	if err != nil || len(again.Imported) != 0 || len(again.Present) != 5 || again.Decisions != 0 {
		t.Fatalf("importing again: %+v %v", again, err)
	}
	if after := files(t, dstDir); len(after) != len(have) {
		t.Errorf("importing again changed the tree: %d files, then %d", len(have), len(after))
	}
}

// flip changes one byte of the named entry's content in a tar.
func flip(t *testing.T, raw []byte, entry string) []byte {
	t.Helper()
	out := bytes.Clone(raw)
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("no %s in the bundle: %v", entry, err)
		}
		if h.Name == entry {
			body, _ := io.ReadAll(tr)
			i := bytes.Index(raw, body)
			out[i+len(body)/2] ^= 1
			return out
		}
	}
}

// rewrite rewrites a bundle's entries through edit (nil drops one).
func rewrite(t *testing.T, raw []byte, edit func(h *tar.Header, body []byte) []byte, extra ...tar.Header) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		body, _ := io.ReadAll(tr)
		if body = edit(h, body); body == nil {
			continue
		}
		h.Size = int64(len(body))
		tw.WriteHeader(h)
		tw.Write(body)
	}
	for _, h := range extra {
		tw.WriteHeader(&h)
		tw.Write(make([]byte, h.Size))
	}
	tw.Close()
	return b.Bytes()
}

// TestImportRefusals: a damaged, badly signed, hostile or conflicting
// bundle imports nothing, and says why.
func TestImportRefusals(t *testing.T) {
	src, _ := source(t)
	pub, key, _ := ed25519.GenerateKey(nil)
	other, _, _ := ed25519.GenerateKey(nil)
	signed, _ := export(t, src, Selection{All: true}, key)
	unsigned, _ := export(t, src, Selection{All: true}, nil)
	keep := func(h *tar.Header, body []byte) []byte { return body }
	for _, tc := range []struct {
		name string
		raw  []byte
		key  ed25519.PublicKey
		want string
	}{
		{"a flipped byte in a file", flip(t, signed, "libraries/greet/1.1.0/greet.min.js"), pub, "libraries/greet/1.1.0/greet.min.js: 3 bytes with sha256"},
		{"a flipped byte in a sidecar, unsigned", flip(t, unsigned, "libraries/greet/1.0.0/greet.js.br"), nil, "greet.js.br: "},
		{"a flipped byte in the index", flip(t, signed, IndexName), pub, "does not verify with " + KeyID(pub)},
		{"another key", signed, other, "does not verify with " + KeyID(other)},
		{"unsigned, but a key is asked for", unsigned, pub, "the bundle is not signed"},
		{"a file dropped", rewrite(t, signed, func(h *tar.Header, b []byte) []byte {
			if h.Name == "libraries/greet/1.1.0/greet.js" {
				return nil
			}
			return b
		}), pub, "libraries/greet/1.1.0/greet.js: listed in the index but not in the bundle"},
		{"a file added", rewrite(t, signed, keep, tar.Header{Typeflag: tar.TypeReg, Name: "libraries/greet/1.1.0/evil.js", Size: 3, Mode: 0o644}), pub, "evil.js: in the bundle but not in its index"},
		{"a path that climbs", rewrite(t, unsigned, keep, tar.Header{Typeflag: tar.TypeReg, Name: "../../etc/cron.d/x", Size: 3, Mode: 0o644}), nil, "not a clean relative path"},
		{"a link", rewrite(t, unsigned, keep, tar.Header{Typeflag: tar.TypeSymlink, Name: "libraries/greet/1.1.0/x", Linkname: "/etc/passwd"}), nil, "regular files only"},
		{"not a tar", []byte("hello, this is not a bundle"), nil, "not a readable tar file"},
		{"a forged decision, unsigned", reindex(t, rewrite(t, unsigned, func(h *tar.Header, b []byte) []byte {
			if h.Name == AuditName {
				return []byte(`{"package": "../../x", "version": "1.0.0"}` + "\n")
			}
			return b
		})), nil, AuditName + ":1: not a decision of the supply-chain gate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst, dstDir := diskTree(t)
			_, err := Import(context.Background(), dst, bytes.NewReader(tc.raw), ImportOptions{Key: tc.key})
			var refused *Refused
			if !errors.As(err, &refused) || !strings.Contains(err.Error(), tc.want) || !strings.HasSuffix(err.Error(), "nothing was imported") {
				t.Fatalf("import: %v, want a refusal with %q", err, tc.want)
			}
			if got := files(t, dstDir); len(got) != 0 {
				t.Errorf("a refused import wrote %v", got)
			}
		})
	}

	t.Run("a conflict with storage", func(t *testing.T) {
		dst, dstDir := diskTree(t)
		publish(t, dst, "greet", "1.1.0", map[string]string{"greet.js": "another 1.1.0"})
		before := files(t, dstDir)
		_, err := Import(context.Background(), dst, bytes.NewReader(signed), ImportOptions{Key: pub})
		if err == nil || !strings.Contains(err.Error(), "greet@1.1.0 is stored here with other content") || !strings.HasSuffix(err.Error(), "nothing was imported") {
			t.Fatalf("import: %v", err)
		}
		if after := files(t, dstDir); len(after) != len(before) {
			t.Errorf("a refused import changed storage: %d files, then %d", len(before), len(after))
		}
	})
}

// TestExportSelections: ranges, pins, and --since a date or a bundle.
func TestExportSelections(t *testing.T) {
	src, _ := source(t)
	versions := func(raw []byte) string {
		chk, err := check(bytes.NewReader(raw), nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range chk.idx.Versions {
			out = append(out, v.String())
		}
		return strings.Join(out, " ")
	}
	first, _ := export(t, src, Selection{Specs: []string{"greet@^1.0.0", "@corp/secret"}}, nil)
	if got := versions(first); got != "@corp/secret@1.0.0 greet@1.0.0 greet@1.1.0" {
		t.Errorf("ranges: %s", got)
	}
	pinned, _ := export(t, src, Selection{Pins: []Pin{{"greet", "2.0.0-beta.1"}}}, nil)
	if got := versions(pinned); got != "greet@2.0.0-beta.1" {
		t.Errorf("pins: %s", got)
	}
	var b bytes.Buffer
	_, err := Export(context.Background(), src, Selection{Pins: []Pin{{"greet", "1.2.0"}, {"left-pad", "1.3.0"}}, Specs: []string{"greet@^3"}}, &b, ExportOptions{})
	var missing *MissingError
	if !errors.As(err, &missing) || !strings.Contains(err.Error(), "greet@^3 (no stored version matches), greet@1.2.0, left-pad@1.3.0") || b.Len() != 0 {
		t.Errorf("missing: %v (%d bytes written)", err, b.Len())
	}

	time.Sleep(10 * time.Millisecond)
	cut := time.Now().UTC()
	publish(t, src, "greet", "1.2.0", map[string]string{"greet.js": "1.2.0"})
	chk, _ := check(bytes.NewReader(first), nil)
	for _, tc := range []struct {
		name string
		sel  Selection
		want string
	}{
		{"since a bundle", Selection{Specs: []string{"greet@^1.0.0", "@corp/secret"}, SinceIndex: chk.idx, Since: "first.tar"}, "greet@1.2.0"},
		{"since a date", Selection{All: true, SinceTime: cut}, "greet@1.2.0"},
	} {
		raw, rep := export(t, src, tc.sel, nil)
		if got := versions(raw); got != tc.want || rep.Unchanged == 0 {
			t.Errorf("%s: %s (%+v)", tc.name, got, rep)
		}
	}
}

// reindex rewrites a bundle's index to list its files as they are now,
// as a forger without the key would.
func reindex(t *testing.T, raw []byte) []byte {
	sums := map[string]FileSum{}
	rewrite(t, raw, func(h *tar.Header, body []byte) []byte {
		if h.Name != IndexName && h.Name != SignatureName {
			sums[h.Name] = FileSum{Size: int64(len(body)), SHA256: layout.SHA256Hex(body)}
		}
		return body
	})
	return rewrite(t, raw, func(h *tar.Header, b []byte) []byte {
		if h.Name != IndexName {
			return b
		}
		var idx Index
		json.Unmarshal(b, &idx)
		idx.Files = sums
		out, _ := json.Marshal(idx)
		return out
	})
}
