package asl

import "testing"

func TestPathSelect(t *testing.T) {
	in := `{"a":{"b":[10,20,30],"c d":1},"list":[{"id":1},{"id":2}],"x":null}`
	tests := []struct {
		path, want string
		found      bool
	}{
		{"$", in, true},
		{"$.a.b", `[10,20,30]`, true},
		{"$.a.b[1]", `20`, true},
		{"$.a.b[-1]", `30`, true},
		{"$['a']['c d']", `1`, true},
		{"$.a.b[0:2]", `[10,20]`, true},
		{"$.a.b[1:]", `[20,30]`, true},
		{"$.a.b[0,2]", `[10,30]`, true},
		{"$.list[*].id", `[1,2]`, true},
		{"$..id", `[1,2]`, true},
		{"$.x", `null`, true},
		{"$.nope", ``, false},
		{"$.a.b[7]", ``, false},
	}
	root := mustDecode(t, in)
	for _, tc := range tests {
		p, err := ParsePath(tc.path)
		if err != nil {
			t.Fatalf("ParsePath(%q): %v", tc.path, err)
		}
		v, ok := p.Select(root)
		if ok != tc.found {
			t.Errorf("%s found %v, want %v", tc.path, ok, tc.found)
			continue
		}
		if ok && mustEncode(v) != mustEncode(mustDecode(t, tc.want)) {
			t.Errorf("%s = %s, want %s", tc.path, mustEncode(v), tc.want)
		}
	}
}

func TestPathParseErrors(t *testing.T) {
	for _, s := range []string{"", "a.b", "$.", "$[", "$['a'", "$[x]", "$.a[?(@.b)]", "$..", "$ .a"} {
		if _, err := ParsePath(s); err == nil {
			t.Errorf("ParsePath(%q) succeeded, want an error", s)
		}
	}
}

func TestPathAssign(t *testing.T) {
	tests := []struct {
		path, in, value, want string
	}{
		{"$", `{"a":1}`, `2`, `2`},
		{"$.r", `{"a":1}`, `2`, `{"a":1,"r":2}`},
		{"$.a.b.c", `{"a":{}}`, `"v"`, `{"a":{"b":{"c":"v"}}}`},
		{"$.l[1]", `{"l":[0,0]}`, `5`, `{"l":[0,5]}`},
	}
	for _, tc := range tests {
		p, _ := ParsePath(tc.path)
		in := mustDecode(t, tc.in)
		got, err := p.Assign(in, mustDecode(t, tc.value))
		if err != nil {
			t.Fatalf("Assign(%s): %v", tc.path, err)
		}
		if mustEncode(got) != tc.want {
			t.Errorf("Assign(%s) = %s, want %s", tc.path, mustEncode(got), tc.want)
		}
		if mustEncode(in) != tc.in {
			t.Errorf("Assign(%s) changed its input to %s", tc.path, mustEncode(in))
		}
	}
	p, _ := ParsePath("$.a.b")
	if _, err := p.Assign(mustDecode(t, `{"a":"str"}`), 1); err == nil {
		t.Error("Assign through a string succeeded")
	}
}
