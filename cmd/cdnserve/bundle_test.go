package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cdnserve/cdnserve/internal/browsertest"
	"github.com/cdnserve/cdnserve/npm/npmtest"
	"github.com/cdnserve/cdnserve/storage/s3test"
)

// offlineApps are the real apps the bundle tests carry: preact, whose
// modules are served as they are, and react, whose CommonJS is built;
// and the /-/importmap query of all their packages, for one page.
func offlineApps() (apps []browsertest.App, libs string) {
	var queries []string
	for _, a := range browsertest.RealApps {
		if a.Name == "preact" || a.Name == "react" {
			apps, queries = append(apps, a), append(queries, a.Libs)
		}
	}
	return apps, strings.Join(queries, "&")
}

// openssl makes an Ed25519 key pair the way the README says, with the
// real openssl: key.pem and pub.pem in dir.
func openssl(t *testing.T, dir, name string) (key, pub string) {
	t.Helper()
	key, pub = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".pub.pem")
	for _, args := range [][]string{{"genpkey", "-algorithm", "ed25519", "-out", key}, {"pkey", "-in", key, "-pubout", "-out", pub}} {
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v %s", args, err, out)
		}
	}
	return key, pub
}

// importMap asks a server for an app's import map and follows its
// redirect to the map's own URL.
func importMap(t *testing.T, base, query string) string {
	t.Helper()
	r, body := get(t, base+"/-/importmap?"+query)
	if r.StatusCode == 302 {
		r, body = get(t, base+r.Header.Get("Location"))
	}
	if r.StatusCode != 200 {
		t.Fatalf("/-/importmap?%s: %d %s", query, r.StatusCode, body)
	}
	return body
}

// TestBundleToOfflineSite: a server fetches real packages from the
// registry and builds their ES modules, and a library is built; all of
// it is exported, signed with an openssl key, imported into an empty
// tree on disk and an empty bucket, verified, and served --offline with
// every byte and header the source serves, and the apps run in Chromium
// from the offline copy. A damaged or badly signed bundle imports
// nothing.
func TestBundleToOfflineSite(t *testing.T) {
	t.Parallel()
	reg := npmtest.Start(t)
	bucket := s3test.Bucket(t, s3test.Endpoint(t))
	src := seedProject(t)
	if code, _, errOut := cli(t, src, "build", "--quiet"); code != 0 {
		t.Fatal(errOut)
	}
	allow := []string{"--npm-mirror", "--npm-allow", "react", "--npm-allow", "react-dom", "--npm-allow", "preact"}
	a := startServe(t, src, nil, append([]string{"--addr", "127.0.0.1:0", "--storage", "dist", "--npm-cache", t.TempDir(), "--npm-registry", reg.URL}, allow...)...)
	_, libs := offlineApps()
	sourceMap := strings.ReplaceAll(importMap(t, a.base, libs), a.base, "BASE") // the map, with the server's base as "BASE"
	a.stop(t)

	work := t.TempDir()
	key, pub := openssl(t, work, "key")
	_, otherPub := openssl(t, work, "other")
	lock, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "realpkgs", "package-lock.json"))
	site := filepath.Join(work, "site.tar")
	code, out, errOut := runBin(t, src, "export", "--all", "--output", site, "--sign-key", key)
	if code != 0 || !regexpMatch(`^exported \d+ versions and \d+ ES-module builds \(\d+ files, [0-9.]+ [KM]B\) to .*site.tar, signed with ed25519:[0-9a-f]{16}, in `, out) {
		t.Fatalf("export: %d %q %s", code, out, errOut)
	}
	// A lockfile's export needs every package it pins: the source lacks
	// most of the lockfile's 78, so nothing is written.
	code, _, errOut = runBin(t, src, "export", "--lockfile", lock, "--output", filepath.Join(work, "app.tar"))
	if _, err := os.Stat(filepath.Join(work, "app.tar")); code != 1 || err == nil || !strings.Contains(errOut, "storage lacks") || !strings.Contains(errOut, "vue@3.") || !strings.Contains(errOut, "nothing was written") {
		t.Errorf("export --lockfile of what the source lacks: %d %q (file written: %v)", code, errOut, err == nil)
	}

	code, out, errOut = runBin(t, src, "export", "--all", "--since", site, "--output", filepath.Join(work, "none.tar"))
	if code != 0 || !strings.HasPrefix(out, "exported 0 versions and 0 ES-module builds") || !regexpMatch(`left out \d+ versions that --since .*site.tar already covers`, out) {
		t.Errorf("export --since the same bundle: %d %q %q", code, out, errOut)
	}

	copies := offlineSite(t, site, pub, otherPub, sourceMap, bucket)

	// Every byte the source serves, the offline copies serve: compared
	// through real servers, with each encoding, with their headers.
	srcServer := startServe(t, src, nil, "--addr", "127.0.0.1:0", "--storage", "dist", "--offline")
	n := 0
	for _, p := range servedPaths(t, filepath.Join(src, "dist")) {
		for _, enc := range []string{"identity", "br", "gzip"} {
			ra, ba := get(t, srcServer.base+p, "Accept-Encoding", enc)
			for _, s := range copies {
				rb, bb := get(t, s.base+p, "Accept-Encoding", enc)
				for _, h := range []string{"Etag", "Content-Type", "Content-Encoding", "Cache-Control", "Content-Length"} {
					if ra.Header.Get(h) != rb.Header.Get(h) {
						t.Errorf("%s (%s) from %s: %s %q, the source's %q", p, enc, s.base, h, rb.Header.Get(h), ra.Header.Get(h))
					}
				}
				if ra.StatusCode != 200 || rb.StatusCode != 200 || ba != bb {
					t.Errorf("%s (%s) from %s: %d, %d bytes; the source's %d, %d bytes", p, enc, s.base, rb.StatusCode, len(bb), ra.StatusCode, len(ba))
				}
				n++
			}
		}
	}
	t.Logf("%d responses compared, byte for byte, with the source's", n)
	srcServer.stop(t)
	for _, s := range copies {
		s.stop(t)
		for _, line := range strings.Split(s.stderr.String(), "\n") {
			if strings.Contains(line, "192.0.2.1") && !strings.Contains(line, `"msg":"npm mirror on"`) {
				t.Errorf("an offline server tried the registry: %s", line)
			}
		}
	}
}

// regexpMatch is regexp.MatchString for a pattern known to compile.
func regexpMatch(pattern, s string) bool {
	return regexp.MustCompile(pattern).MatchString(s)
}

// servedPaths lists the URL paths of every public file of every version
// and alias below a dist root on disk.
func servedPaths(t *testing.T, root string) []string {
	var out []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		ext := path.Ext(rel)
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") || d.Name() == "_cdnserve.json" || ext == ".br" || ext == ".gz" {
			return nil
		}
		out = append(out, "/"+rel)
		return nil
	})
	if len(out) < 10 {
		t.Fatalf("only %d files below %s", len(out), root)
	}
	return out
}

// offlineSite is the site with no network: it imports the bundle into
// an empty tree on disk and into an empty bucket, with --verify-key,
// after refusing a damaged and a badly signed copy; verifies both;
// serves them --offline, with the map the source made and a 504 for what
// they lack; and runs the apps in Chromium from the copy on disk. It
// returns the two servers, running.
func offlineSite(t *testing.T, site, pub, otherPub, sourceMap string, bucket string) []*served {
	dir := t.TempDir()
	raw, err := os.ReadFile(site)
	if err != nil {
		t.Fatal(err)
	}
	files := bundleFiles(t, raw)
	flipped := filepath.Join(dir, "flipped.tar")
	os.WriteFile(flipped, flipOne(t, raw, files), 0o644)
	for _, tc := range []struct {
		name, file, key, want string
	}{
		{"a flipped byte", flipped, pub, "the bundle was damaged or changed; nothing was imported"},
		{"another key", site, otherPub, "does not verify with ed25519:"},
	} {
		code, out, errOut := runBin(t, dir, "import", tc.file, "--verify-key", tc.key)
		if code != 1 || !strings.Contains(errOut, tc.want) || !strings.HasSuffix(strings.TrimSpace(errOut), "nothing was imported") || out != "" {
			t.Errorf("import of %s: %d %q %q", tc.name, code, out, errOut)
		}
		if _, err := os.Stat(filepath.Join(dir, "dist")); err == nil {
			t.Errorf("import of %s wrote into dist", tc.name)
		}
	}
	lock := filepath.Join(t.TempDir(), "package-lock.json")
	os.WriteFile(lock, []byte(`{"name": "app", "lockfileVersion": 3, "packages": {"": {"dependencies": {"preact": "^10"}},
		"node_modules/preact": {"version": "10.29.8", "resolved": "https://registry.npmjs.org/preact/-/preact-10.29.8.tgz", "integrity": "sha512-ej2aVZ+vZ8WO7tvlQWRM9N63A0KzF9q4mWJfDUHgYaIofWY9hu74QdnQrjoPMmZi2/nZ5gN0bJCQF49xQqx09Q=="}}}`), 0o644)
	os.MkdirAll(filepath.Join(dir, "dist"), 0o755)
	if code, out, errOut := runBin(t, dir, "missing", "--lockfile", lock); code != 1 || out != "preact@10.29.8\n" || !strings.Contains(errOut, "storage lacks 1 of the 1 package") {
		t.Errorf("missing before the import: %d %q %q", code, out, errOut)
	}
	for _, storage := range []string{"dist", bucket} {
		code, out, errOut := runBin(t, dir, "import", site, "--verify-key", pub, "--storage", storage)
		if code != 0 || !strings.Contains(out, "imported react@18.3.1\n") || !strings.Contains(out, "signed by ed25519:") || !regexpMatch(`imported \d+ versions into .* \(0 versions already here\)`, out) ||
			!regexpMatch(`added \d+ decisions of the supply-chain gate to its audit log`, out) {
			t.Fatalf("import into %s: %d %q %q", storage, code, out, errOut)
		}
		code, out, errOut = runBin(t, dir, "import", site, "--storage", storage)
		if code != 0 || !regexpMatch(`imported 0 versions into .* \(\d+ versions already here\)`, out) || !strings.Contains(out, "its signature was not checked: give --verify-key") || strings.Contains(out, "decision") {
			t.Errorf("importing again into %s: %d %q %q", storage, code, out, errOut)
		}
		if code, out, errOut := runBin(t, dir, "verify", storage); code != 0 || !strings.Contains(out, "verified ") {
			t.Errorf("verify %s: %d %q %q", storage, code, out, errOut)
		}
	}
	if code, out, errOut := runBin(t, dir, "missing", "--lockfile", lock); code != 0 || out != "" || !strings.Contains(errOut, "storage holds all 1 package") {
		t.Errorf("missing after the import: %d %q %q", code, out, errOut)
	}
	var servers []*served
	for _, storage := range []string{"dist", bucket} {
		servers = append(servers, startServe(t, dir, nil, "--addr", "127.0.0.1:0", "--storage", storage, "--offline", "--npm-cache", t.TempDir(),
			"--npm-mirror", "--npm-allow", "*", "--npm-registry", "http://192.0.2.1/"))
	}
	for _, s := range servers {
		// What storage lacks, an offline server cannot fetch: 504, naming it.
		if r, body := get(t, s.base+"/vue@^3/"); r.StatusCode != 504 || !strings.Contains(body, "offline (--offline) and storage holds no vue@^3") {
			t.Errorf("a package not imported: %d %s", r.StatusCode, body)
		}
		apps, libs := offlineApps()
		m := importMap(t, s.base, libs)
		if strings.ReplaceAll(m, s.base, "BASE") != sourceMap {
			t.Errorf("the offline map differs from the source's:\n%s\n%s", m, sourceMap)
		}
		var scripts, wants []string
		for _, app := range apps {
			scripts, wants = append(scripts, app.Script), append(wants, app.Want)
		}
		if s == servers[0] { // the copy on disk; the bucket's serves the same bytes and map
			if got, p := browsertest.RunModules(t, []byte(m), scripts...); !slices.Equal(got, wants) {
				t.Errorf("offline, from %s: %q, want %q\nbrowser log:\n%s", s.base, got, wants, p.Log())
			}
		}
	}
	return servers
}

// bundleFiles reads a bundle's files by their name in the tar.
func bundleFiles(t *testing.T, raw []byte) map[string]string {
	out := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[h.Name] = string(b)
	}
}

// flipOne changes one byte of the largest file of a library's version.
func flipOne(t *testing.T, raw []byte, files map[string]string) []byte {
	best := ""
	for name, body := range files {
		if strings.HasPrefix(name, "libraries/") && len(body) > len(files[best]) {
			best = name
		}
	}
	i := bytes.Index(raw, []byte(files[best]))
	out := bytes.Clone(raw)
	out[i+len(files[best])/2] ^= 0x20
	return out
}

// TestImportKilled: an import killed halfway leaves every version whole
// or absent (verify passes), and importing again finishes the job.
func TestImportKilled(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	for i := range 100 {
		lib := filepath.Join(src, "lib")
		os.MkdirAll(lib, 0o755)
		os.WriteFile(filepath.Join(lib, "big.js"), bytes.Repeat([]byte(fmt.Sprintf("var v%d = %q;\n", i, strings.Repeat("x", 200))), 20), 0o644)
		if code, _, errOut := cli(t, src, "publish", lib, "--name", "big", "--version", fmt.Sprintf("1.%d.0", i)); code != 0 {
			t.Fatal(errOut)
		}
	}
	site := filepath.Join(t.TempDir(), "site.tar")
	if code, _, errOut := cli(t, src, "export", "big", "--output", site); code != 0 {
		t.Fatal(errOut)
	}
	dst := t.TempDir()
	cmd := exec.Command(binary(t), "import", site)
	cmd.Dir = dst
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "imported big@1.3.0") {
	}
	cmd.Process.Kill()
	cmd.Wait()
	if code, out, errOut := runBin(t, dst, "verify"); code != 0 {
		t.Fatalf("verify after the kill: %d %s %s", code, out, errOut)
	}
	code, out, errOut := runBin(t, dst, "import", site)
	m := regexp.MustCompile(`imported (\d+) versions into dist in .* \((\d+) versions already here\)`).FindStringSubmatch(out)
	if code != 0 || m == nil || atoi(m[1])+atoi(m[2]) != 100 || atoi(m[2]) < 4 || atoi(m[1]) == 0 {
		t.Fatalf("importing again after the kill: %d %q %q", code, out, errOut)
	}
	if code, out, errOut := runBin(t, dst, "verify"); code != 0 || !strings.Contains(out, "100 versions") {
		t.Errorf("verify after finishing: %d %s %s", code, out, errOut)
	}
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// TestBundleCommandMistakes: each mistake says what is wrong and what to
// do, and exits 1 or 2, writing nothing.
func TestBundleCommandMistakes(t *testing.T) {
	t.Parallel()
	dir := seedProject(t)
	if code, _, errOut := cli(t, dir, "build", "--quiet"); code != 0 {
		t.Fatal(errOut)
	}
	os.WriteFile(filepath.Join(dir, "notakey.pem"), []byte("hello"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export", "--all"}, 2, "--output is required"},
		{[]string{"export", "--output", "x.tar"}, 2, "say what to export: NAME@RANGE arguments, --lockfile FILE, or --all"},
		{[]string{"export", "--all", "--output", "x.tar", "--since", "yesterday"}, 1, "--since yesterday: neither a bundle file nor a date"},
		{[]string{"export", "--all", "--output", "x.tar", "--sign-key", "notakey.pem"}, 1, "notakey.pem: not a PEM file"},
		{[]string{"export", "pusher@^9", "--output", "x.tar"}, 1, "pusher@^9 (no stored version matches)"},
		{[]string{"export", "../etc", "--output", "x.tar"}, 1, `"../etc": not a library name`},
		{[]string{"import"}, 2, "need the bundle's file"},
		{[]string{"import", "nosuch.tar"}, 1, "nosuch.tar: no such file"},
		{[]string{"import", "cdnserve.yaml"}, 1, "not a readable tar file"},
		{[]string{"missing"}, 2, "--lockfile is required"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, errOut := cli(t, dir, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("%d %q, want %d and %q", code, errOut, tc.code, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "x.tar")); err == nil {
				t.Error("x.tar was written")
			}
		})
	}
}
