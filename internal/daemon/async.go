package daemon

import (
	"github.com/updraft/updraft/internal/async"
	"github.com/updraft/updraft/internal/registry"
)

// asyncPolicies gives the async engine each qualifier's retry and
// destination settings (FunctionEventInvokeConfig) from the registry.
type asyncPolicies struct{ reg *registry.Registry }

// AsyncPolicy implements async.Policies.
func (p asyncPolicies) AsyncPolicy(function, qualifier string) async.Policy {
	c := p.reg.EventInvokeConfig(function, qualifier)
	return async.Policy{MaxRetries: c.MaximumRetryAttempts, MaxEventAge: c.MaximumEventAge, OnSuccess: c.OnSuccess, OnFailure: c.OnFailure}
}
