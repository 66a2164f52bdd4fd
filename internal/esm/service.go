package esm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/queue"
	"github.com/updraft/updraft/internal/registry"
	"github.com/updraft/updraft/internal/stream"
)

// Bucket is the KV bucket of event source mappings.
const Bucket = "updraft-esm"

// Key prefixes in Bucket.
const (
	mappingPrefix = "m."
	pairPrefix    = "p."
)

// List limits (Lambda API reference, ListEventSourceMappings MaxItems).
const (
	defaultListItems = 100
	maxListItems     = 10000
)

// Invoker runs an invocation synchronously (the invoke service).
type Invoker interface {
	Invoke(ctx context.Context, req *invoke.Request) (*invoke.Response, error)
}

// Resolver finds what an invocation of a function name runs (the registry).
type Resolver interface {
	Resolve(name, qualifier string) (*registry.Target, error)
}

// Streams reads the built-in streams (stream.Service).
type Streams interface {
	// Shards returns the shard count of a stream; stream.ErrNotFound if
	// there is no such stream.
	Shards(ctx context.Context, name string) (int, error)
	// OpenShard returns a durable reader of one shard; see
	// stream.Service.OpenShard.
	OpenShard(ctx context.Context, name string, shard int, durable string, from stream.Position, maxPending int) (*stream.ShardReader, error)
	// DeleteReaders deletes the readers whose names start with prefix.
	DeleteReaders(ctx context.Context, name, prefix string) error
}

// Queues reads the built-in queues (queue.Service).
type Queues interface {
	// Fetch takes up to max messages without deleting them; see
	// queue.Service.Fetch.
	Fetch(ctx context.Context, name string, max int, wait, window time.Duration) ([]*queue.Delivery, error)
	// VisibilityTimeout is how long a fetched message stays invisible.
	VisibilityTimeout() time.Duration
}

// Config configures a Service.
type Config struct {
	// Region and AccountID are the server's: only queues of this region
	// and account can be mapped.
	Region, AccountID string
	// Replicas is the bucket's replica count.
	Replicas int
}

// Deps are what a Service uses.
type Deps struct {
	JetStream jetstream.JetStream
	Invoker   Invoker
	Resolver  Resolver
	Queues    Queues
	// Streams reads the built-in streams; nil refuses stream mappings.
	Streams Streams
	Logger  *slog.Logger
}

// Service manages event source mappings and runs this node's pollers.
// Its methods are safe for concurrent use.
type Service struct {
	cfg    Config
	deps   Deps
	kv     jetstream.KeyValue
	leases *leases
	logger *slog.Logger
	// now is the clock; tests replace it.
	now func() time.Time

	ctx    context.Context // the pollers' context, ended by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the watcher and the pollers

	mu      sync.Mutex
	pollers map[string]*poller // by UUID; guarded by mu
	closed  bool               // guarded by mu
}

// poller is the running poller of one mapping.
type poller struct {
	m      *Mapping
	cancel context.CancelFunc
	done   chan struct{} // closed when the poller has stopped
}

// New creates or updates the bucket and returns a Service; Start runs
// the pollers.
func New(ctx context.Context, cfg Config, deps Deps) (*Service, error) {
	kv, err := deps.JetStream.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      Bucket,
		Description: "updraft event source mappings",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(cfg.Replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("esm: create bucket %s: %w", Bucket, err)
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ls, err := newLeases(ctx, deps.JetStream, cfg.Replicas, uuid.NewString())
	if err != nil {
		return nil, err
	}
	return &Service{
		cfg:     cfg,
		deps:    deps,
		kv:      kv,
		leases:  ls,
		logger:  logger.With("component", "esm"),
		now:     time.Now,
		pollers: make(map[string]*poller),
	}, nil
}

// pairKey is the key that makes a function and a queue unique.
func pairKey(functionArn, sourceArn string) string {
	sum := sha256.Sum256([]byte(functionArn + "\n" + sourceArn))
	return pairPrefix + hex.EncodeToString(sum[:16])
}

// errNotFound is Lambda's answer for an unknown UUID.
func errNotFound() error {
	return lambdaerr.ResourceNotFound("The resource you requested does not exist.")
}

// load reads mapping id and its revision; a missing one is errNotFound.
func (s *Service) load(ctx context.Context, id string) (*Mapping, uint64, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, 0, errNotFound()
	}
	e, err := s.kv.Get(ctx, mappingPrefix+id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, errNotFound()
	}
	if err != nil {
		return nil, 0, fmt.Errorf("esm: read mapping %s: %w", id, err)
	}
	var m Mapping
	if err := json.Unmarshal(e.Value(), &m); err != nil {
		return nil, 0, fmt.Errorf("esm: decode mapping %s: %w", id, err)
	}
	return &m, e.Revision(), nil
}

// resolveFunction checks that name (any FunctionName form) exists and
// returns its bare name, qualifier, the ARN Lambda shows and its role.
func (s *Service) resolveFunction(name string) (fn, qualifier, arn, role string, err error) {
	ref, err := registry.ParseFunctionName(name)
	if err != nil {
		return "", "", "", "", err
	}
	t, err := s.deps.Resolver.Resolve(name, "")
	if err != nil {
		if lambdaerr.IsType(err, lambdaerr.TypeResourceNotFound) {
			// 400, not 404 (recorded: test_event_source_mapping_exceptions,
			// create_unknown_params).
			return "", "", "", "", lambdaerr.InvalidParameterValue("Function does not exist").WithCause(err)
		}
		return "", "", "", "", err
	}
	if t.Version != nil {
		role = t.Version.Role
	}
	return ref.Name, ref.Qualifier, t.InvokedARN, role, nil
}

// checkMappingDestination refuses a DestinationConfig a mapping cannot
// have: any for a queue (Lambda's words; recorded:
// test_event_source_mapping_exceptions, destination_config_failure) and,
// on this server, an OnFailure destination for a stream (an empty one,
// as Lambda shows the default, is accepted).
func checkMappingDestination(dc *lambdaapi.DestinationConfig, isStream bool) error {
	if dc == nil {
		return nil
	}
	if !isStream {
		return lambdaerr.InvalidParameterValue("Unsupported DestinationConfig parameter for given event source mapping type.")
	}
	if (dc.OnFailure != nil && dc.OnFailure.Destination != "") || (dc.OnSuccess != nil && dc.OnSuccess.Destination != "") {
		return lambdaerr.InvalidParameterValue("DestinationConfig of a stream mapping is not supported by this server: a batch that runs out of retries or age is skipped and logged.")
	}
	return nil
}

// setStart sets a stream mapping's StartingPosition, which Lambda
// requires for streams, and its timestamp, which AT_TIMESTAMP requires
// and the others refuse.
func setStart(m *Mapping, pos *string, ts *float64) error {
	if pos == nil || *pos == "" {
		return lambdaerr.InvalidParameterValue("1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null.")
	}
	switch *pos {
	case stream.TrimHorizon, stream.Latest:
		if ts != nil {
			return lambdaerr.InvalidParameterValue("StartingPositionTimestamp is only valid with StartingPosition AT_TIMESTAMP.")
		}
	case stream.AtTimestamp:
		if ts == nil {
			return lambdaerr.InvalidParameterValue("Need to specify a timestamp")
		}
		t := time.UnixMilli(int64(*ts * 1000)).UTC()
		m.StartingTimestamp = &t
	default:
		return validationError(*pos, "startingPosition", "Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]")
	}
	m.StartingPosition = *pos
	return nil
}

// checkStream checks that the stream of a new mapping exists.
func (s *Service) checkStream(ctx context.Context, name, arn string) error {
	if s.deps.Streams == nil {
		return lambdaerr.ServiceUnavailable("Built-in streams are not available on this server.")
	}
	if _, err := s.deps.Streams.Shards(ctx, name); errors.Is(err, stream.ErrNotFound) {
		return lambdaerr.InvalidParameterValue("Stream not found: %s", arn)
	} else if err != nil {
		return fmt.Errorf("esm: look up stream %s: %w", name, err)
	}
	return nil
}

// claimPair records id as the owner of m's function and queue, failing
// with Lambda's ResourceConflictException when another mapping owns it.
// A pair key whose mapping is gone (a crash between two writes) is taken
// over.
func (s *Service) claimPair(ctx context.Context, m *Mapping) error {
	key := pairKey(m.FunctionArn, m.EventSourceArn)
	for attempt := 0; attempt < 3; attempt++ {
		_, err := s.kv.Create(ctx, key, []byte(m.UUID))
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("esm: claim %s: %w", key, err)
		}
		e, err := s.kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("esm: read %s: %w", key, err)
		}
		owner := string(e.Value())
		if owner == m.UUID {
			return nil
		}
		if _, _, err := s.load(ctx, owner); err == nil && m.Stream != "" {
			return lambdaerr.ResourceConflict("The event source arn (\" %s \") and function (\" %s \") provided mapping already exists. Please update or delete the existing mapping with UUID %s",
				m.EventSourceArn, m.Function, owner)
		} else if err == nil {
			return lambdaerr.ResourceConflict("An event source mapping with SQS arn (\" %s \") and function (\" %s \") already exists. Please update or delete the existing mapping with UUID %s",
				m.EventSourceArn, m.Function, owner)
		} else if !lambdaerr.IsType(err, lambdaerr.TypeResourceNotFound) {
			return err
		}
		if _, err := s.kv.Update(ctx, key, []byte(m.UUID), e.Revision()); err == nil {
			return nil
		}
	}
	return lambdaerr.ResourceConflict("The event source mapping for %s and %s is being changed by another request; try again.", m.EventSourceArn, m.FunctionArn)
}

// releasePair deletes the pair key of m if m still owns it.
func (s *Service) releasePair(ctx context.Context, m *Mapping) {
	key := pairKey(m.FunctionArn, m.EventSourceArn)
	e, err := s.kv.Get(ctx, key)
	if err != nil || string(e.Value()) != m.UUID {
		return
	}
	if err := s.kv.Delete(ctx, key, jetstream.LastRevision(e.Revision())); err != nil {
		s.logger.Warn("release a function and queue pair", "uuid", m.UUID, "err", err)
	}
}

// put writes m, creating it when rev is 0.
func (s *Service) put(ctx context.Context, m *Mapping, rev uint64) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("esm: encode mapping: %w", err)
	}
	if rev == 0 {
		_, err = s.kv.Create(ctx, mappingPrefix+m.UUID, b)
	} else {
		_, err = s.kv.Update(ctx, mappingPrefix+m.UUID, b, rev)
	}
	if errors.Is(err, jetstream.ErrKeyExists) {
		return lambdaerr.ResourceConflict("The event source mapping %s was changed by another request; try again.", m.UUID)
	}
	if err != nil {
		return fmt.Errorf("esm: write mapping %s: %w", m.UUID, err)
	}
	return nil
}

// Create is CreateEventSourceMapping. The answer is in state Creating.
func (s *Service) Create(ctx context.Context, req *lambdaapi.CreateEventSourceMappingRequest) (*lambdaapi.EventSourceMappingConfiguration, error) {
	if req.FunctionName == nil || *req.FunctionName == "" {
		return nil, lambdaerr.Validation("1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null")
	}
	if err := checkRanges(req.BatchSize, req.MaximumBatchingWindowInSeconds, req.FunctionResponseTypes); err != nil {
		return nil, err
	}
	if err := checkStreamRanges(req.StreamMappingOptions); err != nil {
		return nil, err
	}
	var source string
	if req.EventSourceArn != nil {
		source = *req.EventSourceArn
	}
	queueName, streamName, err := parseSource(source, s.cfg.Region, s.cfg.AccountID)
	if err != nil {
		return nil, err
	}
	m := &Mapping{
		UUID:           uuid.NewString(),
		EventSourceArn: source,
		Queue:          queueName,
		Stream:         streamName,
		BatchSize:      DefaultBatchSize,
		Enabled:        true,
		LastModified:   s.now().UTC(),
	}
	if err := checkMappingDestination(req.DestinationConfig, streamName != ""); err != nil {
		return nil, err
	}
	if streamName != "" {
		m.BatchSize, m.MaxRetry, m.MaxRecordAge, m.Parallelization = DefaultStreamBatchSize, -1, -1, 1
		if err := setStart(m, req.StartingPosition, req.StartingPositionTimestamp); err != nil {
			return nil, err
		}
		applyStreamOptions(m, req.StreamMappingOptions)
		if err := s.checkStream(ctx, streamName, source); err != nil {
			return nil, err
		}
	} else if req.StartingPosition != nil || req.StartingPositionTimestamp != nil || setsStreamOptions(req.StreamMappingOptions) {
		return nil, lambdaerr.InvalidParameterValue("StartingPosition, MaximumRetryAttempts, MaximumRecordAgeInSeconds, BisectBatchOnFunctionError and ParallelizationFactor apply to streams only, not to the SQS queue %s.", source)
	}
	if req.BatchSize != nil {
		m.BatchSize = *req.BatchSize
	}
	if req.MaximumBatchingWindowInSeconds != nil {
		m.BatchingWindow = *req.MaximumBatchingWindowInSeconds
	}
	if req.FunctionResponseTypes != nil && len(*req.FunctionResponseTypes) > 0 {
		m.ResponseTypes = *req.FunctionResponseTypes
	}
	if req.Enabled != nil {
		m.Enabled = *req.Enabled
	}
	if err := checkCombination(m); err != nil {
		return nil, err
	}
	if m.Function, m.Qualifier, m.FunctionArn, m.Role, err = s.resolveFunction(*req.FunctionName); err != nil {
		return nil, err
	}
	if err := s.claimPair(ctx, m); err != nil {
		return nil, err
	}
	if err := s.put(ctx, m, 0); err != nil {
		s.releasePair(ctx, m)
		return nil, err
	}
	s.logger.Info("event source mapping created", "uuid", m.UUID, "queue", m.Queue, "function", m.FunctionArn, "enabled", m.Enabled)
	return m.Configuration(lambdaapi.ESMStateCreating), nil
}

// Get is GetEventSourceMapping.
func (s *Service) Get(ctx context.Context, id string) (*lambdaapi.EventSourceMappingConfiguration, error) {
	m, _, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	return m.Configuration(""), nil
}

// Update is UpdateEventSourceMapping: members given replace the stored
// ones. The answer is in state Enabling, Disabling or Updating.
func (s *Service) Update(ctx context.Context, id string, req *lambdaapi.UpdateEventSourceMappingRequest) (*lambdaapi.EventSourceMappingConfiguration, error) {
	if err := checkRanges(req.BatchSize, req.MaximumBatchingWindowInSeconds, req.FunctionResponseTypes); err != nil {
		return nil, err
	}
	if err := checkStreamRanges(req.StreamMappingOptions); err != nil {
		return nil, err
	}
	old, rev, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if old.Stream == "" && setsStreamOptions(req.StreamMappingOptions) {
		return nil, lambdaerr.InvalidParameterValue("MaximumRetryAttempts, MaximumRecordAgeInSeconds, BisectBatchOnFunctionError and ParallelizationFactor apply to streams only, not to the SQS queue %s.", old.EventSourceArn)
	}
	m := *old
	applyStreamOptions(&m, req.StreamMappingOptions)
	if req.BatchSize != nil {
		m.BatchSize = *req.BatchSize
	}
	if req.MaximumBatchingWindowInSeconds != nil {
		m.BatchingWindow = *req.MaximumBatchingWindowInSeconds
	}
	if req.FunctionResponseTypes != nil {
		m.ResponseTypes = nil
		if len(*req.FunctionResponseTypes) > 0 {
			m.ResponseTypes = *req.FunctionResponseTypes
		}
	}
	if req.Enabled != nil {
		m.Enabled = *req.Enabled
	}
	if err := checkCombination(&m); err != nil {
		return nil, err
	}
	if req.FunctionName != nil && *req.FunctionName != "" {
		if m.Function, m.Qualifier, m.FunctionArn, m.Role, err = s.resolveFunction(*req.FunctionName); err != nil {
			return nil, err
		}
	}
	moved := m.FunctionArn != old.FunctionArn
	if moved {
		if err := s.claimPair(ctx, &m); err != nil {
			return nil, err
		}
	}
	m.LastModified = s.now().UTC()
	if err := s.put(ctx, &m, rev); err != nil {
		if moved {
			s.releasePair(ctx, &m)
		}
		return nil, err
	}
	if moved {
		s.releasePair(ctx, old)
	}
	state := lambdaapi.ESMStateUpdating
	switch {
	case m.Enabled && !old.Enabled:
		state = lambdaapi.ESMStateEnabling
	case !m.Enabled && old.Enabled:
		state = lambdaapi.ESMStateDisabling
	}
	s.logger.Info("event source mapping updated", "uuid", m.UUID, "function", m.FunctionArn, "enabled", m.Enabled)
	return m.Configuration(state), nil
}

// Delete is DeleteEventSourceMapping. The answer is in state Deleting.
func (s *Service) Delete(ctx context.Context, id string) (*lambdaapi.EventSourceMappingConfiguration, error) {
	m, rev, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.kv.Delete(ctx, mappingPrefix+id, jetstream.LastRevision(rev)); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return nil, lambdaerr.ResourceConflict("The event source mapping %s was changed by another request; try again.", id)
		}
		return nil, fmt.Errorf("esm: delete mapping %s: %w", id, err)
	}
	s.releasePair(ctx, m)
	if m.Stream != "" && s.deps.Streams != nil {
		// Its checkpoints; a poller still stopping may leave one behind,
		// which the poller removes once it has stopped.
		if err := s.deps.Streams.DeleteReaders(ctx, m.Stream, readerPrefix(m.UUID)); err != nil {
			s.logger.Warn("delete the stream readers of a mapping", "uuid", id, "err", err)
		}
	}
	s.logger.Info("event source mapping deleted", "uuid", id)
	return m.Configuration(lambdaapi.ESMStateDeleting), nil
}

// ListFilter selects mappings for List.
type ListFilter struct {
	// FunctionName, when set, keeps the mappings of that function (any
	// FunctionName form; a qualifier must match too).
	FunctionName string
	// EventSourceArn, when set, keeps the mappings of that queue.
	EventSourceArn string
	// Marker is the NextMarker of the previous page.
	Marker string
	// MaxItems is the page size (1–10,000); 0 means 100.
	MaxItems int
}

// List is ListEventSourceMappings, ordered by UUID.
func (s *Service) List(ctx context.Context, f ListFilter) (*lambdaapi.ListEventSourceMappingsResponse, error) {
	n := f.MaxItems
	switch {
	case n == 0:
		n = defaultListItems
	case n < 1:
		return nil, validationError(n, "maxItems", "Member must have value greater than or equal to 1")
	case n > maxListItems:
		return nil, validationError(n, "maxItems", fmt.Sprintf("Member must have value less than or equal to %d", maxListItems))
	}
	var ref registry.FunctionRef
	if f.FunctionName != "" {
		var err error
		if ref, err = registry.ParseFunctionName(f.FunctionName); err != nil {
			return nil, err
		}
	}
	keys, err := s.kv.ListKeysFiltered(ctx, mappingPrefix+"*")
	if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, fmt.Errorf("esm: list mappings: %w", err)
	}
	var ids []string
	if keys != nil {
		for k := range keys.Keys() {
			if id := strings.TrimPrefix(k, mappingPrefix); id > f.Marker {
				ids = append(ids, id)
			}
		}
	}
	sort.Strings(ids)
	out := &lambdaapi.ListEventSourceMappingsResponse{EventSourceMappings: []lambdaapi.EventSourceMappingConfiguration{}}
	for i, id := range ids {
		m, _, err := s.load(ctx, id)
		if lambdaerr.IsType(err, lambdaerr.TypeResourceNotFound) {
			continue // deleted since listed
		}
		if err != nil {
			return nil, err
		}
		if f.EventSourceArn != "" && m.EventSourceArn != f.EventSourceArn {
			continue
		}
		if f.FunctionName != "" && (m.Function != ref.Name || (ref.Qualifier != "" && m.Qualifier != ref.Qualifier)) {
			continue
		}
		if len(out.EventSourceMappings) == n {
			out.NextMarker = ids[i-1]
			break
		}
		out.EventSourceMappings = append(out.EventSourceMappings, *m.Configuration(""))
	}
	return out, nil
}
