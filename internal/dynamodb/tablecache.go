package dynamodb

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/jsname"
)

// tableCache is this node's copy of the table definitions, kept by a
// watcher on the tables bucket, so that item operations need no store
// read to find their table. Definitions it hands out are shared: never
// modify one.
type tableCache struct {
	w    jetstream.KeyWatcher
	done chan struct{}

	mu     sync.Mutex
	cond   *sync.Cond
	rev    uint64
	ready  bool
	byName map[string]*Table
}

func newTableCache(ctx context.Context, kv jetstream.KeyValue) (*tableCache, error) {
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return nil, err
	}
	c := &tableCache{w: w, done: make(chan struct{}), byName: map[string]*Table{}}
	c.cond = sync.NewCond(&c.mu)
	go c.run()
	return c, nil
}

func (c *tableCache) run() {
	defer close(c.done)
	for e := range c.w.Updates() {
		c.mu.Lock()
		if e == nil {
			c.ready = true
		} else {
			c.rev = max(c.rev, e.Revision())
			var t Table
			if e.Operation() == jetstream.KeyValuePut && json.Unmarshal(e.Value(), &t) == nil {
				c.byName[t.Name] = &t
			} else if n, err := jsname.Decode(e.Key()); err == nil {
				delete(c.byName, n)
			}
		}
		c.cond.Broadcast()
		c.mu.Unlock()
	}
}

// get returns a cached definition; false when the cache has none (yet).
func (c *tableCache) get(name string) (*Table, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.byName[name]
	return t, ok && c.ready
}

// await waits (briefly) until the cache has applied revision rev, so a
// node sees its own table changes at once.
func (c *tableCache) await(rev uint64) {
	t := time.AfterFunc(2*time.Second, func() {
		c.mu.Lock()
		c.ready = c.ready || false
		c.rev = max(c.rev, rev)
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer t.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.rev < rev {
		c.cond.Wait()
	}
}

// forget drops a deleted table at once on this node.
func (c *tableCache) forget(name string) {
	c.mu.Lock()
	delete(c.byName, name)
	c.mu.Unlock()
}

func (c *tableCache) close() {
	_ = c.w.Stop()
	<-c.done
}
