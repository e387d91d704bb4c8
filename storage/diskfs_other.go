//go:build !linux

package storage

import "github.com/spf13/afero"

// DiskFs is the local file system. Outside Linux it has no atomic
// directory exchange, so dist switches aliases file by file.
type DiskFs struct {
	afero.OsFs
	// Root, if set, is the directory below which every path is checked
	// for links (links.go).
	Root string
}

var _ afero.Fs = (*DiskFs)(nil)
