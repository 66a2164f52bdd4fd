package sfn

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/updraft/updraft/internal/sfn/asl"
)

// maxInlineHops bounds the states one commit enters without a task,
// wait or fan-out in between; past it the frame continues from a work
// item, so one commit never grows without bound (a long Pass chain).
const maxInlineHops = 250

// commit is one change to an execution under compare-and-set: it
// mutates the record and collects the work items to publish once the
// change is stored. It never blocks and does no I/O: every decision
// comes from package asl.
type commit struct {
	x     *execution
	now   time.Time
	defs  *definitions
	pokes []work
	// enter lists frames in phaseEnter to enter within this commit.
	enter []*frame
	hops  int
	// root is the execution's parsed definition, once looked up.
	root *asl.Definition
	// exits records the states left in this commit, for metrics.
	exits []stateExit
}

// stateExit is one state left: its type and the time spent in it.
type stateExit struct {
	typ string
	d   time.Duration
}

// def returns the definition frame f runs.
func (c *commit) def(f *frame) (*asl.Definition, error) {
	if c.root == nil {
		d, err := c.defs.get(c.x.Definition)
		if err != nil {
			return nil, err
		}
		c.root = d
	}
	d := c.root
	for _, p := range f.Path {
		st, ok := d.States[p.State]
		if !ok {
			return nil, fmt.Errorf("sfn: frame %s: no state %q", f.ID, p.State)
		}
		if p.Branch < 0 {
			d = st.Processor
		} else if p.Branch < len(st.Branches) {
			d = st.Branches[p.Branch]
		} else {
			return nil, fmt.Errorf("sfn: frame %s: no branch %d of %q", f.ID, p.Branch, p.State)
		}
	}
	return d, nil
}

// state returns the state frame f is in.
func (c *commit) state(f *frame) (*asl.State, error) {
	d, err := c.def(f)
	if err != nil {
		return nil, err
	}
	st, ok := d.States[f.State]
	if !ok {
		return nil, fmt.Errorf("sfn: frame %s: no state %q", f.ID, f.State)
	}
	return st, nil
}

// poke asks for frame f to be worked on at its current step, at at (zero: now).
func (c *commit) poke(f *frame, at time.Time, timeout bool) {
	c.pokes = append(c.pokes, work{Exec: c.x.Key, Frame: f.ID, Step: f.Step, At: at, Timeout: timeout})
}

// livePokes drops the work items whose frame moved on or went away in
// the same commit.
func (c *commit) livePokes() []work {
	var out []work
	for _, w := range c.pokes {
		if f := c.x.Frames[w.Frame]; f != nil && f.Step == w.Step && c.x.Status == StatusRunning {
			out = append(out, w)
		}
	}
	return out
}

// contextObject builds $$ for frame f.
func (c *commit) contextObject(f *frame) any {
	var input any = map[string]any{}
	if v, err := asl.Decode([]byte(c.x.Input)); err == nil {
		input = v
	}
	var retries int64
	for _, n := range f.Retries {
		retries += n
	}
	ctx := map[string]any{
		"Execution": map[string]any{
			"Id": c.x.ARN, "Input": input, "Name": c.x.Name, "RoleArn": c.x.RoleARN,
			"StartTime":    c.x.Start.UTC().Format(time.RFC3339Nano),
			"RedriveCount": json.Number("0"),
		},
		"State": map[string]any{
			"EnteredTime": f.Entered.UTC().Format(time.RFC3339Nano), "Name": f.State,
			"RetryCount": json.Number(fmt.Sprint(retries)),
		},
		"StateMachine": map[string]any{"Id": c.x.MachineARN, "Name": c.x.Machine},
	}
	if f.Task != nil && f.Task.Token != "" {
		ctx["Task"] = map[string]any{"Token": f.Task.Token}
	}
	if f.ItemValue != nil {
		v, _ := asl.Decode(f.ItemValue)
		return asl.WithMapItem(ctx, f.Index, v)
	}
	return ctx
}

// raw encodes a JSON value for the record.
func raw(v any) json.RawMessage {
	s, err := asl.Encode(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return json.RawMessage(s)
}

// stateEvent names an event of a state type: TaskStateEntered and so on.
func stateEvent(typ, what string) string { return typ + "State" + what }

// run enters the frames queued for entering, following transitions
// inline up to maxInlineHops.
func (c *commit) run() {
	for len(c.enter) > 0 {
		f := c.enter[0]
		c.enter = c.enter[1:]
		if c.x.Frames[f.ID] != f || f.Phase != phaseEnter || c.x.Status != StatusRunning {
			continue
		}
		if c.hops >= maxInlineHops {
			c.poke(f, time.Time{}, false)
			continue
		}
		c.hops++
		c.enterState(f)
	}
}

// transition moves frame f to state next with input, recording the
// exit of its state and the entry of the next.
func (c *commit) transition(f *frame, from *asl.State, next string, output json.RawMessage) {
	if from != nil {
		c.x.emit(f, c.now, stateEvent(from.Type, "Exited"), payloadDetails(map[string]any{"name": from.Name}, "output", output))
		c.exits = append(c.exits, stateExit{typ: from.Type, d: c.now.Sub(f.Entered)})
	}
	f.State, f.Input, f.Phase = next, output, phaseEnter
	f.Step++
	f.Retries, f.Task, f.Until, f.Next, f.Output = nil, nil, time.Time{}, "", nil
	f.Items, f.Results, f.Started, f.Total, f.Running, f.Finished, f.Kind = nil, nil, 0, 0, 0, 0, ""
	f.Entered = c.now
	if st, err := c.state(f); err == nil {
		c.x.emit(f, c.now, stateEvent(st.Type, "Entered"), payloadDetails(map[string]any{"name": next}, "input", output))
	}
	c.enter = append(c.enter, f)
}

// enterState runs asl.Enter for frame f and acts on the answer.
func (c *commit) enterState(f *frame) {
	st, err := c.state(f)
	if err != nil {
		c.failFrame(f, asl.ErrRuntime, err.Error())
		return
	}
	input, err := asl.Decode(f.Input)
	if err != nil {
		c.failFrame(f, asl.ErrRuntime, "the state's input is not JSON")
		return
	}
	if st.Type == asl.TypeTask && (strings.HasSuffix(st.Resource, ".waitForTaskToken") || strings.Contains(st.Resource, ".sync")) {
		f.Task = &taskCall{Token: newToken(c.x.Key, f.ID, f.Step+1)}
	}
	act, err := asl.Enter(st, input, c.contextObject(f), c.now)
	if err != nil {
		c.stateError(f, st, input, err)
		return
	}
	c.act(f, st, act)
}

// act carries out what asl decided for frame f in state st.
func (c *commit) act(f *frame, st *asl.State, act asl.Action) {
	switch act.Kind {
	case asl.ActNext:
		c.transition(f, st, act.Next, raw(act.Output))
	case asl.ActSucceed:
		out := raw(act.Output)
		c.x.emit(f, c.now, stateEvent(st.Type, "Exited"), payloadDetails(map[string]any{"name": st.Name}, "output", out))
		c.exits = append(c.exits, stateExit{typ: st.Type, d: c.now.Sub(f.Entered)})
		c.finishFrame(f, out)
	case asl.ActFail:
		c.failFrame(f, act.Error, act.Cause)
	case asl.ActTask:
		token := ""
		if f.Task != nil {
			token = f.Task.Token
		}
		f.Task = &taskCall{Resource: act.Resource, Parameters: raw(act.Parameters), TimeoutSeconds: act.TimeoutSeconds,
			HeartbeatSeconds: act.HeartbeatSeconds, Token: token, Beat: c.now}
		if act.TimeoutSeconds > 0 {
			f.Task.Deadline = c.now.Add(time.Duration(act.TimeoutSeconds) * time.Second)
		}
		f.Phase = phaseTask
		f.Step++
		c.scheduleEvents(f, f.Task)
		c.poke(f, time.Time{}, false)
		if d := f.Task.nextCheck(); !d.IsZero() {
			c.poke(f, d, true)
		}
	case asl.ActWait:
		f.Phase, f.Until, f.Next, f.Output = phaseWait, act.Until, act.Next, raw(act.Output)
		f.Step++
		c.poke(f, act.Until, false)
	case asl.ActRetry:
		for len(f.Retries) <= act.Retrier {
			f.Retries = append(f.Retries, 0)
		}
		f.Retries[act.Retrier]++
		f.Phase, f.Until, f.Task = phaseRetry, c.now.Add(act.Delay), nil
		f.Step++
		c.poke(f, f.Until, false)
	case asl.ActMap, asl.ActParallel:
		c.fanOut(f, st, act)
	}
}

// scheduleEvents records that a task was scheduled and started.
func (c *commit) scheduleEvents(f *frame, t *taskCall) {
	if isLambdaARN(t.Resource) {
		d := payloadDetails(map[string]any{"resource": t.Resource}, "input", t.Parameters)
		if t.TimeoutSeconds > 0 {
			d["timeoutInSeconds"] = t.TimeoutSeconds
		}
		c.x.emit(f, c.now, "LambdaFunctionScheduled", d)
		c.x.emit(f, c.now, "LambdaFunctionStarted", nil)
		return
	}
	rtype, res := resourceParts(t.Resource)
	d := map[string]any{"resourceType": rtype, "resource": res, "region": c.defs.region, "parameters": string(t.Parameters)}
	if t.TimeoutSeconds > 0 {
		d["timeoutInSeconds"] = t.TimeoutSeconds
	}
	if t.HeartbeatSeconds > 0 {
		d["heartbeatInSeconds"] = t.HeartbeatSeconds
	}
	c.x.emit(f, c.now, "TaskScheduled", d)
	c.x.emit(f, c.now, "TaskStarted", map[string]any{"resourceType": rtype, "resource": res})
}

// nextCheck is when a task's timeout or heartbeat must next be checked;
// zero when it has neither.
func (t *taskCall) nextCheck() time.Time {
	var at time.Time
	if !t.Deadline.IsZero() {
		at = t.Deadline
	}
	if t.HeartbeatSeconds > 0 {
		hb := t.Beat.Add(time.Duration(t.HeartbeatSeconds) * time.Second)
		if at.IsZero() || hb.Before(at) {
			at = hb
		}
	}
	return at
}

// taskSucceeded completes frame f's task with result.
func (c *commit) taskSucceeded(f *frame, result json.RawMessage) {
	st, err := c.state(f)
	if err != nil {
		c.failFrame(f, asl.ErrRuntime, err.Error())
		return
	}
	if isLambdaARN(f.Task.Resource) {
		c.x.emit(f, c.now, "LambdaFunctionSucceeded", payloadDetails(map[string]any{}, "output", result))
	} else {
		rtype, res := resourceParts(f.Task.Resource)
		c.x.emit(f, c.now, "TaskSucceeded", payloadDetails(map[string]any{"resourceType": rtype, "resource": res}, "output", result))
	}
	c.complete(f, st, result)
}

// complete applies asl.Complete to the result of frame f's state.
func (c *commit) complete(f *frame, st *asl.State, result json.RawMessage) {
	input, _ := asl.Decode(f.Input)
	res, err := asl.Decode(result)
	if err != nil {
		res = string(result)
	}
	act, err := asl.Complete(st, input, res, c.contextObject(f))
	if err != nil {
		c.stateError(f, st, input, err)
		return
	}
	c.act(f, st, act)
}

// taskFailed fails frame f's task with an error (timedOut: a timeout).
func (c *commit) taskFailed(f *frame, name, cause string) {
	st, err := c.state(f)
	if err != nil {
		c.failFrame(f, asl.ErrRuntime, err.Error())
		return
	}
	d := map[string]any{"error": name, "cause": cause}
	timedOut := name == asl.ErrTimeout || name == asl.ErrHeartbeatTimeout
	switch {
	case isLambdaARN(f.Task.Resource) && timedOut:
		c.x.emit(f, c.now, "LambdaFunctionTimedOut", d)
	case isLambdaARN(f.Task.Resource):
		c.x.emit(f, c.now, "LambdaFunctionFailed", d)
	default:
		rtype, res := resourceParts(f.Task.Resource)
		d["resourceType"], d["resource"] = rtype, res
		if timedOut {
			c.x.emit(f, c.now, "TaskTimedOut", d)
		} else {
			c.x.emit(f, c.now, "TaskFailed", d)
		}
	}
	input, _ := asl.Decode(f.Input)
	c.stateError(f, st, input, &asl.StateError{Name: name, Cause: cause})
}

// stateError lets the state's Retry and Catch decide on err.
func (c *commit) stateError(f *frame, st *asl.State, input any, err error) {
	var se *asl.StateError
	if !errors.As(err, &se) {
		se = &asl.StateError{Name: asl.ErrRuntime, Cause: err.Error()}
	}
	switch st.Type {
	case asl.TypeTask, asl.TypeMap, asl.TypeParallel:
	default:
		c.failFrame(f, se.Name, se.Cause)
		return
	}
	c.act(f, st, asl.HandleError(st, input, se, f.Retries, nil))
}

// fanOut starts a Map's iterations or a Parallel's branches.
func (c *commit) fanOut(f *frame, st *asl.State, act asl.Action) {
	f.Phase = phaseFanout
	f.Step++
	f.Kind = st.Type
	f.Started, f.Running, f.Finished = 0, 0, 0
	if act.Kind == asl.ActMap {
		f.Total = len(act.Items)
		f.Items = make([]json.RawMessage, len(act.Items))
		for i, it := range act.Items {
			f.Items[i] = raw(it)
		}
		f.MaxConc = int(act.MaxConcurrency)
		c.x.emit(f, c.now, "MapStateStarted", map[string]any{"length": f.Total})
	} else {
		f.Total = len(st.Branches)
		f.Output = raw(act.Output)
		f.MaxConc = 0
		c.x.emit(f, c.now, "ParallelStateStarted", nil)
	}
	f.Results = make([]json.RawMessage, f.Total)
	if f.Total == 0 {
		c.gathered(f, st)
		return
	}
	c.startChildren(f, st)
}

// maxInlineMapConcurrency is how many iterations an inline Map runs at
// once at most, whatever its MaxConcurrency ("In Inline mode, Step
// Functions runs up to 40 concurrent iterations"): it also bounds the
// frames one execution entry holds.
const maxInlineMapConcurrency = 40

// startChildren starts children of f while its concurrency allows.
func (c *commit) startChildren(f *frame, st *asl.State) {
	limit := f.Total
	if f.Kind == asl.TypeMap {
		limit = maxInlineMapConcurrency
		if f.MaxConc > 0 {
			limit = min(f.MaxConc, limit)
		}
	}
	for f.Started < f.Total && f.Running < limit {
		i := f.Started
		f.Started++
		f.Running++
		child := &frame{ID: fmt.Sprintf("f%d", c.x.NextFrame), Parent: f.ID, Index: i, Entered: c.now, Phase: phaseEnter, LastEvent: f.LastEvent}
		c.x.NextFrame++
		child.Path = append(append([]pathStep{}, f.Path...), pathStep{State: st.Name, Branch: -1})
		var d *asl.Definition
		if f.Kind == asl.TypeMap {
			// $$.Map.Item.Value is the item before ItemSelector.
			child.Input = f.Items[i]
			child.ItemValue = c.mapItemValue(f, st, i)
			d = st.Processor
			c.x.emit(f, c.now, "MapIterationStarted", map[string]any{"name": st.Name, "index": i})
			child.LastEvent = f.LastEvent
		} else {
			child.Input = f.Output
			child.Path[len(child.Path)-1].Branch = i
			d = st.Branches[i]
		}
		child.State = d.StartAt
		c.x.Frames[child.ID] = child
		if sst, ok := d.States[d.StartAt]; ok {
			c.x.emit(child, c.now, stateEvent(sst.Type, "Entered"), payloadDetails(map[string]any{"name": d.StartAt}, "input", child.Input))
		}
		// Entered in this commit: a first Task state is scheduled at once.
		c.enter = append(c.enter, child)
	}
	if f.Kind == asl.TypeMap && f.Started == f.Total {
		f.Items = nil
	}
}

// mapItemValue is item i of a Map before ItemSelector, for $$.Map.Item.Value.
func (c *commit) mapItemValue(f *frame, st *asl.State, i int) json.RawMessage {
	input, err := asl.Decode(f.Input)
	if err != nil {
		return f.Items[i]
	}
	list := input
	if st.InputPath.Path != nil {
		list, _ = st.InputPath.Path.Select(input)
	}
	if st.ItemsPath != nil {
		list, _ = st.ItemsPath.Select(list)
	}
	if a, ok := list.([]any); ok && i < len(a) {
		return raw(a[i])
	}
	return f.Items[i]
}

// finishFrame ends frame f with output: the execution succeeds, or the
// parent gathers the result.
func (c *commit) finishFrame(f *frame, output json.RawMessage) {
	if f.Parent == "" {
		c.x.Status = StatusSucceeded
		out := string(output)
		c.x.Output = &out
		c.x.Stop = c.now
		c.x.emit(f, c.now, "ExecutionSucceeded", payloadDetails(map[string]any{}, "output", output))
		c.x.Frames = nil
		return
	}
	p := c.x.Frames[f.Parent]
	delete(c.x.Frames, f.ID)
	if p == nil || p.Phase != phaseFanout {
		return
	}
	pst, err := c.state(p)
	if err != nil {
		c.failFrame(p, asl.ErrRuntime, err.Error())
		return
	}
	p.Results[f.Index] = output
	p.Running--
	p.Finished++
	if p.Kind == asl.TypeMap {
		c.x.emit(p, c.now, "MapIterationSucceeded", map[string]any{"name": pst.Name, "index": f.Index})
	}
	if p.Finished == p.Total {
		c.gathered(p, pst)
		return
	}
	c.startChildren(p, pst)
}

// gathered completes a Map or Parallel state with its children's results.
func (c *commit) gathered(p *frame, st *asl.State) {
	results := make([]any, len(p.Results))
	for i, r := range p.Results {
		v, err := asl.Decode(r)
		if err != nil {
			v = nil
		}
		results[i] = v
	}
	if p.Kind == asl.TypeMap {
		c.x.emit(p, c.now, "MapStateSucceeded", nil)
	} else {
		c.x.emit(p, c.now, "ParallelStateSucceeded", nil)
	}
	p.Results, p.Items = nil, nil
	c.complete(p, st, raw(results))
}

// failFrame fails frame f: the execution fails, or the parent's Map or
// Parallel state fails with the same error after its other children are
// stopped.
func (c *commit) failFrame(f *frame, name, cause string) {
	if f.Parent == "" {
		if st, err := c.state(f); err == nil && st.Type == asl.TypeFail {
			// FailStateEntered was recorded on entry; nothing exits a Fail state.
			_ = st
		}
		c.x.Status = StatusFailed
		c.x.Error, c.x.Cause = name, cause
		c.x.Stop = c.now
		c.x.emit(f, c.now, "ExecutionFailed", map[string]any{"error": name, "cause": cause})
		c.x.Frames = nil
		return
	}
	p := c.x.Frames[f.Parent]
	delete(c.x.Frames, f.ID)
	if p == nil || p.Phase != phaseFanout {
		return
	}
	pst, err := c.state(p)
	if err != nil {
		c.failFrame(p, asl.ErrRuntime, err.Error())
		return
	}
	c.dropChildren(p.ID)
	if p.Kind == asl.TypeMap {
		c.x.emit(p, c.now, "MapIterationFailed", map[string]any{"name": pst.Name, "index": f.Index})
		c.x.emit(p, c.now, "MapStateFailed", nil)
	} else {
		c.x.emit(p, c.now, "ParallelStateFailed", nil)
	}
	input, _ := asl.Decode(p.Input)
	p.Results, p.Items = nil, nil
	c.stateError(p, pst, input, &asl.StateError{Name: name, Cause: cause})
}

// dropChildren removes every descendant of frame id: their work items
// go stale and their running tasks' results are dropped.
func (c *commit) dropChildren(id string) {
	for cid, ch := range c.x.Frames {
		if ch.Parent == id {
			delete(c.x.Frames, cid)
			c.dropChildren(cid)
		}
	}
}

// newToken makes a task token: it names the execution, frame and step
// it completes, and carries 16 random bytes so it cannot be guessed.
func newToken(exec, frameID string, step int64) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	doc, _ := json.Marshal(tokenDoc{Exec: exec, Frame: frameID, Step: step, Nonce: base64.RawURLEncoding.EncodeToString(b[:])})
	return base64.RawURLEncoding.EncodeToString(doc)
}

// tokenDoc is what a task token encodes.
type tokenDoc struct {
	Exec  string `json:"e"`
	Frame string `json:"f"`
	Step  int64  `json:"s"`
	Nonce string `json:"n"`
}

// parseToken reads a task token; false if it is not one.
func parseToken(s string) (tokenDoc, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return tokenDoc{}, false
	}
	var t tokenDoc
	if json.Unmarshal(b, &t) != nil || t.Exec == "" || t.Frame == "" || t.Nonce == "" {
		return tokenDoc{}, false
	}
	return t, true
}
