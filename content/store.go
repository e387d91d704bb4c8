package content

import (
	"errors"
	"fmt"

	"github.com/cdnserve/cdnserve/layout"
	"github.com/spf13/afero"
)

// Store reads variants' bytes from storage through a memory cache.
type Store struct {
	fs    afero.Fs
	cache *Cache
}

// NewStore reads from fsys through cache.
func NewStore(fsys afero.Fs, cache *Cache) *Store { return &Store{fs: fsys, cache: cache} }

// ErrTooBig is a variant too big for the cache: stream it (Open).
var ErrTooBig = errors.New("too big to cache")

// Body returns a variant's bytes from the cache, or reads and checks them
// against the manifest and caches them. Files too big for the cache are
// ErrTooBig: the caller streams them.
func (st *Store) Body(vr *Variant) ([]byte, error) {
	if vr.data != nil {
		return vr.data, nil
	}
	if data, ok := st.cache.Get(vr.SHA256); ok {
		return data, nil
	}
	if vr.Size > st.cache.MaxItem() {
		return nil, ErrTooBig
	}
	if _, why, err := layout.NotPlain(st.fs, vr.Storage, false); err != nil || why != "" {
		if err == nil {
			err = fmt.Errorf("%w: %s is %s", ErrIntegrity, vr.Storage, why)
		}
		return nil, err
	}
	data, err := afero.ReadFile(st.fs, vr.Storage)
	if err != nil {
		return nil, err
	}
	if err := vr.CheckBytes(data); err != nil {
		return nil, err
	}
	st.cache.Add(vr.SHA256, data)
	return data, nil
}
