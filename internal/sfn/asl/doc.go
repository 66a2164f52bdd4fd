// Package asl is the Amazon States Language: it parses and validates a
// state machine definition (with the diagnostics Step Functions'
// InvalidDefinition and ValidateStateMachineDefinition give), evaluates
// JSONPath, payload templates, intrinsic functions and Choice rules, and
// decides Retry and Catch.
//
// Its centre is a pure step function. [Enter] takes a state, the input
// it receives and the context object ($$) and says what to do next: run
// a task, wait until a time, fan out over Map items or Parallel
// branches, transition, succeed or fail. [Complete] takes the result of
// a task (or the gathered results of a Map or Parallel) and applies
// ResultSelector, ResultPath and OutputPath. [HandleError] takes a
// state's error and its retry counters and answers retry after a delay,
// catch into a state, or fail. None of them blocks, keeps state or
// starts a goroutine: the executor (package sfn) stores each answer as
// an event and acts on it, so no goroutine waits on a running state.
//
// JSON values are the ones encoding/json decodes into any with
// UseNumber: map[string]any, []any, string, json.Number, bool and nil.
// [Decode] reads them so.
//
// JSONata as a query language is refused at parse time, as is
// Distributed Map, with a diagnostic that says so.
package asl
