package npm

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/versioning"
)

// FuzzDocument feeds any registry document, under any name asked, to
// the checks a fetched document passes (Packument.check) and to Pick:
// they never panic; every entry kept says the document's name and its
// own key, is semver and has an http(s) tarball; whatever Pick returns
// is such an entry; and the cache path made for it stays below the
// cache directory.
func FuzzDocument(f *testing.F) {
	for _, s := range []string{
		`{"name":"ok","dist-tags":{"latest":"1.0.0"},"versions":{"1.0.0":{"name":"ok","version":"1.0.0","dist":{"tarball":"https://r/ok.tgz","integrity":"sha512-AAAA"}}}}`,
		`{"name":"poison","versions":{"1.0.0":{"name":"ok","version":"1.0.0","dist":{"tarball":"https://r/p.tgz"}}}}`,
		`{"name":"liar","dist-tags":{"latest":"1.0.0"},"versions":{"1.0.0":{"name":"liar","version":"5.0.0"}}}`,
		`{"name":"x","dist-tags":{"latest":"../../e"},"versions":{"../../e":{"name":"x","version":"../../e","dist":{"tarball":"file:///etc/passwd"}}}}`,
		`{"name":"x","versions":{"1.0.0":null}}`,
		`{"name":"@s/x","versions":{"1.0.0-rc.1":{"name":"@s/x","version":"1.0.0-rc.1","dist":{"tarball":"http://h/a"}}}}`,
		`{"name":"x","versions":{"v1.0.0":{"name":"x","version":"v1.0.0"}}}`,
		`{`, `[]`, `{"versions":{"1.0.0":{"dist":{"tarball":"https://"}}}}`,
	} {
		var doc struct{ Name string }
		json.Unmarshal([]byte(s), &doc)
		f.Add(doc.Name, s, "latest")
		f.Add(doc.Name, s, "1.0.0")
		f.Add(doc.Name, s, "^1")
	}
	cache := filepath.Join(f.TempDir(), "cache")
	c := &Client{CacheDir: cache}
	f.Fuzz(func(t *testing.T, asked, raw, spec string) {
		var doc Packument
		if json.Unmarshal([]byte(raw), &doc) != nil || doc.Name != asked || layout.CheckLibraryName(asked) != nil {
			return // fetchPackument refuses these before check
		}
		doc.check()
		for key, v := range doc.Versions {
			if v == nil || v.Name != asked || v.Version != key || !httpURL(v.Dist.Tarball) {
				t.Fatalf("kept %q: %+v", key, v)
			}
			if _, err := versioning.Parse(key); err != nil {
				t.Fatalf("kept a version that is no semver: %q", key)
			}
		}
		v, err := Pick(&doc, spec)
		if err != nil {
			return
		}
		if v.Name != asked || doc.Versions[v.Version] != v {
			t.Fatalf("picked %+v for %q", v, spec)
		}
		p := c.versionPath(v.Name, v.Version)
		if rel, err := filepath.Rel(cache, p); err != nil || !filepath.IsLocal(rel) {
			t.Fatalf("cache path %q for %s@%s", p, v.Name, v.Version)
		}
	})
}
