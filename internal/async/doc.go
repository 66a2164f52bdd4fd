// Package async is updraft's asynchronous invocation engine: Lambda's
// Event invocations, with retries, maximum event age, dead-letter queues
// and destinations, plus two things Lambda lacks: an invocation record per
// request id that can be read (and waited on), and the async batch
// endpoint of the remote-service pattern (POST a batch with a batch id,
// GET the same URL until the result is there).
//
// Accepting an event writes its record (QUEUED) to the KV bucket
// updraft-invocations and then the event to the stream UPDRAFT_ASYNC
// (subject updraft.async.<function>); the caller gets 202 only after
// JetStream acknowledged both. Every node runs workers on one durable
// consumer per function, so the nodes sharing a JetStream share the work
// and an event whose node died is redelivered to another.
//
// Attempt state lives in the record, not in the node: a worker moves the
// record QUEUED → RUNNING → SUCCEEDED or FAILED with compare-and-set
// writes, delivers the outcome (destinations, dead-letter queue) and only
// then acknowledges the event. A crash anywhere before the acknowledgement
// means a redelivery, which picks up from the record: delivery is
// at-least-once, as on Lambda, and accepted work is never lost.
package async
