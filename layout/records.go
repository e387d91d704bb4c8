package layout

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"time"

	"github.com/spf13/afero"
)

// The records a library keeps beside its versions, in dot-files that are
// never served (DeprecatedName, RemovedName). dist writes them; the
// server reads them, through the same types.

// Deprecation is one deprecated version's record in DeprecatedName.
type Deprecation struct {
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

// Deprecations maps a version to its deprecation.
type Deprecations map[string]Deprecation

// Removals maps a removed version to when it was removed.
type Removals map[string]time.Time

// ReadDeprecations reads a library's DeprecatedName in dir; an absent
// file is an empty record.
func ReadDeprecations(fsys afero.Fs, dir string) (Deprecations, error) {
	out := Deprecations{}
	return out, readRecord(fsys, path.Join(dir, DeprecatedName), &out)
}

// ReadRemovals reads a library's RemovedName in dir; an absent file is
// an empty record.
func ReadRemovals(fsys afero.Fs, dir string) (Removals, error) {
	out := Removals{}
	return out, readRecord(fsys, path.Join(dir, RemovedName), &out)
}

// Access is a library's access record (AccessName).
type Access struct {
	// Private: every response needs a bearer token or a signed URL, is
	// sent Cache-Control: private, and is never named to an edge.
	Private bool      `json:"private"`
	At      time.Time `json:"at"`
}

// ReadAccess reads a library's AccessName in dir; an absent file is a
// public library.
func ReadAccess(fsys afero.Fs, dir string) (Access, error) {
	var out Access
	err := readRecord(fsys, path.Join(dir, AccessName), &out)
	return out, err
}

func readRecord(fsys afero.Fs, name string, v any) error {
	raw, err := afero.ReadFile(fsys, name)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
