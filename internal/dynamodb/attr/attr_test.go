package attr

import (
	"encoding/json"
	"testing"
)

// Normalisation cases recorded against DynamoDB (ScyllaDB's
// test/alternator/test_number.py, _NORMALIZATION_CASES).
func TestNumberCanonical(t *testing.T) {
	cases := [][2]string{{"007", "7"}, {"001.23", "1.23"}, {"+3", "3"}, {"1.10", "1.1"}, {"100.000", "100"}, {"0.0", "0"},
		{"1e3", "1000"}, {"1E+3", "1000"}, {"-3e2", "-300"}, {"1.23e4", "12300"}, {"1e-3", "0.001"}, {"123e-2", "1.23"},
		{"-0", "0"}, {"0e5", "0"}, {".5", "0.5"}, {"-.5", "-0.5"}, {"1e-20", "0.00000000000000000001"}, {"-273.15", "-273.15"}}
	for _, c := range cases {
		n, err := ParseNumber(c[0])
		if err != nil || n.String() != c[1] {
			t.Errorf("%s: %v %v, want %s", c[0], n, err, c[1])
		}
	}
	for _, bad := range []string{"NaN", "Infinity", "dog", " 1", "1 ", "", "-", "1e", "1.2.3"} {
		if _, err := ParseNumber(bad); err != ErrNotNumeric {
			t.Errorf("%q: %v", bad, err)
		}
	}
	for s, want := range map[string]error{"1e126": ErrOverflow, "9.9e125": nil, "1e-130": nil, "1e-131": ErrUnderflow,
		"1234567890123456789012345678901234567890": ErrPrecision, "12345678901234567890123456789012345678": nil} {
		if _, err := ParseNumber(s); err != want {
			t.Errorf("%s: %v, want %v", s, err, want)
		}
	}
}

func TestNumberArithmetic(t *testing.T) {
	a, _ := ParseNumber("10000000000000000000000")
	one, _ := ParseNumber("1")
	s, err := a.Add(one)
	if err != nil || s.String() != "10000000000000000000001" {
		t.Errorf("add: %v %v", s, err)
	}
	d, _ := a.Add(one.Negate())
	if d.String() != "9999999999999999999999" {
		t.Errorf("sub: %v", d)
	}
	big, _ := ParseNumber("9.9e125")
	if _, err := big.Add(big); err != ErrOverflow {
		t.Errorf("overflow: %v", err)
	}
	x, _ := ParseNumber("1e20")
	y, _ := ParseNumber("1e-20")
	if _, err := x.Add(y); err != ErrPrecision {
		t.Errorf("imprecise: %v", err)
	}
	if n1, n2 := MustNum("-2").Num, MustNum("1.5").Num; n1.Cmp(n2) != -1 || n2.Cmp(n1) != 1 || n1.Cmp(n1) != 0 {
		t.Error("cmp")
	}
}

func TestValueJSON(t *testing.T) {
	for in, want := range map[string]string{
		`{}`:                       "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
		`{"S":"a","N":"1"}`:        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
		`{"SS":[]}`:                "One or more parameter values were invalid: An string set  may not be empty",
		`{"NS":["1","1.0"]}`:       "One or more parameter values were invalid: Input collection [1, 1.0] contains duplicates.",
		`{"NULL":false}`:           "One or more parameter values were invalid: Null attribute value types must have the value of true",
		`{"N":"x"}`:                "The parameter cannot be converted to a numeric value",
		`{"M":{"a":{"L":[{}]}}}`:   "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
		`{"NS":["3","-1","2.50"]}`: "",
		`{"B":"aGk="}`:             "",
		`{"L":[]}`:                 "",
	} {
		var v Value
		err := json.Unmarshal([]byte(in), &v)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
		if err == nil {
			b, _ := json.Marshal(v)
			var v2 Value
			if err := json.Unmarshal(b, &v2); err != nil || !Equal(v, v2) {
				t.Errorf("%s round trip: %s %v", in, b, err)
			}
		}
	}
}
