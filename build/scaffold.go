package build

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/afero"
)

// libraryName is what `cdnserve init` accepts: a lower-case name that is
// safe as a file name and a JavaScript identifier stem.
var libraryName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)

// Scaffold writes a new project for library name into fs: cdnserve.yaml,
// src/NAME.js and src/license.txt. It refuses to replace any file that
// exists, and returns the paths it wrote. The project builds as it is.
func Scaffold(fs afero.Fs, name string) ([]string, error) {
	if !libraryName.MatchString(name) {
		return nil, fmt.Errorf("library name %q: use a lower-case letter followed by letters, digits, '-' or '_' (at most 64)", name)
	}
	files := []struct{ path, body string }{
		{DefaultManifestName, scaffoldManifest},
		{"src/" + name + ".js", scaffoldSource},
		{"src/license.txt", scaffoldLicense},
	}
	for _, f := range files {
		if _, err := fs.Stat(f.path); err == nil {
			return nil, fmt.Errorf("%s already exists; init writes only into a fresh directory", f.path)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	if err := fs.MkdirAll("src", 0o755); err != nil {
		return nil, err
	}
	var wrote []string
	for _, f := range files {
		body := strings.NewReplacer("NAME", name, "GLOBAL", globalName(name)).Replace(f.body)
		if err := afero.WriteFile(fs, f.path, []byte(body), 0o644); err != nil {
			return wrote, err
		}
		wrote = append(wrote, f.path)
	}
	ignored, err := ignoreTargetDir(fs)
	if err != nil {
		return wrote, err
	}
	return append(wrote, ignored), nil
}

// gitignoreLine keeps the published versions (the manifest's target_dir)
// out of git: they are build output.
const gitignoreLine = "/dist/"

// ignoreTargetDir writes .gitignore with the target dir, or adds the
// line to one that lacks it. It names what it did.
func ignoreTargetDir(fs afero.Fs) (string, error) {
	old, err := afero.ReadFile(fs, ".gitignore")
	switch {
	case errors.Is(err, os.ErrNotExist):
		return ".gitignore", afero.WriteFile(fs, ".gitignore", []byte("# cdnserve build output: the published versions\n"+gitignoreLine+"\n"), 0o644)
	case err != nil:
		return "", err
	case slices.Contains(strings.Split(string(old), "\n"), gitignoreLine):
		return ".gitignore (already ignores " + gitignoreLine + ")", nil
	}
	if len(old) > 0 && old[len(old)-1] != '\n' {
		old = append(old, '\n')
	}
	return ".gitignore (added " + gitignoreLine + ")", afero.WriteFile(fs, ".gitignore", append(old, gitignoreLine+"\n"...), 0o644)
}

// globalName turns "my-lib" into "MyLib" for the scaffold's global.
func globalName(name string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

const scaffoldManifest = `# cdnserve manifest: see docs/manifest.md for every key.
version: 0.1.0
src_dir: src
target_dir: dist
target: es5
bundles:
  NAME.js:
    license: license.txt
    files: [NAME.js]
substitutions:
  all:
    <VERSION>: "{{version}}"
`

const scaffoldSource = `(function (root) {
  var GLOBAL = { VERSION: "<VERSION>" };
  root.GLOBAL = GLOBAL;
})(this);
`

const scaffoldLicense = `/*!
 * NAME v<VERSION>
 * Released under the MIT license.
 */`
