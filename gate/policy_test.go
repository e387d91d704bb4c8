package gate

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestPolicyRulesAndErrors(t *testing.T) {
	p, err := ParsePolicy("policy.yaml", []byte(`# cdnserve's gate
signatures: require
min_age: 72h
licenses: [MIT, "Apache-2.0 OR MIT"]
rules:
  - match: "@corp/*"
    provenance: require
    repository: https://github.com/corp/*
  - match: [left-pad, "@corp/legacy"]
    min_age: 0s
    provenance: warn
`))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]Checks{
		"react":        {Signatures: Require, Provenance: Warn, Malware: Require, Advisories: Warn, Severity: High, MinAge: 72 * time.Hour, Age: Require, License: Require, Scripts: Warn, Maintainer: Warn},
		"@corp/ui":     {Signatures: Require, Provenance: Require, Repository: "https://github.com/corp/*", Malware: Require, Advisories: Warn, Severity: High, MinAge: 72 * time.Hour, Age: Require, License: Require, Scripts: Warn, Maintainer: Warn},
		"@corp/legacy": {Signatures: Require, Provenance: Warn, Repository: "https://github.com/corp/*", Malware: Require, Advisories: Warn, Severity: High, Age: Require, License: Require, Scripts: Warn, Maintainer: Warn},
	} {
		got := p.For(name)
		got.Licenses = nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
		}
	}
	if l := p.For("x").Licenses; strings.Join(l, "|") != "MIT|Apache-2.0 OR MIT" {
		t.Errorf("licenses %q", l)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"signatures: maybe\n", `p.yaml:1: signatures: "maybe" is not off, warn, require or auto`},
		{"provenance: auto\n", `p.yaml:1: provenance: "auto" is not off, warn or require`},
		{"# x\n\nmin_age: 3 days\n", `p.yaml:3: min_age: "3 days" is not a duration such as 72h`},
		{"severity: severe\n", `p.yaml:1: severity: "severe" is not low, moderate, high or critical`},
		{"licenses: [MIT, (GPL\n", `p.yaml:`},
		{"licenses: [MIT, 'GPL-2.0 AND']\n", `p.yaml:1: licenses: "GPL-2.0 AND": a licence expression ends too early`},
		{"rules:\n  - provenance: require\n", `p.yaml:2: a rule needs match: a package name or a glob such as '@corp/*'`},
		{"rules:\n  - match: '['\n", `p.yaml:2: match: "[" is not a package name or a glob`},
		{"rules:\n  - match: x\n    osv_db: db\n", `p.yaml:3: osv_db is set for the whole policy, not in a rule`},
		{"match: x\n", `p.yaml:1: match belongs in a rule`},
		{"provenence: require\n", `p.yaml:1: unknown setting "provenence"; did you mean provenance?`},
		{"- a\n", `p.yaml:1: a policy is a mapping of settings`},
	} {
		_, err := ParsePolicy("p.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

func TestPolicyFileAndFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.yaml")
	os.WriteFile(file, []byte("osv_db: osv\nkeys: /etc/npm-keys.json\n"), 0o644)
	p, err := ReadPolicy("policy.yaml", file)
	if err != nil || p.OSVDB != filepath.Join(dir, "osv") || p.Keys != "/etc/npm-keys.json" {
		t.Fatalf("paths relative to the file: %+v %v", p, err)
	}
	if err := p.RequireProvenance("@corp/*"); err != nil || p.For("@corp/x").Provenance != Require || p.For("other").Provenance != Warn {
		t.Errorf("--npm-provenance: %v", err)
	}
	if err := p.RequireProvenance("["); err == nil || !strings.Contains(err.Error(), `"[": not a package name or a glob`) {
		t.Errorf("a bad pattern: %v", err)
	}
	p.Overridden([]string{"--npm-provenance"})
	if p.Source != "policy.yaml + flags --npm-provenance" {
		t.Errorf("source %q", p.Source)
	}
	if _, err := ReadPolicy("missing.yaml", filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "--policy: open ") {
		t.Errorf("a missing file: %v", err)
	}
}

func TestLicenseExpressions(t *testing.T) {
	allow := []string{"MIT", "ISC", "Apache-2.0", "GPL-2.0-only WITH Classpath-exception-2.0"}
	for license, want := range map[string]bool{
		"MIT":                           true,
		"mit":                           true,
		"(MIT OR GPL-3.0-only)":         true,
		"MIT AND GPL-3.0-only":          false,
		"(MIT AND ISC) OR BSD-2-Clause": true,
		"GPL-2.0-only WITH Classpath-exception-2.0": true,
		"GPL-2.0-only":              false,
		"BSD-3-Clause":              false,
		"":                          false,
		"SEE LICENSE IN LICENSE.md": false,
	} {
		if got, why := licenseAllowed(license, allow); got != want {
			t.Errorf("%q: %v (%s), want %v", license, got, why, want)
		}
	}
}

func TestOSVRanges(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	db, err := LoadOSV(filepath.Join(filepath.Dir(file), "..", "testdata", "supplychain", "osv"))
	if err != nil {
		t.Fatal(err)
	}
	if db.Records != 3 || !strings.HasPrefix(db.Digest, "sha256:") {
		t.Errorf("records %d digest %s (the withdrawn record and the PyPI one are not npm's)", db.Records, db.Digest)
	}
	ids := func(name, version string) string {
		var out []string
		for _, a := range db.Affecting(name, version) {
			out = append(out, a.ID+"/"+a.Severity.String())
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct{ name, version, want string }{
		{"sigstore", "0.1.0", "GHSA-cdns-test-0001/high"},
		{"sigstore", "1.0.0", "GHSA-cdns-test-0001/high"},
		{"sigstore", "1.0.1", ""}, // fixed
		{"tuf-js", "0.0.9", ""},   // before introduced
		{"tuf-js", "1.0.0", "GHSA-cdns-test-0002/low,MAL-2026-0001/unknown"},
		{"tuf-js", "1.0.1", ""}, // past last_affected; MAL lists 1.0.0 only
		{"@isaacs/namespace-test", "1.0.0", ""},
	} {
		if got := ids(tc.name, tc.version); got != tc.want {
			t.Errorf("%s@%s: %q, want %q", tc.name, tc.version, got, tc.want)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"affected": []}`), 0o644)
	if _, err := LoadOSV(bad); err == nil || !strings.Contains(err.Error(), bad+": a record has no id") {
		t.Errorf("a record without id: %v", err)
	}
}
