package daemon

import (
	"time"

	"github.com/updraft/updraft/internal/pool"
	"github.com/updraft/updraft/internal/store"
)

// poolHealth is the pool's part of /healthz: its counts, and the
// pre-started runtimes ready per runtime template (absent when templates
// are off).
type poolHealth struct {
	pool.Stats
	RuntimeTemplates map[string]int `json:"runtimeTemplates,omitempty"`
}

// healthDoc is the /healthz document and whether it is served with 200.
//
//   - ok (200): the store answers and takes writes.
//   - degraded (200): the store answers but refuses writes (a full disk,
//     JetStream out of resources): sync invokes of existing functions and
//     reads work, everything that writes fails at once with a 5xx. The
//     node still serves, so a load balancer should keep it;
//     "reason" says why, "store.since" since when.
//   - degraded (503): the store does not answer at all.
//
// The healthy answer keeps its shape: status, store (mode, healthy),
// isolation, pool; a degraded one adds store.writable, store.reason,
// store.since and a top-level reason. A clustered node adds "cluster":
// the JetStream meta group's peers and leader and this node's routes, as
// its nats-server sees them (store.ClusterStatus); a cluster without a
// leader makes the store unanswering, so it shows as degraded (503).
func healthDoc(reachErr error, ws store.Status, mode string, cluster *store.ClusterStatus, isolation, pool any) (map[string]any, bool) {
	st := map[string]any{"mode": mode, "healthy": reachErr == nil && ws.Writable}
	doc := map[string]any{
		"status":    "ok",
		"store":     st,
		"isolation": isolation,
		"pool":      pool,
	}
	if cluster != nil {
		doc["cluster"] = cluster
	}
	switch {
	case reachErr != nil:
		doc["status"] = "degraded"
		doc["reason"] = "the store does not answer: " + reachErr.Error()
		st["error"] = reachErr.Error()
		return doc, false
	case !ws.Writable:
		doc["status"] = "degraded"
		doc["reason"] = "the store is not accepting writes: " + ws.Detail
		st["writable"] = false
		st["reason"] = ws.Reason
		st["detail"] = ws.Detail
		st["since"] = ws.Since.UTC().Format(time.RFC3339)
	}
	return doc, true
}
