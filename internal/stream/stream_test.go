package stream_test

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/stream"
	"github.com/updraft/updraft/internal/testutil"
	"github.com/updraft/updraft/internal/testutil/storetest"
)

func newService(t *testing.T) *stream.Service {
	t.Helper()
	logger := testutil.Logger(t, slog.LevelDebug)
	st := storetest.Open(t, t.TempDir(), logger)
	return stream.New(st.JetStream(), 1, logger)
}

func TestCreateDescribeDelete(t *testing.T) {
	s := newService(t)
	ctx := t.Context()
	if err := s.Create(ctx, "My.stream", 3); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, "My.stream", 1); !errors.Is(err, stream.ErrInUse) {
		t.Fatalf("second Create = %v, want ErrInUse", err)
	}
	in, err := s.Describe(ctx, "My.stream")
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Shards) != 3 || in.Shards[2].ID != "shardId-000000000002" || in.ARN != "arn:aws:kinesis:us-east-1:000000000000:stream/My.stream" {
		t.Fatalf("Describe = %+v", in)
	}
	if err := s.Delete(ctx, "My.stream"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Describe(ctx, "My.stream"); !errors.Is(err, stream.ErrNotFound) {
		t.Fatalf("Describe after Delete = %v", err)
	}
	if err := s.Delete(ctx, "My.stream"); !errors.Is(err, stream.ErrNotFound) {
		t.Fatalf("Delete twice = %v", err)
	}
}

func TestValidation(t *testing.T) {
	s := newService(t)
	ctx := t.Context()
	if err := s.Create(ctx, "s", 0); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		run  func() error
	}{
		{"bad name", func() error { return s.Create(ctx, "a b", 1) }},
		{"too many shards", func() error { return s.Create(ctx, "x", stream.MaxShards+1) }},
		{"no partition key", func() error { _, err := s.Put(ctx, "s", []stream.Record{{Data: []byte("x")}}); return err }},
		{"bad hash key", func() error {
			_, err := s.Put(ctx, "s", []stream.Record{{PartitionKey: "k", ExplicitHashKey: "x"}})
			return err
		}},
		{"too big", func() error {
			_, err := s.Put(ctx, "s", []stream.Record{{PartitionKey: "k", Data: make([]byte, stream.MaxRecordBytes)}})
			return err
		}},
		{"no records", func() error { _, err := s.Put(ctx, "s", nil); return err }},
	} {
		if err := tc.run(); !errors.Is(err, stream.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tc.name, err)
		}
	}
	if _, err := s.Put(ctx, "missing", []stream.Record{{PartitionKey: "k"}}); !errors.Is(err, stream.ErrNotFound) {
		t.Errorf("Put to a missing stream = %v", err)
	}
}

func TestPutAndReadInOrder(t *testing.T) {
	s := newService(t)
	ctx := t.Context()
	if err := s.Create(ctx, "s", 2); err != nil {
		t.Fatal(err)
	}
	var recs []stream.Record
	for i := range 20 {
		recs = append(recs, stream.Record{PartitionKey: fmt.Sprintf("k%d", i%5), Data: fmt.Appendf(nil, "r%d", i)})
	}
	res, err := s.Put(ctx, "s", recs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{} // shard -> sequence numbers in put order
	for i, r := range res {
		if r.ShardID != stream.ShardID(stream.ShardFor(stream.HashKey(recs[i].PartitionKey), 2)) {
			t.Fatalf("record %d went to %s", i, r.ShardID)
		}
		want[r.ShardID] = append(want[r.ShardID], r.SequenceNumber)
	}
	// An explicit hash key picks the shard.
	res2, err := s.Put(ctx, "s", []stream.Record{{PartitionKey: "k0", ExplicitHashKey: "340282366920938463463374607431768211455"}})
	if err != nil || res2[0].ShardID != "shardId-000000000001" {
		t.Fatalf("explicit hash key: %+v %v", res2, err)
	}
	want["shardId-000000000001"] = append(want["shardId-000000000001"], res2[0].SequenceNumber)

	for shard := range 2 {
		r, err := s.OpenShard(ctx, "s", shard, fmt.Sprintf("t-%d", shard), stream.Position{Type: stream.TrimHorizon}, 3)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for len(got) < len(want[stream.ShardID(shard)]) {
			ds, err := r.Fetch(ctx, 3, time.Second, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) == 0 {
				t.Fatalf("shard %d: got %d of %d records", shard, len(got), len(want[stream.ShardID(shard)]))
			}
			if len(ds) > 3 {
				t.Fatalf("a fetch of 3 returned %d", len(ds))
			}
			for _, d := range ds {
				got = append(got, d.SequenceNumber)
				if d.ShardID != stream.ShardID(shard) || d.PartitionKey == "" || d.Arrival.IsZero() {
					t.Fatalf("record %+v", d)
				}
				if err := d.Ack(ctx, true); err != nil {
					t.Fatal(err)
				}
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want[stream.ShardID(shard)]) {
			t.Errorf("shard %d read %v, want %v", shard, got, want[stream.ShardID(shard)])
		}
	}

	// LATEST skips what is there; a new record is read.
	r, err := s.OpenShard(ctx, "s", 0, "latest", stream.Position{Type: stream.Latest}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if ds, err := r.Fetch(ctx, 10, 200*time.Millisecond, 0); err != nil || len(ds) != 0 {
		t.Fatalf("LATEST read old records: %d %v", len(ds), err)
	}
	if _, err := s.Put(ctx, "s", []stream.Record{{PartitionKey: "k", ExplicitHashKey: "0", Data: []byte("new")}}); err != nil {
		t.Fatal(err)
	}
	ds, err := r.Fetch(ctx, 10, 5*time.Second, 0)
	if err != nil || len(ds) != 1 || string(ds[0].Data) != "new" {
		t.Fatalf("LATEST: %v %v", ds, err)
	}
	if err := s.DeleteReaders(ctx, "s", "t-"); err != nil {
		t.Fatal(err)
	}
}
