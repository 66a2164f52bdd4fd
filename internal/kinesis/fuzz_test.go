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
		{"Kinesis_20131202.GetShardIterator", `{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"AT_TIMESTAMP","Timestamp":1.5e9}`},
		{"Kinesis_20131202.GetRecords", `{"ShardIterator":"eyJzIjoicyIsImgiOjAsImkiOjF9","Limit":10}`},
		{"Kinesis_20131202.SubscribeToShard", `{"ConsumerARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1","ShardId":"shardId-000000000000","StartingPosition":{"Type":"LATEST"}}`},
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

// FuzzIterator decodes any shard iterator: refused, or one naming a valid
// stream that encodes back to an iterator decoding the same.
func FuzzIterator(f *testing.F) {
	f.Add(iterator{Stream: "s", Shard: 1, Seq: 5, Issued: 1}.encode())
	f.Add(iterator{Stream: "s", At: 1700000000000, Issued: 1}.encode())
	f.Add("junk")
	f.Fuzz(func(t *testing.T, s string) {
		it, ok := decodeIterator(s)
		if !ok {
			return
		}
		again, ok := decodeIterator(it.encode())
		if !ok || again != it {
			t.Fatalf("iterator %+v does not survive encoding: %+v", it, again)
		}
	})
}
