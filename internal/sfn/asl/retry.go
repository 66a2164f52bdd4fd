package asl

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Retrier is one entry of a state's Retry.
type Retrier struct {
	ErrorEquals     []string
	IntervalSeconds int64   // default 1
	MaxAttempts     int64   // default 3; 0 never retries
	BackoffRate     float64 // default 2.0
	MaxDelaySeconds int64   // 0 means no cap
	// JitterFull is JitterStrategy FULL: the delay is drawn from
	// [0, computed delay].
	JitterFull bool
}

// Catcher is one entry of a state's Catch.
type Catcher struct {
	ErrorEquals []string
	Next        string
	ResultPath  OptPath
}

// Matches reports whether an ErrorEquals list matches the error name:
// States.ALL matches everything, States.TaskFailed everything but the
// timeouts, States.Timeout also the heartbeat timeout.
func Matches(equals []string, name string) bool {
	for _, e := range equals {
		switch {
		case e == name, e == ErrALL:
			return true
		case e == ErrTaskFailed && name != ErrTimeout && name != ErrHeartbeatTimeout:
			return true
		case e == ErrTimeout && name == ErrHeartbeatTimeout:
			return true
		}
	}
	return false
}

// Delay is the wait before retry number attempt (0 for the first retry):
// IntervalSeconds × BackoffRate^attempt, capped by MaxDelaySeconds, and
// drawn uniformly from [0, that] under FULL jitter.
func (r Retrier) Delay(attempt int64, rnd *rand.Rand) time.Duration {
	d := float64(r.IntervalSeconds) * math.Pow(r.BackoffRate, float64(attempt))
	if r.MaxDelaySeconds > 0 {
		d = math.Min(d, float64(r.MaxDelaySeconds))
	}
	d = math.Min(d, 99999999)
	if r.JitterFull {
		if rnd == nil {
			d *= rand.Float64()
		} else {
			d *= rnd.Float64()
		}
	}
	return time.Duration(d * float64(time.Second))
}

func (v *validator) errorEquals(obj map[string]any, at string) []string {
	raw, ok := obj["ErrorEquals"].([]any)
	if !ok {
		v.schema(at, "These fields are required: [ErrorEquals]")
		return nil
	}
	if len(raw) == 0 {
		v.schema(at+"/ErrorEquals", "ErrorEquals must not be empty")
	}
	var out []string
	for i, e := range raw {
		s, ok := e.(string)
		if !ok {
			v.schema(fmt.Sprintf("%s/ErrorEquals[%d]", at, i), "Expected value of type: STRING but was %s", typeName(e))
			continue
		}
		out = append(out, s)
	}
	if slices.Contains(out, ErrALL) && len(out) > 1 {
		v.schema(at+"/ErrorEquals", "States.ALL must appear alone in ErrorEquals")
	}
	return out
}

func (v *validator) retriers(obj map[string]any, at string) []Retrier {
	raw, ok := obj["Retry"]
	if !ok {
		return nil
	}
	list, ok := raw.([]any)
	if !ok {
		v.schema(at+"/Retry", "Expected value of type: ARRAY but was %s", typeName(raw))
		return nil
	}
	var out []Retrier
	for i, e := range list {
		rat := fmt.Sprintf("%s/Retry[%d]", at, i)
		m, ok := e.(map[string]any)
		if !ok {
			v.schema(rat, "Expected value of type: OBJECT but was %s", typeName(e))
			continue
		}
		for _, k := range sortedKeys(m) {
			switch k {
			case "ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment":
			default:
				v.schema(rat, "The field %q is not supported by Step Functions", k)
			}
		}
		r := Retrier{ErrorEquals: v.errorEquals(m, rat), IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2}
		if x, ok := m["IntervalSeconds"]; ok {
			r.IntervalSeconds = v.positiveInt(x, rat+"/IntervalSeconds")
		}
		if x, ok := m["MaxAttempts"]; ok {
			n, ok := integer(x)
			if !ok || n < 0 || n > 99999999 {
				v.schema(rat+"/MaxAttempts", "Expected a non-negative integer but was %s", mustEncode(x))
			}
			r.MaxAttempts = n
		}
		if x, ok := m["BackoffRate"]; ok {
			f, ok := number(x)
			if !ok || f < 1 {
				v.schema(rat+"/BackoffRate", "BackoffRate must be a number of at least 1.0")
			}
			r.BackoffRate = f
		}
		if x, ok := m["MaxDelaySeconds"]; ok {
			r.MaxDelaySeconds = v.positiveInt(x, rat+"/MaxDelaySeconds")
		}
		if x, ok := m["JitterStrategy"]; ok {
			switch x {
			case "FULL":
				r.JitterFull = true
			case "NONE":
			default:
				v.schema(rat+"/JitterStrategy", "JitterStrategy must be FULL or NONE")
			}
		}
		if slices.Contains(r.ErrorEquals, ErrALL) && i != len(list)-1 {
			v.schema(rat+"/ErrorEquals", "States.ALL must appear in the last retrier")
		}
		out = append(out, r)
	}
	return out
}

func (v *validator) catchers(obj map[string]any, at string) []Catcher {
	raw, ok := obj["Catch"]
	if !ok {
		return nil
	}
	list, ok := raw.([]any)
	if !ok {
		v.schema(at+"/Catch", "Expected value of type: ARRAY but was %s", typeName(raw))
		return nil
	}
	var out []Catcher
	for i, e := range list {
		cat := fmt.Sprintf("%s/Catch[%d]", at, i)
		m, ok := e.(map[string]any)
		if !ok {
			v.schema(cat, "Expected value of type: OBJECT but was %s", typeName(e))
			continue
		}
		for _, k := range sortedKeys(m) {
			switch k {
			case "ErrorEquals", "Next", "ResultPath", "Comment":
			default:
				v.schema(cat, "The field %q is not supported by Step Functions", k)
			}
		}
		c := Catcher{ErrorEquals: v.errorEquals(m, cat), ResultPath: v.optPath(m, "ResultPath", cat, true)}
		next, ok := m["Next"].(string)
		if !ok {
			v.schema(cat, "These fields are required: [Next]")
		}
		c.Next = next
		if slices.Contains(c.ErrorEquals, ErrALL) && i != len(list)-1 {
			v.schema(cat+"/ErrorEquals", "States.ALL must appear in the last catcher")
		}
		out = append(out, c)
	}
	return out
}
