package layout

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/cdnserve/cdnserve/"

// TestDependencyRules keeps the package map of the README's developer
// section true. It asks the go command, so it checks what is compiled,
// not what a comment says.
func TestDependencyRules(t *testing.T) {
	deps := func(t *testing.T, pkg string) []string {
		out, err := exec.Command("go", "list", "-deps", module+pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	for _, tc := range []struct {
		pkg, mustNot, why string
	}{
		{"server", "github.com/evanw/esbuild", "the server links no build code"},
		{"server", module + "build", "the server links no build code"},
		{"server", module + "devserver", "the dev server is never part of serve"},
		{"storage", module + "dist", "capabilities live in layout, with the vocabulary"},
		{"storage", module + "server", "storage is below the server"},
		{"devserver", module + "server", "the dev server shares headers, not the server"},
		{"dist", module + "server", "the tree's writer knows nothing of serving"},
		{"browse", module + "server", "pages are rendered from the catalog, not from the HTTP layer"},
		{"importmap", module + "server", "import maps are made from the catalog, not from the HTTP layer"},
		{"esm", module + "npm", "resolving a package.json or a lockfile needs no registry"},
		{"esm", module + "server", "resolving a package.json needs no HTTP layer"},
		{"esm", "github.com/evanw/esbuild", "resolution links no parser: the server may use it"},
		{"server", module + "esm/scan", "the server links no build code"},
		{"server", module + "gate", "the server knows a refusal by its GateRefusal method; the commands link sigstore"},
		{"gate", module + "npm", "the gate decides on what npm's client tells it (Candidate, Source), not on the client"},
		{"gate", module + "server", "the gate knows nothing of HTTP serving"},
	} {
		t.Run(tc.pkg+" does not import "+strings.TrimPrefix(tc.mustNot, module), func(t *testing.T) {
			for _, p := range deps(t, tc.pkg) {
				if strings.HasPrefix(p, tc.mustNot) {
					t.Errorf("%s depends on %s: %s", tc.pkg, p, tc.why)
				}
			}
		})
	}
	// The tree model knows nothing of HTTP.
	t.Run("catalog does not import net/http", func(t *testing.T) {
		out, err := exec.Command("go", "list", "-f", "{{join .Imports \"\\n\"}}", module+"catalog").Output()
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(strings.Fields(string(out)), "net/http") {
			t.Error("catalog imports net/http: the HTTP layer is the server's")
		}
	})
	// Leaves import nothing of ours (layout: only versioning, whose
	// semver rules are part of the vocabulary).
	for _, tc := range []struct {
		leaf  string
		allow []string
	}{
		{"layout", []string{"versioning"}},
		{"versioning", nil},
		{"redact", nil},
		{"headers", nil},
		{"retry", nil},
		{"internal/loop", nil},
		{"internal/testutil", nil},
		{"internal/settings", []string{"redact"}},
		{"catalog", []string{"layout", "versioning"}},
		{"content", []string{"layout", "versioning"}},
	} {
		t.Run(tc.leaf+" imports of ours only "+strings.Join(tc.allow, ", "), func(t *testing.T) {
			for _, p := range deps(t, tc.leaf) {
				name, ours := strings.CutPrefix(p, module)
				if ours && name != tc.leaf && !slices.Contains(tc.allow, name) {
					t.Errorf("%s depends on %s: it must stay a leaf", tc.leaf, name)
				}
			}
		})
	}
}
