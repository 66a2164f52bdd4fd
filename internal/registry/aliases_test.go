package registry

import (
	"testing"

	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
)

// TestRoutingConfigMessages checks CreateAlias's refusals of a routing
// configuration against Lambda's recorded answers (LocalStack's
// test_notfound_and_invalid_routingconfigs snapshot).
func TestRoutingConfigMessages(t *testing.T) {
	st := newStore(t)
	r := newRegistry(t, st)
	mustCreate(t, r, "fn")
	for range 2 {
		if _, err := r.PublishVersion(t.Context(), "fn", &lambdaapi.PublishVersionRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	const prefix = "1 validation error detected: Value '"
	tests := []struct {
		name     string
		fn       string
		version  string
		weights  map[string]float64
		wantType string
		wantMsg  string
	}{
		{"a weight above 1 is quoted as Java prints it", "fn", "1", map[string]float64{"2": 2}, lambdaerr.TypeValidation,
			prefix + "{2=2.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]"},
		{"a negative weight", "fn", "1", map[string]float64{"2": -1}, lambdaerr.TypeValidation,
			prefix + "{2=-1.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]"},
		{"a $LATEST key breaks the key pattern", "fn", "1", map[string]float64{"$LATEST": 0.5}, lambdaerr.TypeValidation,
			prefix + "{$LATEST=0.5}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]"},
		{"routing to the alias's own version", "fn", "1", map[string]float64{"1": 0.5}, lambdaerr.TypeInvalidParameterValue,
			"Invalid function version 1. Function version 1 is already included in routing configuration."},
		{"two additional versions", "fn", "1", map[string]float64{"1": 0.8, "2": 0.2}, lambdaerr.TypeInvalidParameterValue,
			"Number of items in AdditionalVersionWeights cannot be greater than 1"},
		{"a function that does not exist is not found under the version", "nope", "1", map[string]float64{"2": 0.5}, lambdaerr.TypeResourceNotFound,
			"Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.CreateAlias(t.Context(), tc.fn, &lambdaapi.CreateAliasRequest{Name: "a", FunctionVersion: tc.version,
				RoutingConfig: &lambdaapi.AliasRoutingConfiguration{AdditionalVersionWeights: tc.weights}})
			if e := wantType(t, err, tc.wantType); e.Message != tc.wantMsg {
				t.Fatalf("message %q,\nwant %q", e.Message, tc.wantMsg)
			}
		})
	}
}

func TestJavaDouble(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{2, "2.0"}, {-1, "-1.0"}, {0.5, "0.5"}, {0, "0.0"}, {1e7, "1.0E7"}, {0.0001, "1.0E-4"}, {1.5e-4, "1.5E-4"},
	} {
		if got := javaDouble(tc.in); got != tc.want {
			t.Errorf("javaDouble(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
