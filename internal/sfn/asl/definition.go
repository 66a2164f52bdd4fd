package asl

import (
	"fmt"
	"strings"
	"time"
)

// Definition is a parsed state machine, or one Parallel branch or Map
// item processor.
type Definition struct {
	// Comment is the definition's comment.
	Comment string
	// StartAt names the first state.
	StartAt string
	// States holds every state by name.
	States map[string]*State
	// TimeoutSeconds bounds the whole execution; 0 means no limit.
	TimeoutSeconds int64
}

// The state types.
const (
	TypePass     = "Pass"
	TypeTask     = "Task"
	TypeChoice   = "Choice"
	TypeWait     = "Wait"
	TypeSucceed  = "Succeed"
	TypeFail     = "Fail"
	TypeParallel = "Parallel"
	TypeMap      = "Map"
)

// OptPath is an InputPath, OutputPath or ResultPath: absent (the
// default, "$"), null (discard), or a path.
type OptPath struct {
	// Null is true when the field was given as JSON null.
	Null bool
	// Path is the parsed path; nil when absent or null.
	Path *Path
}

// State is one state of a definition. Fields a type does not use are
// zero.
type State struct {
	Name    string
	Type    string
	Comment string
	// Next names the following state; End marks a terminal state.
	Next string
	End  bool

	InputPath, OutputPath, ResultPath OptPath
	// Parameters, ResultSelector and ItemSelector are payload
	// templates; Result is Pass's fixed result. Has* say whether given.
	Parameters, ResultSelector, ItemSelector, Result  any
	HasParameters, HasResultSelector, HasItemSelector bool
	HasResult                                         bool

	// Task.
	Resource             string
	TimeoutSeconds       int64
	TimeoutSecondsPath   *Path
	HeartbeatSeconds     int64
	HeartbeatSecondsPath *Path
	Retry                []Retrier
	Catch                []Catcher

	// Choice.
	Choices []*Rule
	Default string

	// Wait: exactly one of these.
	Seconds       *int64
	Timestamp     *time.Time
	SecondsPath   *Path
	TimestampPath *Path

	// Fail.
	Error, Cause         string
	ErrorPath, CausePath string

	// Parallel.
	Branches []*Definition

	// Map.
	ItemsPath          *Path
	Processor          *Definition
	MaxConcurrency     int64
	MaxConcurrencyPath *Path
}

// Terminal reports whether the state ends its definition when it
// completes.
func (s *State) Terminal() bool {
	return s.End || s.Type == TypeSucceed || s.Type == TypeFail
}

// fieldsByType lists the fields each state type accepts beside Type and
// Comment (the Amazon States Language specification, "State Types").
var fieldsByType = map[string][]string{
	TypePass:     {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "Result"},
	TypeTask:     {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Retry", "Catch", "Credentials"},
	TypeChoice:   {"InputPath", "OutputPath", "Choices", "Default"},
	TypeWait:     {"Next", "End", "InputPath", "OutputPath", "Seconds", "Timestamp", "SecondsPath", "TimestampPath"},
	TypeSucceed:  {"InputPath", "OutputPath"},
	TypeFail:     {"Error", "Cause", "ErrorPath", "CausePath"},
	TypeParallel: {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Branches", "Retry", "Catch"},
	TypeMap:      {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ItemSelector", "ResultSelector", "ItemsPath", "MaxConcurrency", "MaxConcurrencyPath", "Iterator", "ItemProcessor", "Retry", "Catch", "ItemReader", "ItemBatcher", "ResultWriter", "ToleratedFailurePercentage", "ToleratedFailureCount", "ToleratedFailurePercentagePath", "ToleratedFailureCountPath", "Label"},
}

// Parse parses and validates a definition. Its error, if any, is a
// *[DefinitionError] listing every problem found.
func Parse(data []byte) (*Definition, error) {
	raw, err := Decode(data)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "asl: decode json: ")
		return nil, &DefinitionError{Diagnostics: []Diagnostic{{Code: CodeInvalidJSON, Message: msg, Location: ""}}}
	}
	v := &validator{}
	def := v.definition(raw, "")
	if len(v.diags) > 0 {
		return nil, &DefinitionError{Diagnostics: v.diags}
	}
	return def, nil
}

// validator collects diagnostics while it builds a definition.
type validator struct {
	diags []Diagnostic
}

func (v *validator) fail(code, at, format string, args ...any) {
	if len(v.diags) < 100 {
		v.diags = append(v.diags, Diagnostic{Code: code, Message: fmt.Sprintf(format, args...), Location: at})
	}
}

func (v *validator) schema(at, format string, args ...any) {
	v.fail(CodeSchema, at, format, args...)
}

// definition reads a top-level definition or a branch at the JSON
// pointer at ("" for the top).
func (v *validator) definition(raw any, at string) *Definition {
	obj, ok := raw.(map[string]any)
	if !ok {
		v.schema(at, "Expected value of type: OBJECT but was %s", typeName(raw))
		return nil
	}
	def := &Definition{States: map[string]*State{}}
	allowed := map[string]bool{"Comment": true, "StartAt": true, "States": true, "TimeoutSeconds": true, "Version": true, "QueryLanguage": true}
	if at == "" {
		allowed["Version"] = true
	} else {
		allowed["ProcessorConfig"] = true
	}
	for _, k := range sortedKeys(obj) {
		if !allowed[k] {
			v.schema(at, "The field %q is not supported by Step Functions", k)
		}
	}
	if ql, ok := obj["QueryLanguage"]; ok && ql != "JSONPath" {
		v.schema(at+"/QueryLanguage", "The query language %s is not supported by this server: only JSONPath is (JSONata may come later)", mustEncode(ql))
	}
	if pc, ok := obj["ProcessorConfig"].(map[string]any); ok {
		if mode, ok := pc["Mode"]; ok && mode != "INLINE" {
			v.schema(at+"/ProcessorConfig/Mode", "Distributed Map is not supported by this server yet: the Mode must be INLINE")
		}
	}
	def.Comment, _ = obj["Comment"].(string)
	start, ok := obj["StartAt"].(string)
	if !ok {
		if _, present := obj["StartAt"]; present {
			v.schema(at+"/StartAt", "Expected value of type: STRING but was %s", typeName(obj["StartAt"]))
		}
	}
	def.StartAt = start
	if t, ok := obj["TimeoutSeconds"]; ok {
		def.TimeoutSeconds = v.positiveInt(t, at+"/TimeoutSeconds")
	}
	states, ok := obj["States"].(map[string]any)
	var missing []string
	if _, present := obj["StartAt"]; !present {
		missing = append(missing, "StartAt")
	}
	if !ok {
		if _, present := obj["States"]; present {
			v.schema(at+"/States", "Expected value of type: OBJECT but was %s", typeName(obj["States"]))
		} else {
			missing = append(missing, "States")
		}
	}
	if len(missing) > 0 {
		v.schema(at, "These fields are required: [%s]", strings.Join(missing, ", "))
		return def
	}
	if !ok {
		return def
	}
	for _, name := range sortedKeys(states) {
		sat := at + "/States/" + name
		if len(name) > 80 {
			v.schema(sat, "State names must be at most 80 characters")
		}
		if s := v.state(name, states[name], sat); s != nil {
			def.States[name] = s
		}
	}
	v.transitions(def, at)
	return def
}

// transitions checks that every target exists, that every state is
// reachable from StartAt and that something ends the definition.
func (v *validator) transitions(def *Definition, at string) {
	{
		if _, ok := def.States[def.StartAt]; !ok {
			v.fail(CodeMissingTarget, at+"/StartAt", "Missing 'Next' target: %s", def.StartAt)
		}
	}
	reached := map[string]bool{}
	var walk func(string)
	walk = func(name string) {
		s, ok := def.States[name]
		if !ok || reached[name] {
			return
		}
		reached[name] = true
		for _, n := range s.targets() {
			walk(n)
		}
	}
	walk(def.StartAt)
	for _, name := range sortedKeys(def.States) {
		s := def.States[name]
		sat := at + "/States/" + name
		if s.Next != "" {
			if _, ok := def.States[s.Next]; !ok {
				v.fail(CodeMissingTarget, sat+"/Next", "Missing 'Next' target: %s", s.Next)
			}
		}
		if s.Default != "" {
			if _, ok := def.States[s.Default]; !ok {
				v.fail(CodeMissingTarget, sat+"/Default", "Missing 'Next' target: %s", s.Default)
			}
		}
		for i, r := range s.Choices {
			if _, ok := def.States[r.Next]; !ok && r.Next != "" {
				v.fail(CodeMissingTarget, fmt.Sprintf("%s/Choices[%d]/Next", sat, i), "Missing 'Next' target: %s", r.Next)
			}
		}
		for i, c := range s.Catch {
			if _, ok := def.States[c.Next]; !ok && c.Next != "" {
				v.fail(CodeMissingTarget, fmt.Sprintf("%s/Catch[%d]/Next", sat, i), "Missing 'Next' target: %s", c.Next)
			}
		}
		if !reached[name] && def.StartAt != "" {
			if _, ok := def.States[def.StartAt]; ok {
				v.fail(CodeMissingTarget, sat, "State %q is not reachable.", name)
			}
		}
	}
	terminal := false
	for _, s := range def.States {
		terminal = terminal || s.Terminal()
	}
	if !terminal && len(def.States) > 0 {
		v.fail(CodeNoTerminal, at+"/States", "No terminal state. The state machine must have at least one terminal state (a state in which the \"End\" property is set to true)")
	}
}

// targets lists the states s may go to.
func (s *State) targets() []string {
	var out []string
	if s.Next != "" {
		out = append(out, s.Next)
	}
	if s.Default != "" {
		out = append(out, s.Default)
	}
	for _, r := range s.Choices {
		out = append(out, r.Next)
	}
	for _, c := range s.Catch {
		out = append(out, c.Next)
	}
	return out
}

// state reads one state.
func (v *validator) state(name string, raw any, at string) *State {
	obj, ok := raw.(map[string]any)
	if !ok {
		v.schema(at, "Expected value of type: OBJECT but was %s", typeName(raw))
		return nil
	}
	s := &State{Name: name}
	typ, ok := obj["Type"].(string)
	if !ok {
		if _, present := obj["Type"]; present {
			v.schema(at+"/Type", "Expected value of type: STRING but was %s", typeName(obj["Type"]))
		} else {
			v.schema(at, "These fields are required: [Type]")
		}
		return nil
	}
	fields, ok := fieldsByType[typ]
	if !ok {
		v.schema(at+"/Type", "Value is not a valid state type: %s", typ)
		return nil
	}
	s.Type = typ
	allowed := map[string]bool{"Type": true, "Comment": true}
	for _, f := range fields {
		allowed[f] = true
	}
	for _, k := range sortedKeys(obj) {
		if !allowed[k] {
			v.schema(at, "The field %q is not supported by Step Functions", k)
		}
	}
	s.Comment, _ = obj["Comment"].(string)
	v.transition(s, obj, at)
	s.InputPath = v.optPath(obj, "InputPath", at, false)
	s.OutputPath = v.optPath(obj, "OutputPath", at, false)
	s.ResultPath = v.optPath(obj, "ResultPath", at, true)
	s.Parameters, s.HasParameters = v.template(obj, "Parameters", at)
	s.ResultSelector, s.HasResultSelector = v.template(obj, "ResultSelector", at)
	s.Result, s.HasResult = obj["Result"]
	switch typ {
	case TypeTask:
		v.task(s, obj, at)
	case TypeChoice:
		v.choice(s, obj, at)
	case TypeWait:
		v.wait(s, obj, at)
	case TypeFail:
		s.Error = v.str(obj, "Error", at)
		s.Cause = v.str(obj, "Cause", at)
		s.ErrorPath = v.exprField(obj, "ErrorPath", at)
		s.CausePath = v.exprField(obj, "CausePath", at)
		if s.Error != "" && s.ErrorPath != "" {
			v.schema(at, "Only one of [Error, ErrorPath] may be specified")
		}
		if s.Cause != "" && s.CausePath != "" {
			v.schema(at, "Only one of [Cause, CausePath] may be specified")
		}
	case TypeParallel:
		br, ok := obj["Branches"].([]any)
		if !ok {
			v.schema(at, "These fields are required: [Branches]")
		}
		for i, b := range br {
			if d := v.definition(b, fmt.Sprintf("%s/Branches[%d]", at, i)); d != nil {
				s.Branches = append(s.Branches, d)
			}
		}
		if ok && len(br) == 0 {
			v.schema(at+"/Branches", "The array must contain at least one branch")
		}
	case TypeMap:
		v.mapState(s, obj, at)
	}
	if typ == TypeTask || typ == TypeParallel || typ == TypeMap {
		s.Retry = v.retriers(obj, at)
		s.Catch = v.catchers(obj, at)
	}
	return s
}

// transition reads Next and End, which every non-terminal type except
// Choice needs exactly one of.
func (v *validator) transition(s *State, obj map[string]any, at string) {
	if n, ok := obj["Next"]; ok {
		str, ok := n.(string)
		if !ok {
			v.schema(at+"/Next", "Expected value of type: STRING but was %s", typeName(n))
		}
		s.Next = str
	}
	if e, ok := obj["End"]; ok {
		b, ok := e.(bool)
		if !ok {
			v.schema(at+"/End", "Expected value of type: BOOLEAN but was %s", typeName(e))
		}
		s.End = b
	}
	switch s.Type {
	case TypeChoice, TypeSucceed, TypeFail:
		return
	}
	_, hasNext := obj["Next"]
	_, hasEnd := obj["End"]
	switch {
	case hasNext && hasEnd:
		v.schema(at, "Only one of [Next, End] may be specified")
	case !hasNext && !s.End:
		v.schema(at, "These fields are required: [Next]")
	}
}

func (v *validator) str(obj map[string]any, key, at string) string {
	raw, ok := obj[key]
	if !ok {
		return ""
	}
	s, ok := raw.(string)
	if !ok {
		v.schema(at+"/"+key, "Expected value of type: STRING but was %s", typeName(raw))
	}
	return s
}

// exprField reads a field that holds a path or an intrinsic call.
func (v *validator) exprField(obj map[string]any, key, at string) string {
	s := v.str(obj, key, at)
	if s != "" && checkExpr(s) != nil {
		v.schema(at+"/"+key, "The value for the field '%s' must be a valid JSONPath or a valid intrinsic function call", key)
	}
	return s
}

// path reads a required-form path field; reference says whether it
// must be a Reference Path.
func (v *validator) path(obj map[string]any, key, at string, reference bool) *Path {
	raw, ok := obj[key]
	if !ok {
		return nil
	}
	s, ok := raw.(string)
	if !ok {
		v.schema(at+"/"+key, "Expected value of type: STRING but was %s", typeName(raw))
		return nil
	}
	p, err := ParsePath(s)
	if err != nil {
		if !strings.HasPrefix(s, "$") && reference {
			v.schema(at+"/"+key, "Value is not a Reference Path: Reference path didn't start with '$'")
		} else {
			v.schema(at+"/"+key, "The value for the field '%s' must be a valid JSONPath", key)
		}
		return nil
	}
	if reference && !p.IsReference() {
		v.schema(at+"/"+key, "Value is not a Reference Path: Only simple JSONPath (names and array indices) is allowed")
		return nil
	}
	return p
}

func (v *validator) optPath(obj map[string]any, key, at string, reference bool) OptPath {
	raw, ok := obj[key]
	if !ok {
		return OptPath{}
	}
	if raw == nil {
		return OptPath{Null: true}
	}
	p := v.path(obj, key, at, reference)
	if p != nil && p.Context {
		v.schema(at+"/"+key, "The value for the field '%s' must be a valid JSONPath", key)
	}
	return OptPath{Path: p}
}

func (v *validator) template(obj map[string]any, key, at string) (any, bool) {
	raw, ok := obj[key]
	if !ok {
		return nil, false
	}
	if _, isObj := raw.(map[string]any); !isObj && key != "Parameters" {
		v.schema(at+"/"+key, "Expected value of type: OBJECT but was %s", typeName(raw))
	}
	if where, err := validateTemplate(raw, at+"/"+key); err != nil {
		v.schema(where, "%v", err)
	}
	return raw, true
}

func (v *validator) positiveInt(raw any, at string) int64 {
	n, ok := integer(raw)
	if !ok || n <= 0 || n > 99999999 {
		v.schema(at, "Expected a positive integer up to 99999999 but was %s", mustEncode(raw))
		return 0
	}
	return n
}

func (v *validator) task(s *State, obj map[string]any, at string) {
	res, ok := obj["Resource"].(string)
	if !ok {
		if _, present := obj["Resource"]; present {
			v.schema(at+"/Resource", "Expected value of type: STRING but was %s", typeName(obj["Resource"]))
		} else {
			v.schema(at, "These fields are required: [Resource]")
		}
	} else if !strings.HasPrefix(res, "arn:") || strings.Count(res, ":") < 5 {
		v.schema(at+"/Resource", "Value is not a valid resource ARN")
	}
	s.Resource = res
	if t, ok := obj["TimeoutSeconds"]; ok {
		s.TimeoutSeconds = v.positiveInt(t, at+"/TimeoutSeconds")
	}
	if t, ok := obj["HeartbeatSeconds"]; ok {
		s.HeartbeatSeconds = v.positiveInt(t, at+"/HeartbeatSeconds")
	}
	s.TimeoutSecondsPath = v.path(obj, "TimeoutSecondsPath", at, true)
	s.HeartbeatSecondsPath = v.path(obj, "HeartbeatSecondsPath", at, true)
	if s.TimeoutSeconds > 0 && s.HeartbeatSeconds >= s.TimeoutSeconds {
		v.schema(at+"/HeartbeatSeconds", "HeartbeatSeconds must be smaller than TimeoutSeconds")
	}
}

func (v *validator) wait(s *State, obj map[string]any, at string) {
	n := 0
	if raw, ok := obj["Seconds"]; ok {
		n++
		i, ok := integer(raw)
		if !ok || i < 0 {
			v.schema(at+"/Seconds", "Expected a non-negative integer but was %s", mustEncode(raw))
		}
		s.Seconds = &i
	}
	if raw, ok := obj["Timestamp"]; ok {
		n++
		str, _ := raw.(string)
		t, err := time.Parse(time.RFC3339Nano, str)
		if err != nil {
			v.schema(at+"/Timestamp", "The value for the field 'Timestamp' must be a valid ISO-8601 timestamp")
		}
		s.Timestamp = &t
	}
	if _, ok := obj["SecondsPath"]; ok {
		n++
		s.SecondsPath = v.path(obj, "SecondsPath", at, true)
	}
	if _, ok := obj["TimestampPath"]; ok {
		n++
		s.TimestampPath = v.path(obj, "TimestampPath", at, true)
	}
	if n != 1 {
		v.schema(at, "Exactly one of [Seconds, Timestamp, SecondsPath, TimestampPath] must be specified")
	}
}

func (v *validator) mapState(s *State, obj map[string]any, at string) {
	for _, k := range []string{"ItemReader", "ItemBatcher", "ResultWriter", "ToleratedFailurePercentage", "ToleratedFailureCount", "ToleratedFailurePercentagePath", "ToleratedFailureCountPath", "Label"} {
		if _, ok := obj[k]; ok {
			v.schema(at+"/"+k, "The field %q belongs to Distributed Map, which this server does not support yet", k)
		}
	}
	s.ItemsPath = v.path(obj, "ItemsPath", at, true)
	s.ItemSelector, s.HasItemSelector = v.template(obj, "ItemSelector", at)
	if s.HasItemSelector && s.HasParameters {
		v.schema(at, "Only one of [ItemSelector, Parameters] may be specified")
	}
	if raw, ok := obj["MaxConcurrency"]; ok {
		n, ok := integer(raw)
		if !ok || n < 0 {
			v.schema(at+"/MaxConcurrency", "Expected a non-negative integer but was %s", mustEncode(raw))
		}
		s.MaxConcurrency = n
	}
	s.MaxConcurrencyPath = v.path(obj, "MaxConcurrencyPath", at, true)
	proc, key := obj["ItemProcessor"], "ItemProcessor"
	if proc == nil {
		proc, key = obj["Iterator"], "Iterator"
	}
	if _, both := obj["Iterator"]; both && key == "ItemProcessor" {
		v.schema(at, "Only one of [ItemProcessor, Iterator] may be specified")
	}
	if proc == nil {
		v.schema(at, "These fields are required: [ItemProcessor]")
		return
	}
	s.Processor = v.definition(proc, at+"/"+key)
}
