package expr

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/dynamodb/attr"
)

const fuzzValues = `{":v":{"N":"1"},":s":{"S":"ab"},":l":{"L":[{"N":"1"}]},":ss":{"SS":["a"]},":t":{"S":"N"}}`

var fuzzItem = `{"p":{"S":"k"},"a":{"N":"5"},"l":{"L":[{"N":"0"},{"M":{"x":{"S":"y"}}}]},"m":{"M":{"a":{"SS":["q"]}}}}`

func fuzzParams(t *testing.T) *Params {
	p := &Params{Names: map[string]string{"#a": "a", "#p": "p"}}
	if err := json.Unmarshal([]byte(fuzzValues), &p.Values); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkErr insists that a refusal is a ValidationException text of the
// expression's kind, never a panic or another error.
func checkErr(t *testing.T, kind string, err error) {
	if err == nil {
		return
	}
	e, ok := err.(*Error)
	if !ok || !strings.HasPrefix(e.Msg, "Invalid "+kind+": ") {
		t.Fatalf("error %T %v", err, err)
	}
}

// FuzzCondition: any condition either parses and evaluates without
// panicking, or is refused with a ValidationException message.
func FuzzCondition(f *testing.F) {
	for _, s := range []string{"a = :v", "attribute_exists(#a) AND NOT begins_with(p, :s)", "size(l) BETWEEN :v AND :v OR a IN (:v, :v)",
		"contains(m.a, :s) AND l[1].x <> :s", "((a = :v))", "attribute_type(a, :t)", "a < :v AND (p > :s)", "#zz = :zz"} {
		f.Add(s)
	}
	var it attr.Item
	if err := json.Unmarshal([]byte(fuzzItem), &it); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCondition("ConditionExpression", s, fuzzParams(t))
		checkErr(t, "ConditionExpression", err)
		if err == nil {
			Eval(c, it)
			_, _ = SplitKeyCondition(c, "p", "a", map[string]attr.Type{"p": attr.S, "a": attr.N})
		}
	})
}

// FuzzUpdate: any update expression either applies (or fails with an
// update error) or is refused; the input item never changes.
func FuzzUpdate(f *testing.F) {
	for _, s := range []string{"SET a = a + :v, l = list_append(l, :l) REMOVE m.a", "ADD a :v, s :ss DELETE m.a :ss",
		"SET #a = if_not_exists(#a, :v) - :v", "SET l[1].x = :s, l[9] = :v", "SET a = :v SET a = :v", "REMOVE l[0], l[1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var it attr.Item
		if err := json.Unmarshal([]byte(fuzzItem), &it); err != nil {
			t.Fatal(err)
		}
		u, err := ParseUpdate(s, fuzzParams(t))
		checkErr(t, "UpdateExpression", err)
		if err != nil {
			return
		}
		if _, err := u.Apply(it); err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("apply: %T %v", err, err)
			}
		}
		if b, _ := json.Marshal(it); string(b) != strings.ReplaceAll(fuzzItem, " ", "") && !sameJSON(string(b), fuzzItem) {
			t.Fatalf("item changed: %s", b)
		}
	})
}

func sameJSON(a, b string) bool {
	var x, y attr.Item
	_ = json.Unmarshal([]byte(a), &x)
	_ = json.Unmarshal([]byte(b), &y)
	return attr.Equal(attr.Value{T: attr.M, Map: x}, attr.Value{T: attr.M, Map: y})
}

// FuzzProjection: any projection either parses and projects or is
// refused with a ValidationException message.
func FuzzProjection(f *testing.F) {
	for _, s := range []string{"a, l[1].x, m", "#a, #p", "a, a.b", "l[0], l[1]"} {
		f.Add(s)
	}
	var it attr.Item
	if err := json.Unmarshal([]byte(fuzzItem), &it); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		paths, err := ParseProjection(s, fuzzParams(t))
		checkErr(t, "ProjectionExpression", err)
		if err == nil {
			Project(it, paths)
		}
	})
}
