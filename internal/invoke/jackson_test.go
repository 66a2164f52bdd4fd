package invoke

import "testing"

func TestJacksonError(t *testing.T) {
	const at = "\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: "
	const values = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
	tests := []struct {
		name    string
		payload string
		want    string // "" when the error is not described
	}{
		// Recorded: LocalStack's test_lambda snapshot, test_lambda_invoke_payload_encoding_error.
		{"an invalid UTF-8 byte inside a token (recorded)", "n\x87r\x9e\xe9\xb5\xd7I\xee\x9bmt", "Invalid UTF-8 start byte 0x87" + at + "1, column: 3]"},
		{"a control byte where a value starts (recorded)", "\x99\xeb,j\x07\xa1zYh", "Unexpected character ((CTRL-CHAR, code 153)): expected a valid value " + values + at + "1, column: 1]"},
		// Jackson's rules (jackson-core UTF8StreamJsonParser) on other first tokens.
		{"a word", "hello world", "Unrecognized token 'hello': was expecting " + values + at + "1, column: 7]"},
		{"a broken literal", "nul", "Unrecognized token 'nul': was expecting " + values + at + "1, column: 4]"},
		{"a literal run on", "trueish", "Unrecognized token 'trueish': was expecting " + values + at + "1, column: 8]"},
		{"a character that starts nothing, after a newline", " \n  #", "Unexpected character ('#' (code 35)): expected a valid value " + values + at + "2, column: 3]"},
		{"a comma at the root", ",", "Unexpected character (',' (code 44)): expected a value" + at + "1, column: 1]"},
		{"a control character between tokens", "\x01", "Illegal character ((CTRL-CHAR, code 1)): only regular white space (\\r, \\n, \\t) is allowed between tokens" + at + "1, column: 2]"},
		{"a bad middle byte", "a\xc3x", "Invalid UTF-8 middle byte 0x78" + at + "1, column: 4]"},
		{"NaN", "NaN", "Non-standard token 'NaN': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow" + at + "1, column: 4]"},
		{"an error further on is not described", `{"a": x}`, ""},
		{"a complete literal with trailing content is not described", "null x", ""},
		{"UTF-16 input is not described", "\x00{\x00}", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := jacksonError([]byte(tc.payload))
			if tc.want == "" {
				if ok {
					t.Fatalf("described as %q, want not described", got)
				}
				return
			}
			if !ok || got != tc.want {
				t.Fatalf("jacksonError(%q) = %q, %v\nwant %q", tc.payload, got, ok, tc.want)
			}
		})
	}
}
