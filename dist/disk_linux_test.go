package dist

import (
	"errors"

	"github.com/spf13/afero"
	"golang.org/x/sys/unix"
)

// testDisk is the local disk with an atomic directory exchange, as
// storage.DiskFs has it (storage imports dist, so dist's own tests cannot
// import storage).
type testDisk struct{ afero.OsFs }

func (testDisk) Exchange(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) {
		return ErrExchangeUnsupported
	}
	return err
}
