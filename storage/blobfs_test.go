package storage_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/cdnserve/cdnserve/storage"
	"github.com/cdnserve/cdnserve/storage/s3test"
	"github.com/spf13/afero"
)

func openS3(t *testing.T) (*storage.Storage, string) {
	t.Helper()
	ep := s3test.Endpoint(t)
	u := s3test.Bucket(t, ep)
	st, err := storage.Open(context.Background(), u, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, u
}

// TestBlobFsMatchesAfero runs one behaviour table against afero's OsFs on
// a real directory (the reference: os semantics; afero's MemMapFs itself
// removes non-empty directories) and against BlobFs on a real S3 server:
// they must agree.
func TestBlobFsMatchesAfero(t *testing.T) {
	st, _ := openS3(t)
	for name, fsys := range map[string]afero.Fs{"OsFs": afero.NewBasePathFs(afero.NewOsFs(), t.TempDir()), "BlobFs": st.Fs} {
		t.Run(name, func(t *testing.T) { aferoBehaviour(t, fsys) })
	}
}

func aferoBehaviour(t *testing.T, fsys afero.Fs) {
	write := func(p, body string) {
		t.Helper()
		fsys.MkdirAll(p[:strings.LastIndex(p, "/")], 0o755)
		if err := afero.WriteFile(fsys, p, []byte(body), 0o644); err != nil {
			t.Fatalf("write %s: %v", p, err)
		}
	}
	write("root/1.0.0/a.js", "A")
	write("root/1.0.0/sub/b.css", "BB")
	write("root/1.0/a.js", "A")

	if b, err := afero.ReadFile(fsys, "root/1.0.0/sub/b.css"); err != nil || string(b) != "BB" {
		t.Errorf("read: %q %v", b, err)
	}
	fi, err := fsys.Stat("root/1.0.0/sub/b.css")
	if err != nil || fi.IsDir() || fi.Size() != 2 || fi.Name() != "b.css" {
		t.Errorf("stat file: %v %v", fi, err)
	}
	if fi, err := fsys.Stat("root/1.0.0/sub"); err != nil || !fi.IsDir() {
		t.Errorf("stat dir: %v %v", fi, err)
	}
	if _, err := fsys.Stat("root/nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stat missing: %v, want fs.ErrNotExist", err)
	}
	var pe *os.PathError
	if _, err := fsys.Open("root/nope.js"); !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) {
		t.Errorf("open missing: %v, want an *os.PathError with fs.ErrNotExist", err)
	}
	entries, err := afero.ReadDir(fsys, "root/1.0.0")
	var names []string
	for _, e := range entries {
		names = append(names, e.Name()+map[bool]string{true: "/", false: ""}[e.IsDir()])
	}
	if err != nil || !slices.Equal(names, []string{"a.js", "sub/"}) {
		t.Errorf("readdir: %q %v", names, err)
	}
	// O_EXCL refuses an existing file and creates a new one.
	if _, err := fsys.OpenFile("root/1.0.0/a.js", os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644); !errors.Is(err, fs.ErrExist) {
		t.Errorf("O_EXCL on an existing file: %v, want fs.ErrExist", err)
	}
	f, err := fsys.OpenFile("root/.lock", os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatalf("O_EXCL create: %v", err)
	}
	io.WriteString(f, `{"pid":1}`)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := afero.ReadFile(fsys, "root/.lock"); string(b) != `{"pid":1}` {
		t.Errorf("lock content %q", b)
	}
	// Rename a file and a directory.
	if err := fsys.Rename("root/1.0/a.js", "root/1.0/renamed.js"); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Stat("root/1.0/a.js"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("renamed file still there: %v", err)
	}
	fsys.MkdirAll("root/2.0.0", 0o755)
	if err := fsys.Rename("root/1.0.0", "root/2.0.0-moved"); err != nil {
		t.Fatal(err)
	}
	if b, err := afero.ReadFile(fsys, "root/2.0.0-moved/sub/b.css"); err != nil || string(b) != "BB" {
		t.Errorf("renamed directory: %q %v", b, err)
	}
	if _, err := fsys.Stat("root/1.0.0"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("old directory still there: %v", err)
	}
	// Walk lists every file.
	var walked []string
	afero.Walk(fsys, "root", func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			walked = append(walked, strings.TrimPrefix(p, "root/"))
		}
		return nil
	})
	slices.Sort(walked)
	if !slices.Equal(walked, []string{".lock", "1.0/renamed.js", "2.0.0-moved/a.js", "2.0.0-moved/sub/b.css"}) {
		t.Errorf("walk = %q", walked)
	}
	// Remove: a file goes; a directory that holds files does not.
	if err := fsys.Remove("root/.lock"); err != nil {
		t.Error(err)
	}
	if err := fsys.Remove("root/2.0.0-moved"); err == nil {
		t.Error("removed a directory that holds files")
	}
	if err := fsys.RemoveAll("root/2.0.0-moved"); err != nil {
		t.Error(err)
	}
	if _, err := fsys.Stat("root/2.0.0-moved/a.js"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("RemoveAll left files: %v", err)
	}
	if err := fsys.RemoveAll("root/never-was"); err != nil {
		t.Errorf("RemoveAll of nothing: %v", err)
	}
}

// TestObjectHeaders checks that objects carry the headers cdnserve would
// serve, so a bucket served directly behaves the same.
func TestObjectHeaders(t *testing.T) {
	st, u := openS3(t)
	for _, p := range []string{"1.7.1/a.js", "1.7.1/a.js.br", "1.7/a.js", "1.7.1/_cdnserve.json", "1.7.1/x.swf",
		"pusher/2.2.4/a.js", "@corp/ui/2.2/a.css.gz", "@corp/ui/2.2/_cdnserve.json", "@corp/ui/.lock"} {
		if err := afero.WriteFile(st.Fs, p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bucket := strings.TrimPrefix(u[:strings.Index(u, "/cdn?")], "s3://")
	client := s3test.Client(t, s3test.Endpoint(t))
	tests := []struct{ key, ct, ce, cc string }{
		{"1.7.1/a.js", "text/javascript; charset=utf-8", "", "public, max-age=31536000, immutable"},
		{"1.7.1/a.js.br", "text/javascript; charset=utf-8", "br", "public, max-age=31536000, immutable"},
		{"1.7/a.js", "text/javascript; charset=utf-8", "", "public, max-age=300, stale-while-revalidate=60"},
		{"1.7.1/_cdnserve.json", "application/json", "", "no-cache"},
		{"1.7.1/x.swf", "application/x-shockwave-flash", "", "public, max-age=31536000, immutable"},
		{"pusher/2.2.4/a.js", "text/javascript; charset=utf-8", "", "public, max-age=31536000, immutable"},
		{"@corp/ui/2.2/a.css.gz", "text/css; charset=utf-8", "gzip", "public, max-age=300, stale-while-revalidate=60"},
		{"@corp/ui/2.2/_cdnserve.json", "application/json", "", "no-cache"},
		{"@corp/ui/.lock", "application/octet-stream", "", "no-cache"},
	}
	for _, tc := range tests {
		out, err := client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("cdn/" + tc.key)})
		if err != nil {
			t.Fatalf("%s: %v", tc.key, err)
		}
		if aws.ToString(out.ContentType) != tc.ct || aws.ToString(out.ContentEncoding) != tc.ce || aws.ToString(out.CacheControl) != tc.cc {
			t.Errorf("%s: Content-Type %q Content-Encoding %q Cache-Control %q, want %q %q %q", tc.key,
				aws.ToString(out.ContentType), aws.ToString(out.ContentEncoding), aws.ToString(out.CacheControl), tc.ct, tc.ce, tc.cc)
		}
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		spec, want string
		kind       storage.Kind
	}{
		{"dist", "", storage.Local},
		{"/srv/dist", "", storage.Local},
		{"mem://", "", storage.Memory},
		{"ftp://x/y", "unknown scheme", ""},
		{"", "empty", ""},
		{"s3:///prefix", "no bucket", ""},
		{"s3://b/p?endpoint=http://x&aws_secret_access_key=k", "looks like a credential", ""},
	}
	for _, tc := range tests {
		st, err := storage.Open(context.Background(), tc.spec, dir)
		if tc.want != "" {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open(%q) = %v, want %q", tc.spec, err, tc.want)
			}
			continue
		}
		if err != nil || st.Kind != tc.kind {
			t.Errorf("Open(%q) = %+v, %v", tc.spec, st, err)
		}
	}
	if st, _ := storage.Open(context.Background(), "dist", dir); st.Root != dir+"/dist" {
		t.Errorf("relative path root = %q", st.Root)
	}
}
