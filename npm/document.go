package npm

import (
	"fmt"
	"net/url"

	"github.com/cdnserve/cdnserve/versioning"
)

// check sets aside the entries of a document that cdnserve must not
// trust, so that nothing a registry sends becomes a cache key or a path
// unchecked: an entry whose own name is not the document's (a document
// for "poison" that lists "ok@1.0.0"), whose own version is not its key
// (a key "1.0.0" whose entry says "5.0.0", or "../../x"), whose version
// is no semver cdnserve can host, or whose tarball is no http(s) URL.
// Such a version is never picked: asking for it names the mismatch
// (Refused).
func (d *Packument) check() {
	for key, v := range d.Versions {
		why := ""
		switch {
		case v == nil:
			why = "the entry is empty"
		case v.Name != d.Name:
			why = fmt.Sprintf("its entry says it is %q, not %q", v.Name, d.Name)
		case v.Version != key:
			why = fmt.Sprintf("its entry says it is version %q", v.Version)
		case !hostable(key):
			why = "it is no semver version cdnserve can host"
		case !httpURL(v.Dist.Tarball):
			why = "its dist.tarball is not an http(s) URL"
		}
		if why == "" {
			continue
		}
		if d.refused == nil {
			d.refused = map[string]string{}
		}
		d.refused[key] = why
		delete(d.Versions, key)
	}
}

// Refused says why a version listed in the document was set aside
// (check), or "".
func (d *Packument) Refused(version string) string { return d.refused[version] }

func hostable(version string) bool {
	_, err := versioning.Parse(version)
	return err == nil
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
