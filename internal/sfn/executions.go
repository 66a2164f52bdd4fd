package sfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/sfn/asl"
)

// maxInputBytes is Step Functions' limit on an input or output (256 KiB).
const maxInputBytes = 256 << 10

func (s *Service) startExecution(r *http.Request, body []byte) (any, error) {
	x, err := s.startFromRequest(r, body, false)
	if err != nil {
		return nil, err
	}
	return map[string]any{"executionArn": x.ARN, "startDate": epoch(x.Start)}, nil
}

// startSyncExecution runs an EXPRESS execution and answers once it
// ended. AWS runs these at most once and in memory; here they take the
// durable path all the same, so a node that dies mid-way loses nothing
// (the caller, whose connection it held, sees an error and may describe
// the execution).
func (s *Service) startSyncExecution(r *http.Request, body []byte) (any, error) {
	x, err := s.startFromRequest(r, body, true)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Minute)
	defer cancel()
	w, err := s.kv.Watch(ctx, execKVKey(x.Key))
	if err != nil {
		return nil, fmt.Errorf("sfn: watch execution %s: %w", x.ARN, err)
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return nil, apiErr("ExecutionTimedOut", "The execution did not end within the 5 minutes an EXPRESS execution may run: '%s'", x.ARN)
		case e := <-w.Updates():
			if e == nil {
				continue
			}
			var cur execution
			if json.Unmarshal(e.Value(), &cur) != nil || cur.Status == StatusRunning {
				continue
			}
			out := map[string]any{
				"executionArn": cur.ARN, "stateMachineArn": cur.MachineARN, "name": cur.Name, "status": cur.Status,
				"startDate": epoch(cur.Start), "stopDate": epoch(cur.Stop), "input": cur.Input,
				"inputDetails":   map[string]any{"included": true},
				"billingDetails": map[string]any{"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": max(100, cur.Stop.Sub(cur.Start).Milliseconds())},
			}
			if cur.Output != nil {
				out["output"] = *cur.Output
				out["outputDetails"] = map[string]any{"included": true}
			}
			if cur.Error != "" {
				out["error"] = cur.Error
			}
			if cur.Cause != "" {
				out["cause"] = cur.Cause
			}
			return out, nil
		}
	}
}

// startFromRequest reads StartExecution's (or StartSyncExecution's)
// input and starts the execution; sync requires an EXPRESS machine.
func (s *Service) startFromRequest(r *http.Request, body []byte, sync bool) (*execution, error) {
	var in struct {
		ARN   string  `json:"stateMachineArn"`
		Name  string  `json:"name"`
		Input *string `json:"input"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	mname, aerr := machineName(in.ARN)
	if aerr != nil {
		return nil, aerr
	}
	if in.Name == "" {
		in.Name = uuid.NewString()
	}
	if !validName(in.Name) {
		return nil, apiErr("InvalidName", "Invalid Name: '%s'", in.Name)
	}
	input := "{}"
	if in.Input != nil {
		input = *in.Input
	}
	if len(input) > maxInputBytes {
		return nil, apiErr("InvalidExecutionInput", "Invalid State Machine Execution Input: 'The input exceeds the maximum size of %d bytes'", maxInputBytes)
	}
	if _, err := asl.Decode([]byte(input)); err != nil {
		return nil, apiErr("InvalidExecutionInput", "Invalid State Machine Execution Input: 'Unexpected input: %s'", input)
	}
	m, _, err := s.loadMachine(r.Context(), mname)
	if err != nil {
		return nil, err
	}
	if sync && m.Type != TypeExpress {
		return nil, apiErr("StateMachineTypeNotSupported", "This operation is not supported by this type of state machine")
	}
	return s.start(r.Context(), m, in.Name, input, nil)
}

// start creates an execution of m and publishes its first work item.
// The same name with the same input while it runs answers the running
// execution (StartExecution is idempotent so); otherwise a used name is
// ExecutionAlreadyExists.
func (s *Service) start(ctx context.Context, m *machine, name, input string, parent *parentTask) (*execution, error) {
	def, err := s.defs.get(m.Definition)
	if err != nil {
		return nil, err
	}
	now := s.now()
	x := &execution{
		ARN: s.executionARN(m.Name, name), Key: executionKey(m.Name, name), MachineARN: m.ARN, Machine: m.Name,
		Name: name, Status: StatusRunning, RoleARN: m.RoleARN, Definition: m.Definition, Type: m.Type,
		Input: input, Start: now, NextEvent: 1, NextFrame: 1, Frames: map[string]*frame{},
	}
	if parent != nil {
		x.ParentToken, x.ParentV2 = parent.token, parent.v2
	}
	if def.TimeoutSeconds > 0 {
		x.Deadline = now.Add(time.Duration(def.TimeoutSeconds) * time.Second)
	}
	root := &frame{ID: "f0", State: def.StartAt, Input: json.RawMessage(input), Phase: phaseEnter, Entered: now}
	x.Frames[root.ID] = root
	x.emit(nil, now, "ExecutionStarted", payloadDetails(map[string]any{"roleArn": m.RoleARN}, "input", json.RawMessage(input)))
	root.LastEvent = x.NextEvent - 1
	if st, ok := def.States[def.StartAt]; ok {
		x.emit(root, now, stateEvent(st.Type, "Entered"), payloadDetails(map[string]any{"name": def.StartAt}, "input", json.RawMessage(input)))
	}
	b, err := json.Marshal(x)
	if err != nil {
		return nil, fmt.Errorf("sfn: encode execution: %w", err)
	}
	if _, err := s.kv.Create(ctx, execKVKey(x.Key), b); err != nil {
		if !errors.Is(err, jetstream.ErrKeyExists) && !isConflict(err) {
			return nil, fmt.Errorf("sfn: store execution %s: %w", x.ARN, err)
		}
		old, _, lerr := s.loadExec(ctx, x.Key)
		if lerr != nil {
			return nil, fmt.Errorf("sfn: read execution %s: %w", x.ARN, lerr)
		}
		if old.Status == StatusRunning && old.Input == input {
			return old, nil
		}
		return nil, apiErr("ExecutionAlreadyExists", "Execution Already Exists: '%s'", x.ARN)
	}
	pokes := []work{{Exec: x.Key, Frame: root.ID, Step: 0}}
	if !x.Deadline.IsZero() {
		pokes = append(pokes, work{Exec: x.Key, Frame: "", Step: -1, At: x.Deadline, Timeout: true})
	}
	if m := s.deps.Metrics; m != nil {
		m.Started.WithLabelValues(x.Machine).Inc()
	}
	if err := s.publish(ctx, x, nil, pokes); err != nil {
		// Stored: a redelivered item of this execution, or the next
		// start, publishes again; report the failure all the same.
		return nil, err
	}
	return x, nil
}

// parentTask is the states:startExecution.sync task that starts an
// execution.
type parentTask struct {
	token string
	v2    bool
}

// findExecution reads the execution an ARN names.
func (s *Service) findExecution(ctx context.Context, arn string) (*execution, error) {
	mname, name, aerr := executionName(arn)
	if aerr != nil {
		return nil, aerr
	}
	x, _, err := s.loadExec(ctx, executionKey(mname, name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, errExecutionNotFound(arn)
	}
	if err != nil {
		return nil, err
	}
	return x, nil
}

// executionIn reads a request naming one execution by executionArn and
// finds it.
func (s *Service) executionIn(r *http.Request, body []byte) (*execution, error) {
	var in struct {
		ARN string `json:"executionArn"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return s.findExecution(r.Context(), in.ARN)
}

func (s *Service) describeExecution(r *http.Request, body []byte) (any, error) {
	x, err := s.executionIn(r, body)
	if err != nil {
		return nil, err
	}
	out := map[string]any{
		"executionArn": x.ARN, "stateMachineArn": x.MachineARN, "name": x.Name, "status": x.Status,
		"startDate": epoch(x.Start), "input": x.Input, "inputDetails": map[string]any{"included": true},
		"redriveCount": 0, "redriveStatus": "NOT_REDRIVABLE",
	}
	if !x.Stop.IsZero() {
		out["stopDate"] = epoch(x.Stop)
	}
	if x.Output != nil {
		out["output"] = *x.Output
		out["outputDetails"] = map[string]any{"included": true}
	}
	if x.Error != "" {
		out["error"] = x.Error
	}
	if x.Cause != "" {
		out["cause"] = x.Cause
	}
	return out, nil
}

func (s *Service) describeMachineForExecution(r *http.Request, body []byte) (any, error) {
	x, err := s.executionIn(r, body)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"stateMachineArn": x.MachineARN, "name": x.Machine, "definition": x.Definition, "roleArn": x.RoleARN,
		"updateDate":           epoch(x.Start),
		"loggingConfiguration": map[string]any{"level": "OFF", "includeExecutionData": false},
		"tracingConfiguration": map[string]any{"enabled": false},
	}, nil
}

func (s *Service) stopExecution(r *http.Request, body []byte) (any, error) {
	var in struct {
		ARN   string `json:"executionArn"`
		Error string `json:"error"`
		Cause string `json:"cause"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	x, err := s.findExecution(r.Context(), in.ARN)
	if err != nil {
		return nil, err
	}
	var stopped time.Time
	err = s.change(r.Context(), x.Key, func(x *execution) (*frame, error) {
		if x.Status != StatusRunning {
			return nil, apiErr("ExecutionNotRunning", "Execution Not Running: '%s'", x.ARN) // not an AWS error: see below
		}
		return nil, nil
	}, func(c *commit, _ *frame) {
		c.x.Status, c.x.Stop, c.x.Error, c.x.Cause = StatusAborted, c.now, in.Error, in.Cause
		d := map[string]any{}
		if in.Error != "" {
			d["error"] = in.Error
		}
		if in.Cause != "" {
			d["cause"] = in.Cause
		}
		c.x.emit(nil, c.now, "ExecutionAborted", d)
		c.x.Frames = nil
		stopped = c.now
	})
	var e *Error
	if errors.As(err, &e) && e.Type == "ExecutionNotRunning" {
		// Stopping a finished execution succeeds and changes nothing.
		return map[string]any{"stopDate": epoch(x.Stop)}, nil
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"stopDate": epoch(stopped)}, nil
}

func (s *Service) listExecutions(r *http.Request, body []byte) (any, error) {
	var in struct {
		ARN        string `json:"stateMachineArn"`
		Status     string `json:"statusFilter"`
		MaxResults int    `json:"maxResults"`
		NextToken  string `json:"nextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	mname, aerr := machineName(in.ARN)
	if aerr != nil {
		return nil, aerr
	}
	if _, _, err := s.loadMachine(r.Context(), mname); err != nil {
		return nil, err
	}
	switch in.Status {
	case "", StatusRunning, StatusSucceeded, StatusFailed, StatusTimedOut, StatusAborted, "PENDING_REDRIVE":
	default:
		return nil, errValidation("1 validation error detected: Value '%s' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]", in.Status)
	}
	keys, err := s.keys(r, "ex."+machineKey(mname)+".*")
	if err != nil {
		return nil, err
	}
	var xs []*execution
	for _, k := range keys {
		e, err := s.kv.Get(r.Context(), k)
		if err != nil {
			continue
		}
		var x execution
		if json.Unmarshal(e.Value(), &x) == nil && (in.Status == "" || x.Status == in.Status) {
			xs = append(xs, &x)
		}
	}
	// Newest first, as Step Functions lists them.
	sort.Slice(xs, func(i, j int) bool { return xs[i].Start.After(xs[j].Start) })
	from, to, next, err := page(in.MaxResults, in.NextToken, len(xs))
	if err != nil {
		return nil, err
	}
	items := []map[string]any{}
	for _, x := range xs[from:to] {
		it := map[string]any{"executionArn": x.ARN, "stateMachineArn": x.MachineARN, "name": x.Name, "status": x.Status, "startDate": epoch(x.Start)}
		if !x.Stop.IsZero() {
			it["stopDate"] = epoch(x.Stop)
		}
		items = append(items, it)
	}
	out := map[string]any{"executions": items}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

func (s *Service) getExecutionHistory(r *http.Request, body []byte) (any, error) {
	var in struct {
		ARN          string `json:"executionArn"`
		MaxResults   int    `json:"maxResults"`
		NextToken    string `json:"nextToken"`
		ReverseOrder bool   `json:"reverseOrder"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	x, err := s.findExecution(r.Context(), in.ARN)
	if err != nil {
		return nil, err
	}
	events, err := s.history(r.Context(), x)
	if err != nil {
		return nil, err
	}
	if in.ReverseOrder {
		for i, j := 0, len(events)-1; i < j; i, j = i+1, j-1 {
			events[i], events[j] = events[j], events[i]
		}
	}
	from, to, next, err := page(in.MaxResults, in.NextToken, len(events))
	if err != nil {
		return nil, err
	}
	items := []map[string]any{}
	for _, e := range events[from:to] {
		items = append(items, e.wire())
	}
	out := map[string]any{"events": items}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

// history reads an execution's events in id order, without repeats,
// with those of the last commit (which may not be published yet).
func (s *Service) history(ctx context.Context, x *execution) ([]event, error) {
	byID := map[int64]event{}
	cons, err := s.events.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{eventSubject + x.Key}, InactiveThreshold: 10 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("sfn: read history: %w", err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("sfn: read history: %w", err)
	}
	remaining := int(info.NumPending)
	for remaining > 0 {
		batch, err := cons.Fetch(min(remaining, 1000), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return nil, fmt.Errorf("sfn: read history: %w", err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			var e event
			if json.Unmarshal(m.Data(), &e) == nil {
				byID[e.ID] = e
			}
		}
		if got == 0 {
			break
		}
		remaining -= got
	}
	for _, e := range x.Pending {
		byID[e.ID] = e
	}
	out := make([]event, 0, len(byID))
	for _, e := range byID {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// sendTask completes the task a token names with change.
func (s *Service) sendTask(r *http.Request, token string, change func(c *commit, f *frame)) error {
	if len(token) == 0 || len(token) > 1024 {
		return errValidation("1 validation error detected: Value at 'taskToken' failed to satisfy constraint: Member must have length between 1 and 1024")
	}
	return s.completeTask(r.Context(), token, change)
}

// completeTask commits change on the task a token names.
func (s *Service) completeTask(ctx context.Context, token string, change func(c *commit, f *frame)) error {
	t, ok := parseToken(token)
	if !ok {
		return apiErr("InvalidToken", "Invalid Token: 'Invalid token'")
	}
	err := s.change(ctx, t.Exec, func(x *execution) (*frame, error) {
		f := x.Frames[t.Frame]
		if x.Status != StatusRunning || f == nil || f.Step != t.Step || f.Task == nil || f.Task.Token != token ||
			(f.Phase != phaseTask && f.Phase != phaseToken) {
			return nil, apiErr("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")
		}
		return f, nil
	}, change)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return apiErr("TaskDoesNotExist", "Task Does Not Exist: 'Provided task does not exist'")
	}
	return err
}

func (s *Service) sendTaskSuccess(r *http.Request, body []byte) (any, error) {
	var in struct {
		Token  string  `json:"taskToken"`
		Output *string `json:"output"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Output == nil {
		return nil, errValidation("1 validation error detected: Value null at 'output' failed to satisfy constraint: Member must not be null")
	}
	if _, err := asl.Decode([]byte(*in.Output)); err != nil {
		return nil, apiErr("InvalidOutput", "Invalid Output: '%s'", *in.Output)
	}
	err := s.sendTask(r, in.Token, func(c *commit, f *frame) { c.taskSucceeded(f, json.RawMessage(*in.Output)) })
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) sendTaskFailure(r *http.Request, body []byte) (any, error) {
	var in struct {
		Token string `json:"taskToken"`
		Error string `json:"error"`
		Cause string `json:"cause"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	err := s.sendTask(r, in.Token, func(c *commit, f *frame) { c.taskFailed(f, in.Error, in.Cause) })
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) sendTaskHeartbeat(r *http.Request, body []byte) (any, error) {
	var in struct {
		Token string `json:"taskToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	err := s.sendTask(r, in.Token, func(c *commit, f *frame) {
		f.Task.Beat = c.now
		if at := f.Task.nextCheck(); !at.IsZero() {
			c.poke(f, at, true)
		}
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}
