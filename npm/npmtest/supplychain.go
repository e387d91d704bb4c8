package npmtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Signed is a registry that serves real signed npm data, as
// registry.npmjs.org serves it and the test registry (Verdaccio, a
// mirror) cannot: packuments with dist.signatures and
// dist.attestations, the registry's keys at /-/npm/v1/keys, the
// attestations, and the tarballs (testdata/supplychain/README.md names
// each fixture's source). Tests alter what it serves, byte by byte.
type Signed struct {
	*httptest.Server
	// Dir is testdata/supplychain.
	Dir string

	mu sync.Mutex
	// keys is the body of /-/npm/v1/keys; nil answers 404.
	keys []byte
	// docs are the packuments by name, decoded, to alter.
	docs map[string]map[string]any
	// attestations are the bodies by "name@version".
	attestations map[string][]byte
	tarballs     int
	keyRequests  int
}

// SignedPackages are the fixture packages: two with provenance, one
// without.
var SignedPackages = []string{"sigstore", "tuf-js", "@isaacs/namespace-test"}

// StartSigned starts the signing registry. The tarballs come from the
// cache that scripts/real-packages.sh fetch fills (CI runs it); without
// them the test skips loudly, and fails under CI.
func StartSigned(t testing.TB) *Signed {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	s := &Signed{Dir: filepath.Join(filepath.Dir(file), "..", "..", "testdata", "supplychain"),
		docs: map[string]map[string]any{}, attestations: map[string][]byte{}}
	s.keys = s.read(t, "keys.json")
	for _, name := range SignedPackages {
		var doc map[string]any
		if err := json.Unmarshal(s.read(t, fixtureName(name)+".packument.json"), &doc); err != nil {
			t.Fatal(err)
		}
		s.docs[name] = doc
	}
	for _, id := range []string{"sigstore@1.0.0", "tuf-js@1.0.0"} {
		s.attestations[id] = s.read(t, id+".attestations.json")
	}
	for _, name := range SignedPackages {
		if _, err := os.Stat(PackFile(name, "1.0.0")); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("the supply-chain fixtures' tarballs are not cached (%v): scripts/real-packages.sh fetch", err)
			}
			t.Skipf("SKIPPED LOUDLY: %v; run scripts/real-packages.sh fetch", err)
		}
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// fixtureName is a package's fixture file stem.
func fixtureName(name string) string { return strings.TrimPrefix(name, "@isaacs/") }

// PackFile is where scripts/real-packages.sh caches a tarball.
func PackFile(name, version string) string {
	root := os.Getenv("CDNSERVE_TOOLS_ROOT")
	if root == "" {
		home, _ := os.UserHomeDir()
		root = filepath.Join(home, ".cache", "cdnserve")
	}
	return filepath.Join(root, "npm-packs", strings.ReplaceAll(name, "/", "+")+"-"+version+".tgz")
}

func (s *Signed) read(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(s.Dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Base is the registry's URL, with a trailing slash.
func (s *Signed) Base() string { return s.URL + "/" }

// SetKeys replaces /-/npm/v1/keys; nil makes it 404, as Verdaccio does.
func (s *Signed) SetKeys(body []byte) {
	s.mu.Lock()
	s.keys = body
	s.mu.Unlock()
}

// Keys is the fixture's keys document, to alter.
func (s *Signed) Keys(t testing.TB) []byte { return s.read(t, "keys.json") }

// Version changes a version's entry in its packument.
func (s *Signed) Version(name string, change func(v map[string]any)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	change(s.docs[name]["versions"].(map[string]any)["1.0.0"].(map[string]any))
}

// SetTime sets a version's publish time in its packument.
func (s *Signed) SetTime(name, t string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.docs[name]["time"].(map[string]any)["1.0.0"] = t
}

// SetAttestations replaces a version's attestations ("name@1.0.0").
func (s *Signed) SetAttestations(id string, body []byte) {
	s.mu.Lock()
	s.attestations[id] = body
	s.mu.Unlock()
}

// Attestations is a fixture's attestations, to alter.
func (s *Signed) Attestations(t testing.TB, id string) []byte {
	return s.read(t, id+".attestations.json")
}

// KeyRequests is how many times /-/npm/v1/keys was asked for.
func (s *Signed) KeyRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keyRequests
}

// Tarballs is how many tarball requests it answered.
func (s *Signed) Tarballs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tarballs
}

func (s *Signed) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := r.URL.Path
	switch {
	case p == "/-/npm/v1/keys":
		s.keyRequests++
		if s.keys == nil {
			http.NotFound(w, r)
			return
		}
		w.Write(s.keys)
	case strings.HasPrefix(p, "/-/npm/v1/attestations/"):
		body, ok := s.attestations[strings.TrimPrefix(p, "/-/npm/v1/attestations/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(body)
	case strings.HasSuffix(p, ".tgz"):
		s.tarballs++
		for _, name := range SignedPackages {
			if strings.HasPrefix(p, "/"+name+"/-/") {
				http.ServeFile(w, r, PackFile(name, "1.0.0"))
				return
			}
		}
		http.NotFound(w, r)
	default:
		doc, ok := s.docs[strings.TrimPrefix(strings.Replace(p, "%2f", "/", 1), "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		raw, _ := json.Marshal(doc)
		// The tarballs are served here; the attestation URLs keep
		// npm's host, as the registry lists them (the gate asks the
		// version's own registry).
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(strings.ReplaceAll(string(raw), "https://registry.npmjs.org/"+strings.TrimPrefix(p, "/")+"/-/", s.URL+p+"/-/")))
	}
}
