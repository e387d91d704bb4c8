package content

import (
	"container/list"
	"sync"
	"sync/atomic"
)

// Cache keeps file bodies in memory, bounded by total bytes, evicting
// the least recently used. Keys are content hashes, so an alias and its
// exact version share entries, and an entry can never be stale.
type Cache struct {
	max int64

	mu    sync.Mutex
	used  int64
	ll    *list.List // front: most recently used
	items map[string]*list.Element

	hits, misses atomic.Uint64
}

type cacheEntry struct {
	key  string
	data []byte
}

// NewCache keeps up to max bytes.
func NewCache(max int64) *Cache {
	return &Cache{max: max, ll: list.New(), items: map[string]*list.Element{}}
}

// MaxItem is the largest body worth caching: a sixteenth of the budget,
// so one file cannot flush the cache. Larger files are streamed.
func (c *Cache) MaxItem() int64 { return c.max / 16 }

func (c *Cache) Get(key string) ([]byte, bool) {
	c.mu.Lock()
	el, ok := c.items[key]
	if ok {
		c.ll.MoveToFront(el)
	}
	c.mu.Unlock()
	if !ok {
		c.misses.Add(1)
		return nil, false
	}
	c.hits.Add(1)
	return el.Value.(*cacheEntry).data, true
}

func (c *Cache) Add(key string, data []byte) {
	if int64(len(data)) > c.MaxItem() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[key]; ok {
		return
	}
	c.items[key] = c.ll.PushFront(&cacheEntry{key: key, data: data})
	c.used += int64(len(data))
	for c.used > c.max {
		el := c.ll.Back()
		e := el.Value.(*cacheEntry)
		c.ll.Remove(el)
		delete(c.items, e.key)
		c.used -= int64(len(e.data))
	}
}

func (c *Cache) Size() (bytes int64, entries int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used, len(c.items)
}

// Stats are the cache's hits and misses since it was made.
func (c *Cache) Stats() (hits, misses uint64) { return c.hits.Load(), c.misses.Load() }
