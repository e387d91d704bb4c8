package loaderjs

import (
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"os"
	"testing"

	"github.com/cdnserve/cdnserve/build"
	"github.com/spf13/afero"
)

var update = flag.Bool("update", false, "rewrite loader.min.js from src/loader.js")

// TestEmbeddedIsBuilt builds src/loader.js with cdnserve's build code
// (target es5: newer syntax is an error) and checks that the embedded
// loader is exactly its output, and small: at most 3 KB gzip'd.
func TestEmbeddedIsBuilt(t *testing.T) {
	raw, err := os.ReadFile("cdnserve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := build.Decode("cdnserve.yaml", raw)
	if err != nil {
		t.Fatal(err)
	}
	res, err := build.Build(context.Background(), build.Options{Manifest: m, Src: afero.NewReadOnlyFs(afero.NewBasePathFs(afero.NewOsFs(), "src"))})
	if err != nil {
		t.Fatal(err)
	}
	var built []byte
	for _, a := range res.Artifacts {
		if a.Name == "loader.min.js" {
			built = a.Data
		}
	}
	if *update {
		if err := os.WriteFile("loader.min.js", built, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(built, Min) {
		t.Fatal("loader.min.js is not what the build makes of src/loader.js: run go test ./loaderjs -update")
	}
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	w.Write(Min)
	w.Close()
	if gz.Len() > 3<<10 {
		t.Errorf("the loader is %d bytes gzip'd, over 3 KB", gz.Len())
	}
	t.Logf("loader: %d bytes, %d gzip'd; %s", len(Min), gz.Len(), Integrity)
}
