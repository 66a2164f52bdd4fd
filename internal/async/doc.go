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
// JetStream acknowledged both. Workers pull from one durable consumer per
// function, shared by every node, so the nodes sharing a JetStream share
// the work and an event whose node died is redelivered to another.
//
// A function costs nothing until its first event: its workers (and its
// consumer) start on the node that accepts an event for it, on the other
// nodes when that node announces it on updraft.wake.async, and on any
// node whose scan of the stream's per-subject counts (at Start and every
// ScanInterval) finds events queued for it — which is how events accepted
// by a node killed before it ran them are delivered. The last worker stops
// ReleaseAfter after the function's last event once nothing of it is
// pending, and JetStream deletes the consumer after the same time without
// pulls (its InactiveThreshold).
//
// Attempt state lives in the record, not in the node: a worker moves the
// record QUEUED → RUNNING → SUCCEEDED or FAILED with compare-and-set
// writes, delivers the outcome (destinations, dead-letter queue) and only
// then acknowledges the event. A crash anywhere before the acknowledgement
// means a redelivery, which picks up from the record: delivery is
// at-least-once, as on Lambda, and accepted work is never lost.
package async
