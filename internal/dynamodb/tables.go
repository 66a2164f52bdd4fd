package dynamodb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/updraft/updraft/internal/stream"
	"sort"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

type createTableInput struct {
	TableName              string                `json:"TableName"`
	KeySchema              []KeyElement          `json:"KeySchema"`
	AttributeDefinitions   []AttributeDefinition `json:"AttributeDefinitions"`
	GlobalSecondaryIndexes []Index               `json:"GlobalSecondaryIndexes"`
	LocalSecondaryIndexes  []Index               `json:"LocalSecondaryIndexes"`
	BillingMode            string                `json:"BillingMode"`
	ProvisionedThroughput  *throughput           `json:"ProvisionedThroughput"`
	StreamSpecification    *StreamSpecification  `json:"StreamSpecification"`
}

func (s *Service) createTable(ctx context.Context, in *createTableInput) (any, error) {
	if err := validateTableName(in.TableName, "tableName"); err != nil {
		return nil, err
	}
	mode := in.BillingMode
	switch mode {
	case "":
		mode = "PROVISIONED"
	case "PROVISIONED", "PAY_PER_REQUEST":
	default:
		return nil, validation("1 validation error detected: Value '%s' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]", mode)
	}
	if mode == "PROVISIONED" && in.ProvisionedThroughput == nil {
		return nil, validation("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
	}
	if mode == "PAY_PER_REQUEST" && in.ProvisionedThroughput != nil {
		return nil, validation("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
	}
	t := &Table{Name: in.TableName, ID: newID(), Created: time.Now().UTC(), KeySchema: in.KeySchema, Attrs: in.AttributeDefinitions,
		GSIs: in.GlobalSecondaryIndexes, LSIs: in.LocalSecondaryIndexes, BillingMode: mode, Throughput: in.ProvisionedThroughput}
	if err := validateSchema(t); err != nil {
		return nil, err
	}
	if err := setStream(t, in.StreamSpecification); err != nil {
		return nil, err
	}
	if t.Stream != nil && s.streams == nil {
		return nil, validation("Streams are not available on this server.")
	}
	if err := s.createStream(ctx, t); err != nil {
		return nil, err
	}
	b, _ := json.Marshal(t)
	rev, err := s.tables.Create(ctx, keyOfTable(t.Name), b)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return nil, inUse("Table already exists: %s", t.Name)
		}
		return nil, fmt.Errorf("dynamodb: creating table: %w", err)
	}
	s.cache.await(rev)
	// The table is usable at once; the answer says CREATING as
	// DynamoDB's does, and DescribeTable says ACTIVE from then on.
	return map[string]any{"TableDescription": s.describe(t, "CREATING", 0)}, nil
}

// setStream applies a StreamSpecification.
func setStream(t *Table, spec *StreamSpecification) error {
	if spec == nil {
		return nil
	}
	if !spec.StreamEnabled {
		if t.Stream == nil || !t.Stream.StreamEnabled {
			if spec.StreamViewType != "" {
				return validation("One or more parameter values were invalid: StreamViewType cannot be specified when StreamEnabled is false")
			}
			return nil
		}
		t.Stream = &StreamSpecification{StreamEnabled: false}
		return nil
	}
	switch spec.StreamViewType {
	case "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY":
	case "":
		return validation("One or more parameter values were invalid: StreamViewType must be specified when StreamEnabled is true")
	default:
		return validation("1 validation error detected: Value '%s' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]", spec.StreamViewType)
	}
	if t.Stream != nil && t.Stream.StreamEnabled {
		return validation("Table already has an enabled stream: %s", t.Name)
	}
	t.Stream = &StreamSpecification{StreamEnabled: true, StreamViewType: spec.StreamViewType}
	t.StreamLabel = time.Now().UTC().Format("2006-01-02T15:04:05.000")
	return nil
}

// describe renders a TableDescription.
func (s *Service) describe(t *Table, status string, count int) map[string]any {
	arn := s.tableARN(t.Name)
	d := map[string]any{
		"TableName":                 t.Name,
		"TableArn":                  arn,
		"TableId":                   t.ID,
		"TableStatus":               status,
		"KeySchema":                 t.KeySchema,
		"AttributeDefinitions":      t.Attrs,
		"CreationDateTime":          float64(t.Created.UnixMilli()) / 1000,
		"ItemCount":                 count,
		"TableSizeBytes":            0,
		"DeletionProtectionEnabled": false,
	}
	tp := throughputDesc{}
	if t.Throughput != nil {
		tp.ReadCapacityUnits, tp.WriteCapacityUnits = t.Throughput.ReadCapacityUnits, t.Throughput.WriteCapacityUnits
	}
	d["ProvisionedThroughput"] = tp
	if t.BillingMode == "PAY_PER_REQUEST" {
		d["BillingModeSummary"] = map[string]any{"BillingMode": "PAY_PER_REQUEST", "LastUpdateToPayPerRequestDateTime": float64(t.Created.UnixMilli()) / 1000}
	}
	render := func(ixs []Index) []Index {
		out := make([]Index, len(ixs))
		for i, x := range ixs {
			x.IndexStatus = "ACTIVE"
			x.IndexArn = arn + "/index/" + x.IndexName
			var zero int64
			x.IndexSizeBytes, x.ItemCount = &zero, &zero
			out[i] = x
		}
		return out
	}
	if len(t.GSIs) > 0 {
		gs := render(t.GSIs)
		for i := range gs {
			gs[i].ProvisionedThroughput = &throughputDesc{}
		}
		d["GlobalSecondaryIndexes"] = gs
	}
	if len(t.LSIs) > 0 {
		ls := render(t.LSIs)
		for i := range ls {
			ls[i].IndexStatus = ""
		}
		d["LocalSecondaryIndexes"] = ls
	}
	if t.Stream != nil {
		d["StreamSpecification"] = t.Stream
		if t.Stream.StreamEnabled {
			d["LatestStreamLabel"] = t.StreamLabel
			d["LatestStreamArn"] = arn + "/stream/" + t.StreamLabel
		}
	}
	return d
}

type tableNameInput struct {
	TableName string `json:"TableName"`
}

func (s *Service) describeTable(ctx context.Context, in *tableNameInput) (any, error) {
	t, _, err := s.getTable(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, notFound("Requested resource not found: Table: " + in.TableName + " not found")
	}
	status := "ACTIVE"
	if t.Deleting {
		status = "DELETING"
	}
	count := 0
	if ix, err := s.index(ctx, t); err == nil {
		ix.mu.Lock()
		count = len(ix.items)
		ix.mu.Unlock()
	}
	return map[string]any{"Table": s.describe(t, status, count)}, nil
}

type listTablesInput struct {
	ExclusiveStartTableName string `json:"ExclusiveStartTableName"`
	Limit                   *int   `json:"Limit"`
}

func (s *Service) listTables(ctx context.Context, in *listTablesInput) (any, error) {
	limit := 100
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > 100 {
			return nil, validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100", *in.Limit)
		}
		limit = *in.Limit
	}
	keys, err := s.tableNames(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, fmt.Errorf("dynamodb: listing tables: %w", err)
	}
	sort.Strings(keys)
	out := map[string]any{}
	names := []string{}
	for _, k := range keys {
		if k <= in.ExclusiveStartTableName {
			continue
		}
		if len(names) == limit {
			out["LastEvaluatedTableName"] = names[len(names)-1]
			break
		}
		names = append(names, k)
	}
	out["TableNames"] = names
	return out, nil
}

type updateTableInput struct {
	TableName                   string                `json:"TableName"`
	AttributeDefinitions        []AttributeDefinition `json:"AttributeDefinitions"`
	BillingMode                 string                `json:"BillingMode"`
	ProvisionedThroughput       *throughput           `json:"ProvisionedThroughput"`
	StreamSpecification         *StreamSpecification  `json:"StreamSpecification"`
	GlobalSecondaryIndexUpdates []struct {
		Create *Index `json:"Create"`
		Delete *struct {
			IndexName string `json:"IndexName"`
		} `json:"Delete"`
		Update any `json:"Update"`
	} `json:"GlobalSecondaryIndexUpdates"`
}

func (s *Service) updateTable(ctx context.Context, in *updateTableInput) (any, error) {
	for {
		t, rev, err := s.getTable(ctx, in.TableName)
		if err != nil {
			return nil, err
		}
		if t == nil || t.Deleting {
			return nil, tableNotFound()
		}
		if in.BillingMode != "" {
			t.BillingMode = in.BillingMode
		}
		if in.ProvisionedThroughput != nil {
			t.Throughput = in.ProvisionedThroughput
		}
		for _, a := range in.AttributeDefinitions {
			if _, ok := t.types()[a.AttributeName]; !ok {
				t.Attrs = append(t.Attrs, a)
			}
		}
		for _, u := range in.GlobalSecondaryIndexUpdates {
			switch {
			case u.Create != nil:
				if _, ok := t.index(u.Create.IndexName); ok {
					return nil, validation("One or more parameter values were invalid: Index with name %s already exists", u.Create.IndexName)
				}
				t.GSIs = append(t.GSIs, *u.Create)
			case u.Delete != nil:
				found := false
				for i, g := range t.GSIs {
					if g.IndexName == u.Delete.IndexName {
						t.GSIs = append(t.GSIs[:i], t.GSIs[i+1:]...)
						found = true
						break
					}
				}
				if !found {
					return nil, notFound("Requested resource not found")
				}
			}
		}
		if err := validateSchema(t); err != nil {
			return nil, err
		}
		if err := setStream(t, in.StreamSpecification); err != nil {
			return nil, err
		}
		if err := s.createStream(ctx, t); err != nil {
			return nil, err
		}
		b, _ := json.Marshal(t)
		nrev, err := s.tables.Update(ctx, keyOfTable(t.Name), b, rev)
		if err != nil {
			if isWrongSeq(err) {
				continue
			}
			return nil, fmt.Errorf("dynamodb: updating table: %w", err)
		}
		s.cache.await(nrev)
		if len(in.GlobalSecondaryIndexUpdates) > 0 {
			s.dropIndex(t.ID) // rebuilt with the new indexes on next use
		}
		return map[string]any{"TableDescription": s.describe(t, "UPDATING", 0)}, nil
	}
}

func (s *Service) dropIndex(id string) {
	s.mu.Lock()
	ix := s.indexes[id]
	delete(s.indexes, id)
	s.mu.Unlock()
	if ix != nil {
		ix.close()
	}
}

func (s *Service) deleteTable(ctx context.Context, in *tableNameInput) (any, error) {
	t, _, err := s.getTable(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	if t == nil || t.Deleting {
		return nil, notFound("Requested resource not found: Table: " + in.TableName + " not found")
	}
	if err := s.tables.Delete(ctx, keyOfTable(t.Name)); err != nil {
		return nil, fmt.Errorf("dynamodb: deleting table: %w", err)
	}
	s.cache.forget(t.Name)
	s.dropIndex(t.ID)
	// The items go with the table: their subjects are purged.
	st, err := s.js.Stream(ctx, "KV_"+BucketItems)
	if err == nil {
		err = st.Purge(ctx, jetstream.WithPurgeSubject("$KV."+BucketItems+"."+t.ID+".>"))
	}
	if err != nil {
		s.logger.Warn("dynamodb: purging a deleted table's items", "table", t.Name, "err", err)
	}
	if s.streams != nil && t.StreamLabel != "" {
		if err := s.streams.Delete(ctx, StreamName(t.Name, t.StreamLabel)); err != nil && !errors.Is(err, stream.ErrNotFound) {
			s.logger.Warn("dynamodb: deleting a deleted table's stream", "table", t.Name, "err", err)
		}
	}
	return map[string]any{"TableDescription": s.describe(t, "DELETING", 0)}, nil
}
