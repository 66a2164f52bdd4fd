package stream_test

import (
	"fmt"
	"testing"

	"github.com/updraft/updraft/internal/stream"
)

func TestReadAt(t *testing.T) {
	s := newService(t)
	ctx := t.Context()
	if err := s.Create(ctx, "at", 1); err != nil {
		t.Fatal(err)
	}
	var seqs []string
	for i := range 5 {
		res, err := s.Put(ctx, "at", []stream.Record{{PartitionKey: "k", Data: fmt.Appendf(nil, "r%d", i)}})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, res[0].SequenceNumber)
	}
	all, err := s.ReadAt(ctx, "at", 0, 0, 10)
	if err != nil || len(all) != 5 || string(all[0].Data) != "r0" || all[4].SequenceNumber != seqs[4] {
		t.Fatalf("from the start: %d records, %v", len(all), err)
	}
	n, _ := stream.ParseSequence(seqs[2])
	part, err := s.ReadAt(ctx, "at", 0, n, 2)
	if err != nil || len(part) != 2 || string(part[0].Data) != "r2" || string(part[1].Data) != "r3" {
		t.Fatalf("from the third, two: %v %v", part, err)
	}
	last, err := s.LastSequence(ctx, "at")
	if err != nil || stream.FormatSequence(last) != seqs[4] {
		t.Fatalf("LastSequence = %d, %v", last, err)
	}
	if none, err := s.ReadAt(ctx, "at", 0, last+1, 10); err != nil || len(none) != 0 {
		t.Fatalf("past the end: %v %v", none, err)
	}
	if _, err := s.ReadAt(ctx, "nope", 0, 0, 1); err != stream.ErrNotFound {
		t.Fatalf("missing stream: %v", err)
	}
}
