package asl

import (
	"math/rand/v2"
	"testing"
	"time"
)

func parseT(t *testing.T, def string) *Definition {
	t.Helper()
	d, err := Parse([]byte(def))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return d
}

func TestEnterPassProcessesInputAndOutput(t *testing.T) {
	tests := []struct {
		name, state, input, want string
	}{
		{"default paths pass the input through", `{"Type":"Pass","End":true}`, `{"a":1}`, `{"a":1}`},
		{"Result replaces the input", `{"Type":"Pass","Result":{"x":1},"End":true}`, `{"a":1}`, `{"x":1}`},
		{"ResultPath places the result in the input", `{"Type":"Pass","Result":"r","ResultPath":"$.out","End":true}`, `{"a":1}`, `{"a":1,"out":"r"}`},
		{"ResultPath null discards the result", `{"Type":"Pass","Result":"r","ResultPath":null,"End":true}`, `{"a":1}`, `{"a":1}`},
		{"InputPath then Parameters with context", `{"Type":"Pass","InputPath":"$.in","Parameters":{"v.$":"$.v","n.$":"$$.Execution.Name","k":"lit"},"End":true}`, `{"in":{"v":7}}`, `{"k":"lit","n":"run","v":7}`},
		{"OutputPath selects from the result", `{"Type":"Pass","Parameters":{"a":{"b":2}},"OutputPath":"$.a","End":true}`, `{}`, `{"b":2}`},
		{"InputPath null gives an empty object", `{"Type":"Pass","InputPath":null,"End":true}`, `{"a":1}`, `{}`},
	}
	ctx := mustDecode(t, `{"Execution":{"Name":"run"}}`)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := parseT(t, `{"StartAt":"S","States":{"S":`+tc.state+`}}`)
			a, err := Enter(d.States["S"], mustDecode(t, tc.input), ctx, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if a.Kind != ActSucceed || mustEncode(a.Output) != tc.want {
				t.Errorf("got %s %s, want Succeed %s", a.Kind, mustEncode(a.Output), tc.want)
			}
		})
	}
}

func TestEnterReportsMissingInputPath(t *testing.T) {
	d := parseT(t, `{"StartAt":"S","States":{"S":{"Type":"Pass","InputPath":"$.nope","End":true}}}`)
	_, err := Enter(d.States["S"], map[string]any{}, nil, testNow)
	se, ok := err.(*StateError)
	if !ok || se.Name != ErrRuntime || se.Cause != "Invalid path '$.nope' : No results for path: $['nope']" {
		t.Fatalf("err = %#v", err)
	}
}

func TestTaskLifecycle(t *testing.T) {
	d := parseT(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
		"Parameters":{"FunctionName":"f","Payload.$":"$.p"},"TimeoutSecondsPath":"$.to","HeartbeatSeconds":3,
		"ResultSelector":{"out.$":"$.Payload"},"ResultPath":"$.r","Next":"N"},"N":{"Type":"Succeed"}}}`)
	s := d.States["T"]
	in := mustDecode(t, `{"p":{"x":1},"to":10}`)
	a, err := Enter(s, in, nil, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != ActTask || a.Resource != "arn:aws:states:::lambda:invoke" || mustEncode(a.Parameters) != `{"FunctionName":"f","Payload":{"x":1}}` || a.TimeoutSeconds != 10 || a.HeartbeatSeconds != 3 {
		t.Fatalf("Enter = %+v", a)
	}
	c, err := Complete(s, in, mustDecode(t, `{"Payload":42,"StatusCode":200}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != ActNext || c.Next != "N" || mustEncode(c.Output) != `{"p":{"x":1},"r":{"out":42},"to":10}` {
		t.Fatalf("Complete = %+v %s", c, mustEncode(c.Output))
	}
}

func TestWaitComputesItsEnd(t *testing.T) {
	tests := []struct {
		state, input string
		want         time.Time
	}{
		{`{"Type":"Wait","Seconds":3,"Next":"E"}`, `{}`, testNow.Add(3 * time.Second)},
		{`{"Type":"Wait","SecondsPath":"$.s","Next":"E"}`, `{"s":5}`, testNow.Add(5 * time.Second)},
		{`{"Type":"Wait","Timestamp":"2030-01-01T00:00:00Z","Next":"E"}`, `{}`, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
		{`{"Type":"Wait","TimestampPath":"$.t","Next":"E"}`, `{"t":"2031-01-01T00:00:00Z"}`, time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		d := parseT(t, `{"StartAt":"W","States":{"W":`+tc.state+`,"E":{"Type":"Succeed"}}}`)
		a, err := Enter(d.States["W"], mustDecode(t, tc.input), nil, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if a.Kind != ActWait || !a.Until.Equal(tc.want) || a.Next != "E" {
			t.Errorf("%s: %+v, want until %v", tc.state, a, tc.want)
		}
	}
	d := parseT(t, `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}`)
	if _, err := Enter(d.States["W"], mustDecode(t, `{"s":"x"}`), nil, testNow); err == nil {
		t.Error("SecondsPath to a string succeeded")
	}
}

func TestFailState(t *testing.T) {
	d := parseT(t, `{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.e","CausePath":"States.Format('bad {}', $.n)"}}}`)
	a, err := Enter(d.States["F"], mustDecode(t, `{"e":"MyError","n":3}`), nil, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != ActFail || a.Error != "MyError" || a.Cause != "bad 3" {
		t.Errorf("got %+v", a)
	}
}

func TestMapSelectsItems(t *testing.T) {
	d := parseT(t, `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.xs","MaxConcurrency":2,
		"ItemSelector":{"i.$":"$$.Map.Item.Index","v.$":"$$.Map.Item.Value","k.$":"$.k"},
		"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`)
	a, err := Enter(d.States["M"], mustDecode(t, `{"xs":["a","b"],"k":1}`), nil, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != ActMap || a.MaxConcurrency != 2 || mustEncode(a.Items) != `[{"i":0,"k":1,"v":"a"},{"i":1,"k":1,"v":"b"}]` {
		t.Fatalf("got %+v %s", a, mustEncode(a.Items))
	}
	if _, err := Enter(d.States["M"], mustDecode(t, `{"xs":"no"}`), nil, testNow); err == nil {
		t.Error("a Map over a string succeeded")
	}
}

func TestRetryThenCatch(t *testing.T) {
	d := parseT(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f",
		"Retry":[{"ErrorEquals":["Custom"],"IntervalSeconds":1,"MaxAttempts":2,"BackoffRate":3},{"ErrorEquals":["States.Timeout"],"MaxAttempts":0}],
		"Catch":[{"ErrorEquals":["Custom","States.Timeout"],"ResultPath":"$.error","Next":"H"}],"End":true},"H":{"Type":"Succeed"}}}`)
	s := d.States["T"]
	in := mustDecode(t, `{"a":1}`)
	custom := &StateError{Name: "Custom", Cause: "boom"}
	a := HandleError(s, in, custom, nil, nil)
	if a.Kind != ActRetry || a.Retrier != 0 || a.Delay != time.Second {
		t.Fatalf("first failure: %+v", a)
	}
	a = HandleError(s, in, custom, []int64{1}, nil)
	if a.Kind != ActRetry || a.Delay != 3*time.Second {
		t.Fatalf("second failure: %+v", a)
	}
	a = HandleError(s, in, custom, []int64{2}, nil)
	if a.Kind != ActNext || a.Next != "H" || mustEncode(a.Output) != `{"a":1,"error":{"Cause":"boom","Error":"Custom"}}` {
		t.Fatalf("third failure: %+v %s", a, mustEncode(a.Output))
	}
	a = HandleError(s, in, &StateError{Name: ErrHeartbeatTimeout}, nil, nil)
	if a.Kind != ActNext {
		t.Fatalf("a heartbeat timeout is a States.Timeout: %+v", a)
	}
	a = HandleError(s, in, &StateError{Name: "Other", Cause: "c"}, nil, nil)
	if a.Kind != ActFail || a.Error != "Other" || a.Cause != "c" {
		t.Fatalf("unmatched error: %+v", a)
	}
	a = HandleError(s, in, &StateError{Name: ErrRuntime}, nil, nil)
	if a.Kind != ActFail {
		t.Fatalf("States.Runtime is never caught: %+v", a)
	}
}

func TestMatches(t *testing.T) {
	tests := []struct {
		equals []string
		name   string
		want   bool
	}{
		{[]string{"States.ALL"}, "Anything", true},
		{[]string{"States.ALL"}, ErrTimeout, true},
		{[]string{"States.TaskFailed"}, "Lambda.Unknown", true},
		{[]string{"States.TaskFailed"}, ErrTimeout, false},
		{[]string{"States.TaskFailed"}, ErrHeartbeatTimeout, false},
		{[]string{"States.Timeout"}, ErrHeartbeatTimeout, true},
		{[]string{"States.HeartbeatTimeout"}, ErrTimeout, false},
		{[]string{"ValueError"}, "ValueError", true},
		{[]string{"ValueError"}, "TypeError", false},
		{[]string{"States.Permissions"}, ErrPermissions, true},
	}
	for _, tc := range tests {
		if got := Matches(tc.equals, tc.name); got != tc.want {
			t.Errorf("Matches(%v, %s) = %v, want %v", tc.equals, tc.name, got, tc.want)
		}
	}
}

func TestRetrierDelay(t *testing.T) {
	r := Retrier{IntervalSeconds: 2, BackoffRate: 2, MaxDelaySeconds: 10}
	for attempt, want := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second} {
		if got := r.Delay(int64(attempt), nil); got != want {
			t.Errorf("Delay(%d) = %v, want %v", attempt, got, want)
		}
	}
	r.JitterFull = true
	rnd := rand.New(rand.NewPCG(1, 2))
	for attempt := range int64(5) {
		if got := r.Delay(attempt, rnd); got < 0 || got > 10*time.Second {
			t.Errorf("jittered Delay(%d) = %v", attempt, got)
		}
	}
}
