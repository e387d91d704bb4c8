package dist

import "errors"

// Exchanger is an afero.Fs that can swap two directories atomically.
// Tree uses it, when the Fs has it, to switch an alias in one step;
// otherwise it switches the alias file by file (see switchAliasByFile).
type Exchanger interface {
	Exchange(a, b string) error
}

// ErrExchangeUnsupported is returned by Exchange when the file system
// cannot swap directories; the caller falls back.
var ErrExchangeUnsupported = errors.New("atomic directory exchange is not supported here")
