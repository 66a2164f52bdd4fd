package registry

import (
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/lambdaerr"
)

func TestParseFunctionName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want FunctionRef
		bad  bool
	}{
		{name: "a bare name", in: "my-function", want: FunctionRef{Name: "my-function"}},
		{name: "a name with underscores and digits", in: "fn_2", want: FunctionRef{Name: "fn_2"}},
		{name: "a name with a version", in: "my-function:1", want: FunctionRef{Name: "my-function", Qualifier: "1"}},
		{name: "a name with an alias", in: "my-function:live", want: FunctionRef{Name: "my-function", Qualifier: "live"}},
		{name: "a name with $LATEST", in: "my-function:$LATEST", want: FunctionRef{Name: "my-function", Qualifier: "$LATEST"}},
		{name: "a full ARN", in: "arn:aws:lambda:us-west-2:123456789012:function:my-function",
			want: FunctionRef{Name: "my-function", Region: "us-west-2", AccountID: "123456789012"}},
		{name: "a full ARN with a qualifier", in: "arn:aws:lambda:us-west-2:123456789012:function:my-function:prod",
			want: FunctionRef{Name: "my-function", Qualifier: "prod", Region: "us-west-2", AccountID: "123456789012"}},
		{name: "a full ARN in another partition", in: "arn:aws-cn:lambda:cn-north-1:123456789012:function:f",
			want: FunctionRef{Name: "f", Region: "cn-north-1", AccountID: "123456789012"}},
		{name: "a partial ARN", in: "123456789012:function:my-function",
			want: FunctionRef{Name: "my-function", AccountID: "123456789012"}},
		{name: "a partial ARN with a qualifier", in: "123456789012:function:my-function:7",
			want: FunctionRef{Name: "my-function", Qualifier: "7", AccountID: "123456789012"}},
		{name: "a name of 64 characters", in: strings.Repeat("a", 64), want: FunctionRef{Name: strings.Repeat("a", 64)}},
		{name: "an empty name", in: "", bad: true},
		{name: "a name of 65 characters (looked up, then not found, as on Lambda)", in: strings.Repeat("a", 65), want: FunctionRef{Name: strings.Repeat("a", 65)}},
		{name: "a name of 171 characters", in: strings.Repeat("a", 171), bad: true},
		{name: "a name with a space", in: "my function", bad: true},
		{name: "a name with a slash", in: "a/b", bad: true},
		{name: "an empty qualifier", in: "f:", bad: true},
		{name: "a qualifier with a bad character", in: "f:a.b", bad: true},
		{name: "too many parts", in: "f:1:2", bad: true},
		{name: "an ARN of another service", in: "arn:aws:s3:us-east-1:123456789012:function:f", bad: true},
		{name: "an ARN of a layer", in: "arn:aws:lambda:us-east-1:123456789012:layer:f", bad: true},
		{name: "an ARN with a short account", in: "arn:aws:lambda:us-east-1:1234:function:f", bad: true},
		{name: "an ARN without a name", in: "arn:aws:lambda:us-east-1:123456789012:function:", bad: true},
		{name: "a truncated ARN", in: "arn:aws:lambda:us-east-1", bad: true},
		{name: "a partial ARN with a bad account", in: "12345678901x:function:f", bad: true},
		{name: "a bad partition", in: "arn:gcp:lambda:us-east-1:123456789012:function:f", bad: true},
		{name: "a region outside Lambda's pattern", in: "arn:aws:lambda:invalid-region:123456789012:function:f", bad: true},
		{name: "a GovCloud region", in: "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f",
			want: FunctionRef{Name: "f", Region: "us-gov-west-1", AccountID: "123456789012"}},
		{name: "an ISO region", in: "arn:aws-iso-b:lambda:us-isob-east-1:123456789012:function:f",
			want: FunctionRef{Name: "f", Region: "us-isob-east-1", AccountID: "123456789012"}},
		{name: "a region without its number", in: "arn:aws:lambda:us-east:123456789012:function:f", bad: true},
		{name: "an ARN ending in \"function\" names a function called function", in: "arn:aws:lambda:us-east-1:123456789012:function",
			want: FunctionRef{Name: "function", Region: "us-east-1", AccountID: "123456789012"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFunctionName(tc.in)
			if tc.bad {
				if err == nil {
					t.Fatalf("ParseFunctionName(%q) = %+v, want an error", tc.in, got)
				}
				if !lambdaerr.IsType(err, lambdaerr.TypeValidation) {
					t.Fatalf("error %v is not a ValidationException", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFunctionName(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Fatalf("ParseFunctionName(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestMergeQualifier(t *testing.T) {
	tests := []struct {
		name, embedded, param, want string
		wantType                    string
	}{
		{name: "neither", want: ""},
		{name: "only embedded", embedded: "1", want: "1"},
		{name: "only the parameter", param: "live", want: "live"},
		{name: "both the same", embedded: "live", param: "live", want: "live"},
		{name: "both different", embedded: "1", param: "2", wantType: lambdaerr.TypeInvalidParameterValue},
		{name: "a malformed parameter", param: "a b", wantType: lambdaerr.TypeValidation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := mergeQualifier(tc.embedded, tc.param)
			if tc.wantType != "" {
				wantType(t, err, tc.wantType)
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("mergeQualifier = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestParseDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = parseFunctionName("arn:aws:lambda:us-east-1:000000000000:function:hello:live")
	})
	if allocs != 0 {
		t.Fatalf("parseFunctionName allocates %v times", allocs)
	}
}

func FuzzParseFunctionName(f *testing.F) {
	for _, s := range []string{
		"f", "f:1", "f:$LATEST", "arn:aws:lambda:us-east-1:123456789012:function:f:live",
		"123456789012:function:f", "arn:aws:lambda:::function:f", "::", "f::", "arn:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := ParseFunctionName(s)
		if err != nil {
			if !lambdaerr.IsType(err, lambdaerr.TypeValidation) {
				t.Fatalf("error %v is not a ValidationException", err)
			}
			return
		}
		if !validName(ref.Name) {
			t.Fatalf("accepted %q with invalid name %q", s, ref.Name)
		}
		if ref.Qualifier != "" && !validQualifier(ref.Qualifier) {
			t.Fatalf("accepted %q with invalid qualifier %q", s, ref.Qualifier)
		}
		if !strings.Contains(s, ref.Name) || !strings.HasSuffix(s, ref.Qualifier) {
			t.Fatalf("parts of %q not taken from it: %+v", s, ref)
		}
		// Re-rendering the parts parses back to the same parts.
		again := ref.Name
		if ref.Qualifier != "" {
			again += ":" + ref.Qualifier
		}
		if ref.AccountID != "" {
			again = ref.AccountID + ":function:" + again
		}
		if ref.Region != "" {
			again = "arn:aws:lambda:" + ref.Region + ":" + again
		}
		back, err := ParseFunctionName(again)
		if err != nil || back != ref {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, ref, again, back, err)
		}
	})
}
