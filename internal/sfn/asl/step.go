package asl

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Kind says what an [Action] asks the executor to do.
type Kind string

// The actions.
const (
	// ActNext: enter state Next with Output as its input.
	ActNext Kind = "Next"
	// ActSucceed: the definition (execution, branch or Map item) ends
	// with Output.
	ActSucceed Kind = "Succeed"
	// ActFail: the definition fails with Error and Cause.
	ActFail Kind = "Fail"
	// ActTask: call Resource with Parameters, then report the result to
	// [Complete] or the failure to [HandleError].
	ActTask Kind = "Task"
	// ActWait: at Until, enter Next (or end, when Next is "") with Output.
	ActWait Kind = "Wait"
	// ActMap: run the state's Processor once per item of Items, at most
	// MaxConcurrency at a time (0: no limit), then report the results in
	// item order to [Complete].
	ActMap Kind = "Map"
	// ActParallel: run every branch of the state on Output, then report
	// the results in branch order to [Complete].
	ActParallel Kind = "Parallel"
	// ActRetry: after Delay, enter the same state again with the same
	// input, counting one more attempt on retrier Retrier.
	ActRetry Kind = "Retry"
)

// Action is the answer of the step functions.
type Action struct {
	Kind Kind
	// Next is the state to enter (ActNext, ActWait; "" ends after the wait).
	Next string
	// Output is the value passed on (ActNext, ActSucceed, ActWait) or the
	// branches' input (ActParallel).
	Output any
	// Error and Cause describe a failure (ActFail).
	Error, Cause string
	// Resource, Parameters, TimeoutSeconds and HeartbeatSeconds describe
	// a task (ActTask); 0 seconds means no limit.
	Resource                         string
	Parameters                       any
	TimeoutSeconds, HeartbeatSeconds int64
	// Until is when a wait ends (ActWait).
	Until time.Time
	// Items are the Map's items after ItemSelector (ActMap).
	Items []any
	// MaxConcurrency bounds a Map's running items; 0 means no limit.
	MaxConcurrency int64
	// Delay and Retrier describe a retry (ActRetry).
	Delay   time.Duration
	Retrier int
}

// finish is the transition at the end of a state with output.
func finish(s *State, output any) Action {
	if s.End || s.Type == TypeSucceed {
		return Action{Kind: ActSucceed, Output: output}
	}
	return Action{Kind: ActNext, Next: s.Next, Output: output}
}

// inputOf applies InputPath to a state's raw input.
func inputOf(s *State, input any) (any, error) {
	return selectOpt(s.InputPath, input, "InputPath")
}

// selectOpt applies an InputPath or OutputPath: null gives {}.
func selectOpt(p OptPath, v any, field string) (any, error) {
	if p.Null {
		return map[string]any{}, nil
	}
	if p.Path == nil {
		return v, nil
	}
	out, ok := p.Path.Select(v)
	if !ok {
		return nil, runtimeErr(ErrRuntime, "Invalid path '%s' : No results for path: %s", p.Path.Text, p.Path.canonical())
	}
	return out, nil
}

// Enter decides what a state does with its raw input; ctx is the
// context object ($$) and now the entering time (for Wait). A
// *[StateError] reports a failure that [HandleError] decides on (unless
// it is Terminal).
func Enter(s *State, input, ctx any, now time.Time) (Action, error) {
	eff, err := inputOf(s, input)
	if err != nil {
		return Action{}, err
	}
	switch s.Type {
	case TypePass:
		result := eff
		if s.HasParameters {
			if result, err = applyTemplate(s.Parameters, eff, ctx); err != nil {
				return Action{}, err
			}
		}
		if s.HasResult {
			result = deepCopy(s.Result)
		}
		return outputOf(s, input, result)
	case TypeChoice:
		for _, r := range s.Choices {
			ok, err := r.Eval(eff, ctx)
			if err != nil {
				return Action{}, err
			}
			if ok {
				out, err := selectOpt(s.OutputPath, eff, "OutputPath")
				return Action{Kind: ActNext, Next: r.Next, Output: out}, err
			}
		}
		if s.Default == "" {
			return Action{}, runtimeErr(ErrNoChoiceMatched, "No Choice Rules matched and no Default was specified")
		}
		out, err := selectOpt(s.OutputPath, eff, "OutputPath")
		return Action{Kind: ActNext, Next: s.Default, Output: out}, err
	case TypeWait:
		until, err := waitUntil(s, eff, now)
		if err != nil {
			return Action{}, err
		}
		out, err := selectOpt(s.OutputPath, eff, "OutputPath")
		if err != nil {
			return Action{}, err
		}
		next := s.Next
		if s.End {
			next = ""
		}
		return Action{Kind: ActWait, Until: until, Next: next, Output: out}, nil
	case TypeSucceed:
		out, err := selectOpt(s.OutputPath, eff, "OutputPath")
		return Action{Kind: ActSucceed, Output: out}, err
	case TypeFail:
		a := Action{Kind: ActFail, Error: s.Error, Cause: s.Cause}
		if s.ErrorPath != "" {
			if a.Error, err = stringExpr(s.ErrorPath, input, ctx, "ErrorPath"); err != nil {
				return Action{}, err
			}
		}
		if s.CausePath != "" {
			if a.Cause, err = stringExpr(s.CausePath, input, ctx, "CausePath"); err != nil {
				return Action{}, err
			}
		}
		return a, nil
	case TypeTask:
		params := eff
		if s.HasParameters {
			if params, err = applyTemplate(s.Parameters, eff, ctx); err != nil {
				return Action{}, err
			}
		}
		a := Action{Kind: ActTask, Resource: s.Resource, Parameters: params, TimeoutSeconds: s.TimeoutSeconds, HeartbeatSeconds: s.HeartbeatSeconds}
		if s.TimeoutSecondsPath != nil {
			if a.TimeoutSeconds, err = positivePath(s.TimeoutSecondsPath, eff, "TimeoutSecondsPath"); err != nil {
				return Action{}, err
			}
		}
		if s.HeartbeatSecondsPath != nil {
			if a.HeartbeatSeconds, err = positivePath(s.HeartbeatSecondsPath, eff, "HeartbeatSecondsPath"); err != nil {
				return Action{}, err
			}
		}
		return a, nil
	case TypeParallel:
		in := eff
		if s.HasParameters {
			if in, err = applyTemplate(s.Parameters, eff, ctx); err != nil {
				return Action{}, err
			}
		}
		return Action{Kind: ActParallel, Output: in}, nil
	case TypeMap:
		return enterMap(s, eff, ctx)
	}
	return Action{}, runtimeErr(ErrRuntime, "unknown state type %q", s.Type)
}

// enterMap selects a Map's items and applies ItemSelector (or the older
// Parameters) to each with $$.Map.Item set.
func enterMap(s *State, eff, ctx any) (Action, error) {
	raw := eff
	if s.ItemsPath != nil {
		v, ok := s.ItemsPath.Select(eff)
		if !ok {
			return Action{}, runtimeErr(ErrRuntime, "Invalid path '%s' : No results for path: %s", s.ItemsPath.Text, s.ItemsPath.canonical())
		}
		raw = v
	}
	list, ok := raw.([]any)
	if !ok {
		return Action{}, runtimeErr(ErrRuntime, "Map state input must be an array but was %s", typeName(raw))
	}
	a := Action{Kind: ActMap, MaxConcurrency: s.MaxConcurrency, Items: make([]any, len(list))}
	if s.MaxConcurrencyPath != nil {
		n, err := positivePath(s.MaxConcurrencyPath, eff, "MaxConcurrencyPath")
		if err != nil {
			return Action{}, err
		}
		a.MaxConcurrency = n
	}
	selector, has := s.ItemSelector, s.HasItemSelector
	if !has && s.HasParameters {
		selector, has = s.Parameters, true
	}
	for i, item := range list {
		if !has {
			a.Items[i] = item
			continue
		}
		ictx := WithMapItem(ctx, i, item)
		v, err := applyTemplate(selector, eff, ictx)
		if err != nil {
			return Action{}, err
		}
		a.Items[i] = v
	}
	return a, nil
}

// WithMapItem returns a copy of the context object with Map.Item set to
// the item's index and value, as an item processor's $$ has it.
func WithMapItem(ctx any, index int, value any) any {
	out := map[string]any{}
	if m, ok := ctx.(map[string]any); ok {
		for k, v := range m {
			out[k] = v
		}
	}
	out["Map"] = map[string]any{"Item": map[string]any{"Index": num(int64(index)), "Value": value}}
	return out
}

// Complete applies ResultSelector, ResultPath and OutputPath to a
// Task's result (or the gathered Map or Parallel results) and says
// where to go.
func Complete(s *State, input, result, ctx any) (Action, error) {
	if s.HasResultSelector {
		var err error
		if result, err = applyTemplate(s.ResultSelector, result, ctx); err != nil {
			return Action{}, err
		}
	}
	return outputOf(s, input, result)
}

// outputOf places result in the raw input by ResultPath and applies
// OutputPath.
func outputOf(s *State, input, result any) (Action, error) {
	out, err := placeResult(s.ResultPath, input, result)
	if err != nil {
		return Action{}, err
	}
	if out, err = selectOpt(s.OutputPath, out, "OutputPath"); err != nil {
		return Action{}, err
	}
	return finish(s, out), nil
}

// placeResult applies a ResultPath: null keeps the input, absent or "$"
// gives the result.
func placeResult(p OptPath, input, result any) (any, error) {
	if p.Null {
		return input, nil
	}
	if p.Path == nil {
		return result, nil
	}
	out, err := p.Path.Assign(input, result)
	if err != nil {
		return nil, runtimeErr(ErrResultPathMatch, "%v", err)
	}
	return out, nil
}

// HandleError decides on a state's failure: retry by the first
// retrier that matches while it has attempts left (counts holds the
// attempts made per retrier), else the first catcher that matches,
// else fail.
func HandleError(s *State, input any, serr *StateError, counts []int64, rnd *rand.Rand) Action {
	fail := Action{Kind: ActFail, Error: serr.Name, Cause: serr.Cause}
	if serr.Terminal() {
		return fail
	}
	for i, r := range s.Retry {
		if !Matches(r.ErrorEquals, serr.Name) {
			continue
		}
		var n int64
		if i < len(counts) {
			n = counts[i]
		}
		if n < r.MaxAttempts {
			return Action{Kind: ActRetry, Retrier: i, Delay: r.Delay(n, rnd)}
		}
		break
	}
	for _, c := range s.Catch {
		if !Matches(c.ErrorEquals, serr.Name) {
			continue
		}
		out, err := placeResult(c.ResultPath, input, map[string]any{"Error": serr.Name, "Cause": serr.Cause})
		if err != nil {
			var se *StateError
			errors.As(err, &se)
			return Action{Kind: ActFail, Error: se.Name, Cause: se.Cause}
		}
		return Action{Kind: ActNext, Next: c.Next, Output: out}
	}
	return fail
}

// waitUntil computes the end of a Wait state.
func waitUntil(s *State, eff any, now time.Time) (time.Time, error) {
	switch {
	case s.Seconds != nil:
		return now.Add(time.Duration(*s.Seconds) * time.Second), nil
	case s.Timestamp != nil:
		return *s.Timestamp, nil
	case s.SecondsPath != nil:
		v, ok := s.SecondsPath.Select(eff)
		n, isInt := integer(v)
		if !ok || !isInt || n < 0 {
			return time.Time{}, runtimeErr(ErrRuntime, "The SecondsPath parameter does not reference a valid non-negative integer value: %s", s.SecondsPath.Text)
		}
		return now.Add(time.Duration(n) * time.Second), nil
	case s.TimestampPath != nil:
		v, ok := s.TimestampPath.Select(eff)
		str, _ := v.(string)
		t, err := parseTimestamp(str)
		if !ok || err != nil {
			return time.Time{}, runtimeErr(ErrRuntime, "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: %s", s.TimestampPath.Text)
		}
		return t, nil
	}
	return now, nil
}

// positivePath reads a positive integer by path (TimeoutSecondsPath and
// the like).
func positivePath(p *Path, eff any, field string) (int64, error) {
	v, ok := p.Select(eff)
	n, isInt := integer(v)
	if !ok || !isInt || n < 0 {
		return 0, runtimeErr(ErrRuntime, "The %s parameter does not reference a valid non-negative integer: %s", field, p.Text)
	}
	return n, nil
}

// stringExpr evaluates ErrorPath or CausePath, which must give a string.
func stringExpr(expr string, input, ctx any, field string) (string, error) {
	v, err := evalExpr(expr, input, ctx, field)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", runtimeErr(ErrRuntime, "The value of %s must be a string but was %s", field, fmt.Sprint(typeName(v)))
	}
	return s, nil
}
