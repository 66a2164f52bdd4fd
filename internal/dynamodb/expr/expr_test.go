package expr

import (
	"encoding/json"
	"testing"

	"github.com/updraft/updraft/internal/dynamodb/attr"
)

func params(t testing.TB, names map[string]string, values string) *Params {
	t.Helper()
	p := &Params{Names: names}
	if values != "" {
		if err := json.Unmarshal([]byte(values), &p.Values); err != nil {
			t.Fatalf("values: %v", err)
		}
	}
	return p
}

func item(t testing.TB, s string) attr.Item {
	t.Helper()
	var it attr.Item
	if err := json.Unmarshal([]byte(s), &it); err != nil {
		t.Fatalf("item: %v", err)
	}
	return it
}

// The messages are DynamoDB's, as recorded by test suites run against
// it (ScyllaDB's test/alternator, dynalite's expression parsers).
func TestConditionErrors(t *testing.T) {
	vals := `{":v":{"N":"1"},":s":{"S":"a"},":w":{"N":"2"},":t":{"S":"Q"}}`
	cases := []struct{ expr, want string }{
		{"", "Invalid ConditionExpression: The expression can not be empty;"},
		{"a = = :v", `Invalid ConditionExpression: Syntax error; token: "=", near: "= ="`},
		{"a = :v AND", `Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "AND"`},
		{"#x = :v", "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #x"},
		{"a = :nope", "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :nope"},
		{"name = :v", "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: name"},
		{"foo(a)", "Invalid ConditionExpression: Invalid function name; function: foo"},
		{"foo(a) = :v", "Invalid ConditionExpression: Invalid function name; function: foo"},
		{"begins_with(a)", "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1"},
		{"begins_with(a, :v)", "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"},
		{"attribute_exists(:v)", "Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_exists"},
		{"attribute_type(a, :t)", "Invalid ConditionExpression: Invalid attribute type name found; type: Q, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"},
		{"a BETWEEN :w AND :v", "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:2}, upper bound operand: AttributeValue: {N:1}"},
		{"a BETWEEN :v AND :s", "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:a}"},
		{"size(a)", "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: size"},
		{"attribute_exists(a) = :v", "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: attribute_exists"},
		{"a = a", "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a]"},
		{"((a = :v))", "Invalid ConditionExpression: The expression has redundant parentheses;"},
		{"a $ :v", `Invalid ConditionExpression: Syntax error; token: "$", near: "a $"`},
	}
	for _, c := range cases {
		_, err := ParseCondition("ConditionExpression", c.expr, params(t, nil, vals))
		if err == nil || err.Error() != c.want {
			t.Errorf("%q: got %v, want %s", c.expr, err, c.want)
		}
	}
}

func TestConditionEval(t *testing.T) {
	it := item(t, `{"p":{"S":"k"},"n":{"N":"5"},"s":{"S":"hello"},"l":{"L":[{"S":"x"},{"N":"1"}]},"m":{"M":{"a":{"SS":["q","r"]}}},"b":{"BOOL":true}}`)
	vals := `{":5":{"N":"5"},":4":{"N":"4.0"},":9":{"N":"9"},":he":{"S":"he"},":x":{"S":"x"},":q":{"S":"q"},":S":{"S":"S"},":M":{"S":"M"},":t":{"BOOL":true},":two":{"N":"2"}}`
	cases := []struct {
		expr string
		want bool
	}{
		{"n = :5", true},
		{"n <> :5", false},
		{"n > :4 AND n < :9", true},
		{"n BETWEEN :4 AND :9", true},
		{"n IN (:4, :5)", true},
		{"NOT n IN (:4, :9)", true},
		{"begins_with(s, :he)", true},
		{"contains(s, :he)", true},
		{"contains(l, :x)", true},
		{"contains(m.a, :q)", true},
		{"attribute_exists(m.a)", true},
		{"attribute_not_exists(zz)", true},
		{"attribute_exists(l[5])", false},
		{"attribute_type(s, :S) AND attribute_type(m, :M)", true},
		{"size(l) = :two", true},
		{"size(s) > :9", false},
		{"zz = :5", false},
		{"zz <> :5", true},
		{"s < :5", false},
		{"b = :t OR zz = :5", true},
		{"(n = :4 OR n = :5) AND b = :t", true},
	}
	for _, c := range cases {
		cond, err := ParseCondition("ConditionExpression", c.expr, params(t, nil, vals))
		if err != nil {
			t.Fatalf("%q: %v", c.expr, err)
		}
		if got := Eval(cond, it); got != c.want {
			t.Errorf("%q = %v, want %v", c.expr, got, c.want)
		}
	}
}

func TestUpdate(t *testing.T) {
	it := item(t, `{"p":{"S":"k"},"n":{"N":"5"},"l":{"L":[{"N":"0"},{"N":"1"},{"N":"2"}]},"ss":{"SS":["a","b"]},"m":{"M":{"x":{"N":"1"}}}}`)
	vals := `{":1":{"N":"1"},":big":{"N":"99999999999999999999999999999999999999"},":l":{"L":[{"S":"z"}]},":ss":{"SS":["c","a"]},":d":{"SS":["b"]},":v":{"S":"v"}}`
	cases := []struct{ expr, want string }{
		{"SET n = n + :1", `{"l":{"L":[{"N":"0"},{"N":"1"},{"N":"2"}]},"m":{"M":{"x":{"N":"1"}}},"n":{"N":"6"},"p":{"S":"k"},"ss":{"SS":["a","b"]}}`},
		{"SET c = if_not_exists(c, :1), l = list_append(l, :l) REMOVE n", `{"c":{"N":"1"},"l":{"L":[{"N":"0"},{"N":"1"},{"N":"2"},{"S":"z"}]},"m":{"M":{"x":{"N":"1"}}},"p":{"S":"k"},"ss":{"SS":["a","b"]}}`},
		{"ADD ss :ss, n :1 DELETE m.x :d", ``},
		{"ADD ss :ss, n :1", `{"l":{"L":[{"N":"0"},{"N":"1"},{"N":"2"}]},"m":{"M":{"x":{"N":"1"}}},"n":{"N":"6"},"p":{"S":"k"},"ss":{"SS":["a","b","c"]}}`},
		{"DELETE ss :d REMOVE l[0], l[2]", `{"l":{"L":[{"N":"1"}]},"m":{"M":{"x":{"N":"1"}}},"n":{"N":"5"},"p":{"S":"k"},"ss":{"SS":["a"]}}`},
		{"SET m.y = :v, l[10] = :v", `{"l":{"L":[{"N":"0"},{"N":"1"},{"N":"2"},{"S":"v"}]},"m":{"M":{"x":{"N":"1"},"y":{"S":"v"}}},"n":{"N":"5"},"p":{"S":"k"},"ss":{"SS":["a","b"]}}`},
		{"SET n = :big + :big", ``},
	}
	for _, c := range cases {
		u, err := ParseUpdate(c.expr, params(t, nil, vals))
		if err != nil {
			t.Fatalf("%q: %v", c.expr, err)
		}
		out, err := u.Apply(it)
		if c.want == "" {
			if err == nil {
				t.Errorf("%q: no error", c.expr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", c.expr, err)
		}
		b, _ := json.Marshal(out)
		if string(b) != c.want {
			t.Errorf("%q:\n got %s\nwant %s", c.expr, b, c.want)
		}
	}
	b, _ := json.Marshal(it)
	if want := `{"l":{"L":[{"N":"0"},{"N":"1"},{"N":"2"}]},"m":{"M":{"x":{"N":"1"}}},"n":{"N":"5"},"p":{"S":"k"},"ss":{"SS":["a","b"]}}`; string(b) != want {
		t.Errorf("the original changed: %s", b)
	}
}

func TestUpdateErrors(t *testing.T) {
	vals := `{":1":{"N":"1"},":s":{"S":"x"},":l":{"L":[]}}`
	cases := []struct{ expr, want string }{
		{"SET a = :1 SET b = :1", `Invalid UpdateExpression: The "SET" section can only be used once in an update expression;`},
		{"SET a = :1, a.b = :1", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"},
		{"SET a.b = :1 REMOVE a[1]", "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]"},
		{"ADD a :s", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING"},
		{"DELETE a :1", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER"},
		{"SET a = :s + :1", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S"},
		{"SET a = list_append(:1, :l)", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: N"},
		{"SET a = foo(b)", "Invalid UpdateExpression: Invalid function name; function: foo"},
		{"SET a = if_not_exists(:1, :1)", "Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists"},
		{"SET _123 = :1", `Invalid UpdateExpression: Syntax error; token: "_", near: "SET _"`},
		{"PUT a = :1", `Invalid UpdateExpression: Syntax error; token: "PUT", near: "PUT"`},
	}
	for _, c := range cases {
		_, err := ParseUpdate(c.expr, params(t, nil, vals))
		if err == nil || err.Error() != c.want {
			t.Errorf("%q: got %v, want %s", c.expr, err, c.want)
		}
	}
}

func TestUnused(t *testing.T) {
	p := params(t, map[string]string{"#a": "a", "#b": "b"}, `{":v":{"S":"x"},":w":{"S":"y"}}`)
	if _, err := ParseCondition("ConditionExpression", "#a = :v", p); err != nil {
		t.Fatal(err)
	}
	if err := p.CheckUnused(); err == nil || err.Error() != "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}" {
		t.Errorf("got %v", err)
	}
}

func TestProjection(t *testing.T) {
	it := item(t, `{"a":{"N":"1"},"b":{"M":{"c":{"S":"x"},"d":{"S":"y"}}},"l":{"L":[{"N":"0"},{"N":"1"},{"N":"2"}]}}`)
	paths, err := ParseProjection("b.c, l[2], l[0], zz", params(t, nil, ""))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(Project(it, paths))
	if want := `{"b":{"M":{"c":{"S":"x"}}},"l":{"L":[{"N":"0"},{"N":"2"}]}}`; string(b) != want {
		t.Errorf("got %s", b)
	}
	if _, err := ParseProjection("a, a.b", params(t, nil, "")); err == nil || err.Error() != "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]" {
		t.Errorf("overlap: %v", err)
	}
}

func TestKeyCondition(t *testing.T) {
	types := map[string]attr.Type{"p": attr.S, "c": attr.N}
	vals := `{":p":{"S":"k"},":1":{"N":"1"},":2":{"N":"2"}}`
	cases := []struct{ expr, want string }{
		{"p = :p AND c BETWEEN :1 AND :2", ""},
		{":1 < c AND p = :p", ""},
		{"c = :1", "Query condition missed key schema element: p"},
		{"p = :p OR c = :1", "Invalid operator used in KeyConditionExpression: OR"},
		{"p = :p AND c = :1 AND c = :2", "KeyConditionExpressions must only contain one condition per key"},
		{"p < :p", "Query key condition not supported"},
		{"p = :1", "One or more parameter values were invalid: Condition parameter type does not match schema type"},
		{"p = :p AND attribute_exists(c)", "Invalid operator used in KeyConditionExpression: attribute_exists"},
	}
	for _, c := range cases {
		cond, err := ParseCondition("KeyConditionExpression", c.expr, params(t, nil, vals))
		if err == nil {
			_, err = SplitKeyCondition(cond, "p", "c", types)
		}
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%q: got %q, want %q", c.expr, got, c.want)
		}
	}
}
