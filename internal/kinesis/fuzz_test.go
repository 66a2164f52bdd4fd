package kinesis

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeKinesis feeds the Kinesis request decoder arbitrary targets
// and bodies: it must never panic, and what it accepts must be one of the
// known operations with an input that encodes again.
func FuzzDecodeKinesis(f *testing.F) {
	for _, seed := range []struct{ target, body string }{
		{"Kinesis_20131202.PutRecord", `{"StreamName":"s","PartitionKey":"k","Data":"aGVsbG8="}`},
		{"Kinesis_20131202.PutRecords", `{"StreamName":"s","Records":[{"PartitionKey":"k","Data":""}]}`},
		{"Kinesis_20131202.CreateStream", `{"StreamName":"s","ShardCount":2}`},
		{"Kinesis_20131202.ListShards", `{"NextToken":"x","MaxResults":1}`},
		{"Kinesis_20131202.DeleteStream", `null`},
		{"Kinesis_20131202.Nope", `{}`},
		{"", ``},
	} {
		f.Add(seed.target, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, target string, body []byte) {
		op, in, kerr := decodeKinesis(target, body)
		if kerr != nil {
			if op != "" || in != nil || kerr.Type == "" || kerr.status != 400 {
				t.Fatalf("error %+v with op %q, input %v", kerr, op, in)
			}
			return
		}
		if _, ok := kinesisOps[op]; !ok {
			t.Fatalf("accepted unknown operation %q", op)
		}
		if _, err := json.Marshal(in); err != nil {
			t.Fatalf("accepted input does not encode: %v", err)
		}
	})
}
