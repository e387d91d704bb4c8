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
	"path"
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
	h := hex.EncodeToString(sum[:])
	return path.Join(c.CacheDir, "versions", h[:2], h+".json")
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
	if c.CacheDir == "" {
		return ""
	}
	h := hex.EncodeToString(sum)
	return path.Join(c.CacheDir, "sha512", h[:2], h+".tgz")
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
