package registry

import (
	"testing"

	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
)

// TestLookupsOfNamesNoFunctionHasAreNotFound covers what FuzzAPI found: a
// lookup name Lambda's pattern allows but no created function has (dots
// are allowed in lookups only) made a store key JetStream refuses
// ("fn..0"), which surfaced as a 500 instead of a 404.
func TestLookupsOfNamesNoFunctionHasAreNotFound(t *testing.T) {
	r := newRegistry(t, newStore(t))
	mustCreate(t, r, "fn")
	ctx := t.Context()
	notFound := lambdaerr.TypeResourceNotFound
	tests := []struct {
		name string
		call func() error
	}{
		{name: "GetFunction of a name starting with a dot", call: func() error { _, err := r.GetFunction(ctx, ".0", ""); return err }},
		{name: "GetFunctionConfiguration of a name ending with a dot", call: func() error { _, err := r.GetFunctionConfiguration(ctx, "fn.", ""); return err }},
		{name: "DeleteAlias of a function with two dots", call: func() error { return r.DeleteAlias(ctx, "a..b", "0") }},
		{name: "GetAlias of a function starting with a dot", call: func() error { _, err := r.GetAlias(ctx, ".fn", "live"); return err }},
		{name: "DeleteFunction of a dotted name", call: func() error { return r.DeleteFunction(ctx, ".", "") }},
		{name: "PublishVersion of a dotted name", call: func() error {
			_, err := r.PublishVersion(ctx, "..", &lambdaapi.PublishVersionRequest{})
			return err
		}},
		{name: "GetFunctionConcurrency of a dotted name", call: func() error { _, err := r.GetFunctionConcurrency(ctx, ".x"); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantType(t, tc.call(), notFound)
		})
	}
}
