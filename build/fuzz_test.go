package build

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/cdnserve/cdnserve/layout"
)

// FuzzDecode checks that the manifest decoder never panics, that every
// failure is a *ManifestError naming the file, and that anything it
// accepts names only paths that stay below their directory.
func FuzzDecode(f *testing.F) {
	seed, err := os.ReadFile("../testdata/seedlib/cdnserve.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(seed))
	for _, s := range []string{
		"files: [a.js]\n",
		"bundles:\n  a.js:\n    entry: a.js\n    format: esm\n",
		"bundles:\n  a.js: {files: [../x.js]}\n",
		"files:\n  - from: a\n    to: /b\n",
		"substitutions: {all: {<V>: '{{version}}'}}\nfiles: [a.css]\n",
		"version: &a 1.0.0\nsrc_dir: *a\nfiles: [a.js]\n",
		"{", "", "- 1", "bundles: {a.js: {files: []}}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		m, err := Decode("fuzz.yaml", []byte(in))
		if err != nil {
			var me *ManifestError
			if !errors.As(err, &me) || !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error %v is not a ManifestError naming the file", err)
			}
			return
		}
		var paths []string
		for _, b := range m.Bundles {
			paths = append(append(paths, b.Name, b.Entry, b.License), b.Files...)
		}
		for _, fl := range m.Files {
			paths = append(paths, fl.From, fl.To)
		}
		for _, p := range paths {
			if p != "" && layout.CheckPath(p) != nil {
				t.Fatalf("accepted unsafe path %q", p)
			}
		}
	})
}
