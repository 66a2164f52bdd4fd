package dynamodb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/dynamodb/attr"
)

type updateTTLInput struct {
	TableName               string `json:"TableName"`
	TimeToLiveSpecification struct {
		AttributeName string `json:"AttributeName"`
		Enabled       *bool  `json:"Enabled"`
	} `json:"TimeToLiveSpecification"`
}

func (s *Service) updateTimeToLive(ctx context.Context, in *updateTTLInput) (any, error) {
	spec := in.TimeToLiveSpecification
	if spec.Enabled == nil || spec.AttributeName == "" {
		return nil, validation("1 validation error detected: Value null at 'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null")
	}
	for {
		t, rev, err := s.getTable(ctx, in.TableName)
		if err != nil {
			return nil, err
		}
		if t == nil || t.Deleting {
			return nil, tableNotFound()
		}
		switch {
		case *spec.Enabled && t.TTLAttr != "":
			return nil, validation("TimeToLive is already enabled")
		case !*spec.Enabled && t.TTLAttr == "":
			return nil, validation("TimeToLive is already disabled")
		case *spec.Enabled:
			t.TTLAttr = spec.AttributeName
		default:
			t.TTLAttr = ""
		}
		b, _ := json.Marshal(t)
		nrev, err := s.tables.Update(ctx, keyOfTable(t.Name), b, rev)
		if err != nil {
			if isWrongSeq(err) {
				continue
			}
			return nil, fmt.Errorf("dynamodb: updating TTL: %w", err)
		}
		s.cache.await(nrev)
		return map[string]any{"TimeToLiveSpecification": map[string]any{"AttributeName": spec.AttributeName, "Enabled": *spec.Enabled}}, nil
	}
}

func (s *Service) describeTimeToLive(ctx context.Context, in *tableNameInput) (any, error) {
	t, err := s.mustTable(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	d := map[string]any{"TimeToLiveStatus": "DISABLED"}
	if t.TTLAttr != "" {
		d = map[string]any{"TimeToLiveStatus": "ENABLED", "AttributeName": t.TTLAttr}
	}
	return map[string]any{"TimeToLiveDescription": d}, nil
}

// sweepTTL deletes expired items of every table with TTL enabled, every
// interval. Every node sweeps; each delete is conditional on the revision
// it read, so a race between nodes deletes an item once.
func (s *Service) sweepTTL(ctx context.Context) {
	defer s.wg.Done()
	tick := time.NewTicker(s.ttlEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := s.sweepOnce(ctx, time.Now()); err != nil && ctx.Err() == nil {
			s.logger.Warn("dynamodb: TTL sweep", "err", err)
		}
	}
}

func (s *Service) sweepOnce(ctx context.Context, now time.Time) error {
	names, err := s.tableNames(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil
	}
	if err != nil {
		return err
	}
	nowN, _ := attr.ParseNumber(fmt.Sprint(now.Unix()))
	for _, name := range names {
		t, _, err := s.getTable(ctx, name)
		if err != nil || t == nil || t.TTLAttr == "" || t.Deleting {
			continue
		}
		ix, err := s.index(ctx, t)
		if err != nil {
			return err
		}
		var expired []attr.Item
		ix.mu.Lock()
		for _, it := range ix.items {
			if v, ok := it[t.TTLAttr]; ok && v.T == attr.N && v.Num.Cmp(nowN) <= 0 {
				expired = append(expired, keyOfItem(t, it))
			}
		}
		ix.mu.Unlock()
		attrName := t.TTLAttr
		for _, k := range expired {
			_, _, err := s.writeItemBy(ctx, t, k, nil, "", true, func(old attr.Item) (attr.Item, error) {
				if v, ok := old[attrName]; ok && v.T == attr.N && v.Num.Cmp(nowN) <= 0 {
					return nil, nil
				}
				return old, errNotExpired
			})
			if err != nil && !errors.Is(err, errNotExpired) {
				return err
			}
		}
	}
	return nil
}

var errNotExpired = errors.New("dynamodb: item no longer expired")
