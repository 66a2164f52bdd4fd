// Package sfn is the Step Functions service: the AWS JSON 1.0 API
// (AWSStepFunctions.* targets, SigV4 service "states") over state
// machines and executions kept in JetStream, and the executor that
// runs them on every node.
//
// # Storage
//
// State machines and executions are entries of the KV bucket
// updraft-sfn: sm.HEX(name) and ex.HEX(machine).DIGEST(name). An
// execution entry holds everything needed to continue it: its status,
// the definition as it started, and its frames — the top level, each
// running Map iteration and each Parallel branch — each with its state,
// its raw input, a phase (enter, task, token, wait, retry, fanout) and a
// step counter. History events go to the stream UPDRAFT_SFN_EVENTS, one
// subject per execution.
//
// # Execution
//
// Nothing waits in memory for an execution. A work item on the work
// queue stream UPDRAFT_SFN_WORK says only "frame F of execution E has
// something to do at step S, not before T"; the durable consumer
// sfn-workers is shared by every node, so any node advances any
// execution. A worker reads the entry, asks package asl what the state
// does (asl.Enter, asl.Complete, asl.HandleError are pure), stores the
// new entry by compare-and-set on its revision (a lost race reads and
// decides again), then publishes the commit's events and work items and
// acknowledges its item. Pass, Choice and the like are followed inline
// within one commit (up to maxInlineHops); a Task, a Wait, a retry
// delay or a fan-out ends the commit with a work item.
//
// A Wait (or a retry delay) is a work item due later: a worker that
// gets it early gives it back with a NAK delay, so it survives restarts
// as a stored message. A Map or Parallel state starts child frames (at
// most MaxConcurrency at once) and gathers their results, in order, in
// its own frame; a child's failure removes its siblings and fails the
// state. A .waitForTaskToken task stores its phase and waits for
// SendTaskSuccess/Failure, whose token names the execution, frame and
// step it completes.
//
// # Guarantees
//
// Each state transition is committed exactly once: a work item names the
// step it was issued for and is dropped once the frame moved on, and the
// compare-and-set lets one commit win. Task invocations are at least
// once: a worker that dies while a function runs leaves its work item
// unacknowledged, JetStream gives it to another worker after AckWait,
// and the function is called again, as an asynchronous Lambda retry
// would (give functions the idempotency a retry needs). A node that
// dies between storing and publishing leaves its work item
// unacknowledged too; whoever gets it again finds the step done and
// publishes that commit's events and every frame's work item again.
// Message ids (and event ids, on reading) make the repeats harmless.
package sfn
