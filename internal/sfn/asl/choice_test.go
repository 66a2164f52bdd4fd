package asl

import (
	"fmt"
	"testing"
)

// choiceInput is the input every Choice test case reads.
const choiceInput = `{"s":"banana","s2":"cherry","n":5,"n2":7.5,"b":true,"nul":null,
"ts":"2024-01-02T03:04:05Z","ts2":"2024-06-01T00:00:00+02:00","notts":"2024-01-02","arr":[1]}`

func TestChoiceOperators(t *testing.T) {
	tests := []struct {
		rule string
		want bool
	}{
		{`"Variable":"$.s","StringEquals":"banana"`, true},
		{`"Variable":"$.s","StringEquals":"apple"`, false},
		{`"Variable":"$.n","StringEquals":"5"`, false},
		{`"Variable":"$.s","StringLessThan":"cherry"`, true},
		{`"Variable":"$.s","StringGreaterThan":"apple"`, true},
		{`"Variable":"$.s","StringLessThanEquals":"banana"`, true},
		{`"Variable":"$.s","StringGreaterThanEquals":"cherry"`, false},
		{`"Variable":"$.s","StringEqualsPath":"$.s2"`, false},
		{`"Variable":"$.s","StringLessThanPath":"$.s2"`, true},
		{`"Variable":"$.s","StringGreaterThanPath":"$.s2"`, false},
		{`"Variable":"$.s","StringLessThanEqualsPath":"$.s"`, true},
		{`"Variable":"$.s","StringGreaterThanEqualsPath":"$.s2"`, false},
		{`"Variable":"$.s","StringMatches":"ban*"`, true},
		{`"Variable":"$.s","StringMatches":"*an*a"`, true},
		{`"Variable":"$.s","StringMatches":"b*x"`, false},
		{`"Variable":"$.s","StringMatches":"banana\\*"`, false},
		{`"Variable":"$.n","NumericEquals":5`, true},
		{`"Variable":"$.n","NumericEquals":5.0`, true},
		{`"Variable":"$.s","NumericEquals":5`, false},
		{`"Variable":"$.n","NumericLessThan":5`, false},
		{`"Variable":"$.n","NumericGreaterThan":4.5`, true},
		{`"Variable":"$.n","NumericLessThanEquals":5`, true},
		{`"Variable":"$.n","NumericGreaterThanEquals":6`, false},
		{`"Variable":"$.n","NumericEqualsPath":"$.n2"`, false},
		{`"Variable":"$.n","NumericLessThanPath":"$.n2"`, true},
		{`"Variable":"$.n","NumericGreaterThanPath":"$.n2"`, false},
		{`"Variable":"$.n","NumericLessThanEqualsPath":"$.n"`, true},
		{`"Variable":"$.n2","NumericGreaterThanEqualsPath":"$.n"`, true},
		{`"Variable":"$.b","BooleanEquals":true`, true},
		{`"Variable":"$.b","BooleanEquals":false`, false},
		{`"Variable":"$.b","BooleanEqualsPath":"$.b"`, true},
		{`"Variable":"$.s","BooleanEquals":true`, false},
		{`"Variable":"$.ts","TimestampEquals":"2024-01-02T04:04:05+01:00"`, true},
		{`"Variable":"$.ts","TimestampLessThan":"2024-01-02T03:04:06Z"`, true},
		{`"Variable":"$.ts","TimestampGreaterThan":"2024-01-02T03:04:06Z"`, false},
		{`"Variable":"$.ts","TimestampLessThanEquals":"2024-01-02T03:04:05Z"`, true},
		{`"Variable":"$.ts","TimestampGreaterThanEquals":"2025-01-01T00:00:00Z"`, false},
		{`"Variable":"$.ts","TimestampEqualsPath":"$.ts2"`, false},
		{`"Variable":"$.ts","TimestampLessThanPath":"$.ts2"`, true},
		{`"Variable":"$.ts","TimestampGreaterThanPath":"$.ts2"`, false},
		{`"Variable":"$.ts","TimestampLessThanEqualsPath":"$.ts"`, true},
		{`"Variable":"$.ts2","TimestampGreaterThanEqualsPath":"$.ts"`, true},
		{`"Variable":"$.notts","TimestampEquals":"2024-01-02T00:00:00Z"`, false},
		{`"Variable":"$.nul","IsNull":true`, true},
		{`"Variable":"$.s","IsNull":true`, false},
		{`"Variable":"$.missing","IsPresent":true`, false},
		{`"Variable":"$.missing","IsPresent":false`, true},
		{`"Variable":"$.s","IsPresent":true`, true},
		{`"Variable":"$.n2","IsNumeric":true`, true},
		{`"Variable":"$.s","IsNumeric":false`, true},
		{`"Variable":"$.s","IsString":true`, true},
		{`"Variable":"$.n","IsString":true`, false},
		{`"Variable":"$.b","IsBoolean":true`, true},
		{`"Variable":"$.nul","IsBoolean":true`, false},
		{`"Variable":"$.ts","IsTimestamp":true`, true},
		{`"Variable":"$.notts","IsTimestamp":true`, false},
		{`"Variable":"$$.Execution.Name","StringEquals":"run"`, true},
		{`"And":[{"Variable":"$.n","NumericEquals":5},{"Variable":"$.b","BooleanEquals":true}]`, true},
		{`"And":[{"Variable":"$.n","NumericEquals":5},{"Variable":"$.b","BooleanEquals":false}]`, false},
		{`"Or":[{"Variable":"$.n","NumericEquals":6},{"Variable":"$.b","BooleanEquals":true}]`, true},
		{`"Or":[{"Variable":"$.n","NumericEquals":6},{"Variable":"$.missing","IsPresent":true}]`, false},
		{`"Not":{"Variable":"$.s","StringEquals":"banana"}`, false},
		{`"Not":{"And":[{"Variable":"$.n","NumericLessThan":1},{"Variable":"$.s","IsString":true}]}`, true},
	}
	in := mustDecode(t, choiceInput)
	ctx := mustDecode(t, `{"Execution":{"Name":"run"}}`)
	for _, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			def := fmt.Sprintf(`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{%s,"Next":"Yes"}],"Default":"No"},"Yes":{"Type":"Succeed"},"No":{"Type":"Succeed"}}}`, tc.rule)
			d, err := Parse([]byte(def))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			a, err := Enter(d.States["C"], in, ctx, testNow)
			if err != nil {
				t.Fatalf("enter: %v", err)
			}
			if got := a.Next == "Yes"; got != tc.want {
				t.Errorf("rule matched %v, want %v", got, tc.want)
			}
		})
	}
}

func TestChoiceMissingVariableIsARuntimeError(t *testing.T) {
	d, err := Parse([]byte(`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.nope","StringEquals":"x","Next":"D"}]},"D":{"Type":"Succeed"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Enter(d.States["C"], map[string]any{}, nil, testNow)
	se, ok := err.(*StateError)
	if !ok || se.Name != ErrRuntime || !se.Terminal() {
		t.Fatalf("err = %v, want a terminal States.Runtime", err)
	}
}

func TestChoiceWithoutMatchOrDefault(t *testing.T) {
	d, err := Parse([]byte(`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericEquals":1,"Next":"D"}]},"D":{"Type":"Succeed"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Enter(d.States["C"], map[string]any{"n": 2}, nil, testNow)
	if se, ok := err.(*StateError); !ok || se.Name != ErrNoChoiceMatched {
		t.Fatalf("err = %v, want States.NoChoiceMatched", err)
	}
}

func TestWildcardMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"log-*.txt", "log-2024.txt", true},
		{"log-*.txt", "log-2024.csv", false},
		{`a\*b`, "a*b", true},
		{`a\*b`, "axb", false},
		{`a\\b`, `a\b`, true},
		{"*a*b*c*", "xxaxxbxxcxx", true},
		{"abc", "abcd", false},
	}
	for _, tc := range tests {
		if got := wildcardMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}
