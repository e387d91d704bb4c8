// Package storage turns one storage URL into the afero.Fs and root that
// every cdnserve command publishes into or serves from:
//
//	./dist, /srv/dist      a local directory (the default)
//	mem://                 memory, for tests and the demo
//	s3://bucket/prefix?endpoint=http://127.0.0.1:7070&region=us-east-1&use_path_style=true
//
// S3-compatible storage goes through gocloud.dev/blob with s3blob (the
// AWS SDK v2). Credentials come from the standard AWS environment and
// config chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, ...), never from the URL.
package storage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/spf13/afero"
	"gocloud.dev/blob"
	"gocloud.dev/blob/s3blob"

	"github.com/cdnserve/cdnserve/redact"
)

// Kind says what a storage URL named.
type Kind string

// The kinds of storage.
const (
	Local  Kind = "local"
	Memory Kind = "memory"
	S3     Kind = "s3"
)

// Storage is an opened storage URL.
type Storage struct {
	// Fs and Root are what dist.NewTree and server.Config take.
	Fs   afero.Fs
	Root string
	Kind Kind
	// Display is the URL with any query removed, for messages.
	Display string
	close   func() error
}

// Close releases the storage (the bucket's connections).
func (s *Storage) Close() error {
	if s.close == nil {
		return nil
	}
	return s.close()
}

// KindOf says what kind of storage a storage URL names, without opening
// it; anything that is not mem:// or s3:// is a local directory.
func KindOf(spec string) Kind {
	switch {
	case spec == "mem://" || spec == "mem:":
		return Memory
	case strings.HasPrefix(spec, "s3://"):
		return S3
	}
	return Local
}

// Open opens a storage URL. A plain path is resolved against dir. URL
// query values that carry credentials are refused: they belong in the
// AWS environment.
func Open(ctx context.Context, spec, dir string) (*Storage, error) {
	switch {
	case spec == "mem://" || spec == "mem:":
		return &Storage{Fs: afero.NewMemMapFs(), Root: "/dist", Kind: Memory, Display: "mem://"}, nil
	case strings.HasPrefix(spec, "s3://"):
		return openS3(ctx, spec)
	case strings.Contains(spec, "://"):
		return nil, fmt.Errorf("storage %q: unknown scheme; use a directory, mem:// or s3://bucket/prefix", spec)
	case spec == "":
		return nil, errors.New("storage: empty; use a directory, mem:// or s3://bucket/prefix")
	}
	root := spec
	if !filepath.IsAbs(root) {
		root = filepath.Join(dir, root)
	}
	return &Storage{Fs: DiskFs{Root: root}, Root: root, Kind: Local, Display: root}, nil
}

func openS3(ctx context.Context, spec string) (*Storage, error) {
	u, err := url.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("storage %q: %w", redact.URL(spec), err)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("storage %q: no bucket: want s3://bucket/prefix", redact.URL(u.String()))
	}
	q := u.Query()
	for k := range q {
		if l := strings.ToLower(k); strings.Contains(l, "secret") || strings.Contains(l, "access") || strings.Contains(l, "token") || strings.Contains(l, "password") {
			return nil, fmt.Errorf("storage %q: %q looks like a credential; credentials come from the AWS environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE), never from the URL", redact.URL(u.String()), k)
		}
	}
	prefix := strings.Trim(u.Path, "/")
	bucketURL := &url.URL{Scheme: "s3", Host: u.Host, RawQuery: u.RawQuery}
	bucket, err := (&s3blob.URLOpener{}).OpenBucketURL(ctx, bucketURL)
	if err != nil {
		return nil, fmt.Errorf("storage %q: %w", redact.URL(u.String()), err)
	}
	if prefix != "" {
		bucket = blob.PrefixedBucket(bucket, prefix+"/")
	}
	display := "s3://" + u.Host
	if prefix != "" {
		display += "/" + prefix
	}
	if err := probe(ctx, bucket, display, u.Host); err != nil {
		bucket.Close()
		return nil, err
	}
	return &Storage{Fs: NewBlobFs(bucket), Root: ".", Kind: S3, Display: display, close: bucket.Close}, nil
}
