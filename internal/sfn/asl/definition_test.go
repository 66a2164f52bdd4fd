package asl

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func TestParseDiagnostics(t *testing.T) {
	tests := []struct {
		name, def string
		want      []string // each must appear in the error
	}{
		{"malformed JSON", `{"StartAt":`, []string{"INVALID_JSON_DESCRIPTION"}},
		{"missing StartAt and States", `{}`, []string{"SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt, States]"}},
		{"unknown top-level field", `{"Coment":"x","StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`, []string{`SCHEMA_VALIDATION_FAILED: The field "Coment" is not supported by Step Functions`}},
		{"unknown state type", `{"StartAt":"A","States":{"A":{"Type":"Bogus","End":true}}}`, []string{"SCHEMA_VALIDATION_FAILED: Value is not a valid state type: Bogus at /States/A/Type"}},
		{"missing Type", `{"StartAt":"A","States":{"A":{"End":true}}}`, []string{"SCHEMA_VALIDATION_FAILED: These fields are required: [Type] at /States/A"}},
		{"unknown state field", `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Nxt":"B"}}}`, []string{`SCHEMA_VALIDATION_FAILED: The field "Nxt" is not supported by Step Functions at /States/A`}},
		{"missing Next target and unreachable state", `{"StartAt":"pass1","States":{"pass1":{"Type":"Pass","Next":"pass3"},"pass2":{"Type":"Pass","End":true}}}`,
			[]string{"MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next", `MISSING_TRANSITION_TARGET: State "pass2" is not reachable. at /States/pass2`}},
		{"StartAt names no state", `{"StartAt":"Nope","States":{"A":{"Type":"Pass","End":true}}}`, []string{"MISSING_TRANSITION_TARGET: Missing 'Next' target: Nope at /StartAt"}},
		{"neither Next nor End", `{"StartAt":"A","States":{"A":{"Type":"Pass"}}}`, []string{"SCHEMA_VALIDATION_FAILED: These fields are required: [Next] at /States/A"}},
		{"both Next and End", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"A","End":true}}}`, []string{"Only one of [Next, End] may be specified at /States/A"}},
		{"Task without Resource", `{"StartAt":"A","States":{"A":{"Type":"Task","End":true}}}`, []string{"SCHEMA_VALIDATION_FAILED: These fields are required: [Resource] at /States/A"}},
		{"Task with a bad Resource", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"myfn","End":true}}}`, []string{"SCHEMA_VALIDATION_FAILED: Value is not a valid resource ARN at /States/A/Resource"}},
		{"bad InputPath", `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"$.a[","End":true}}}`, []string{"SCHEMA_VALIDATION_FAILED: The value for the field 'InputPath' must be a valid JSONPath at /States/A/InputPath"}},
		{"ResultPath not a reference path", `{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":"a","End":true}}}`, []string{"Value is not a Reference Path: Reference path didn't start with '$' at /States/A/ResultPath"}},
		{"bad path in Parameters", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"nope"},"End":true}}}`, []string{"The value for the field 'x.$' must be a valid JSONPath or a valid intrinsic function call at /States/A/Parameters/x.$"}},
		{"unknown intrinsic", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"States.Nope()"},"End":true}}}`, []string{"at /States/A/Parameters/x.$"}},
		{"Choice rule with two operators", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","StringEquals":"x","NumericEquals":1,"Next":"D"}]},"D":{"Type":"Succeed"}}}`, []string{"only one comparison operator"}},
		{"Choice rule without Next", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","StringEquals":"x"}],"Default":"D"},"D":{"Type":"Succeed"}}}`, []string{"These fields are required: [Next] at /States/C/Choices[0]"}},
		{"Choice operand of the wrong type", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","NumericEquals":"1","Next":"D"}]},"D":{"Type":"Succeed"}}}`, []string{"Expected value of type: NUMBER but was STRING at /States/C/Choices[0]/NumericEquals"}},
		{"Wait with two durations", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"SecondsPath":"$.s","End":true}}}`, []string{"Exactly one of [Seconds, Timestamp, SecondsPath, TimestampPath]"}},
		{"Retry without ErrorEquals", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Retry":[{}],"End":true}}}`, []string{"These fields are required: [ErrorEquals] at /States/A/Retry[0]"}},
		{"States.ALL not last", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Catch":[{"ErrorEquals":["States.ALL"],"Next":"B"},{"ErrorEquals":["X"],"Next":"B"}],"End":true},"B":{"Type":"Succeed"}}}`, []string{"States.ALL must appear in the last catcher"}},
		{"Catch to a missing state", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Catch":[{"ErrorEquals":["States.ALL"],"Next":"Gone"}],"End":true}}}`, []string{"Missing 'Next' target: Gone at /States/A/Catch[0]/Next"}},
		{"bad branch in Parallel", `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"X","States":{"X":{"Type":"Pass"}}}],"End":true}}}`, []string{"These fields are required: [Next] at /States/P/Branches[0]/States/X"}},
		{"Map without processor", `{"StartAt":"M","States":{"M":{"Type":"Map","End":true}}}`, []string{"These fields are required: [ItemProcessor] at /States/M"}},
		{"Distributed Map refused", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"X","States":{"X":{"Type":"Succeed"}}},"End":true}}}`, []string{"Distributed Map is not supported"}},
		{"JSONata refused", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`, []string{"JSONata may come later"}},
		{"no terminal state", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"}}}`, []string{"NO_TERMINAL_STATE"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.def))
			var de *DefinitionError
			if !errors.As(err, &de) {
				t.Fatalf("Parse = %v, want a *DefinitionError", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "Invalid State Machine Definition: '") {
				t.Errorf("message %q lacks AWS's prefix", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestParseAcceptsAFullDefinition(t *testing.T) {
	def := `{
  "Comment": "every state type",
  "StartAt": "Prepare",
  "TimeoutSeconds": 300,
  "States": {
    "Prepare": {"Type": "Pass", "Parameters": {"items.$": "States.ArrayRange(1, 3, 1)", "name.$": "$$.Execution.Name"}, "ResultPath": "$.prep", "Next": "Fan"},
    "Fan": {"Type": "Map", "ItemsPath": "$.prep.items", "MaxConcurrency": 2,
      "ItemSelector": {"value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
      "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Square", "States": {
        "Square": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "sq", "Payload.$": "$"}, "OutputPath": "$.Payload", "End": true}}},
      "ResultPath": "$.results", "Next": "Both"},
    "Both": {"Type": "Parallel", "Branches": [
      {"StartAt": "One", "States": {"One": {"Type": "Wait", "Seconds": 1, "End": true}}},
      {"StartAt": "Two", "States": {"Two": {"Type": "Pass", "Result": 2, "End": true}}}], "ResultPath": null, "Next": "Pick",
      "Retry": [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 2, "MaxAttempts": 4, "BackoffRate": 1.5, "MaxDelaySeconds": 5, "JitterStrategy": "FULL"}],
      "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Failed"}]},
    "Pick": {"Type": "Choice", "Choices": [{"And": [{"Variable": "$.prep.name", "IsPresent": true}, {"Not": {"Variable": "$.prep.name", "StringEquals": "x"}}], "Next": "Done"}], "Default": "Failed"},
    "Done": {"Type": "Succeed"},
    "Failed": {"Type": "Fail", "ErrorPath": "$.err.Error", "CausePath": "States.Format('failed: {}', $.err.Cause)"}
  }
}`
	d, err := Parse([]byte(def))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if d.TimeoutSeconds != 300 || d.States["Fan"].Processor == nil || len(d.States["Both"].Branches) != 2 {
		t.Errorf("parsed definition is incomplete: %+v", d)
	}
	r := d.States["Both"].Retry[0]
	if r.IntervalSeconds != 2 || r.MaxAttempts != 4 || r.BackoffRate != 1.5 || r.MaxDelaySeconds != 5 || !r.JitterFull {
		t.Errorf("retrier = %+v", r)
	}
}
