package queue

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

func TestValidateAttributes(t *testing.T) {
	str := func(v string) Attribute { return Attribute{DataType: TypeString, StringValue: v} }
	num := func(v string) Attribute { return Attribute{DataType: TypeNumber, StringValue: v} }
	many := map[string]Attribute{}
	for i := range 11 {
		many[string(rune('a'+i))] = str("v")
	}
	tests := []struct {
		name  string
		attrs map[string]Attribute
		ok    bool
	}{
		{"no attributes are fine", nil, true},
		{"Lambda's dead-letter attributes are fine",
			map[string]Attribute{"RequestID": str("c0ffee"), "ErrorCode": num("200"), "ErrorMessage": str("boom\nline two")}, true},
		{"names may hold periods, hyphens and underscores", map[string]Attribute{"my.attr-name_1": str("x")}, true},
		{"numbers may be signed decimals with exponents", map[string]Attribute{"a": num("-1.5e+10"), "b": num(".5"), "c": num("7.")}, true},
		{"strings may hold any Unicode text", map[string]Attribute{"a": str("héllo ✓ \t \r\n <&>")}, true},
		{"eleven attributes are too many", many, false},
		{"an empty value is refused", map[string]Attribute{"a": str("")}, false},
		{"a Binary with a StringValue is refused", map[string]Attribute{"a": {DataType: "Binary", StringValue: "x"}}, false},
		{"an unknown data type is refused", map[string]Attribute{"a": {DataType: "Blob", StringValue: "x"}}, false},
		{"a custom type label is allowed", map[string]Attribute{"a": {DataType: "Number.float", StringValue: "1"}}, true},
		{"an empty custom type label is refused", map[string]Attribute{"a": {DataType: "Number.", StringValue: "1"}}, false},
		{"a Binary value is allowed", map[string]Attribute{"a": {DataType: "Binary.gif", BinaryValue: []byte{0, 1}}}, true},
		{"an empty Binary value is refused", map[string]Attribute{"a": {DataType: "Binary"}}, false},
		{"a non-number Number is refused", map[string]Attribute{"a": num("12abc")}, false},
		{"NaN is refused", map[string]Attribute{"a": num("NaN")}, false},
		{"a bare sign is refused", map[string]Attribute{"a": num("-")}, false},
		{"a bare exponent is refused", map[string]Attribute{"a": num("1e")}, false},
		{"hex is refused", map[string]Attribute{"a": num("0x10")}, false},
		{"control characters are refused", map[string]Attribute{"a": str("a\x00b")}, false},
		{"invalid UTF-8 is refused", map[string]Attribute{"a": str("\xff")}, false},
		{"a name with a space is refused", map[string]Attribute{"a b": str("x")}, false},
		{"a name with a colon is refused", map[string]Attribute{"a:b": str("x")}, false},
		{"a name starting with a period is refused", map[string]Attribute{".a": str("x")}, false},
		{"a name ending with a period is refused", map[string]Attribute{"a.": str("x")}, false},
		{"two periods in a row are refused", map[string]Attribute{"a..b": str("x")}, false},
		{"AWS. names are reserved", map[string]Attribute{"aws.trace": str("x")}, false},
		{"Amazon. names are reserved", map[string]Attribute{"Amazon.x": str("x")}, false},
		{"a name over 256 characters is refused", map[string]Attribute{strings.Repeat("n", 257): str("x")}, false},
		{"an empty name is refused", map[string]Attribute{"": str("x")}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := validateAttributes(tc.attrs)
			if tc.ok && err != nil {
				t.Fatalf("validateAttributes: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrInvalid) {
				t.Fatalf("validateAttributes = %v, want a validation error", err)
			}
		})
	}
}

func TestAttributesRoundTripThroughHeaders(t *testing.T) {
	attrs := map[string]Attribute{
		"RequestID":    {DataType: TypeString, StringValue: "8c5b2b2a-5a55-4b43-9e0e-2a3b7d5ab1f1"},
		"ErrorCode":    {DataType: TypeNumber, StringValue: "200"},
		"ErrorMessage": {DataType: TypeString, StringValue: "  leading and trailing spaces, \"quotes\", <html> & a\r\nsecond line  "},
		"requestid":    {DataType: TypeString, StringValue: "a different attribute"},
		"unicode":      {DataType: TypeString, StringValue: "λ \u2028 ✓"},
	}
	h := nats.Header{}
	if err := encodeAttributes(h, attrs); err != nil {
		t.Fatal(err)
	}
	h.Set("Nats-Msg-Id", "not an attribute")
	for k, v := range h {
		if strings.ContainsAny(v[0], "\r\n") {
			t.Errorf("header %s carries a line break: %q", k, v[0])
		}
	}
	got, err := decodeAttributes(h)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, attrs) {
		t.Errorf("round trip:\n got %v\nwant %v", got, attrs)
	}
}

func TestDecodeAttributesRefusesMalformedHeaders(t *testing.T) {
	tests := []struct {
		name string
		h    nats.Header
	}{
		{"a value that is not JSON", nats.Header{"Updraft-Attr-a": {"String;x"}}},
		{"an invalid name", nats.Header{"Updraft-Attr-a b": {`{"DataType":"String","StringValue":"x"}`}}},
		{"an empty name", nats.Header{"Updraft-Attr-": {`{"DataType":"String","StringValue":"x"}`}}},
		{"an unknown type", nats.Header{"Updraft-Attr-a": {`{"DataType":"Binary","StringValue":"x"}`}}},
		{"two values", nats.Header{"Updraft-Attr-a": {`{"DataType":"String","StringValue":"x"}`, `{"DataType":"String","StringValue":"y"}`}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := decodeAttributes(tc.h); err == nil {
				t.Errorf("decodeAttributes = %v, want an error", got)
			}
		})
	}
	if got, err := decodeAttributes(nats.Header{"Other": {"x"}}); err != nil || got != nil {
		t.Errorf("decodeAttributes of no attribute headers = %v, %v; want nil, nil", got, err)
	}
}

func TestSanitizeAttributes(t *testing.T) {
	in := map[string]Attribute{
		"RequestID":    {DataType: TypeString, StringValue: "r-1"},
		"ErrorCode":    {DataType: TypeNumber, StringValue: "500"},
		"ErrorMessage": {DataType: TypeString, StringValue: "bad \x1b[31mred\x00 and a cut rune \xe2\x9c"},
		"Empty":        {DataType: TypeString, StringValue: ""},
	}
	got := SanitizeAttributes(in)
	want := map[string]Attribute{
		"RequestID":    {DataType: TypeString, StringValue: "r-1"},
		"ErrorCode":    {DataType: TypeNumber, StringValue: "500"},
		"ErrorMessage": {DataType: TypeString, StringValue: "bad \uFFFD[31mred\uFFFD and a cut rune \uFFFD"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SanitizeAttributes =\n%q\nwant\n%q", got, want)
	}
	if _, err := validateAttributes(got); err != nil {
		t.Errorf("sanitized attributes do not validate: %v", err)
	}
	if in["Empty"].DataType == "" || in["ErrorMessage"].StringValue == want["ErrorMessage"].StringValue {
		t.Error("SanitizeAttributes modified its argument")
	}
	if SanitizeAttributes(nil) != nil {
		t.Error("SanitizeAttributes(nil) != nil")
	}
}
