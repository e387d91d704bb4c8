package layout

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDependencyRules keeps the structure issue 13 set up: the server links
// no build code (esbuild), storage does not import the server, and layout
// imports nothing of cdnserve's but versioning. It asks the go command,
// so it checks what is compiled, not what a comment says.
func TestDependencyRules(t *testing.T) {
	deps := func(pkg string) []string {
		out, err := exec.Command("go", "list", "-deps", "github.com/cdnserve/cdnserve/"+pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	for _, p := range deps("server") {
		if strings.Contains(p, "esbuild") || p == "github.com/cdnserve/cdnserve/build" || p == "github.com/cdnserve/cdnserve/devserver" {
			t.Errorf("server depends on %s", p)
		}
	}
	if slices.Contains(deps("storage"), "github.com/cdnserve/cdnserve/server") {
		t.Error("storage depends on server")
	}
	for _, p := range deps("layout") {
		if strings.HasPrefix(p, "github.com/cdnserve/cdnserve/") && p != "github.com/cdnserve/cdnserve/layout" && p != "github.com/cdnserve/cdnserve/versioning" {
			t.Errorf("layout depends on %s: it must stay a leaf", p)
		}
	}
}
