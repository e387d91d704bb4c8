package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/cdnserve/cdnserve/catalog"
	"github.com/cdnserve/cdnserve/dist"
	"github.com/cdnserve/cdnserve/esm/graph"
	"github.com/cdnserve/cdnserve/importmap"
	"github.com/cdnserve/cdnserve/layout"
	"github.com/cdnserve/cdnserve/npm"
	"github.com/spf13/afero"
)

const importmapExamples = `  cdnserve importmap react@^18 react-dom@^18/client --public-url https://cdn.example.com/ > importmap.json   # npm packages: their whole graph
  cdnserve importmap --lockfile package-lock.json --npm-fetch --public-url https://cdn.example.com/ --html index.html
  cdnserve importmap widgets@^2 @corp/ui@1.4.0 --storage 's3://assets/cdn?region=eu-west-1' --public-url https://cdn.example.com/
  cdnserve importmap widgets@2.1.0/dist/widgets.core.mjs    # another entry than the library's
`

// htmlStart and htmlEnd mark the tags importmap --html writes into a
// page, so that running it again replaces them.
const (
	htmlStart = "<!-- cdnserve importmap -->\n"
	htmlEnd   = "<!-- /cdnserve importmap -->\n"
)

// runImportmap prints an import map with integrity, as /-/importmap
// serves it: for npm packages, the map of their whole graph (built into
// storage where a browser cannot run their files); for other libraries,
// their own ES-module files. With --lockfile, the app's map from its
// package-lock.json or package.json; with --html, the map and its
// modulepreload tags are written into a page's <head>.
func runImportmap(ctx context.Context, e *env, args []string) error {
	fs := newSettings(e, "importmap", "[NAME@RANGE...] [flags]", importmapExamples)
	storageURL := fs.StorageFlag("dist", "the `storage` that holds the libraries and packages (and where builds are written)")
	publicURL := fs.String("public-url", "/", "the `URL` pages load the CDN from; the default, /, gives root-relative URLs")
	lockfile := fs.String("lockfile", "", "make the map of the app whose package-lock.json (v2, v3) or package.json this `file` is")
	htmlFile := fs.String("html", "", "write the map and its modulepreload tags into this HTML `file`'s <head> (again: replaced), instead of printing the map")
	fetch := fs.Bool("npm-fetch", false, "fetch from the npm registry, verified, the packages storage lacks (with --lockfile: every package the lockfile names)")
	var nf npmFlags
	nf.register(e, fs)
	libs, err := fs.ParseArgs(args, 0, -1, "")
	if err != nil {
		return err
	}
	if (*lockfile == "") == (len(libs) == 0) {
		return fs.UsageError("name the packages or libraries (NAME@RANGE...), or an app's --lockfile, not both")
	}
	var appFile []byte
	if *lockfile != "" {
		if appFile, err = os.ReadFile(e.abs(*lockfile)); err != nil {
			return err
		}
	}
	st, _, err := openStorage(ctx, e, *storageURL, "")
	if err != nil {
		return err
	}
	defer st.Close()
	if *fetch {
		if err := st.Fs.MkdirAll(st.Root, 0o755); err != nil {
			return err
		}
	}
	var res *importmap.Result
	cat := catalog.New(catalog.Options{Fs: st.Fs, Root: st.Root})
	if err := cat.Refresh(); err != nil {
		return err
	}
	if *lockfile == "" && importmap.Published(cat, libs) {
		m, err := importmap.Make(cat, *publicURL, libs)
		if err != nil {
			return err
		}
		res = &importmap.Result{Map: m}
	} else if res, err = graphMap(ctx, e, st.Fs, st.Root, *publicURL, libs, appFile, *fetch, nf); err != nil {
		if *lockfile != "" {
			return fmt.Errorf("%s: %w", *lockfile, err)
		}
		return err
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	enc.Encode(res.Map)
	if *htmlFile == "" {
		_, err := e.stdout.Write(out.Bytes())
		return err
	}
	return injectTags(e, e.abs(*htmlFile), importmap.HTMLTags(res, out.Bytes()))
}

// graphMap makes the map of npm packages' graph, or of an app's
// lockfile, from storage, fetching what it lacks when fetch is set.
func graphMap(ctx context.Context, e *env, fsys afero.Fs, root, publicURL string, libs []string, appFile []byte, fetch bool, nf npmFlags) (*importmap.Result, error) {
	o := graph.Options{Fs: fsys, Root: root, Tool: "cdnserve " + toolVersion()}
	if fetch {
		client, err := nf.gatedClient(e, e.dir, fsys, root, nil)
		if err != nil {
			return nil, err
		}
		var allow []string
		for _, l := range libs {
			name, _, _, _ := importmap.SplitSpec(l)
			allow = append(allow, name)
		}
		if appFile != nil {
			allow = []string{"*", "@*/*"} // the app's file names them; a lockfile's are checked against its integrity
		}
		o.Fetch = &npm.Mirror{Client: client, Tree: dist.NewTree(fsys, root), Allow: allow, AllowDependencies: true, Tool: o.Tool}
	}
	maker, err := graph.New(o)
	if err != nil {
		return nil, err
	}
	defer maker.Close()
	if appFile != nil {
		return maker.MakeFrom(ctx, publicURL, appFile)
	}
	return maker.Make(ctx, publicURL, libs)
}

// injectTags writes tags into an HTML file's <head>, in place of the
// ones an earlier run wrote, atomically.
func injectTags(e *env, file, tags string) error {
	page, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	s := string(page)
	if i := strings.Index(s, htmlStart); i >= 0 {
		j := strings.Index(s[i:], htmlEnd)
		if j < 0 {
			return fmt.Errorf("%s: it has %q without %q: mend the page by hand", file, strings.TrimSpace(htmlStart), strings.TrimSpace(htmlEnd))
		}
		s = s[:i] + s[i+j+len(htmlEnd):]
	}
	at := strings.Index(strings.ToLower(s), "</head>")
	if at < 0 {
		return fmt.Errorf("%s: no </head> to put the import map before; an import map must come before the page's module scripts", file)
	}
	s = s[:at] + htmlStart + tags + htmlEnd + s[at:]
	if err := layout.WriteFileAtomic(afero.NewOsFs(), file, []byte(s)); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote the import map and its modulepreload tags into %s\n", file)
	return nil
}
