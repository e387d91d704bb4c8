package dist

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/afero"
)

func TestWriteLayout(t *testing.T) {
	fs := afero.NewMemMapFs()
	tree := Tree{Fs: fs, Root: "dist"}
	files := []File{{Name: "a.js", Data: []byte("A")}, {Name: "sub/b.css", Data: []byte("B")}}
	if err := tree.Write([]string{"1.7.1", "1.7"}, files); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{"dist/1.7.1/a.js": "A", "dist/1.7/a.js": "A", "dist/1.7.1/sub/b.css": "B", "dist/1.7/sub/b.css": "B"} {
		got, err := afero.ReadFile(fs, p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if string(got) != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	want := []string{"dist/1.7.1/a.js", "dist/1.7.1/sub/b.css", "dist/1.7/a.js", "dist/1.7/sub/b.css"}
	if got := tree.Paths([]string{"1.7.1", "1.7"}, files); !slices.Equal(got, want) {
		t.Errorf("Paths = %q, want %q", got, want)
	}
}

func TestWriteRefusesEscapes(t *testing.T) {
	tests := []struct{ name, dir, file string }{
		{"dotdot dir", "..", "a.js"},
		{"dotdot file", "1.0.0", "../../etc/x"},
		{"absolute file", "1.0.0", "/etc/x"},
		{"backslash", "1.0.0", `..\x`},
		{"NUL", "1.0.0", "a\x00.js"},
		{"empty dir", "", "a.js"},
		{"unclean", "1.0.0", "a//b.js"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := afero.NewMemMapFs()
			tree := Tree{Fs: base, Root: "/srv/dist"}
			err := tree.Write([]string{"1.0.1", tc.dir}, []File{{Name: "ok.js", Data: []byte("x")}, {Name: tc.file, Data: []byte("x")}})
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q: must", tc.file)) && !strings.Contains(err.Error(), fmt.Sprintf("%q: must", tc.dir)) {
				t.Fatalf("Write(%q, %q) err = %v, want refusal", tc.dir, tc.file, err)
			}
			var written []string
			afero.Walk(base, "/", func(p string, info os.FileInfo, _ error) error {
				if info != nil && !info.IsDir() {
					written = append(written, p)
				}
				return nil
			})
			if len(written) != 0 {
				t.Errorf("wrote %q despite the error", written)
			}
		})
	}
}
