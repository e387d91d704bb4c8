package layout

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"time"

	"github.com/spf13/afero"
)

// TmpPrefix starts the name of a temporary file or directory. Like every
// dot-name, it is never served; dist removes the ones a killed publisher
// left in the root.
const TmpPrefix = ".tmp-"

// NewInfix joins a file's name and a random suffix to name the whole
// copy that CreateExclusive links into place (".lock.new-1a2b…"). It is
// not a TmpPrefix name: a publisher that holds the lock removes those,
// and would remove another process's copy between its write and its
// link. dist removes one only once it is older than StaleNewAfter.
const NewInfix = ".new-"

// StaleNewAfter is the age past which a NewInfix copy was left by a
// process that died between its write and its link (which take
// milliseconds).
const StaleNewAfter = time.Minute

// NewName returns a new random name for the whole copy of name that is
// linked into place.
func NewName(name string) string {
	b := make([]byte, 8)
	rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return name + NewInfix + hex.EncodeToString(b)
}

// TempName returns a new random name for a temporary file or directory in
// dir.
func TempName(dir string) string {
	b := make([]byte, 8)
	rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return path.Join(dir, TmpPrefix+hex.EncodeToString(b))
}

// WriteFileSynced writes data to p, creating its directory, and syncs it
// before closing. Errors name p.
func WriteFileSynced(fsys afero.Fs, p string, data []byte) error {
	if err := fsys.MkdirAll(path.Dir(p), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", path.Dir(p), err)
	}
	f, err := fsys.OpenFile(p, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}

// WriteFileAtomic replaces p with data so that a reader sees the old
// bytes or the new ones, never a mix: it writes a synced temporary file
// beside p and renames it over p. Paths are slash-separated, as afero
// takes them on every platform cdnserve runs on.
func WriteFileAtomic(fsys afero.Fs, p string, data []byte) error {
	tmp := TempName(path.Dir(p))
	if err := WriteFileSynced(fsys, tmp, data); err != nil {
		fsys.Remove(tmp)
		return err
	}
	if err := fsys.Rename(tmp, p); err != nil {
		fsys.Remove(tmp)
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}
