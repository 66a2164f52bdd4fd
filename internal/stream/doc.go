// Package stream is updraft's built-in streams: ordered, sharded,
// replayable record logs that behave like Amazon Kinesis Data Streams
// (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME), kept in JetStream.
// internal/api serves them with Kinesis's JSON protocol, so `aws kinesis
// --endpoint-url ...` works, and internal/esm triggers functions from them.
//
// # Storage
//
// Each stream is one JetStream stream, UPDRAFT_STREAM_<encoded name>, with
// one subject per shard, updraft.stream.<encoded name>.<shard index>
// (names are encoded as queue names are: '.' and upper case letters are
// escaped, see encodeName). The stream has limits retention, so records
// stay after they are read; MaxAge 24 hours, Kinesis's default retention
// period; file storage and the configured replicas. The shard count is in
// the stream's metadata ([MetaShards]); streams are never resharded.
//
// # Records
//
// A record's shard is chosen as Kinesis chooses it: the MD5 digest of its
// partition key, read as a 128-bit big-endian integer (or the record's
// ExplicitHashKey), falls in exactly one shard's hash key range, and the
// N shards split the range 0 to 2^128-1 evenly ([HashKeyRange]). The
// partition key travels in a header; the data is the message body. A
// record's sequence number is its JetStream stream sequence, written as a
// 56-digit decimal number like Kinesis's ([FormatSequence]); it increases
// within a shard (and across the stream), both as a number and as a
// string. A record's ApproximateArrivalTimestamp is JetStream's timestamp.
//
// # Reading
//
// Readers are durable JetStream consumers, one per reader and shard,
// filtered on the shard's subject, with explicit acknowledgement
// ([Service.OpenShard]). Where a new consumer starts follows Kinesis's
// shard iterator types: TRIM_HORIZON (the oldest record kept), LATEST
// (records put after it is created) and AT_TIMESTAMP. Acknowledging a
// record is checkpointing it; unacknowledged records come back after
// [AckWait], which [Delivery.InProgress] restarts.
package stream
