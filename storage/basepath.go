package storage

import (
	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

// NewBasePathFs is afero.NewBasePathFs that keeps the capabilities of the
// Fs it wraps (layout.Exchanger, layout.InPlaceWriter), as afero's own
// wrappers keep Lstater. afero's BasePathFs alone hides them: a DiskFs
// below it would lose its atomic exchange, and a BlobFs would be written
// by renames, which are copies on S3.
func NewBasePathFs(source afero.Fs, dir string) afero.Fs {
	b := afero.NewBasePathFs(source, dir).(*afero.BasePathFs)
	switch layout.WriteModeOf(source) {
	case layout.WriteInPlace:
		return inPlaceBase{b}
	case layout.WriteExchange:
		return exchangeBase{b, source.(layout.Exchanger)}
	}
	return b
}

// inPlaceBase is a BasePathFs over a storage written in place.
type inPlaceBase struct{ *afero.BasePathFs }

var _ layout.InPlaceWriter = inPlaceBase{}

func (inPlaceBase) WritesInPlace() bool { return true }

// exchangeBase is a BasePathFs over a storage that exchanges directories.
type exchangeBase struct {
	*afero.BasePathFs
	source layout.Exchanger
}

var _ layout.Exchanger = exchangeBase{}

// Exchange swaps a and b, below the base path.
func (e exchangeBase) Exchange(a, b string) error {
	ra, err := e.RealPath(a)
	if err != nil {
		return err
	}
	rb, err := e.RealPath(b)
	if err != nil {
		return err
	}
	return e.source.Exchange(ra, rb)
}
