package importmap

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/catalog"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

func TestSplitSpec(t *testing.T) {
	for _, tc := range []struct {
		spec, name, rng, file string
		at                    bool
	}{
		{"widget", "widget", "", "", false},
		{"widget@^2", "widget", "^2", "", true},
		{"widget@2.1.0/other.mjs", "widget", "2.1.0", "other.mjs", true},
		{"@corp/ui@1.4.0", "@corp/ui", "1.4.0", "", true},
		{"@corp/ui@1.4.0/a/b.mjs", "@corp/ui", "1.4.0", "a/b.mjs", true},
		{"@corp/ui", "@corp/ui", "", "", false},
		{"@corp", "@corp", "", "", false},
		{"widget/x.mjs", "widget", "", "x.mjs", false},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			name, rng, file, at := SplitSpec(tc.spec)
			if name != tc.name || rng != tc.rng || file != tc.file || at != tc.at {
				t.Errorf("SplitSpec(%q) = %q %q %q %v, want %q %q %q %v", tc.spec, name, rng, file, at, tc.name, tc.rng, tc.file, tc.at)
			}
		})
	}
}

func TestMake(t *testing.T) {
	root := filepath.Join(t.TempDir(), "dist")
	for _, v := range []string{"2.0.0", "2.1.0"} {
		dir := filepath.Join(root, "widget", v)
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, layout.ManifestName), []byte(`{"format":1,"version":"`+v+`","files":[
			{"path":"widget.mjs","size":1,"content_type":"text/javascript; charset=utf-8","sha256":"a","integrity":"sha384-A`+v+`"},
			{"path":"widget.min.mjs","size":1,"content_type":"text/javascript; charset=utf-8","sha256":"b","integrity":"sha384-B`+v+`"},
			{"path":"other.mjs","size":1,"content_type":"text/javascript; charset=utf-8","sha256":"c","integrity":"sha384-C`+v+`"},
			{"path":"style.css","size":1,"content_type":"text/css; charset=utf-8","sha256":"d","integrity":"sha384-D"}]}`), 0o644)
	}
	cat := catalog.New(catalog.Options{Fs: afero.NewOsFs(), Root: root, NegativeTTL: time.Minute})
	if err := cat.Refresh(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, spec, wantImport string
		wantErr                bool
		notFound               bool
	}{
		{name: "a range: the minified module", spec: "widget@^2", wantImport: "https://cdn.example/widget/2.1.0/widget.min.mjs"},
		{name: "a name alone is latest", spec: "widget", wantImport: "https://cdn.example/widget/2.1.0/widget.min.mjs"},
		{name: "another entry", spec: "widget@2.0.0/other.mjs", wantImport: "https://cdn.example/widget/2.0.0/other.mjs"},
		{name: "no such entry", spec: "widget@2.0.0/none.mjs", wantErr: true, notFound: true},
		{name: "no such library", spec: "nope@1", wantErr: true, notFound: true},
		{name: "no matching version", spec: "widget@^9", wantErr: true, notFound: true},
		{name: "the root library has no name", spec: "1.2.3", wantErr: true},
		{name: "a hostile entry", spec: "widget@2.0.0/../x.mjs", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Make(cat, "https://cdn.example", []string{tc.spec})
			var ie *Error
			if tc.wantErr {
				if !errors.As(err, &ie) || ie.NotFound != tc.notFound {
					t.Errorf("Make(%q) = %v, %v; want an *Error with NotFound %v", tc.spec, m, err, tc.notFound)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			name, _, _, _ := SplitSpec(tc.spec)
			if m.Imports[name] != tc.wantImport {
				t.Errorf("imports[%q] = %q, want %q", name, m.Imports[name], tc.wantImport)
			}
			if len(m.Integrity) != 3 {
				t.Errorf("integrity = %v, want the three modules", m.Integrity)
			}
		})
	}
}
