package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cdnserve/cdnserve/npm/npmtest"
)

// TestGateCommands: add admits a real signed package and refuses one by
// policy (exit 1, naming the check and the version, nothing stored);
// build refuses a from: npm: file the same way; audit log prints each
// decision; audit reports a stored version a newer database flags, and
// deprecates it; a policy file's mistakes name their line; --print-config
// shows the policy in force.
func TestGateCommands(t *testing.T) {
	t.Parallel()
	reg := npmtest.StartSigned(t)
	dir := t.TempDir()
	cache := t.TempDir()
	npmArgs := []string{"--npm-registry", reg.Base(), "--npm-cache", cache}
	if code, out, errOut := cli(t, dir, append([]string{"add", "npm:sigstore@1.0.0"}, npmArgs...)...); code != 0 || !strings.Contains(out, "published 1.0.0") {
		t.Fatalf("add sigstore: %d %s %s", code, out, errOut)
	}
	code, out, errOut := cli(t, dir, append([]string{"add", "npm:@isaacs/namespace-test@1.0.0", "--npm-provenance", "@isaacs/*"}, npmArgs...)...)
	want := "cdnserve add: npm:@isaacs/namespace-test@1.0.0: npm package @isaacs/namespace-test@1.0.0 refused by the supply-chain gate: provenance: the version has no provenance attestation, and the policy requires one (policy sha256:"
	if code != 1 || !strings.HasPrefix(errOut, want) || !strings.Contains(errOut, "flags --npm-provenance; nothing was stored)") || out != "" {
		t.Errorf("add refused: %d %q %q", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "dist", "@isaacs")); err == nil {
		t.Error("a refused package was stored")
	}

	os.WriteFile(filepath.Join(dir, "src.js"), []byte("var app = 1;\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "cdnserve.yaml"), []byte("name: app\nversion: 1.0.0\nsrc_dir: .\nfiles:\n  - src.js\n  - from: npm:@isaacs/namespace-test@1.0.0/package.json\n    to: ns.json\n"), 0o644)
	code, _, errOut = cli(t, dir, append([]string{"build", "--npm-licenses", "MIT,Apache-2.0"}, npmArgs...)...)
	if code != 1 || !strings.Contains(errOut, `npm package @isaacs/namespace-test@1.0.0 refused by the supply-chain gate: license: its licence "ISC" is not in the allowed list (MIT, Apache-2.0)`) {
		t.Errorf("build refused: %d %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "dist", "app")); err == nil {
		t.Error("a build with a refused file published")
	}

	code, out, _ = cli(t, dir, "audit", "log")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 {
		t.Fatalf("audit log: %d %q", code, out)
	}
	var d struct {
		Package  string
		Admitted bool
		Checks   []struct{ Check, Outcome string }
	}
	json.Unmarshal([]byte(lines[0]), &d)
	if d.Package != "sigstore" || !d.Admitted || len(d.Checks) < 3 || d.Checks[1].Check != "provenance" || d.Checks[1].Outcome != "pass" {
		t.Errorf("first decision %s", lines[0])
	}
	if !strings.Contains(lines[1], `"admitted":false`) || !strings.Contains(lines[2], `"check":"license","level":"require","outcome":"fail"`) {
		t.Errorf("decisions %q", lines[1:])
	}
	if code, out, _ := cli(t, dir, "audit", "log", "sigstore"); code != 0 || strings.Count(out, "\n") != 1 {
		t.Errorf("audit log sigstore: %d %q", code, out)
	}

	osv := filepath.Join(reg.Dir, "osv")
	code, out, errOut = cli(t, dir, "audit", "--osv-db", osv)
	if code != 1 || !strings.Contains(out, "sigstore@1.0.0: GHSA-cdns-test-0001 (high) [not deprecated; new since ingest: GHSA-cdns-test-0001]\n") ||
		!strings.Contains(out, "1 version flagged, 1 not deprecated") || !strings.Contains(errOut, "deprecate them (--deprecate)") {
		t.Errorf("audit: %d %q %q", code, out, errOut)
	}
	code, out, _ = cli(t, dir, "audit", "--osv-db", osv, "--deprecate")
	if code != 0 || !strings.Contains(out, "[deprecated now; new since ingest") || !strings.Contains(out, "1 version flagged, 0 not deprecated") {
		t.Errorf("audit --deprecate: %d %q", code, out)
	}
	dep, _ := os.ReadFile(filepath.Join(dir, "dist", "sigstore", ".deprecated.json"))
	if !strings.Contains(string(dep), "GHSA-cdns-test-0001: sigstore accepts a forged bundle [test record] (cdnserve audit)") {
		t.Errorf(".deprecated.json: %s", dep)
	}

	os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte("# the gate\nsignaturs: require\n"), 0o644)
	if code, _, errOut := cli(t, dir, "add", "npm:sigstore@1.0.0", "--policy", "policy.yaml"); code != 1 || !strings.Contains(errOut, `policy.yaml:2: unknown setting "signaturs"; did you mean signatures?`) {
		t.Errorf("a misspelt setting: %d %s", code, errOut)
	}
	os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte("signatures: require\nrules:\n  - match: '@corp/*'\n    provenance: maybe\n"), 0o644)
	if code, _, errOut := cli(t, dir, "serve", "--policy", "policy.yaml"); code != 1 || !strings.Contains(errOut, `policy.yaml:4: provenance: "maybe" is not off, warn or require`) {
		t.Errorf("a bad level: %d %s", code, errOut)
	}
	os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte("signatures: require\nosv_db: osv\nrules:\n  - match: '@corp/*'\n    provenance: require\n    repository: https://github.com/corp/*\n"), 0o644)
	code, out, errOut = cli(t, dir, "add", "npm:sigstore@1.0.0", "--print-config", "--policy", "policy.yaml", "--npm-min-age", "72h", "--npm-licenses", "MIT,ISC")
	for _, w := range []string{"# the supply-chain policy in force (policy.yaml + flags --npm-min-age --npm-licenses, sha256:", "#   signatures: require\n",
		"#   min_age: 72h0m0s\n", "#   licenses:\n#     - MIT\n#     - ISC\n", "#   osv_db: " + filepath.Join(dir, "osv") + "\n",
		"#   rules:\n#     - match:\n#         - '@corp/*'\n#       provenance: require\n#       repository: https://github.com/corp/*\n"} {
		if code != 0 || !strings.Contains(out, w) {
			t.Errorf("--print-config lacks %q: %d\n%s%s", w, code, out, errOut)
		}
	}
}

// TestServeGate: the mirror refuses a version the gate refuses with 403,
// the reason in JSON and a page for a browser, and stores nothing of it;
// a version it admits shows on its page what was verified.
func TestServeGate(t *testing.T) {
	t.Parallel()
	reg := npmtest.StartSigned(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "dist"), 0o755)
	s := startServe(t, dir, nil, "--addr", "127.0.0.1:0", "--storage", "dist", "--npm-cache", t.TempDir(), "--npm-registry", reg.Base(),
		"--npm-mirror", "--npm-allow", "sigstore", "--npm-allow", "tuf-js", "--osv-db", filepath.Join(reg.Dir, "osv"))
	r, body := get(t, s.base+"/tuf-js@1.0.0/package.json")
	var refusal struct {
		Error, Package, Version string
		Status                  int
		Checks                  []struct{ Check, Level, Outcome, Detail string }
	}
	json.Unmarshal([]byte(body), &refusal)
	if r.StatusCode != 403 || r.Header.Get("Content-Type") != "application/json" || !strings.Contains(strings.Join(r.Header.Values("Vary"), ","), "Accept") || refusal.Package != "tuf-js" || refusal.Version != "1.0.0" ||
		!strings.Contains(refusal.Error, "malware: reported as malicious: MAL-2026-0001") {
		t.Errorf("refused: %d %s %s", r.StatusCode, r.Header.Get("Content-Type"), body)
	}
	found := false
	for _, c := range refusal.Checks {
		found = found || (c.Check == "malware" && c.Level == "require" && c.Outcome == "fail")
	}
	if !found {
		t.Errorf("checks %+v", refusal.Checks)
	}
	r, body = get(t, s.base+"/tuf-js/1.0.0/", "Accept", "text/html")
	if r.StatusCode != 403 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "refused by the supply-chain gate") {
		t.Errorf("a browser: %d %s", r.StatusCode, body)
	}
	if _, err := os.Stat(filepath.Join(dir, "dist", "tuf-js")); err == nil || reg.Tarballs() != 0 {
		t.Errorf("tuf-js was fetched (%d) or stored", reg.Tarballs())
	}
	if r, _ := get(t, s.base+"/sigstore/1.0.0/package.json"); r.StatusCode != 200 {
		t.Fatalf("sigstore: %d", r.StatusCode)
	}
	_, page := get(t, s.base+"/sigstore/1.0.0/", "Accept", "text/html")
	for _, w := range []string{"Verified at ingest", "verified, key <code>SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA</code>",
		`built from <a href="https://github.com/sigstore/sigstore-js" rel="nofollow">https://github.com/sigstore/sigstore-js</a> at commit <code>`,
		"<dd>Apache-2.0</dd>", "<code>GHSA-cdns-test-0001</code>", "<li>advisories: advisories at or above high: GHSA-cdns-test-0001 (high)"} {
		if !strings.Contains(page, w) {
			t.Errorf("the version page lacks %q", w)
		}
	}
	s.stop(t)
	if log := s.stderr.String(); !strings.Contains(log, "the supply-chain gate refused a package") || !strings.Contains(log, "admitted a package with a warning") {
		t.Errorf("the log:\n%s", log)
	}
}
