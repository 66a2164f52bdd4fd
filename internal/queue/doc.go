// Package queue is updraft's built-in queues: durable, at-least-once
// message queues named like SQS queues (arn:aws:sqs:REGION:ACCOUNT:NAME),
// kept in JetStream. Asynchronous invocation writes dead-letter messages
// and destination records to them; people read them with `updraft queue
// receive` or GET/POST /updraft/v1/queues. They are the seed of an
// SQS-compatible API, which is why names, attributes and limits follow
// SQS's rules.
//
// # Storage
//
// Each queue is one JetStream stream, UPDRAFT_QUEUE_<encoded name>, with
// the single subject updraft.queue.<encoded name> (stream names and
// subject tokens cannot hold the '.' of ".fifo", so names are encoded; see
// encodeName). The stream has work-queue retention, so a message is gone
// once acknowledged; file storage; the configured replicas; MaxAge 14
// days, SQS's longest message retention period; a byte bound
// ([MaxQueueBytes]) past which Send fails with [ErrFull] rather than drop
// old messages; and a 5-minute duplicate window, SQS's FIFO deduplication
// interval.
//
// # Lifecycle of a message
//
// A queue comes into being with the first [Service.Send] to it: Send
// creates the stream (CreateOrUpdateStream, so every node may race to do
// it) and remembers that it exists. The message id is a UUID that is also
// the Nats-Msg-Id, so a caller that retries a Send whose answer it lost
// ([Service.SendWithID] with the same id) stores the message once. Send
// returns only after JetStream acknowledged the write, that is after the
// message is on disk (on a majority of replicas in a cluster).
// Attributes travel as NATS headers, one per attribute
// ("Updraft-Attr-<name>: <JSON>"), which keep the case of their names.
//
// [Service.Receive] reads through one durable pull consumer per queue,
// shared by every updraft node on the same JetStream, so each message is
// handed to one receiver. It acknowledges what it returns before
// returning (a double ack, which JetStream confirms), which removes the
// messages from the stream: receive is receive-and-delete. If the
// confirmation is lost the message is still returned, so a message can be
// received twice but is never lost (SQS standard queues promise the
// same). A receiver that goes away before the acknowledgement hands what
// it fetched back at once (a nak). The server skips the pull request of a
// long poll whose receiver went away (it checks for interest), and
// anything delivered but never acknowledged comes back after the
// consumer's AckWait (30 s).
//
// [Service.Fetch] is the other reader, for event source mappings: it
// pulls through the same consumer but does not acknowledge, so a fetched
// message stays in the stream, invisible to everyone else, as an SQS
// message is during its visibility timeout (the consumer's AckWait; see
// [WithVisibilityTimeout]). Its caller acknowledges each [Delivery]
// (delete), releases it (a nak, optionally delayed) or extends its
// timeout while the function runs (an in-progress ack); a forgotten one
// comes back after the timeout with its delivery count, SQS's
// ApproximateReceiveCount, one higher.
//
// # What it must never do
//
// It never drops a message it acknowledged to a sender, never logs message
// bodies, and holds no lock across a JetStream call. A [Service] is safe
// for concurrent use; its only lock guards the caches of streams known to
// exist and of consumers already looked up.
package queue
