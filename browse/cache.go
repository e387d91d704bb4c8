package browse

import "sync"

// Cache keeps rendered pages until the tree changes (catalog.Gen), so / costs a map lookup between refreshes, whatever the
// number of versions.
type Cache struct {
	mu    sync.Mutex
	gen   uint64
	pages map[string][]byte
}

// Get returns a page rendered at generation gen.
func (c *Cache) Get(gen uint64, key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return nil, false
	}
	p, ok := c.pages[key]
	return p, ok
}

// Put keeps a page rendered at generation gen; pages of older
// generations are dropped.
func (c *Cache) Put(gen uint64, key string, page []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen || c.pages == nil || len(c.pages) > 1000 {
		c.gen, c.pages = gen, map[string][]byte{}
	}
	c.pages[key] = page
}
