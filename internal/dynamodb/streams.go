package dynamodb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/updraft/updraft/internal/dynamodb/attr"
	"github.com/updraft/updraft/internal/stream"
)

// Streams is the storage of DynamoDB Streams: each stream-enabled table
// label is one built-in stream of package stream (one shard), whose
// records hold the stream records in AWS's shape.
type Streams interface {
	Create(ctx context.Context, name string, shards int) error
	Delete(ctx context.Context, name string) error
	Put(ctx context.Context, name string, recs []stream.Record) ([]stream.PutResult, error)
	Describe(ctx context.Context, name string) (*stream.Info, error)
	ReadAt(ctx context.Context, name string, shard int, seq uint64, max int) ([]*stream.Delivered, error)
}

// streamARN is a table stream's ARN.
func (s *Service) streamARN(table, label string) string {
	return s.tableARN(table) + "/stream/" + label
}

// ParseStreamARN splits arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL.
func ParseStreamARN(arn string) (region, account, table, label string, err error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "dynamodb" {
		return "", "", "", "", fmt.Errorf("not a DynamoDB stream ARN: %q", arn)
	}
	rest, ok := strings.CutPrefix(parts[5], "table/")
	if !ok {
		return "", "", "", "", fmt.Errorf("not a DynamoDB stream ARN: %q", arn)
	}
	table, label, ok = strings.Cut(rest, "/stream/")
	if !ok || table == "" || label == "" {
		return "", "", "", "", fmt.Errorf("not a DynamoDB stream ARN: %q", arn)
	}
	return parts[3], parts[4], table, label, nil
}

// StreamName is the built-in stream holding the records of a table's
// stream, derived from its ARN (so event source mappings can find it
// without asking): "ddbstream-" and 32 hex digits of a hash of table
// and label.
func StreamName(table, label string) string {
	h := sha256.Sum256([]byte(table + "\x00" + label))
	return "ddbstream-" + hex.EncodeToString(h[:16])
}

// record is a stream record as stored: the Streams API's Record shape
// without its SequenceNumber (the stream's own).
type record struct {
	AwsRegion    string        `json:"awsRegion"`
	Dynamodb     recordBody    `json:"dynamodb"`
	EventID      string        `json:"eventID"`
	EventName    string        `json:"eventName"`
	EventSource  string        `json:"eventSource"`
	EventVersion string        `json:"eventVersion"`
	UserIdentity *userIdentity `json:"userIdentity,omitempty"`
}

type recordBody struct {
	ApproximateCreationDateTime float64   `json:"ApproximateCreationDateTime"`
	Keys                        attr.Item `json:"Keys"`
	NewImage                    attr.Item `json:"NewImage,omitempty"`
	OldImage                    attr.Item `json:"OldImage,omitempty"`
	SequenceNumber              string    `json:"SequenceNumber,omitempty"`
	SizeBytes                   int       `json:"SizeBytes"`
	StreamViewType              string    `json:"StreamViewType"`
}

type userIdentity struct {
	PrincipalID string `json:"PrincipalId"`
	Type        string `json:"Type"`
}

// DynamoDBSequence renders a built-in stream sequence number as
// DynamoDB's (21 to 40 digits).
func DynamoDBSequence(seq string) string {
	n, err := stream.ParseSequence(seq)
	if err != nil {
		return seq
	}
	return fmt.Sprintf("%021d", n)
}

// emit writes the stream record of one committed change (old and nu nil
// for absent), when the table has an enabled stream. byTTL marks TTL's
// deletions, which AWS attributes to the service principal.
func (s *Service) emit(ctx context.Context, t *Table, old, nu attr.Item, byTTL bool) error {
	if s.streams == nil || t.Stream == nil || !t.Stream.StreamEnabled || (old == nil && nu == nil) {
		return nil
	}
	base := nu
	name := "MODIFY"
	switch {
	case old == nil:
		name = "INSERT"
	case nu == nil:
		name, base = "REMOVE", old
	}
	keys := keyOfItem(t, base)
	r := record{AwsRegion: s.region, EventID: newID() + newID(), EventName: name, EventSource: "aws:dynamodb", EventVersion: "1.1",
		Dynamodb: recordBody{ApproximateCreationDateTime: float64(time.Now().Unix()), Keys: keys, StreamViewType: t.Stream.StreamViewType}}
	switch t.Stream.StreamViewType {
	case "NEW_IMAGE":
		r.Dynamodb.NewImage = nu
	case "OLD_IMAGE":
		r.Dynamodb.OldImage = old
	case "NEW_AND_OLD_IMAGES":
		r.Dynamodb.NewImage, r.Dynamodb.OldImage = nu, old
	}
	r.Dynamodb.SizeBytes = keys.Size() + r.Dynamodb.NewImage.Size() + r.Dynamodb.OldImage.Size()
	if byTTL {
		r.UserIdentity = &userIdentity{PrincipalID: "dynamodb.amazonaws.com", Type: "Service"}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("dynamodb: encoding a stream record: %w", err)
	}
	name2 := StreamName(t.Name, t.StreamLabel)
	if _, err := s.streams.Put(ctx, name2, []stream.Record{{PartitionKey: partitionKey(keys[t.hashKey()]), Data: b}}); err != nil {
		return fmt.Errorf("dynamodb: writing a stream record of %s: %w", t.Name, err)
	}
	return nil
}

// partitionKey is the stream partition key of an item's records: a
// digest of its hash key, so one key's records share a shard.
func partitionKey(v attr.Value) string {
	h := sha256.Sum256([]byte(hashString(v)))
	return hex.EncodeToString(h[:16])
}

// createStream makes the built-in stream of a table's new stream label.
func (s *Service) createStream(ctx context.Context, t *Table) error {
	if s.streams == nil || t.Stream == nil || !t.Stream.StreamEnabled {
		return nil
	}
	if err := s.streams.Create(ctx, StreamName(t.Name, t.StreamLabel), 1); err != nil && !errors.Is(err, stream.ErrInUse) {
		return fmt.Errorf("dynamodb: creating the stream of %s: %w", t.Name, err)
	}
	return nil
}

// emitLogged is emit for a write already committed: a stream that cannot
// take the record does not fail the write (DynamoDB never does); the
// loss is logged.
func (s *Service) emitLogged(ctx context.Context, t *Table, old, nu attr.Item, byTTL bool) {
	if err := s.emit(context.WithoutCancel(ctx), t, old, nu, byTTL); err != nil {
		s.logger.Error("dynamodb: a committed write has no stream record", "table", t.Name, "err", err)
	}
}
