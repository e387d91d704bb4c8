package layout

import (
	"bytes"
	"compress/gzip"
	"io"
	"path"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/spf13/afero"
)

func TestSRIKnownValue(t *testing.T) {
	// echo -n 'alert("Hello, world.");' | openssl dgst -sha384 -binary | openssl base64 -A
	// (the example of the W3C SRI spec, §3.2)
	if got := SRI([]byte(`alert('Hello, world.');`)); got != "sha384-H8BRh8j48O9oYatfu5AZzq6A9RINhZO5H16dQZngK7T62em8MUt1FLm52t+eX6xO" {
		t.Errorf("SRI = %s", got)
	}
}

func TestContentType(t *testing.T) {
	for name, want := range map[string]string{
		"a.js": "text/javascript; charset=utf-8", "a.mjs": "text/javascript; charset=utf-8", "a.css": "text/css; charset=utf-8",
		"a.json": "application/json", "a.min.js.map": "application/json", "a.wasm": "application/wasm",
		"WebSocketMain.swf": "application/x-shockwave-flash", "a.svg": "image/svg+xml", "a.unknownext": "application/octet-stream",
		"noext": "application/octet-stream", "A.JS": "text/javascript; charset=utf-8",
	} {
		if got := ContentType(name); got != want {
			t.Errorf("ContentType(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestClassifyDir(t *testing.T) {
	for name, want := range map[string]DirKind{
		"1.7.1": Exact, "1.7.2-rc.1": Exact, "0.0.0": Exact, "1.7": Alias, "10.20": Alias,
		".tmp-abc": Internal, ".lock": Internal, ".switch-1.7.json": Internal,
		"1": Other, "v1.7.1": Other, "1.7.1+build": Other, "latest": Other, "-": Other, "": Other, "01.7": Other,
		"pusher": Library, "sockjs-client": Library, "x1": Library, "@corp": Scope, "@": Other, "@Corp": Other,
		"x": Other, "1x": Other, "Pusher": Other, "node_modules": Other,
	} {
		if got := ClassifyDir(name); got != want {
			t.Errorf("ClassifyDir(%q) = %d, want %d", name, got, want)
		}
		if got := IsVersionDir(name); got != (want == Exact || want == Alias) {
			t.Errorf("IsVersionDir(%q) = %v", name, got)
		}
	}
}

func TestSplitSidecar(t *testing.T) {
	for _, tc := range []struct{ name, base, enc string }{
		{"app.js.br", "app.js", "br"}, {"sub/s.css.gz", "sub/s.css", "gzip"},
		{"logo.png.gz", "", ""}, {"app.js", "", ""}, {"data.gz", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, enc, ok := SplitSidecar(tc.name)
			if base != tc.base || enc.Name != tc.enc || ok != (tc.base != "") {
				t.Errorf("SplitSidecar(%q) = %q, %q, %v", tc.name, base, enc.Name, ok)
			}
		})
	}
}

// TestCompressRoundTrip decodes what each encoding makes at each level
// with the standard decoders, and checks that both levels compress.
func TestCompressRoundTrip(t *testing.T) {
	data := bytes.Repeat([]byte("function dependency(name) { return cdn + '/' + name + suffix + '.js'; }\n"), 200)
	decode := map[string]func(io.Reader) (io.Reader, error){
		"br":   func(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil },
		"gzip": func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) },
	}
	for _, enc := range Encodings {
		best, fast := enc.Compress(data, Best), enc.Compress(data, Fast)
		for level, z := range map[string][]byte{"best": best, "fast": fast} {
			r, err := decode[enc.Name](bytes.NewReader(z))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("%s %s: round trip failed (%v)", enc.Name, level, err)
			}
		}
		if len(best) >= len(data)/10 || len(fast) >= len(data)/10 {
			t.Errorf("%s: best %d bytes, fast %d, of %d", enc.Name, len(best), len(fast), len(data))
		}
		if e, ok := EncodingNamed(enc.Name); !ok || e != enc {
			t.Errorf("EncodingNamed(%q) = %v, %v", enc.Name, e, ok)
		}
	}
}

func TestCheckPath(t *testing.T) {
	for p, ok := range map[string]bool{
		"a.js": true, "sub/b.css": true, "a..b.js": true,
		"": false, "/a.js": false, "../a.js": false, "a/../b": false, "a//b": false, "a/": false, ".": false,
		"a\\b": false, "a\x00b": false, "./a": false,
	} {
		if err := CheckPath(p); (err == nil) != ok {
			t.Errorf("CheckPath(%q) = %v", p, err)
		}
	}
}

// TestWriteFileAtomic replaces a file and leaves no temporary file
// behind, on disk and in memory.
func TestWriteFileAtomic(t *testing.T) {
	for name, fsys := range map[string]afero.Fs{"disk": afero.NewBasePathFs(afero.NewOsFs(), t.TempDir()), "mem": afero.NewMemMapFs()} {
		t.Run(name, func(t *testing.T) {
			p := "/dir/sub/file.json"
			for _, body := range []string{"first", "second, longer"} {
				if err := WriteFileAtomic(fsys, p, []byte(body)); err != nil {
					t.Fatal(err)
				}
				if got, _ := afero.ReadFile(fsys, p); string(got) != body {
					t.Errorf("read %q, want %q", got, body)
				}
			}
			entries, _ := afero.ReadDir(fsys, path.Dir(p))
			if len(entries) != 1 || entries[0].Name() != "file.json" {
				t.Errorf("directory holds %d entries, want only file.json", len(entries))
			}
		})
	}
}

func TestWriteFileAtomicFailsClearly(t *testing.T) {
	fsys := afero.NewReadOnlyFs(afero.NewMemMapFs())
	err := WriteFileAtomic(fsys, "/x/y.json", []byte("z"))
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("/x")) {
		t.Errorf("err = %v, want one naming the path", err)
	}
}

func TestCheckLibraryName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want string // "" for valid, else a part of the error
	}{
		{"pusher", ""},
		{"sockjs-client", ""},
		{"json2.js", ""},
		{"a_b", ""},
		{"@corp/widgets", ""},
		{"@corp/2d-canvas", ""}, // a scope keeps the name apart from versions
		{"@1corp/ui", ""},
		{"", "is empty"},
		{"Pusher", "capital"},
		{"@corp/Ui", "capital"},
		{".hidden", `must not start with "."`},
		{"_private", `must not start with "." or "_"`},
		{"a b", "names use only"},
		{"a~b", "names use only"},
		{"a@1", "names use only"},
		{"1.7.1", "starts like a version"},
		{"2fast", "starts like a version"},
		{"v1", "starts like a version"},
		{"^1", "names use only"},
		{"latest", "reserved"},
		{"node_modules", "reserved"},
		{"-", "reserved"},
		{"x", "reads as a semver range"},
		{"x.x", "reads as a semver range"},
		{"@corp", "a scope without a name"},
		{"@corp/", "is empty"},
		{"corp/ui", `no "@scope/"`},
		{"@corp/ui/extra", "names use only"},
		{strings.Repeat("a", 215), "at most 214"},
		{"vue", ""},
		{"v", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckLibraryName(tc.name)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("CheckLibraryName(%q) = %v, want nil", tc.name, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("CheckLibraryName(%q) = %v, want an error with %q", tc.name, err, tc.want)
			}
		})
	}
}

func TestSplitLibrary(t *testing.T) {
	for _, tc := range []struct{ p, lib, rest string }{
		{"2.2.4/pusher.js", "", "2.2.4/pusher.js"},
		{"2.2/pusher.js", "", "2.2/pusher.js"},
		{".lock", "", ".lock"},
		{"pusher/2.2.4/pusher.js", "pusher", "2.2.4/pusher.js"},
		{"pusher/.lock", "pusher", ".lock"},
		{"@corp/ui/1.0.0/ui.css", "@corp/ui", "1.0.0/ui.css"},
		{"@corp/UI/1.0.0/ui.css", "", "@corp/UI/1.0.0/ui.css"},
		{"pusher", "pusher", ""},
	} {
		t.Run(tc.p, func(t *testing.T) {
			lib, rest := SplitLibrary(tc.p)
			if lib != tc.lib || rest != tc.rest {
				t.Errorf("SplitLibrary(%q) = %q, %q; want %q, %q", tc.p, lib, rest, tc.lib, tc.rest)
			}
		})
	}
	if got := LibraryDir("dist", ""); got != "dist" {
		t.Errorf(`LibraryDir("dist", "") = %q`, got)
	}
	if got := LibraryDir("dist", "@corp/ui"); got != "dist/@corp/ui" {
		t.Errorf(`LibraryDir("dist", "@corp/ui") = %q`, got)
	}
}
