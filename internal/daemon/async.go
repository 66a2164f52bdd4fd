package daemon

import (
	"context"

	"github.com/updraft/updraft/internal/async"
	"github.com/updraft/updraft/internal/queue"
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

// asyncQueues delivers the async engine's dead letters and destination
// records to the built-in queues.
type asyncQueues struct{ q *queue.Service }

// Send implements async.Queues: durable, deduplicated by dedupID.
func (a asyncQueues) Send(ctx context.Context, queueARN, dedupID string, body []byte, attrs map[string]async.Attribute) error {
	_, _, name, err := queue.ParseARN(queueARN)
	if err != nil {
		return err
	}
	var qa map[string]queue.Attribute
	if attrs != nil {
		qa = make(map[string]queue.Attribute, len(attrs))
		for k, v := range attrs {
			qa[k] = queue.Attribute{DataType: v.DataType, StringValue: v.StringValue}
		}
	}
	_, err = a.q.SendWithID(ctx, name, dedupID, body, queue.SanitizeAttributes(qa))
	return err
}

// workflowQueues gives the workflow service the built-in queues.
type workflowQueues struct{ q *queue.Service }

// Send implements sfn.Queues.
func (w workflowQueues) Send(ctx context.Context, name, id string, body []byte) (string, error) {
	return w.q.SendWithID(ctx, name, id, body, nil)
}
