package dynamodb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/dynamodb/attr"
)

// tableIndex is this node's view of one table's items, kept by a KV
// watcher on TABLEID.>: every item by key, and per index (the table's
// own key is index "") the keys of each partition.
type tableIndex struct {
	table   *Table
	watcher jetstream.KeyWatcher
	done    chan struct{}

	mu    sync.Mutex
	cond  *sync.Cond
	seq   uint64 // the last revision applied
	ready bool   // the initial values are in
	items map[string]attr.Item
	parts map[string]map[string]map[string]struct{} // index → hash → key
	err   error
}

// index returns the table's index, starting its watcher on first use,
// caught up with every write committed before the call: reads are
// strongly consistent.
func (s *Service) index(ctx context.Context, t *Table) (*tableIndex, error) {
	s.mu.Lock()
	ix, ok := s.indexes[t.ID]
	if ok && !sameIndexes(ix.definition(), t) {
		// Indexes were added or removed (UpdateTable, maybe on another
		// node): rebuild from the items.
		delete(s.indexes, t.ID)
		go ix.close()
		ok = false
	}
	if !ok {
		w, err := s.items.Watch(context.Background(), t.ID+".>", jetstream.IncludeHistory())
		if err != nil {
			s.mu.Unlock()
			return nil, fmt.Errorf("dynamodb: watching table %s: %w", t.Name, err)
		}
		ix = &tableIndex{table: t, watcher: w, done: make(chan struct{}), items: map[string]attr.Item{}, parts: map[string]map[string]map[string]struct{}{}}
		ix.cond = sync.NewCond(&ix.mu)
		s.indexes[t.ID] = ix
		go ix.run()
	}
	s.mu.Unlock()
	ix.mu.Lock()
	ix.table = t
	ix.mu.Unlock()
	return ix, ix.await(ctx, s)
}

// await waits until the index has applied the table's last write.
func (ix *tableIndex) await(ctx context.Context, s *Service) error {
	var last uint64
	msg, err := s.itemStream.GetLastMsgForSubject(ctx, "$KV."+BucketItems+"."+ix.table.ID+".>")
	switch {
	case err == nil:
		last = msg.Sequence
	case errors.Is(err, jetstream.ErrMsgNotFound):
	default:
		return fmt.Errorf("dynamodb: last write of %s: %w", ix.table.Name, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	stop := context.AfterFunc(ctx, func() { ix.mu.Lock(); ix.cond.Broadcast(); ix.mu.Unlock() })
	defer stop()
	t := time.AfterFunc(time.Until(deadline), func() { ix.mu.Lock(); ix.cond.Broadcast(); ix.mu.Unlock() })
	defer t.Stop()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for (!ix.ready || ix.seq < last) && ix.err == nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return errors.New("dynamodb: index did not catch up in time")
		}
		ix.cond.Wait()
	}
	return ix.err
}

func (ix *tableIndex) close() {
	_ = ix.watcher.Stop()
	<-ix.done
}

func (ix *tableIndex) run() {
	defer close(ix.done)
	for e := range ix.watcher.Updates() {
		ix.mu.Lock()
		if e == nil {
			ix.ready = true
		} else {
			ix.apply(e)
		}
		ix.cond.Broadcast()
		ix.mu.Unlock()
	}
	ix.mu.Lock()
	if ix.err == nil {
		ix.err = errors.New("dynamodb: index watcher stopped")
	}
	ix.cond.Broadcast()
	ix.mu.Unlock()
}

func (ix *tableIndex) apply(e jetstream.KeyValueEntry) {
	if e.Revision() > ix.seq {
		ix.seq = e.Revision()
	}
	key := e.Key()
	if old, ok := ix.items[key]; ok {
		ix.unlink(key, old)
		delete(ix.items, key)
	}
	if e.Operation() != jetstream.KeyValuePut {
		return
	}
	var it attr.Item
	if err := json.Unmarshal(e.Value(), &it); err != nil {
		return
	}
	ix.items[key] = it
	ix.link(key, it)
}

// partitionKeys are the (index, hash) pairs an item belongs to.
func (ix *tableIndex) partitionKeys(it attr.Item) [][2]string {
	t := ix.table
	out := [][2]string{{"", hashString(it[t.hashKey()])}}
	for _, x := range append(append([]Index(nil), t.GSIs...), t.LSIs...) {
		ok := true
		for _, k := range x.KeySchema {
			if _, has := it[k.AttributeName]; !has {
				ok = false
			}
		}
		if ok {
			out = append(out, [2]string{x.IndexName, hashString(it[x.KeySchema[0].AttributeName])})
		}
	}
	return out
}

func (ix *tableIndex) link(key string, it attr.Item) {
	for _, p := range ix.partitionKeys(it) {
		byHash := ix.parts[p[0]]
		if byHash == nil {
			byHash = map[string]map[string]struct{}{}
			ix.parts[p[0]] = byHash
		}
		set := byHash[p[1]]
		if set == nil {
			set = map[string]struct{}{}
			byHash[p[1]] = set
		}
		set[key] = struct{}{}
	}
}

func (ix *tableIndex) unlink(key string, it attr.Item) {
	for _, p := range ix.partitionKeys(it) {
		if set := ix.parts[p[0]][p[1]]; set != nil {
			delete(set, key)
			if len(set) == 0 {
				delete(ix.parts[p[0]], p[1])
			}
		}
	}
}

// hashString identifies a partition key value.
func hashString(v attr.Value) string {
	switch v.T {
	case attr.N:
		return "N" + v.Num.String()
	case attr.B:
		return "B" + string(v.B)
	}
	return "S" + v.S
}

// definition is the table definition the index was built for.
func (ix *tableIndex) definition() *Table {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.table
}

// sameIndexes reports whether two definitions of a table have the same
// secondary indexes (names and key schemas).
func sameIndexes(a, b *Table) bool {
	sig := func(t *Table) string {
		var s string
		for _, x := range append(append([]Index(nil), t.GSIs...), t.LSIs...) {
			s += x.IndexName + "("
			for _, k := range x.KeySchema {
				s += k.AttributeName + " " + k.KeyType + ","
			}
			s += ")"
		}
		return s
	}
	return sig(a) == sig(b)
}
