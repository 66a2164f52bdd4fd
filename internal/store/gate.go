package store

import (
	"context"
	"io"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The store hands out JetStream, its KV buckets and object stores wrapped
// so that every write passes one gate: refused at once while the store is
// degraded (a request then fails in microseconds instead of waiting for a
// deadline that is sure to pass), and its error classified afterwards (a
// storage fault degrades the store and comes back as an
// [UnavailableError]). Reads go straight through: they keep working on a
// full disk. Deadlines are the JetStream context's: WithDefaultTimeout for
// requests whose context has none, WithPublishAsyncTimeout for
// asynchronous publishes (see Open).

// gatedJS is a JetStream context whose writes pass the gate.
type gatedJS struct {
	jetstream.JetStream
	h *health
	// clustered makes creates ask again when unanswered (retryCreate).
	clustered bool
}

// Publish implements jetstream.Publisher.
func (g gatedJS) Publish(ctx context.Context, subject string, payload []byte, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	if err := g.h.check(); err != nil {
		return nil, err
	}
	ack, err := g.JetStream.Publish(ctx, subject, payload, opts...)
	return ack, g.h.observe(err)
}

// PublishMsg implements jetstream.Publisher.
func (g gatedJS) PublishMsg(ctx context.Context, msg *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	if err := g.h.check(); err != nil {
		return nil, err
	}
	ack, err := g.JetStream.PublishMsg(ctx, msg, opts...)
	return ack, g.h.observe(err)
}

// PublishAsync implements jetstream.Publisher. Failures that arrive later
// reach the health through the context's asynchronous error handler.
func (g gatedJS) PublishAsync(subject string, payload []byte, opts ...jetstream.PublishOpt) (jetstream.PubAckFuture, error) {
	if err := g.h.check(); err != nil {
		return nil, err
	}
	f, err := g.JetStream.PublishAsync(subject, payload, opts...)
	return f, g.h.observe(err)
}

// PublishMsgAsync implements jetstream.Publisher.
func (g gatedJS) PublishMsgAsync(msg *nats.Msg, opts ...jetstream.PublishOpt) (jetstream.PubAckFuture, error) {
	if err := g.h.check(); err != nil {
		return nil, err
	}
	f, err := g.JetStream.PublishMsgAsync(msg, opts...)
	return f, g.h.observe(err)
}

// CreateStream implements jetstream.StreamManager.
func (g gatedJS) CreateStream(ctx context.Context, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	if err := g.h.check(); err != nil {
		return nil, err
	}
	s, err := retryCreate(ctx, g.clustered, func(ctx context.Context) (jetstream.Stream, error) { return g.JetStream.CreateStream(ctx, cfg) })
	return s, g.h.observe(err)
}

// UpdateStream implements jetstream.StreamManager.
func (g gatedJS) UpdateStream(ctx context.Context, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	if err := g.h.check(); err != nil {
		return nil, err
	}
	s, err := g.JetStream.UpdateStream(ctx, cfg)
	return s, g.h.observe(err)
}

// CreateOrUpdateStream implements jetstream.StreamManager.
func (g gatedJS) CreateOrUpdateStream(ctx context.Context, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	if err := g.h.check(); err != nil {
		return nil, err
	}
	s, err := retryCreate(ctx, g.clustered, func(ctx context.Context) (jetstream.Stream, error) { return g.JetStream.CreateOrUpdateStream(ctx, cfg) })
	return s, g.h.observe(err)
}

// KeyValue implements jetstream.KeyValueManager.
func (g gatedJS) KeyValue(ctx context.Context, bucket string) (jetstream.KeyValue, error) {
	return g.kv(g.JetStream.KeyValue(ctx, bucket))
}

// CreateKeyValue implements jetstream.KeyValueManager.
func (g gatedJS) CreateKeyValue(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	if err := g.h.check(); err != nil {
		return nil, err
	}
	return g.kv(retryCreate(ctx, g.clustered, func(ctx context.Context) (jetstream.KeyValue, error) { return g.JetStream.CreateKeyValue(ctx, cfg) }))
}

// UpdateKeyValue implements jetstream.KeyValueManager.
func (g gatedJS) UpdateKeyValue(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	if err := g.h.check(); err != nil {
		return nil, err
	}
	return g.kv(g.JetStream.UpdateKeyValue(ctx, cfg))
}

// CreateOrUpdateKeyValue implements jetstream.KeyValueManager.
func (g gatedJS) CreateOrUpdateKeyValue(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	if err := g.h.check(); err != nil {
		return nil, err
	}
	return g.kv(retryCreate(ctx, g.clustered, func(ctx context.Context) (jetstream.KeyValue, error) {
		return g.JetStream.CreateOrUpdateKeyValue(ctx, cfg)
	}))
}

func (g gatedJS) kv(kv jetstream.KeyValue, err error) (jetstream.KeyValue, error) {
	if err != nil {
		return nil, g.h.observe(err)
	}
	return gatedKV{KeyValue: kv, h: g.h}, nil
}

// ObjectStore implements jetstream.ObjectStoreManager.
func (g gatedJS) ObjectStore(ctx context.Context, bucket string) (jetstream.ObjectStore, error) {
	return g.obj(g.JetStream.ObjectStore(ctx, bucket))
}

// CreateObjectStore implements jetstream.ObjectStoreManager.
func (g gatedJS) CreateObjectStore(ctx context.Context, cfg jetstream.ObjectStoreConfig) (jetstream.ObjectStore, error) {
	if err := g.h.check(); err != nil {
		return nil, err
	}
	return g.obj(retryCreate(ctx, g.clustered, func(ctx context.Context) (jetstream.ObjectStore, error) {
		return g.JetStream.CreateObjectStore(ctx, cfg)
	}))
}

// UpdateObjectStore implements jetstream.ObjectStoreManager.
func (g gatedJS) UpdateObjectStore(ctx context.Context, cfg jetstream.ObjectStoreConfig) (jetstream.ObjectStore, error) {
	if err := g.h.check(); err != nil {
		return nil, err
	}
	return g.obj(g.JetStream.UpdateObjectStore(ctx, cfg))
}

// CreateOrUpdateObjectStore implements jetstream.ObjectStoreManager.
func (g gatedJS) CreateOrUpdateObjectStore(ctx context.Context, cfg jetstream.ObjectStoreConfig) (jetstream.ObjectStore, error) {
	if err := g.h.check(); err != nil {
		return nil, err
	}
	return g.obj(retryCreate(ctx, g.clustered, func(ctx context.Context) (jetstream.ObjectStore, error) {
		return g.JetStream.CreateOrUpdateObjectStore(ctx, cfg)
	}))
}

func (g gatedJS) obj(o jetstream.ObjectStore, err error) (jetstream.ObjectStore, error) {
	if err != nil {
		return nil, g.h.observe(err)
	}
	return gatedObj{ObjectStore: o, h: g.h}, nil
}

// gatedKV is a KV bucket whose writes pass the gate. Deletes are writes
// too: JetStream stores a delete marker.
type gatedKV struct {
	jetstream.KeyValue
	h *health
}

// Put implements jetstream.KeyValue.
func (g gatedKV) Put(ctx context.Context, key string, value []byte) (uint64, error) {
	if err := g.h.check(); err != nil {
		return 0, err
	}
	rev, err := g.KeyValue.Put(ctx, key, value)
	return rev, g.h.observe(err)
}

// PutString implements jetstream.KeyValue.
func (g gatedKV) PutString(ctx context.Context, key string, value string) (uint64, error) {
	return g.Put(ctx, key, []byte(value))
}

// Create implements jetstream.KeyValue.
func (g gatedKV) Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error) {
	if err := g.h.check(); err != nil {
		return 0, err
	}
	rev, err := g.KeyValue.Create(ctx, key, value, opts...)
	return rev, g.h.observe(err)
}

// Update implements jetstream.KeyValue.
func (g gatedKV) Update(ctx context.Context, key string, value []byte, revision uint64) (uint64, error) {
	if err := g.h.check(); err != nil {
		return 0, err
	}
	rev, err := g.KeyValue.Update(ctx, key, value, revision)
	return rev, g.h.observe(err)
}

// Delete implements jetstream.KeyValue.
func (g gatedKV) Delete(ctx context.Context, key string, opts ...jetstream.KVDeleteOpt) error {
	if err := g.h.check(); err != nil {
		return err
	}
	return g.h.observe(g.KeyValue.Delete(ctx, key, opts...))
}

// Purge implements jetstream.KeyValue.
func (g gatedKV) Purge(ctx context.Context, key string, opts ...jetstream.KVDeleteOpt) error {
	if err := g.h.check(); err != nil {
		return err
	}
	return g.h.observe(g.KeyValue.Purge(ctx, key, opts...))
}

// gatedObj is an object store whose writes pass the gate.
type gatedObj struct {
	jetstream.ObjectStore
	h *health
}

// Put implements jetstream.ObjectStore.
func (g gatedObj) Put(ctx context.Context, meta jetstream.ObjectMeta, r io.Reader) (*jetstream.ObjectInfo, error) {
	if err := g.h.check(); err != nil {
		return nil, err
	}
	info, err := g.ObjectStore.Put(ctx, meta, r)
	return info, g.h.observe(err)
}

// PutBytes implements jetstream.ObjectStore.
func (g gatedObj) PutBytes(ctx context.Context, name string, data []byte) (*jetstream.ObjectInfo, error) {
	if err := g.h.check(); err != nil {
		return nil, err
	}
	info, err := g.ObjectStore.PutBytes(ctx, name, data)
	return info, g.h.observe(err)
}

// PutString implements jetstream.ObjectStore.
func (g gatedObj) PutString(ctx context.Context, name string, data string) (*jetstream.ObjectInfo, error) {
	return g.PutBytes(ctx, name, []byte(data))
}

// PutFile implements jetstream.ObjectStore.
func (g gatedObj) PutFile(ctx context.Context, file string) (*jetstream.ObjectInfo, error) {
	if err := g.h.check(); err != nil {
		return nil, err
	}
	info, err := g.ObjectStore.PutFile(ctx, file)
	return info, g.h.observe(err)
}

// UpdateMeta implements jetstream.ObjectStore.
func (g gatedObj) UpdateMeta(ctx context.Context, name string, meta jetstream.ObjectMeta) error {
	if err := g.h.check(); err != nil {
		return err
	}
	return g.h.observe(g.ObjectStore.UpdateMeta(ctx, name, meta))
}

// Delete implements jetstream.ObjectStore.
func (g gatedObj) Delete(ctx context.Context, name string) error {
	if err := g.h.check(); err != nil {
		return err
	}
	return g.h.observe(g.ObjectStore.Delete(ctx, name))
}
