package asl

import (
	"regexp"
	"strings"
	"testing"
)

func mustDecode(t *testing.T, s string) any {
	t.Helper()
	v, err := Decode([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func TestIntrinsicFunctions(t *testing.T) {
	input := `{"a":1,"b":2,"s":"hello","list":[1,2,2,3,"x","x"],"obj":{"k":"v"},"other":{"k":"w","z":true},"csv":"1,2,,3","json":"{\"n\":[1,2]}","b64":"aGVsbG8="}`
	tests := []struct {
		name, expr, want string
	}{
		{"Format fills placeholders with strings raw and others as JSON", `States.Format('{} has {} and {}', $.s, $.a, $.obj)`, `"hello has 1 and {\"k\":\"v\"}"`},
		{"Format keeps escaped braces", `States.Format('\{\} {}', 'x')`, `"{} x"`},
		{"StringToJson parses", `States.StringToJson($.json)`, `{"n":[1,2]}`},
		{"JsonToString serialises", `States.JsonToString($.obj)`, `"{\"k\":\"v\"}"`},
		{"Array builds from literals and paths", `States.Array(1, 'two', $.a, true, null)`, `[1,"two",1,true,null]`},
		{"Array of nothing is empty", `States.Array()`, `[]`},
		{"ArrayPartition chunks with a short tail", `States.ArrayPartition(States.Array(1,2,3,4,5), 2)`, `[[1,2],[3,4],[5]]`},
		{"ArrayContains finds a value", `States.ArrayContains($.list, 3)`, `true`},
		{"ArrayContains misses a value", `States.ArrayContains($.list, 9)`, `false`},
		{"ArrayRange counts up inclusively", `States.ArrayRange(1, 9, 2)`, `[1,3,5,7,9]`},
		{"ArrayRange counts down", `States.ArrayRange(3, 1, -1)`, `[3,2,1]`},
		{"ArrayGetItem indexes", `States.ArrayGetItem($.list, 4)`, `"x"`},
		{"ArrayLength counts", `States.ArrayLength($.list)`, `6`},
		{"ArrayUnique keeps first occurrences", `States.ArrayUnique($.list)`, `[1,2,3,"x"]`},
		{"Base64Encode encodes", `States.Base64Encode($.s)`, `"aGVsbG8="`},
		{"Base64Decode decodes", `States.Base64Decode($.b64)`, `"hello"`},
		{"Hash MD5", `States.Hash('abc', 'MD5')`, `"900150983cd24fb0d6963f7d28e17f72"`},
		{"Hash SHA-1", `States.Hash('abc', 'SHA-1')`, `"a9993e364706816aba3e25717850c26c9cd0d89d"`},
		{"Hash SHA-256", `States.Hash('abc', 'SHA-256')`, `"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"`},
		{"Hash SHA-384", `States.Hash('', 'SHA-384')`, `"38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b"`},
		{"Hash SHA-512", `States.Hash('', 'SHA-512')`, `"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"`},
		{"JsonMerge is shallow with the second winning", `States.JsonMerge($.obj, $.other, false)`, `{"k":"w","z":true}`},
		{"MathRandom with a seed stays in range", `States.ArrayContains(States.Array(3,4), States.MathRandom(3, 5, 7))`, `true`},
		{"MathAdd adds integers", `States.MathAdd($.a, -5)`, `-4`},
		{"StringSplit splits on any delimiter character and drops empties", `States.StringSplit('This.is+a,test', '.+,')`, `["This","is","a","test"]`},
		{"StringSplit on a path", `States.StringSplit($.csv, ',')`, `["1","2","3"]`},
		{"nested calls compose", `States.ArrayLength(States.StringSplit(States.Format('{},{}', 'a', 'b'), ','))`, `2`},
		{"context paths are read from $$", `States.Format('{}', $$.Execution.Name)`, `"exec-1"`},
	}
	in := mustDecode(t, input)
	ctx := mustDecode(t, `{"Execution":{"Name":"exec-1"}}`)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseIntrinsic(tc.expr)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			v, err := c.Eval(in, ctx)
			if err != nil {
				t.Fatalf("eval: %v", err)
			}
			got := mustEncode(v)
			if got != tc.want {
				t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
			}
		})
	}
}

func TestIntrinsicUUIDAndRandom(t *testing.T) {
	c, _ := ParseIntrinsic("States.UUID()")
	v, err := c.Eval(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(v.(string)) {
		t.Errorf("UUID %q is not a version 4 UUID", v)
	}
	c, _ = ParseIntrinsic("States.MathRandom(10, 12)")
	for range 50 {
		v, err := c.Eval(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := integer(v); n < 10 || n >= 12 {
			t.Fatalf("MathRandom(10, 12) = %v, outside [10, 12)", v)
		}
	}
}

func TestIntrinsicErrors(t *testing.T) {
	parseErrors := []string{
		`States.Nope(1)`,
		`States.Format(`,
		`States.ArrayLength()`,
		`States.UUID(1)`,
		`States.Format('x', 'y'`,
		`States.Array(1) trailing`,
		`States.Format('unterminated)`,
	}
	for _, s := range parseErrors {
		if _, err := ParseIntrinsic(s); err == nil {
			t.Errorf("ParseIntrinsic(%q) succeeded, want an error", s)
		}
	}
	evalErrors := []string{
		`States.Format('{} {}', 'one')`,
		`States.StringToJson('{')`,
		`States.ArrayGetItem(States.Array(1), 5)`,
		`States.ArrayPartition(States.Array(1), 0)`,
		`States.Base64Decode('%%%')`,
		`States.Hash('x', 'SHA-3')`,
		`States.JsonMerge(States.StringToJson('{}'), States.StringToJson('{}'), true)`,
		`States.MathAdd(1.5, 1)`,
		`States.MathRandom(5, 5)`,
		`States.ArrayRange(1, 5000, 1)`,
		`States.ArrayLength($.missing)`,
	}
	for _, s := range evalErrors {
		c, err := ParseIntrinsic(s)
		if err != nil {
			t.Errorf("ParseIntrinsic(%q): %v", s, err)
			continue
		}
		if _, err := c.Eval(map[string]any{}, nil); err == nil || !strings.Contains(err.Error(), "intrinsic failure") {
			t.Errorf("Eval(%q) = %v, want an intrinsic failure", s, err)
		}
	}
}
