package build

import (
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

// Scaffold writes a new project for library name into fs: cdnserve.yaml
// (with "name: NAME", so the build publishes into dist/NAME/),
// src/STEM.js and src/license.txt, where STEM is the name without its
// scope. The name follows npm's rules (layout.CheckLibraryName). It
// refuses to replace any file that exists, and returns the paths it
// wrote. The project builds as it is.
func Scaffold(fs afero.Fs, name string) ([]string, error) {
	if err := layout.CheckLibraryName(name); err != nil {
		return nil, fmt.Errorf("library name %q %w", name, err)
	}
	stem, yamlName := path.Base(name), name
	if strings.HasPrefix(name, "@") {
		yamlName = `"` + name + `"` // "@" cannot start a plain YAML scalar
	}
	files := []struct{ path, body string }{
		{DefaultManifestName, scaffoldManifest},
		{"src/" + stem + ".js", scaffoldSource},
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
		body := strings.NewReplacer("name: LIBRARY", "name: "+yamlName, "LIBRARY", name, "STEM", stem, "GLOBAL", globalName(stem)).Replace(f.body)
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

// globalName turns "my-lib" into "MyLib" for the scaffold's global: a
// JavaScript identifier, so a digit after a separator is kept, and one
// at the start gets a "_".
func globalName(name string) string {
	var b strings.Builder
	if name[0] >= '0' && name[0] <= '9' {
		b.WriteByte('_')
	}
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

const scaffoldManifest = `# cdnserve manifest: see docs/manifest.md for every key.
name: LIBRARY
version: 0.1.0
src_dir: src
target_dir: dist
target: es5
bundles:
  STEM.js:
    license: license.txt
    files: [STEM.js]
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
 * LIBRARY v<VERSION>
 * Released under the MIT license.
 */`
