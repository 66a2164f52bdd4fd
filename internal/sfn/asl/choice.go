package asl

import (
	"fmt"
	"strings"
	"time"
)

// Rule is a Choice Rule: a comparison of Variable with one operator, or
// And/Or/Not of nested rules. Top-level rules carry Next.
type Rule struct {
	Next string

	And, Or []*Rule
	Not     *Rule

	// Variable is the path compared.
	Variable *Path
	// Op is the comparison operator's name, e.g. StringEquals or
	// NumericLessThanPath.
	Op string
	// Value is the operand: a literal, or for a ...Path operator the
	// parsed path (in OperandPath).
	Value       any
	OperandPath *Path
}

// operatorKind says what each comparison operator compares.
var operatorKind = map[string]string{}

func init() {
	for _, fam := range []string{"String", "Numeric", "Timestamp"} {
		for _, rel := range []string{"Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"} {
			operatorKind[fam+rel] = fam
			operatorKind[fam+rel+"Path"] = fam
		}
	}
	operatorKind["BooleanEquals"] = "Boolean"
	operatorKind["BooleanEqualsPath"] = "Boolean"
	operatorKind["StringMatches"] = "Matches"
	for _, t := range []string{"IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"} {
		operatorKind[t] = "Type"
	}
}

func (v *validator) choice(s *State, obj map[string]any, at string) {
	raw, ok := obj["Choices"].([]any)
	if !ok {
		v.schema(at, "These fields are required: [Choices]")
		return
	}
	if len(raw) == 0 {
		v.schema(at+"/Choices", "Choices must not be empty")
	}
	for i, r := range raw {
		if rule := v.rule(r, fmt.Sprintf("%s/Choices[%d]", at, i), true); rule != nil {
			s.Choices = append(s.Choices, rule)
		}
	}
	s.Default = v.str(obj, "Default", at)
}

// rule reads one Choice Rule; top says it is a top-level rule, which
// needs Next (nested ones may not have it).
func (v *validator) rule(raw any, at string, top bool) *Rule {
	m, ok := raw.(map[string]any)
	if !ok {
		v.schema(at, "Expected value of type: OBJECT but was %s", typeName(raw))
		return nil
	}
	r := &Rule{}
	if n, ok := m["Next"]; ok {
		if !top {
			v.schema(at, "The field \"Next\" is not supported by Step Functions")
		}
		r.Next, _ = n.(string)
	} else if top {
		v.schema(at, "These fields are required: [Next]")
	}
	var ops []string
	for _, k := range sortedKeys(m) {
		switch k {
		case "Next", "Comment", "Variable":
		case "And", "Or", "Not":
			ops = append(ops, k)
		default:
			if _, ok := operatorKind[k]; ok {
				ops = append(ops, k)
			} else {
				v.schema(at, "The field %q is not supported by Step Functions", k)
			}
		}
	}
	if len(ops) != 1 {
		if len(ops) == 0 {
			v.schema(at, "A choice rule must have one comparison operator, And, Or or Not")
		} else {
			v.schema(at, "A choice rule may have only one comparison operator, but has %s", strings.Join(ops, ", "))
		}
		return nil
	}
	op := ops[0]
	switch op {
	case "And", "Or":
		list, ok := m[op].([]any)
		if !ok || len(list) == 0 {
			v.schema(at+"/"+op, "Expected a non-empty ARRAY of choice rules")
			return nil
		}
		for i, e := range list {
			sub := v.rule(e, fmt.Sprintf("%s/%s[%d]", at, op, i), false)
			if sub == nil {
				return nil
			}
			if op == "And" {
				r.And = append(r.And, sub)
			} else {
				r.Or = append(r.Or, sub)
			}
		}
		if _, ok := m["Variable"]; ok {
			v.schema(at, "The field \"Variable\" is not supported by Step Functions beside %s", op)
		}
		return r
	case "Not":
		r.Not = v.rule(m["Not"], at+"/Not", false)
		if r.Not == nil {
			return nil
		}
		return r
	}
	r.Op = op
	r.Variable = v.path(m, "Variable", at, false)
	if _, ok := m["Variable"]; !ok {
		v.schema(at, "These fields are required: [Variable]")
		return nil
	}
	if r.Variable == nil {
		return nil
	}
	val := m[op]
	kind := operatorKind[op]
	switch {
	case strings.HasSuffix(op, "Path"):
		r.OperandPath = v.path(m, op, at, false)
		if r.OperandPath == nil {
			return nil
		}
	case kind == "String", kind == "Matches":
		if _, ok := val.(string); !ok {
			v.schema(at+"/"+op, "Expected value of type: STRING but was %s", typeName(val))
		}
	case kind == "Numeric":
		if _, ok := number(val); !ok {
			v.schema(at+"/"+op, "Expected value of type: NUMBER but was %s", typeName(val))
		}
	case kind == "Boolean", kind == "Type":
		if _, ok := val.(bool); !ok {
			v.schema(at+"/"+op, "Expected value of type: BOOLEAN but was %s", typeName(val))
		}
	case kind == "Timestamp":
		s, _ := val.(string)
		if _, err := parseTimestamp(s); err != nil {
			v.schema(at+"/"+op, "The value for the field '%s' must be a valid ISO-8601 timestamp", op)
		}
	}
	r.Value = val
	return r
}

// parseTimestamp reads an RFC 3339 timestamp, the only form Step
// Functions compares ("with an uppercase T ... and a Z or offset").
func parseTimestamp(s string) (time.Time, error) {
	if !strings.Contains(s, "T") {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 timestamp", s)
	}
	return time.Parse(time.RFC3339Nano, s)
}

// Eval evaluates the rule on input ($) with ctx ($$). A Variable (or an
// operand path) that selects nothing is a States.Runtime error, except
// for IsPresent.
func (r *Rule) Eval(input, ctx any) (bool, error) {
	switch {
	case r.And != nil:
		for _, sub := range r.And {
			ok, err := sub.Eval(input, ctx)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case r.Or != nil:
		for _, sub := range r.Or {
			ok, err := sub.Eval(input, ctx)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case r.Not != nil:
		ok, err := r.Not.Eval(input, ctx)
		return !ok, err
	}
	x, present := r.Variable.Select(rootFor(r.Variable, input, ctx))
	if r.Op == "IsPresent" {
		return present == r.Value.(bool), nil
	}
	if !present {
		return false, runtimeErr(ErrRuntime, "Invalid path '%s': The choice state's condition path references an invalid value.", r.Variable.Text)
	}
	operand := r.Value
	if r.OperandPath != nil {
		y, ok := r.OperandPath.Select(rootFor(r.OperandPath, input, ctx))
		if !ok {
			return false, runtimeErr(ErrRuntime, "Invalid path '%s': The choice state's condition path references an invalid value.", r.OperandPath.Text)
		}
		operand = y
	}
	return compare(r.Op, x, operand), nil
}

func rootFor(p *Path, input, ctx any) any {
	if p.Context {
		return ctx
	}
	return input
}

// compare applies a comparison operator; values of the wrong type never
// match.
func compare(op string, x, y any) bool {
	rel := strings.TrimSuffix(op, "Path")
	switch operatorKind[op] {
	case "Type":
		want := y.(bool)
		var is bool
		switch op {
		case "IsNull":
			is = x == nil
		case "IsNumeric":
			_, is = number(x)
		case "IsString":
			_, is = x.(string)
		case "IsBoolean":
			_, is = x.(bool)
		case "IsTimestamp":
			s, ok := x.(string)
			if ok {
				_, err := parseTimestamp(s)
				is = err == nil
			}
		}
		return is == want
	case "Boolean":
		a, ok1 := x.(bool)
		b, ok2 := y.(bool)
		return ok1 && ok2 && a == b
	case "Matches":
		a, ok1 := x.(string)
		b, ok2 := y.(string)
		return ok1 && ok2 && wildcardMatch(b, a)
	case "String":
		a, ok1 := x.(string)
		b, ok2 := y.(string)
		return ok1 && ok2 && relation(strings.TrimPrefix(rel, "String"), strings.Compare(a, b))
	case "Numeric":
		a, ok1 := number(x)
		b, ok2 := number(y)
		if !ok1 || !ok2 {
			return false
		}
		c := 0
		if a < b {
			c = -1
		} else if a > b {
			c = 1
		}
		return relation(strings.TrimPrefix(rel, "Numeric"), c)
	case "Timestamp":
		as, ok1 := x.(string)
		bs, ok2 := y.(string)
		if !ok1 || !ok2 {
			return false
		}
		a, err1 := parseTimestamp(as)
		b, err2 := parseTimestamp(bs)
		if err1 != nil || err2 != nil {
			return false
		}
		return relation(strings.TrimPrefix(rel, "Timestamp"), a.Compare(b))
	}
	return false
}

// relation reads a comparison result c (-1, 0, 1) through the relation
// named rel.
func relation(rel string, c int) bool {
	switch rel {
	case "Equals":
		return c == 0
	case "LessThan":
		return c < 0
	case "GreaterThan":
		return c > 0
	case "LessThanEquals":
		return c <= 0
	case "GreaterThanEquals":
		return c >= 0
	}
	return false
}

// wildcardMatch is StringMatches: * matches any run of characters, \*
// a literal star and \\ a backslash.
func wildcardMatch(pattern, s string) bool {
	type tok struct {
		star bool
		c    rune
	}
	var toks []tok
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		switch {
		case rs[i] == '\\' && i+1 < len(rs):
			i++
			toks = append(toks, tok{c: rs[i]})
		case rs[i] == '*':
			toks = append(toks, tok{star: true})
		default:
			toks = append(toks, tok{c: rs[i]})
		}
	}
	str := []rune(s)
	// Iterative glob matching with backtracking to the last star.
	ti, si, starT, starS := 0, 0, -1, 0
	for si < len(str) {
		switch {
		case ti < len(toks) && !toks[ti].star && toks[ti].c == str[si]:
			ti++
			si++
		case ti < len(toks) && toks[ti].star:
			starT, starS = ti, si
			ti++
		case starT >= 0:
			starS++
			si = starS
			ti = starT + 1
		default:
			return false
		}
	}
	for ti < len(toks) && toks[ti].star {
		ti++
	}
	return ti == len(toks)
}
