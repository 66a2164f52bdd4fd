// Package kinesis is the Amazon Kinesis Data Streams API over updraft's
// built-in streams (internal/stream): Kinesis's JSON protocol
// (X-Amz-Target: Kinesis_20131202.<Operation>,
// application/x-amz-json-1.1), which internal/api routes here from
// POST /.
//
// Writes (CreateStream, PutRecord, PutRecords, ListShards, ...) go to the
// stream's JetStream stream, one subject per shard. Reads follow Kinesis:
// GetShardIterator returns an opaque iterator (base64 of the stream,
// shard, next sequence or start time, and when it was issued; it expires
// after 5 minutes, as Kinesis's do), and GetRecords reads from it with an
// ephemeral ordered JetStream consumer filtered on the shard's subject,
// returning at most Limit records (10,000) and 10 MiB, the next iterator
// and MillisBehindLatest. Sequence numbers are the JetStream stream
// sequences written as Kinesis's 56-digit numbers (stream.FormatSequence).
package kinesis
