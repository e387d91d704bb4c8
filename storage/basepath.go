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
		return inPlaceBase{b, source}
	case layout.WriteExchange:
		return exchangeBase{b, source.(layout.Exchanger)}
	}
	return b
}

// inPlaceBase is a BasePathFs over a storage written in place.
type inPlaceBase struct {
	*afero.BasePathFs
	source afero.Fs
}

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

var (
	_ layout.ExclusiveCreator = inPlaceBase{}
	_ layout.ExclusiveCreator = exchangeBase{}
)

func (i inPlaceBase) CreateExclusive(name string, data []byte) error {
	return createExclusive(i.BasePathFs, i.source, name, data)
}

func (e exchangeBase) CreateExclusive(name string, data []byte) error {
	return createExclusive(e.BasePathFs, e.source.(afero.Fs), name, data)
}

// createExclusive creates name below the base path, in one step where
// the source can.
func createExclusive(b *afero.BasePathFs, source afero.Fs, name string, data []byte) error {
	real, err := b.RealPath(name)
	if err != nil {
		return err
	}
	_, err = layout.CreateExclusive(source, real, data)
	return err
}
