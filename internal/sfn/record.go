package sfn

import (
	"encoding/json"
	"time"
)

// Execution statuses.
const (
	StatusRunning   = "RUNNING"
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
	StatusAborted   = "ABORTED"
)

// machine is a state machine as stored in the bucket.
type machine struct {
	ARN         string            `json:"arn"`
	Name        string            `json:"name"`
	Definition  string            `json:"definition"`
	RoleARN     string            `json:"roleArn"`
	Type        string            `json:"type"`
	Created     time.Time         `json:"created"`
	Updated     time.Time         `json:"updated,omitzero"`
	RevisionID  string            `json:"revisionId"`
	Description string            `json:"description,omitempty"`
	Logging     json.RawMessage   `json:"logging,omitempty"`
	Tracing     json.RawMessage   `json:"tracing,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// execution is one execution: what DescribeExecution shows and the
// frames that run it. It is one KV entry, updated by compare-and-set, so
// that every node may advance any execution and exactly one of them
// commits each step.
type execution struct {
	ARN        string    `json:"arn"`
	Key        string    `json:"key"`
	MachineARN string    `json:"machineArn"`
	Machine    string    `json:"machine"`
	Name       string    `json:"name"`
	Status     string    `json:"status"`
	RoleARN    string    `json:"roleArn"`
	Definition string    `json:"definition"` // as the execution started
	Type       string    `json:"type"`
	Input      string    `json:"input"`
	Output     *string   `json:"output,omitempty"`
	Error      string    `json:"error,omitempty"`
	Cause      string    `json:"cause,omitempty"`
	Start      time.Time `json:"start"`
	Stop       time.Time `json:"stop,omitzero"`
	// Deadline is when the execution times out (the definition's
	// TimeoutSeconds); zero for none.
	Deadline time.Time `json:"deadline,omitzero"`
	// ParentToken, for an execution a states:startExecution.sync task
	// started, is that task's token: the execution's end completes it.
	ParentToken string `json:"parentToken,omitempty"`
	// ParentV2 says the parent used .sync:2 (input and output as JSON).
	ParentV2 bool `json:"parentV2,omitempty"`
	// NextEvent is the id the next history event gets.
	NextEvent int64 `json:"nextEvent"`
	// NextFrame numbers frames, so that a frame id is never reused.
	NextFrame int64 `json:"nextFrame"`
	// Frames are the running threads: the top level, Map iterations and
	// Parallel branches. A finished child is removed once its parent
	// holds its result.
	Frames map[string]*frame `json:"frames,omitempty"`
	// Pending are the history events of the last commit, which may not
	// be published yet: the next commit, or a redelivered work item,
	// publishes them again (event ids make that idempotent).
	Pending []event `json:"pending,omitempty"`
}

// Frame phases: what a frame waits for.
const (
	phaseEnter  = "enter"  // enter State with Input now
	phaseTask   = "task"   // run Task, then complete or fail
	phaseToken  = "token"  // wait for SendTaskSuccess/Failure (or the timeout)
	phaseWait   = "wait"   // a Wait state: at Until, go on with Output
	phaseRetry  = "retry"  // at Until, enter State again
	phaseFanout = "fanout" // a Map or Parallel waits for its children
)

// frame is one thread of an execution: the top-level states, one Map
// iteration or one Parallel branch.
type frame struct {
	ID string `json:"id"`
	// Parent is the frame whose Map or Parallel state started this one
	// ("" for the top level); Index is the item or branch number.
	Parent string `json:"parent,omitempty"`
	Index  int    `json:"index"`
	// Path locates the frame's definition: the states, from the top,
	// whose processor or branch it runs.
	Path []pathStep `json:"path,omitempty"`
	// ItemValue is $$.Map.Item.Value of a Map iteration.
	ItemValue json.RawMessage `json:"itemValue,omitempty"`

	State string          `json:"state"`
	Input json.RawMessage `json:"input"` // the state's raw input
	// Step counts the frame's commits; a work item names the step it was
	// issued for and is stale once the frame moved on.
	Step    int64     `json:"step"`
	Phase   string    `json:"phase"`
	Entered time.Time `json:"entered"`
	// Retries counts the attempts made per retrier of State.
	Retries []int64 `json:"retries,omitempty"`
	// LastEvent is the id of the frame's last event (previousEventId).
	LastEvent int64 `json:"lastEvent"`

	Until  time.Time       `json:"until,omitzero"`
	Next   string          `json:"next,omitempty"`   // after a Wait ("" ends)
	Output json.RawMessage `json:"output,omitempty"` // after a Wait

	Task *taskCall `json:"task,omitempty"`

	// Fan-out of a Map or Parallel state.
	Items    []json.RawMessage `json:"items,omitempty"`   // Map items not yet started, from Started
	Started  int               `json:"started"`           // children started so far
	Total    int               `json:"total"`             // children in all
	Running  int               `json:"running"`           // children running
	MaxConc  int               `json:"maxConc,omitempty"` // 0: no limit
	Results  []json.RawMessage `json:"results,omitempty"` // by index
	Finished int               `json:"finished"`
	Kind     string            `json:"kind,omitempty"` // Map or Parallel
}

// pathStep is one level of a frame's definition path.
type pathStep struct {
	State  string `json:"s"`
	Branch int    `json:"b"` // Parallel branch; -1 for a Map's processor
}

// taskCall is a Task state's pending call.
type taskCall struct {
	Resource         string          `json:"resource"`
	Parameters       json.RawMessage `json:"parameters"`
	TimeoutSeconds   int64           `json:"timeout,omitempty"`
	HeartbeatSeconds int64           `json:"heartbeat,omitempty"`
	Token            string          `json:"token,omitempty"`
	Deadline         time.Time       `json:"deadline,omitzero"`
	Beat             time.Time       `json:"beat,omitzero"`
}

// work is a work item: "frame F of execution E has something to do at
// step S, not before At". It carries no data; the execution record
// does, so that a duplicate or late item is harmless.
type work struct {
	Exec  string    `json:"e"`
	Frame string    `json:"f"`
	Step  int64     `json:"s"`
	At    time.Time `json:"at,omitzero"`
	// Timeout marks a task's timeout or heartbeat check.
	Timeout bool `json:"t,omitempty"`
}
