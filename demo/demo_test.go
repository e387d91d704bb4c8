package demo

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/cdnserve/cdnserve/dist"
	"github.com/spf13/afero"
)

func TestPublish(t *testing.T) {
	fs := afero.NewMemMapFs()
	versions, err := Publish(context.Background(), fs, "/dist")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(versions, []string{"1.0.0", "1.1.0"}) {
		t.Errorf("versions = %q", versions)
	}
	r, err := dist.NewTree(fs, "/dist").Verify()
	if err != nil || !r.OK() {
		t.Fatalf("verify: %v %v", err, r.Problems)
	}
	if !slices.Equal(r.Versions, []string{"1.0.0", "1.1.0"}) || !slices.Equal(r.Aliases, []string{"1.0", "1.1"}) {
		t.Errorf("tree: versions %q aliases %q", r.Versions, r.Aliases)
	}
	min, _ := afero.ReadFile(fs, "/dist/1.1/demo.min.js")
	plain, _ := afero.ReadFile(fs, "/dist/1.0.0/demo.js")
	if !strings.HasPrefix(string(min), "/*!\n * cdnserve demo library v1.1.0") || !strings.Contains(string(min), `suffix:".min"`) ||
		!strings.Contains(string(plain), `VERSION: "1.0.0"`) || !strings.Contains(string(plain), `suffix: ""`) {
		t.Errorf("demo files:\n%s\n%s", min, plain)
	}
}
