package storage_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cdnserve/cdnserve/build"
	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/server"
	"github.com/cdnserve/cdnserve/storage"
	"github.com/cdnserve/cdnserve/storage/s3test"
	"github.com/cdnserve/cdnserve/versioning"
	"github.com/spf13/afero"

	"github.com/cdnserve/cdnserve/internal/testutil"
)

func seedArtifacts(t *testing.T, version string) []layout.File {
	t.Helper()
	raw, err := os.ReadFile("../testdata/seedlib/cdnserve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := build.Decode("cdnserve.yaml", raw)
	res, err := build.Build(context.Background(), build.Options{Manifest: m, Version: version,
		Src: afero.NewReadOnlyFs(afero.NewBasePathFs(afero.NewOsFs(), "../testdata/seedlib/src"))})
	if err != nil {
		t.Fatal(err)
	}
	return res.Artifacts
}

var fixed = func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }

func publishTo(t *testing.T, fsys afero.Fs, root, version string) (*dist.Result, error) {
	t.Helper()
	v, _ := versioning.Parse(version)
	tree := dist.NewTree(fsys, root)
	tree.Clock = fixed
	return tree.Publish(context.Background(), dist.Request{Version: v, Files: seedArtifacts(t, version)})
}

func get(t *testing.T, url string, headers ...string) (*http.Response, string) {
	t.Helper()
	resp, body := testutil.Do(t, http.MethodGet, url, headers...)
	return resp, string(body)
}

func serve(t *testing.T, fsys afero.Fs, root string) *httptest.Server {
	t.Helper()
	srv, err := server.New(server.Config{Fs: fsys, Root: root})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts
}

// TestPublishAndServeOverS3 publishes with the real build and publish
// code into a bucket and serves it: the same bytes and the same ETags as
// the same build published to local disk.
func TestPublishAndServeOverS3(t *testing.T) {
	st, _ := openS3(t)
	if res, err := publishTo(t, st.Fs, st.Root, "2.2.3"); err != nil || res.Action != dist.Created || res.Aliases[0].Action != dist.Created {
		t.Fatalf("publish: %+v %v", res, err)
	}
	local := filepath.Join(t.TempDir(), "dist")
	if _, err := publishTo(t, storage.DiskFs{}, local, "2.2.3"); err != nil {
		t.Fatal(err)
	}
	s3srv, disk := serve(t, st.Fs, st.Root), serve(t, storage.DiskFs{}, local)
	for _, p := range []string{"/2.2.3/pusher.min.js", "/2.2/pusher.min.js", "/2.2.3/WebSocketMain.swf"} {
		for _, enc := range []string{"", "br", "gzip"} {
			r1, b1 := get(t, s3srv.URL+p, "Accept-Encoding", enc)
			r2, b2 := get(t, disk.URL+p, "Accept-Encoding", enc)
			if r1.StatusCode != 200 || b1 != b2 || r1.Header.Get("Etag") != r2.Header.Get("Etag") || r1.Header.Get("Cache-Control") != r2.Header.Get("Cache-Control") {
				t.Errorf("%s %q: S3 %d etag %s, disk %d etag %s, same bytes %v", p, enc, r1.StatusCode, r1.Header.Get("Etag"), r2.StatusCode, r2.Header.Get("Etag"), b1 == b2)
			}
		}
	}
	if r, _ := get(t, s3srv.URL+"/latest/sockjs.js"); r.Header.Get("Location") != "/2.2.3/sockjs.js" {
		t.Errorf("latest over S3: %q", r.Header.Get("Location"))
	}
	// Idempotence and immutability hold on S3 too.
	if res, err := publishTo(t, st.Fs, st.Root, "2.2.3"); err != nil || res.Action != dist.Unchanged {
		t.Errorf("re-publish: %+v %v", res, err)
	}
	v, _ := versioning.Parse("2.2.3")
	_, err := dist.NewTree(st.Fs, st.Root).Publish(context.Background(), dist.Request{Version: v, Files: []layout.File{{Name: "pusher.js", Data: []byte("changed")}}})
	var ie *dist.ImmutableError
	if !errors.As(err, &ie) {
		t.Errorf("changing a published version on S3: %v", err)
	}
	if r, err := (dist.NewTree(st.Fs, st.Root)).Verify(); err != nil || !r.OK() || len(r.Versions) != 1 || len(r.Aliases) != 1 {
		t.Errorf("verify over S3: %+v %v", r, err)
	}
}

// failingFs stops writing after a number of files, as a publisher that
// is killed does.
type failingFs struct {
	afero.Fs
	left atomic.Int32
}

func (f *failingFs) WritesInPlace() bool { return true }

func (f *failingFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag&os.O_TRUNC != 0 && f.left.Add(-1) < 0 {
		return nil, errors.New("killed")
	}
	return f.Fs.OpenFile(name, flag, perm)
}

// TestInterruptedPublishIsInvisible stops a publish into S3 after each
// number of files in turn: the version is never visible without its
// manifest, and the next publish finishes it.
func TestInterruptedPublishIsInvisible(t *testing.T) {
	st, _ := openS3(t)
	if _, err := publishTo(t, st.Fs, st.Root, "2.2.3"); err != nil {
		t.Fatal(err)
	}
	for _, after := range []int32{0, 1, 5, 12, 25} {
		ffs := &failingFs{Fs: st.Fs}
		ffs.left.Store(after)
		if _, err := publishTo(t, ffs, st.Root, "2.2.4"); err == nil {
			t.Fatalf("publish with %d writes allowed succeeded", after)
		}
		ts := serve(t, st.Fs, st.Root)
		if r, _ := get(t, ts.URL+"/2.2.4/pusher.js"); r.StatusCode != 404 {
			t.Errorf("after %d writes: half-written 2.2.4 answered %d", after, r.StatusCode)
		}
		if _, body := get(t, ts.URL+"/-/versions"); strings.Contains(body, "2.2.4") {
			t.Errorf("after %d writes: /-/versions lists 2.2.4: %s", after, body)
		}
		if _, body := get(t, ts.URL+"/2.2/pusher.js"); !strings.Contains(body, "v2.2.3") {
			t.Errorf("after %d writes: the alias moved to a half-written version", after)
		}
		r, err := dist.NewTree(st.Fs, st.Root).Verify()
		if err != nil || !r.OK() {
			t.Errorf("after %d writes: verify problems %v (%v)", after, r.Problems, err)
		}
	}
	if res, err := publishTo(t, st.Fs, st.Root, "2.2.4"); err != nil || res.Action != dist.Created || res.Aliases[0].Action != dist.Moved {
		t.Fatalf("finishing publish: %+v %v", res, err)
	}
	ts := serve(t, st.Fs, st.Root)
	if r, body := get(t, ts.URL+"/2.2.4/pusher.js"); r.StatusCode != 200 || !strings.Contains(body, "v2.2.4") {
		t.Errorf("finished 2.2.4: %d", r.StatusCode)
	}
	if r, err := (dist.NewTree(st.Fs, st.Root)).Verify(); err != nil || !r.OK() || len(r.Notes) != 0 {
		t.Errorf("verify after finishing: %+v %v", r, err)
	}
}

// TestBucketGoesAway serves from S3 through a proxy that is then shut:
// readiness fails, cached files of exact versions keep serving, and a
// file that is not cached gets 503, not 404.
func TestBucketGoesAway(t *testing.T) {
	ep := s3test.Endpoint(t)
	target, _ := url.Parse(ep)
	proxy := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
	bucketURL := s3test.Bucket(t, ep)
	st, err := storage.Open(context.Background(), strings.Replace(bucketURL, "endpoint="+ep, "endpoint="+proxy.URL, 1), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := publishTo(t, st.Fs, st.Root, "2.2.3"); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Fs: st.Fs, Root: st.Root})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	if r, _ := get(t, ts.URL+"/-/readyz"); r.StatusCode != 200 {
		t.Fatalf("readyz before: %d", r.StatusCode)
	}
	_, cached := get(t, ts.URL+"/2.2.3/pusher.min.js")
	proxy.CloseClientConnections()
	proxy.Close()
	if err := srv.Refresh(); err == nil { // as Run does every Config.Refresh
		t.Error("a refresh with the bucket gone succeeded")
	}
	if r, _ := get(t, ts.URL+"/-/readyz"); r.StatusCode != 503 {
		t.Errorf("readyz with the bucket gone: %d, want 503", r.StatusCode)
	}
	if r, body := get(t, ts.URL+"/2.2.3/pusher.min.js"); r.StatusCode != 200 || body != cached {
		t.Errorf("a cached file of an exact version: %d", r.StatusCode)
	}
	if r, _ := get(t, ts.URL+"/2.2.3/sockjs.js"); r.StatusCode != 503 || r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("an uncached file with the bucket gone: %d %q, want 503 no-store", r.StatusCode, r.Header.Get("Cache-Control"))
	}
	if r, _ := get(t, ts.URL+"/9.9.9/x.js"); r.StatusCode != 503 {
		t.Errorf("an unknown version with the bucket gone: %d, want 503 (storage cannot say it is absent)", r.StatusCode)
	}
}

// TestOpenExplainsS3Errors: a storage URL, region or credential that
// cannot work fails at Open with the one likely cause and its fix, and
// never shows a secret.
func TestOpenExplainsS3Errors(t *testing.T) {
	ep := s3test.Endpoint(t)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true") // no instance role here: never ask for one
	secret := os.Getenv("AWS_SECRET_ACCESS_KEY")
	for _, tc := range []struct {
		name, url string
		unset     []string
		want      string
	}{
		{"virtual-host style", "s3://cdn/p?endpoint=http://localhost:" + ep[strings.LastIndex(ep, ":")+1:], nil,
			"the host cdn.localhost does not resolve: this endpoint does not serve buckets as subdomains; add use_path_style=true to the URL"},
		{"nothing listening", "s3://cdn/p?endpoint=http://127.0.0.1:1&use_path_style=true", nil,
			"nothing listens at the endpoint: check endpoint= in the URL"},
		{"no region", "s3://cdn/p?endpoint=" + ep + "&use_path_style=true", []string{"AWS_REGION", "AWS_DEFAULT_REGION"},
			"no region is set: add region=… to the URL, or set AWS_REGION"},
		{"no credentials", "s3://cdn/p?endpoint=" + ep + "&use_path_style=true&region=us-east-1", []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"},
			"no AWS credentials were found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"},
		{"no bucket", "s3://no-such-bucket-here/p?endpoint=" + ep + "&use_path_style=true&region=us-east-1", nil,
			`bucket "no-such-bucket-here" does not exist: create it, or fix the name in the URL`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range tc.unset {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
			t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
			st, err := storage.Open(context.Background(), tc.url, t.TempDir())
			if err == nil {
				st.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "storage s3://") {
				t.Errorf("error %q\nlacks %q", err, tc.want)
			}
			if secret != "" && strings.Contains(err.Error(), secret) {
				t.Error("the error shows the secret key")
			}
		})
	}
}

// TestRemoveOverS3: a version removed from a bucket is gone to readers
// (manifest first, then files), verify stays clean, and a server answers
// 410; a removal stopped after the manifest leaves files that verify
// notes, never a problem.
func TestRemoveOverS3(t *testing.T) {
	st, _ := openS3(t)
	for _, v := range []string{"2.2.3", "2.3.0-rc.1", "2.3.0-rc.2"} {
		if _, err := publishTo(t, st.Fs, st.Root, v); err != nil {
			t.Fatal(err)
		}
	}
	tree := dist.NewTree(st.Fs, st.Root)
	if _, err := tree.Remove(context.Background(), "2.3.0-rc.1", dist.RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	// A removal killed after the manifest went: the files stay, unseen.
	if err := st.Fs.Remove(st.Root + "/2.3.0-rc.2/" + layout.ManifestName); err != nil {
		t.Fatal(err)
	}
	r, err := tree.Verify()
	if err != nil || !r.OK() || strings.Join(r.Versions, " ") != "2.2.3" || len(r.Notes) == 0 {
		t.Fatalf("verify: %+v %v", r, err)
	}
	srv := serve(t, st.Fs, st.Root)
	for p, want := range map[string]int{"/2.3.0-rc.1/pusher.js": 410, "/2.3.0-rc.2/pusher.js": 404, "/2.2.3/pusher.js": 200} {
		if resp, _ := get(t, srv.URL+p); resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", p, resp.StatusCode, want)
		}
	}
}
