//go:build !linux

package dist

import "github.com/spf13/afero"

// DiskFs is the local file system. Outside Linux it has no atomic
// directory exchange, so aliases are switched file by file.
type DiskFs struct {
	afero.OsFs
}

var _ afero.Fs = (*DiskFs)(nil)
