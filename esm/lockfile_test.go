package esm

import (
	"os"
	"strings"
	"testing"
)

// TestParseLockfile reads a real package-lock.json (lockfileVersion 3,
// written by npm install --package-lock-only for react-dom, react, lit
// and preact).
func TestParseLockfile(t *testing.T) {
	raw, err := os.ReadFile("testdata/package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	lf, err := ParseLockfile(raw, "package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(lf.Packages) != 12 || lf.Requires["react-dom"] != "^18.3.1" {
		t.Fatalf("%d packages, requires %v", len(lf.Packages), lf.Requires)
	}
	byName := map[string]Locked{}
	for _, p := range lf.Packages {
		byName[p.Name] = p
	}
	react := byName["react"]
	if react.Version != "18.3.1" || !strings.HasPrefix(react.Integrity, "sha512-wS+hAgJShR0") || react.Dependencies["loose-envify"] != "^1.1.0" {
		t.Errorf("react: %+v", react)
	}
	if p := byName["@lit/reactive-element"]; p.Path != "node_modules/@lit/reactive-element" || p.Version == "" {
		t.Errorf("a scoped package: %+v", p)
	}
}

// TestParseLockfileRefusals: a lockfile is input from outside; each bad
// entry is named with its key and field.
func TestParseLockfileRefusals(t *testing.T) {
	const sha = `"integrity":"sha512-AAAA"`
	for _, tc := range []struct{ name, lock, want string }{
		{"version 1", `{"lockfileVersion":1,"dependencies":{}}`, "lockfileVersion 1 has no \"packages\""},
		{"not JSON", `{`, "not a package-lock.json"},
		{"a climbing name", `{"lockfileVersion":3,"packages":{"node_modules/../../evil":{"version":"1.0.0",` + sha + `}}}`, `packages["node_modules/../../evil"]: name "../../evil"`},
		{"a name field that climbs", `{"lockfileVersion":3,"packages":{"node_modules/a":{"name":"../a","version":"1.0.0",` + sha + `}}}`, `name "../a"`},
		{"a version that climbs", `{"lockfileVersion":3,"packages":{"node_modules/a":{"version":"../../x",` + sha + `}}}`, `version "../../x"`},
		{"no sha512", `{"lockfileVersion":3,"packages":{"node_modules/a":{"version":"1.0.0","integrity":"sha1-AAAA"}}}`, `integrity "sha1-AAAA": no sha512`},
		{"outside node_modules", `{"lockfileVersion":3,"packages":{"packages/x":{"version":"1.0.0",` + sha + `}}}`, "not below node_modules/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseLockfile([]byte(tc.lock), "app/package-lock.json")
			if err == nil || !strings.HasPrefix(err.Error(), "app/package-lock.json: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	lf, err := ParseLockfile([]byte(`{"lockfileVersion":3,"packages":{
		"node_modules/a/node_modules/b":{"version":"2.0.0",`+sha+`,"optional":true,"peerDependencies":{"c":"^1"}},
		"node_modules/ws":{"link":true,"resolved":"packages/ws"},
		"node_modules/g":{"version":"1.0.0","resolved":"git+ssh://git@github.com/x/g.git",`+sha+`}}}`), "package-lock.json")
	if err != nil || len(lf.Packages) != 1 || lf.Packages[0].Name != "b" || !lf.Packages[0].Optional || lf.Packages[0].Dependencies["c"] != "^1" || len(lf.Skipped) != 2 {
		t.Errorf("nested, link, git: %+v %v", lf, err)
	}
}
