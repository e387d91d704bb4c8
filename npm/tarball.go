package npm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"

	"github.com/cdnserve/cdnserve/redact"
)

// ErrTooBig is a package or file over the Limits.
var ErrTooBig = errors.New("over the size limit")

// Tarball returns a version's tarball, checked against the registry's
// integrity string (sha512): from CacheDir when a verified copy is
// there, else downloaded (concurrent calls share one download) and kept.
// Bytes that do not match are never returned or kept: the error wraps
// ErrIntegrity. A version with no sha512 integrity is refused too.
func (c *Client) Tarball(ctx context.Context, v *PackageVersion) ([]byte, error) {
	want, err := sha512Of(v)
	if err != nil {
		return nil, err
	}
	cached := c.cachePath(want)
	if cached != "" {
		if data, err := afero.ReadFile(c.cacheFs(), cached); err == nil && bytes.Equal(sum512(data), want) {
			return data, nil
		}
	}
	res, err, _ := c.group.Do("tgz:"+v.Dist.Integrity, func() (any, error) {
		c.downloads.Add(1)
		data, err := c.get(ctx, v.Dist.Tarball, "application/octet-stream", c.Limits.Package)
		if errors.Is(err, ErrTooBig) {
			return nil, fmt.Errorf("%s@%s: the tarball is %w (%d MB)", v.Name, v.Version, ErrTooBig, c.Limits.Package>>20)
		}
		if err != nil {
			return nil, fmt.Errorf("%s@%s: downloading the tarball: %w", v.Name, v.Version, err)
		}
		if got := sum512(data); !bytes.Equal(got, want) {
			return nil, fmt.Errorf("%s@%s: %s: %w: its sha512 is %s…, the registry's integrity says %s… (nothing was kept or published)",
				v.Name, v.Version, redact.URL(v.Dist.Tarball), ErrIntegrity, b64(got)[:16], b64(want)[:16])
		}
		if cached != "" {
			// A cache that cannot be written costs a download next time, no more.
			layout.WriteFileAtomic(c.cacheFs(), cached, data)
			c.rememberVersion(v)
		}
		return data, nil
	})
	if err != nil {
		return nil, err
	}
	return res.([]byte), nil
}

// openTarball returns a version's tarball, verified against the
// registry's sha512, to read once. With a CacheDir it never holds the
// tarball in memory: a download streams to a temporary file there,
// hashed on the way, and is renamed into the cache only when it
// matches; a cached copy is hashed again before it is used. Without
// one, it is Tarball's bytes.
func (c *Client) openTarball(ctx context.Context, v *PackageVersion) (io.ReadCloser, error) {
	if c.CacheDir == "" {
		data, err := c.Tarball(ctx, v)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(data)), nil
	}
	want, err := sha512Of(v)
	if err != nil {
		return nil, err
	}
	cached := c.cachePath(want)
	if f, err := openVerified(cached, want); err == nil {
		return f, nil
	}
	if _, err, _ := c.group.Do("tgz:"+v.Dist.Integrity, func() (any, error) {
		return nil, c.download(ctx, v, cached, want)
	}); err != nil {
		return nil, err
	}
	return os.Open(cached)
}

// openVerified opens a cached tarball whose sha512 is want.
func openVerified(name string, want []byte) (*os.File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	h := sha512.New()
	if _, err := io.Copy(h, f); err != nil || !bytes.Equal(h.Sum(nil), want) {
		f.Close()
		return nil, fmt.Errorf("%s: the cached copy does not match its name", name)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// download streams a version's tarball into the cache at dst, hashed on
// the way; bytes that do not match want are removed, never kept.
func (c *Client) download(ctx context.Context, v *PackageVersion, dst string, want []byte) error {
	c.downloads.Add(1)
	downloads := filepath.Join(c.CacheDir, "downloads")
	if err := os.MkdirAll(downloads, 0o755); err != nil {
		return fmt.Errorf("%s@%s: the npm cache: %w", v.Name, v.Version, err)
	}
	tmp, err := os.CreateTemp(downloads, "tgz-*")
	if err != nil {
		return fmt.Errorf("%s@%s: the npm cache: %w", v.Name, v.Version, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha512.New()
	reset := func() error {
		h.Reset()
		if err := tmp.Truncate(0); err != nil {
			return err
		}
		_, err := tmp.Seek(0, io.SeekStart)
		return err
	}
	err = c.getTo(ctx, v.Dist.Tarball, io.MultiWriter(tmp, h), c.Limits.Package, reset)
	if errors.Is(err, ErrTooBig) {
		return fmt.Errorf("%s@%s: the tarball is %w (%d MB)", v.Name, v.Version, ErrTooBig, c.Limits.Package>>20)
	}
	if err != nil {
		return fmt.Errorf("%s@%s: downloading the tarball: %w", v.Name, v.Version, err)
	}
	if got := h.Sum(nil); !bytes.Equal(got, want) {
		return fmt.Errorf("%s@%s: %s: %w: its sha512 is %s…, the registry's integrity says %s… (nothing was kept or published)",
			v.Name, v.Version, redact.URL(v.Dist.Tarball), ErrIntegrity, b64(got)[:16], b64(want)[:16])
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%s@%s: the npm cache: %w", v.Name, v.Version, err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("%s@%s: the npm cache: %w", v.Name, v.Version, err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("%s@%s: the npm cache: %w", v.Name, v.Version, err)
	}
	c.rememberVersion(v)
	return nil
}

// rememberVersion records, in CacheDir, a version's integrity string and
// tarball URL, so that a build that names this exact version again
// finds its verified tarball without asking the registry (cachedVersion).
func (c *Client) rememberVersion(v *PackageVersion) {
	raw, _ := json.Marshal(v)
	layout.WriteFileAtomic(c.cacheFs(), c.versionPath(v.Name, v.Version), raw)
}

// versionPath is where an exact version is remembered in CacheDir: named
// by the SHA-256 of "name@version", so that nothing a registry sends
// becomes a path.
func (c *Client) versionPath(name, version string) string {
	sum := sha256.Sum256([]byte(name + "@" + version))
	return c.hashedPath("versions", sum[:], ".json")
}

// docPath is where a package's document is kept in CacheDir, for
// Offline: its registry's URL on the first line, then the document as
// the registry sent it. Named by the SHA-256 of the name, as versionPath.
func (c *Client) docPath(name string) string {
	sum := sha256.Sum256([]byte(name))
	return c.hashedPath("docs", sum[:], ".json")
}

// hashedPath is the one way a cache path is made: CacheDir/kind/ab/abcd…
// from a digest's hex, so that nothing a registry sends becomes a path;
// "" without a CacheDir.
func (c *Client) hashedPath(kind string, sum []byte, ext string) string {
	if c.CacheDir == "" {
		return ""
	}
	h := hex.EncodeToString(sum)
	return path.Join(c.CacheDir, kind, h[:2], h+ext)
}

// kept is get for what the gate reads (a registry's keys, attestations):
// the answer, a 404 too, is kept in CacheDir, and Offline reads only
// what is kept.
func (c *Client) kept(ctx context.Context, u, accept string, limit int64) ([]byte, error) {
	sum := sha256.Sum256([]byte(u))
	p := c.hashedPath("kept", sum[:], "")
	if c.Offline {
		raw, err := afero.ReadFile(c.cacheFs(), p)
		status, body, _ := bytes.Cut(raw, []byte("\n"))
		switch {
		case err != nil || p == "":
			return nil, fmt.Errorf("%s: %w", redact.URL(u), ErrOffline)
		case string(status) == "404":
			return nil, fmt.Errorf("%s: %w (HTTP 404, when it was last asked)", redact.URL(u), ErrNotFound)
		}
		return body, nil
	}
	body, err := c.get(ctx, u, accept, limit)
	if p != "" {
		switch {
		case err == nil:
			layout.WriteFileAtomic(c.cacheFs(), p, append([]byte("200\n"), body...))
		case errors.Is(err, ErrNotFound):
			layout.WriteFileAtomic(c.cacheFs(), p, []byte("404\n"))
		}
	}
	return body, err
}

// cachedVersion is an exact version remembered with a verified tarball
// in the cache, or nil.
func (c *Client) cachedVersion(name, version string) *PackageVersion {
	if c.CacheDir == "" {
		return nil
	}
	raw, err := afero.ReadFile(c.cacheFs(), c.versionPath(name, version))
	if err != nil {
		return nil
	}
	var v PackageVersion
	if json.Unmarshal(raw, &v) != nil || v.Name != name || v.Version != version {
		return nil
	}
	sum, err := sha512Of(&v)
	if err != nil {
		return nil
	}
	if data, err := afero.ReadFile(c.cacheFs(), c.cachePath(sum)); err != nil || !bytes.Equal(sum512(data), sum) {
		return nil
	}
	return &v
}

// cacheFs is where CacheDir is: the OS's file system.
func (c *Client) cacheFs() afero.Fs { return afero.NewOsFs() }

// cachePath is a tarball's place in CacheDir, named by its sha512, or ""
// without a cache.
func (c *Client) cachePath(sum []byte) string {
	return c.hashedPath("sha512", sum, ".tgz")
}

// sha512Of reads the sha512 digest from a version's integrity string
// ("sha512-<base64>", possibly among other hashes).
func sha512Of(v *PackageVersion) ([]byte, error) {
	for _, f := range strings.Fields(v.Dist.Integrity) {
		if b, ok := strings.CutPrefix(f, "sha512-"); ok {
			if raw, err := base64.StdEncoding.DecodeString(b); err == nil && len(raw) == sha512.Size {
				return raw, nil
			}
		}
	}
	return nil, fmt.Errorf("%s@%s: %w: the registry gives no sha512 integrity (dist.integrity %q), so its tarball cannot be verified; it is refused",
		v.Name, v.Version, ErrIntegrity, v.Dist.Integrity)
}

func sum512(data []byte) []byte {
	s := sha512.Sum512(data)
	return s[:]
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
