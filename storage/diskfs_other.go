//go:build !linux

package storage

import "github.com/spf13/afero"

// DiskFs is the local file system. Outside Linux it has no atomic
// directory exchange, so dist switches aliases file by file.
type DiskFs struct {
	afero.OsFs
}

var _ afero.Fs = (*DiskFs)(nil)
