package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/cdnserve/cdnserve/internal/settings"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/loader"
	"github.com/cdnserve/cdnserve/retry"
	"github.com/cdnserve/cdnserve/versioning"
	"github.com/spf13/afero"
)

const fetchExamples = `  cdnserve fetch --cdn https://cdn.example.com --version 2.2.3 pusher sockjs -o vendor/
  cdnserve fetch --cdn https://cdn.example.com --version 2.2.3 --suffix .min pusher WebSocketMain.swf
  cdnserve fetch --cdn https://a.example --mirror https://b.example --version 2.2.3 json2
  cdnserve fetch --cdn https://cdn.example.com --library @corp/widgets --version ^2 widgets -o vendor/
`

// runFetch downloads dependencies with the loader, verified against the
// version's integrity manifest, for vendoring. A NAME without an extension
// is a .js dependency (NAME + suffix + ".js"); a name with one, such as
// WebSocketMain.swf, is fetched as it is.
func runFetch(ctx context.Context, e *env, args []string) error {
	fs := newSettings(e, "fetch", "--cdn URL --version X [flags] NAME...", fetchExamples)
	cdn := fs.String("cdn", "", "CDN base `URL` (http or https)")
	tokenEnv := fs.String("token-env", "", "send the bearer token in this environment `variable` to the CDN (for private libraries), never to a mirror")
	library := fs.String("library", "", "the named `library` to fetch from (default: the root library)")
	version := fs.String("version", "", "the `version` to fetch: exact, or a range or tag (^2.2, latest) that the CDN resolves")
	suffix := fs.String("suffix", "", "put between a dependency's name and .js: .min for minified files")
	out := fs.String("o", ".", "`dir` to write the files into")
	var mirrors settings.StringList
	fs.Var(&mirrors, "mirror", "another CDN base `URL` to try when the first fails (repeatable)")
	noIntegrity := fs.Bool("no-integrity", false, "do not check files against /-/meta/<version> (for CDNs without it)")
	cacheDir := fs.String("cache-dir", "", "keep fetched files in this `dir` across runs")
	timeout := fs.Duration("timeout", 30*time.Second, "time allowed for each file, retries included")
	names, err := fs.ParseArgs(args, 1, -1, "need --cdn, --version and at least one NAME")
	if err != nil {
		return err
	}
	if *cdn == "" || *version == "" {
		return fs.UsageError("need --cdn, --version and at least one NAME")
	}
	if *library != "" {
		if err := layout.CheckLibraryName(*library); err != nil {
			return fmt.Errorf("--library: library name %q %w", *library, err)
		}
	}
	token := ""
	if *tokenEnv != "" {
		var ok bool
		if token, ok = e.lookupEnv(*tokenEnv); !ok || token == "" {
			return fmt.Errorf("--token-env %s: the variable is not set", *tokenEnv)
		}
	}
	exact, err := resolveVersion(ctx, *cdn, *library, *version, token, *timeout)
	if err != nil {
		return err
	}
	if exact != *version {
		fmt.Fprintf(e.stdout, "resolved %s to %s\n", *version, exact)
	}
	o := loader.Options{Library: *library, Version: exact, Token: token, Suffix: *suffix, Mirrors: mirrors, SkipIntegrity: *noIntegrity, Timeout: *timeout}
	if *cacheDir != "" {
		o.CacheDir = e.abs(*cacheDir)
	}
	if strings.HasPrefix(*cdn, "https://") {
		o.CDNHTTPS, o.Encrypted = *cdn, true
	} else {
		o.CDNHTTP = *cdn
	}
	l, err := loader.New(o)
	if err != nil {
		return err
	}
	dir := e.abs(*out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var errs []error
	for _, name := range names {
		file := name + *suffix + ".js"
		load := func() ([]byte, error) { return l.Load(ctx, name) }
		if path.Ext(name) != "" {
			file = name
			load = func() ([]byte, error) { return l.LoadFile(ctx, name) }
		}
		data, err := load()
		if err == nil {
			err = layout.WriteFileAtomic(afero.NewOsFs(), filepath.Join(dir, filepath.FromSlash(file)), data)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		fmt.Fprintf(e.stdout, "fetched %s (%d bytes, %s)\n", e.rel(filepath.Join(dir, file)), len(data), layout.SRI(data))
	}
	return errors.Join(errs...)
}

// resolveVersion turns a range or tag into the exact version the CDN
// serves for it, from /-/meta/[<library>/]<spec> (which redirects a range
// to the exact version's document, and answers an alias with the version
// it holds). An exact version is returned as it is.
func resolveVersion(ctx context.Context, cdn, library, spec, token string, timeout time.Duration) (string, error) {
	if _, err := versioning.Parse(spec); err == nil {
		return spec, nil
	}
	lib := ""
	if library != "" {
		lib = library + "/"
	}
	u := strings.TrimSuffix(cdn, "/") + "/-/meta/" + lib + url.PathEscape(spec)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("--version %s: %w", spec, err)
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := retry.NewHTTPClient(0).Do(req)
	if err != nil {
		return "", fmt.Errorf("--version %s: resolving it at %s: %w", spec, u, err)
	}
	defer resp.Body.Close()
	var doc struct {
		Version string `json:"version"`
		Error   string `json:"error"`
	}
	json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc)
	if resp.StatusCode != http.StatusOK {
		why := doc.Error
		if why == "" {
			why = resp.Status
		}
		return "", fmt.Errorf("--version %s: %s answers %d: %s", spec, u, resp.StatusCode, why)
	}
	if _, err := versioning.Parse(doc.Version); err != nil {
		return "", fmt.Errorf("--version %s: %s is not a cdnserve metadata document (version %q)", spec, u, doc.Version)
	}
	return doc.Version, nil
}
