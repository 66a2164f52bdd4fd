package dynamodb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/updraft/updraft/internal/jsname"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/dynamodb/attr"
)

// The KV buckets of tables and items.
const (
	// BucketTables holds one key per table: its definition (JSON).
	BucketTables = "updraft-dynamodb-tables"
	// BucketItems holds every item of every table, keyed
	// TABLEID.BASE64URL(primary key). One bucket, so that a transaction
	// over several tables is one JetStream atomic batch.
	BucketItems = "updraft-dynamodb-items"
)

// Limits DynamoDB applies.
const (
	MaxItemSize      = 400 * 1024
	MaxHashKeySize   = 2048
	MaxRangeKeySize  = 1024
	MaxBatchGet      = 100
	MaxBatchWrite    = 25
	MaxTransactItems = 100
)

// Service serves tables. Its methods are safe for concurrent use.
type Service struct {
	js     jetstream.JetStream
	nc     *nats.Conn
	tables jetstream.KeyValue
	items  jetstream.KeyValue
	// itemStream is the items bucket's stream, read directly.
	itemStream jetstream.Stream
	region     string
	account    string
	logger     *slog.Logger

	mu      sync.Mutex
	indexes map[string]*tableIndex // by table ID

	streams Streams
	cache   *tableCache

	ttlEvery time.Duration
	stop     context.CancelFunc
	wg       sync.WaitGroup
}

// Options configure a Service.
type Options struct {
	Region, Account string
	Replicas        int
	// TTLInterval is how often expired items are swept (0: one minute).
	TTLInterval time.Duration
	// Streams stores DynamoDB Streams records; nil refuses streams.
	Streams Streams
}

// New creates (or opens) the buckets and starts the TTL sweeper.
func New(ctx context.Context, js jetstream.JetStream, nc *nats.Conn, logger *slog.Logger, o Options) (*Service, error) {
	if o.Replicas < 1 {
		o.Replicas = 1
	}
	tables, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: BucketTables, Description: "DynamoDB table definitions", History: 1, Storage: jetstream.FileStorage, Replicas: o.Replicas})
	if err != nil {
		return nil, fmt.Errorf("dynamodb: tables bucket: %w", err)
	}
	items, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: BucketItems, Description: "DynamoDB items of every table", History: 1, Storage: jetstream.FileStorage, Replicas: o.Replicas})
	if err != nil {
		return nil, fmt.Errorf("dynamodb: items bucket: %w", err)
	}
	// Transactions are atomic batches.
	st, err := js.Stream(ctx, "KV_"+BucketItems)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: items stream: %w", err)
	}
	if cfg := st.CachedInfo().Config; !cfg.AllowAtomicPublish {
		cfg.AllowAtomicPublish = true
		if _, err := js.UpdateStream(ctx, cfg); err != nil {
			return nil, fmt.Errorf("dynamodb: allowing atomic batches on the items stream (NATS 2.12 or later): %w", err)
		}
	}
	if o.TTLInterval <= 0 {
		o.TTLInterval = time.Minute
	}
	s := &Service{js: js, nc: nc, tables: tables, items: items, region: o.Region, account: o.Account, logger: logger,
		itemStream: st, indexes: map[string]*tableIndex{}, ttlEvery: o.TTLInterval, streams: o.Streams}
	if s.cache, err = newTableCache(context.Background(), tables); err != nil {
		return nil, fmt.Errorf("dynamodb: watching tables: %w", err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	s.wg.Add(1)
	go s.sweepTTL(sctx)
	return s, nil
}

// Close stops the sweeper and the index watchers.
func (s *Service) Close() {
	s.stop()
	s.wg.Wait()
	s.cache.close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, ix := range s.indexes {
		ix.close()
		delete(s.indexes, id)
	}
}

// Account is the account id in ARNs.
func (s *Service) Account() string { return s.account }

// Region is the region in ARNs.
func (s *Service) Region() string { return s.region }

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// getTable reads a table's definition; nil when there is none.
func (s *Service) getTable(ctx context.Context, name string) (*Table, uint64, error) {
	if validateTableName(name, "tableName") != nil {
		return nil, 0, nil
	}
	e, err := s.tables.Get(ctx, keyOfTable(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("dynamodb: reading table %s: %w", name, err)
	}
	var t Table
	if err := json.Unmarshal(e.Value(), &t); err != nil {
		return nil, 0, fmt.Errorf("dynamodb: table %s: %w", name, err)
	}
	return &t, e.Revision(), nil
}

// keyOfTable is a table's key in the tables bucket.
func keyOfTable(name string) string { return jsname.Encode(name) }

// mustTable finds the table of an item operation, in this node's cache
// of definitions (the store when the cache has not seen it yet), with
// DynamoDB's not-found error. The definition is shared: read only.
func (s *Service) mustTable(ctx context.Context, name string) (*Table, error) {
	if t, ok := s.cache.get(name); ok {
		return t, nil
	}
	t, _, err := s.getTable(ctx, name)
	if err != nil {
		return nil, err
	}
	if t == nil || t.Deleting {
		return nil, tableNotFound()
	}
	return t, nil
}

// encodeKey turns a primary key into the item's KV key.
func encodeKey(t *Table, key attr.Item) string {
	var b []byte
	for _, name := range []string{t.hashKey(), t.rangeKey()} {
		if name == "" {
			continue
		}
		v := key[name]
		var raw []byte
		switch v.T {
		case attr.S:
			raw = []byte(v.S)
		case attr.N:
			raw = []byte(v.Num.String())
		case attr.B:
			raw = v.B
		}
		b = append(b, string(v.T)[0])
		b = binary.BigEndian.AppendUint32(b, uint32(len(raw)))
		b = append(b, raw...)
	}
	enc := base64.RawURLEncoding.EncodeToString(b)
	if len(enc) > maxPlainKey {
		// A subject must fit NATS's 4 KB control line: long keys (up to
		// 2048 + 1024 bytes) go by their digest.
		h := sha256.Sum256(b)
		return t.ID + ".h" + hex.EncodeToString(h[:])
	}
	return t.ID + ".k" + enc
}

// maxPlainKey is the longest encoded key stored as is.
const maxPlainKey = 1024

// keyOfItem extracts the primary key attributes of an item.
func keyOfItem(t *Table, it attr.Item) attr.Item {
	k := attr.Item{t.hashKey(): it[t.hashKey()]}
	if r := t.rangeKey(); r != "" {
		k[r] = it[r]
	}
	return k
}

// validateKey checks a Key parameter against the schema.
func validateKey(t *Table, key attr.Item) *apiError {
	n := 1
	if t.rangeKey() != "" {
		n = 2
	}
	if len(key) != n {
		return validation("The provided key element does not match the schema")
	}
	types := t.types()
	for i, name := range []string{t.hashKey(), t.rangeKey()} {
		if name == "" {
			continue
		}
		v, ok := key[name]
		if !ok || v.T != types[name] {
			return validation("The provided key element does not match the schema")
		}
		if err := checkKeyValue(name, v, i == 0, "One or more parameter values were invalid: "); err != nil {
			return err
		}
	}
	return nil
}

func checkKeyValue(name string, v attr.Value, hash bool, prefix string) *apiError {
	size := 0
	switch v.T {
	case attr.S:
		size = len(v.S)
		if size == 0 {
			return validation("%sThe AttributeValue for a key attribute cannot contain an empty string value. Key: %s", prefix, name)
		}
	case attr.B:
		size = len(v.B)
		if size == 0 {
			return validation("%sThe AttributeValue for a key attribute cannot contain an empty binary value. Key: %s", prefix, name)
		}
	}
	if hash && size > MaxHashKeySize {
		return validation("One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes")
	}
	if !hash && size > MaxRangeKeySize {
		return validation("One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes")
	}
	return nil
}

// validateItem checks an item to put: key attributes present with their
// types, index keys of the right type, the size limit.
func validateItem(t *Table, it attr.Item) *apiError {
	types := t.types()
	for i, name := range []string{t.hashKey(), t.rangeKey()} {
		if name == "" {
			continue
		}
		v, ok := it[name]
		if !ok {
			return validation("One or more parameter values were invalid: Missing the key %s in the item", name)
		}
		if v.T != types[name] {
			return validation("One or more parameter values were invalid: Type mismatch for key %s expected: %s actual: %s", name, types[name], v.T)
		}
		if err := checkKeyValue(name, v, i == 0, "One or more parameter values are not valid. "); err != nil {
			return err
		}
	}
	for _, ix := range append(append([]Index(nil), t.GSIs...), t.LSIs...) {
		for _, k := range ix.KeySchema {
			if v, ok := it[k.AttributeName]; ok && v.T != types[k.AttributeName] {
				return validation("One or more parameter values were invalid: Type mismatch for Index Key %s Expected: %s Actual: %s IndexName: %s", k.AttributeName, types[k.AttributeName], v.T, ix.IndexName)
			}
		}
	}
	if it.Size() > MaxItemSize {
		return validation("Item size has exceeded the maximum allowed size")
	}
	return nil
}

// stored is an item as read from the bucket: its value and the revision
// a conditional write must find unchanged (0: never written; a delete
// marker's revision when deleted).
type stored struct {
	item attr.Item
	rev  uint64
}

// read gets an item by its KV key: one direct read of the subject's
// last message, which is the item, its delete marker or nothing.
func (s *Service) read(ctx context.Context, key string) (stored, error) {
	msg, err := s.itemStream.GetLastMsgForSubject(ctx, "$KV."+BucketItems+"."+key)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return stored{}, nil
	}
	if err != nil {
		return stored{}, fmt.Errorf("dynamodb: reading item: %w", err)
	}
	if op := msg.Header.Get("KV-Operation"); op != "" {
		return stored{rev: msg.Sequence}, nil // deleted or purged
	}
	var it attr.Item
	if err := json.Unmarshal(msg.Data, &it); err != nil {
		return stored{}, fmt.Errorf("dynamodb: decoding item: %w", err)
	}
	return stored{item: it, rev: msg.Sequence}, nil
}

// write is one item change of a commit: value nil deletes.
type write struct {
	key   string
	value attr.Item
	rev   uint64
}

// errConflict means another writer changed an item between our read and
// our write: the caller reads again and re-evaluates.
var errConflict = errors.New("dynamodb: concurrent write")

func (s *Service) msg(w write) (*nats.Msg, error) {
	m := nats.NewMsg("$KV." + BucketItems + "." + w.key)
	m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(w.rev, 10))
	if w.value == nil {
		m.Header.Set("KV-Operation", "DEL")
		return m, nil
	}
	b, err := json.Marshal(w.value)
	if err != nil {
		return nil, err
	}
	m.Data = b
	return m, nil
}

// commit writes all changes or none, each only if its item is still at
// the revision read: one publish for one change, a JetStream atomic
// batch for several.
func (s *Service) commit(ctx context.Context, ws []write) error {
	if len(ws) == 0 {
		return nil
	}
	if len(ws) == 1 {
		m, err := s.msg(ws[0])
		if err != nil {
			return err
		}
		_, err = s.js.PublishMsg(ctx, m)
		if isWrongSeq(err) {
			return errConflict
		}
		if err != nil {
			return fmt.Errorf("dynamodb: writing item: %w", err)
		}
		return nil
	}
	id := newID()
	for i, w := range ws {
		m, err := s.msg(w)
		if err != nil {
			return err
		}
		m.Header.Set("Nats-Batch-Id", id)
		m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i+1))
		if i < len(ws)-1 {
			if err := s.nc.PublishMsg(m); err != nil {
				return fmt.Errorf("dynamodb: transaction: %w", err)
			}
			continue
		}
		m.Header.Set("Nats-Batch-Commit", "1")
		reply, err := s.nc.RequestMsgWithContext(ctx, m)
		if err != nil {
			return fmt.Errorf("dynamodb: transaction commit: %w", err)
		}
		var ack struct {
			Error *struct {
				Code        int    `json:"code"`
				ErrCode     int    `json:"err_code"`
				Description string `json:"description"`
			} `json:"error"`
		}
		if err := json.Unmarshal(reply.Data, &ack); err != nil {
			return fmt.Errorf("dynamodb: transaction ack: %w", err)
		}
		if ack.Error != nil {
			if ack.Error.ErrCode == 10071 {
				return errConflict
			}
			return fmt.Errorf("dynamodb: transaction: %s (%d)", ack.Error.Description, ack.Error.ErrCode)
		}
	}
	return nil
}

func isWrongSeq(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// tableNames lists the tables (their KV keys are jsname-encoded names).
func (s *Service) tableNames(ctx context.Context) ([]string, error) {
	keys, err := s.tables.Keys(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(keys))
	for _, k := range keys {
		if n, err := jsname.Decode(k); err == nil {
			names = append(names, n)
		}
	}
	return names, nil
}
