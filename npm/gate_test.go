package npm

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/gate"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/npm/npmtest"
	"github.com/spf13/afero"
)

// gated is a client of the signing registry with a gate, a tree in
// memory, and the gate's audit log in it.
type gated struct {
	c    *Client
	root dist.Tree
	log  *gate.AuditLog
}

func newGated(t *testing.T, reg *npmtest.Signed, p *gate.Policy, now time.Time) *gated {
	t.Helper()
	root := memRoot()
	log := &gate.AuditLog{Fs: root.Fs, Root: root.Root}
	if p == nil {
		p = &gate.Policy{Source: "test"}
	}
	g, err := gate.New(gate.Options{Policy: p, Log: log, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, reg.Base())
	c.Gate = g
	return &gated{c: c, root: root, log: log}
}

// now is after every fixture was published (2019, 2023).
var now = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

func TestGateAdmitsRealSignedPackages(t *testing.T) {
	reg := npmtest.StartSigned(t)
	g := newGated(t, reg, nil, now)
	for _, tc := range []struct{ name, repo string }{
		{"sigstore", "https://github.com/sigstore/sigstore-js"},
		{"tuf-js", "https://github.com/theupdateframework/tuf-js"},
		{"@isaacs/namespace-test", ""},
	} {
		added, err := Add(context.Background(), g.c, g.root, Spec{Name: tc.name, Range: "1.0.0"}, AddOptions{Tool: "test"})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		lib, _ := g.root.Library(tc.name)
		raw, err := afero.ReadFile(g.root.Fs, filepath.Join(lib.Root, "1.0.0", layout.ManifestName))
		if err != nil || added.Stored {
			t.Fatalf("%s: not stored: %v", tc.name, err)
		}
		m, _ := layout.DecodeManifest("m", raw)
		v := m.Provenance.Verified
		if v == nil || v.KeyID != "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA" || !strings.HasPrefix(v.Policy, "sha256:") {
			t.Fatalf("%s: verified %+v", tc.name, v)
		}
		if v.Repository != tc.repo || (tc.repo != "" && (len(v.Commit) != 40 || !strings.Contains(v.Workflow, ".github/workflows/"))) {
			t.Errorf("%s: provenance %q %q %q, want %s", tc.name, v.Repository, v.Commit, v.Workflow, tc.repo)
		}
	}
	lines, err := g.log.Read("")
	if err != nil || len(lines) != 3 {
		t.Fatalf("audit log: %d lines, %v", len(lines), err)
	}
	if n := reg.KeyRequests(); n != 1 {
		t.Errorf("the registry's keys were asked for %d times for three packages; they are cached", n)
	}
	lines, _ = g.log.Read("sigstore")
	var d gate.Decision
	json.Unmarshal([]byte(lines[0]), &d)
	if !d.Admitted || d.Integrity == "" || d.Policy == "" || len(d.Checks) < 3 {
		t.Errorf("decision %+v", d)
	}
	if sigs := lines[0]; !strings.Contains(sigs, `"check":"signatures","level":"auto","outcome":"pass"`) || !strings.Contains(sigs, `"check":"provenance","level":"warn","outcome":"pass"`) {
		t.Errorf("line %s", sigs)
	}
}

// flip changes one character of a base64 string, keeping it base64.
func flip(s string, at int) string {
	b := []byte(s)
	if b[at] == 'A' {
		b[at] = 'B'
	} else {
		b[at] = 'A'
	}
	return string(b)
}

func TestGateRefusesEachAlteration(t *testing.T) {
	for _, tc := range []struct {
		name, pkg string
		policy    string
		alter     func(t *testing.T, reg *npmtest.Signed)
		clock     time.Time
		check     string
		says      string
	}{
		{name: "forged signature", pkg: "@isaacs/namespace-test", check: "signatures", says: "does not verify",
			alter: func(t *testing.T, reg *npmtest.Signed) {
				reg.Version("@isaacs/namespace-test", func(v map[string]any) {
					sig := v["dist"].(map[string]any)["signatures"].([]any)[0].(map[string]any)
					sig["sig"] = flip(sig["sig"].(string), 20)
				})
			}},
		{name: "other integrity, same signature", pkg: "tuf-js", check: "signatures", says: "does not verify",
			alter: func(t *testing.T, reg *npmtest.Signed) {
				reg.Version("tuf-js", func(v map[string]any) {
					d := v["dist"].(map[string]any)
					d["integrity"] = flip(d["integrity"].(string), 30)
				})
			}},
		{name: "unknown key", pkg: "sigstore", check: "signatures", says: "which the registry does not publish",
			alter: func(t *testing.T, reg *npmtest.Signed) {
				reg.Version("sigstore", func(v map[string]any) {
					v["dist"].(map[string]any)["signatures"].([]any)[0].(map[string]any)["keyid"] = "SHA256:2l3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA"
				})
			}},
		{name: "expired key", pkg: "@isaacs/namespace-test", check: "signatures", says: "expired at 2018-01-01T00:00:00Z, before the version was published (2019-06-28T18:46:27Z)",
			alter: func(t *testing.T, reg *npmtest.Signed) {
				reg.SetKeys(bytes.Replace(reg.Keys(t), []byte(`"expires": null`), []byte(`"expires": "2018-01-01T00:00:00.000Z"`), 1))
			}},
		{name: "signature stripped", pkg: "sigstore", check: "signatures", says: "has no registry signature",
			alter: func(t *testing.T, reg *npmtest.Signed) {
				reg.Version("sigstore", func(v map[string]any) { delete(v["dist"].(map[string]any), "signatures") })
			}},
		{name: "attestation for another digest", pkg: "sigstore", check: "provenance", says: "does not verify",
			alter: func(t *testing.T, reg *npmtest.Signed) {
				reg.SetAttestations("sigstore@1.0.0", reg.Attestations(t, "tuf-js@1.0.0"))
			}},
		{name: "attestation signature altered", pkg: "tuf-js", check: "provenance", says: "does not verify",
			alter: func(t *testing.T, reg *npmtest.Signed) {
				var doc map[string]any
				json.Unmarshal(reg.Attestations(t, "tuf-js@1.0.0"), &doc)
				for _, a := range doc["attestations"].([]any) {
					env := a.(map[string]any)["bundle"].(map[string]any)["dsseEnvelope"].(map[string]any)
					s := env["signatures"].([]any)[0].(map[string]any)
					s["sig"] = flip(s["sig"].(string), 40)
				}
				raw, _ := json.Marshal(doc)
				reg.SetAttestations("tuf-js@1.0.0", raw)
			}},
		{name: "attested statement altered", pkg: "sigstore", check: "provenance", says: "does not verify",
			alter: func(t *testing.T, reg *npmtest.Signed) {
				var doc map[string]any
				json.Unmarshal(reg.Attestations(t, "sigstore@1.0.0"), &doc)
				env := doc["attestations"].([]any)[0].(map[string]any)["bundle"].(map[string]any)["dsseEnvelope"].(map[string]any)
				payload, _ := base64.StdEncoding.DecodeString(env["payload"].(string))
				env["payload"] = base64.StdEncoding.EncodeToString(bytes.Replace(payload, []byte("sigstore-js"), []byte("sigstore-jz"), 1))
				raw, _ := json.Marshal(doc)
				reg.SetAttestations("sigstore@1.0.0", raw)
			}},
		{name: "provenance required, none", pkg: "@isaacs/namespace-test", check: "provenance", says: "has no provenance attestation",
			policy: "rules:\n  - match: '@isaacs/*'\n    provenance: require\n"},
		{name: "provenance from another repository", pkg: "sigstore", check: "provenance", says: "not from https://github.com/corp/* as the policy requires",
			policy: "rules:\n  - match: sigstore\n    repository: https://github.com/corp/*\n"},
		{name: "too young", pkg: "tuf-js", check: "min-age", policy: "min_age: 72h\n", clock: time.Date(2023, 2, 10, 17, 38, 25, 0, time.UTC),
			says: "tuf-js@1.0.0 was published 24h0m0s ago (2023-02-09T17:38:25Z), less than the minimum age 72h0m0s; it becomes eligible at 2023-02-12T17:38:25Z"},
		{name: "published an hour ago", pkg: "@isaacs/namespace-test", check: "min-age", policy: "min_age: 72h\n",
			says: "@isaacs/namespace-test@1.0.0 was published 1h0m0s ago (2026-12-05T11:00:00Z), less than the minimum age 72h0m0s; it becomes eligible at 2026-12-08T11:00:00Z",
			alter: func(t *testing.T, reg *npmtest.Signed) {
				reg.SetTime("@isaacs/namespace-test", "2026-12-05T11:00:00.000Z")
			}},
		{name: "licence not allowed", pkg: "sigstore", check: "license", policy: "licenses: [MIT, ISC]\n",
			says: `its licence "Apache-2.0" is not in the allowed list (MIT, ISC)`},
		{name: "malware", pkg: "tuf-js", check: "malware", policy: "osv_db: OSV\n", says: "reported as malicious: MAL-2026-0001"},
		{name: "advisory at or above high", pkg: "sigstore", check: "advisories", policy: "osv_db: OSV\nadvisories: require\n",
			says: "advisories at or above high: GHSA-cdns-test-0001 (high): sigstore accepts a forged bundle [test record]"},
		{name: "install scripts refused by policy", pkg: "tuf-js", check: "install-scripts", policy: "install_scripts: require\n",
			says: "runs install scripts: postinstall",
			alter: func(t *testing.T, reg *npmtest.Signed) {
				reg.Version("tuf-js", func(v map[string]any) { v["scripts"].(map[string]any)["postinstall"] = "node steal.js" })
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := npmtest.StartSigned(t)
			if tc.alter != nil {
				tc.alter(t, reg)
			}
			p, err := gate.ParsePolicy("policy.yaml", []byte(strings.ReplaceAll(tc.policy, "OSV", filepath.Join(reg.Dir, "osv"))))
			if err != nil {
				t.Fatal(err)
			}
			clock := tc.clock
			if clock.IsZero() {
				clock = now
			}
			g := newGated(t, reg, p, clock)
			_, err = Add(context.Background(), g.c, g.root, Spec{Name: tc.pkg, Range: "1.0.0"}, AddOptions{Tool: "test"})
			var refused *gate.Refused
			if !errors.As(err, &refused) {
				t.Fatalf("err = %v, want a refusal", err)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tc.check+": ") || !strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), tc.pkg+"@1.0.0") {
				t.Errorf("err = %v\nwant %s: …%s", err, tc.check, tc.says)
			}
			if ok, _ := afero.DirExists(g.root.Fs, filepath.Join(g.root.Root, tc.pkg)); ok || reg.Tarballs() != 0 {
				t.Errorf("stored %v, %d tarball requests: nothing may be fetched or stored", ok, reg.Tarballs())
			}
			lines, _ := g.log.Read(tc.pkg)
			if len(lines) != 1 || !strings.Contains(lines[0], `"admitted":false`) || !strings.Contains(lines[0], `"outcome":"fail"`) {
				t.Fatalf("audit log %q", lines)
			}
			// Final: asked again, the same refusal, not checked or logged again.
			_, err2 := Add(context.Background(), g.c, g.root, Spec{Name: tc.pkg, Range: "1.0.0"}, AddOptions{Tool: "test"})
			if err2 == nil || err2.Error() != err.Error() {
				t.Errorf("again: %v", err2)
			}
			if lines, _ := g.log.Read(tc.pkg); len(lines) != 1 {
				t.Errorf("asked again, the log has %d lines", len(lines))
			}
		})
	}
}

func TestGateWarnsAndAdmits(t *testing.T) {
	reg := npmtest.StartSigned(t)
	reg.Version("tuf-js", func(v map[string]any) { v["scripts"].(map[string]any)["postinstall"] = "node setup.js" })
	p, err := gate.ParsePolicy("p.yaml", []byte("osv_db: "+filepath.Join(reg.Dir, "osv")+"\nmalware: warn\nlicenses: [MIT]\nlicense: warn\n"))
	if err != nil {
		t.Fatal(err)
	}
	g := newGated(t, reg, p, now)
	for _, name := range []string{"tuf-js", "sigstore"} {
		if _, err := Add(context.Background(), g.c, g.root, Spec{Name: name, Range: "1.0.0"}, AddOptions{Tool: "test"}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	lib, _ := g.root.Library("tuf-js")
	raw, _ := afero.ReadFile(g.root.Fs, filepath.Join(lib.Root, "1.0.0", layout.ManifestName))
	m, _ := layout.DecodeManifest("m", raw)
	v := m.Provenance.Verified
	if strings.Join(v.Advisories, ",") != "GHSA-cdns-test-0002,MAL-2026-0001" || strings.Join(v.Scripts, ",") != "postinstall" ||
		len(v.Warnings) != 2 || !strings.HasPrefix(v.Warnings[0], "malware: reported as malicious") || !strings.HasPrefix(v.Warnings[1], "install-scripts: runs install scripts: postinstall") {
		t.Errorf("tuf-js verified %+v", v)
	}
	lib, _ = g.root.Library("sigstore")
	raw, _ = afero.ReadFile(g.root.Fs, filepath.Join(lib.Root, "1.0.0", layout.ManifestName))
	m, _ = layout.DecodeManifest("m", raw)
	if w := m.Provenance.Verified.Warnings; len(w) != 2 || !strings.HasPrefix(w[0], "advisories: advisories at or above high: GHSA-cdns-test-0001") || !strings.Contains(w[1], `licence "Apache-2.0" is not in the allowed list`) {
		t.Errorf("sigstore warnings %q", w)
	}
}

func TestGateRegistryWithoutKeys(t *testing.T) {
	reg := npmtest.StartSigned(t)
	reg.SetKeys(nil) // as Verdaccio and most mirrors: no /-/npm/v1/keys
	g := newGated(t, reg, nil, now)
	if _, err := Add(context.Background(), g.c, g.root, Spec{Name: "tuf-js", Range: "1.0.0"}, AddOptions{Tool: "test"}); err != nil {
		t.Fatalf("auto admits when the registry publishes no keys: %v", err)
	}
	lines, _ := g.log.Read("tuf-js")
	if len(lines) != 1 || !strings.Contains(lines[0], `"check":"signatures","level":"warn","outcome":"absent","detail":"the registry publishes no signing keys"`) {
		t.Errorf("log %q", lines)
	}
	p, _ := gate.ParsePolicy("p.yaml", []byte("signatures: require\n"))
	g = newGated(t, reg, p, now)
	_, err := Add(context.Background(), g.c, g.root, Spec{Name: "sigstore", Range: "1.0.0"}, AddOptions{Tool: "test"})
	if err == nil || !strings.Contains(err.Error(), "signatures: the registry publishes no signing keys (/-/npm/v1/keys), and the policy requires signatures") {
		t.Errorf("require without keys: %v", err)
	}
	// Pinned keys check signatures offline, whatever the registry says.
	p, _ = gate.ParsePolicy("p.yaml", []byte("signatures: require\nkeys: "+filepath.Join(reg.Dir, "keys.json")+"\n"))
	g = newGated(t, reg, p, now)
	if _, err := Add(context.Background(), g.c, g.root, Spec{Name: "sigstore", Range: "1.0.0"}, AddOptions{Tool: "test"}); err != nil {
		t.Errorf("pinned keys: %v", err)
	}
}

func TestGateOnBuildFile(t *testing.T) {
	reg := npmtest.StartSigned(t)
	reg.Version("@isaacs/namespace-test", func(v map[string]any) {
		delete(v["dist"].(map[string]any), "signatures")
	})
	g := newGated(t, reg, nil, now)
	_, _, err := g.c.File(context.Background(), Spec{Name: "@isaacs/namespace-test", Range: "1.0.0", Path: "package.json"})
	var refused *gate.Refused
	if !errors.As(err, &refused) || reg.Tarballs() != 0 {
		t.Fatalf("a build's from: npm: of an unsigned version: %v (%d tarballs)", err, reg.Tarballs())
	}
	data, _, err := g.c.File(context.Background(), Spec{Name: "tuf-js", Range: "1.0.0", Path: "package.json"})
	if err != nil || !bytes.Contains(data, []byte(`"name": "tuf-js"`)) {
		t.Fatalf("tuf-js/package.json: %v %.80s", err, data)
	}
	// Admitted under this policy, the cached tarball builds offline; a
	// new policy asks the registry again.
	reg.Close()
	if _, _, err := g.c.File(context.Background(), Spec{Name: "tuf-js", Range: "1.0.0", Path: "package.json"}); err != nil {
		t.Errorf("offline, the same policy: %v", err)
	}
	p, _ := gate.ParsePolicy("p.yaml", []byte("min_age: 1h\n"))
	other := newGated(t, reg, p, now)
	other.c.CacheDir = g.c.CacheDir
	if _, _, err := other.c.File(context.Background(), Spec{Name: "tuf-js", Range: "1.0.0", Path: "package.json"}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("offline, another policy: %v, want the registry unavailable", err)
	}
}
