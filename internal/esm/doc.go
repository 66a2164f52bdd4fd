// Package esm is event source mappings: functions triggered by the
// built-in queues (internal/queue), as Lambda triggers them from SQS
// ("Using Lambda with Amazon SQS", AWS Lambda Developer Guide).
//
// # Control plane
//
// A mapping ties one queue (EventSourceArn arn:aws:sqs:REGION:ACCOUNT:NAME
// in the server's region and account) to one function, optionally
// qualified. [Service.Create], Get, List, Update and Delete implement
// Lambda's operations of the same names with Lambda's validation and
// errors; internal/api serves them on Lambda's REST paths. Mappings are
// JSON records in the JetStream KV bucket [Bucket], key "m.<UUID>"; a
// second key per function and queue, "p.<digest>", holds the UUID of
// the mapping that owns the pair, created with a compare-and-set so that
// two nodes cannot both create a mapping for one pair. Lambda's
// transitional states are what the calls answer (Creating, Enabling,
// Disabling, Updating, Deleting); what is stored is the state reached,
// Enabled or Disabled, since a mapping takes effect as soon as every
// node's watcher sees it.
//
// # Pollers
//
// Every node watches the bucket and runs one poller per Enabled mapping;
// a change to a mapping restarts its poller, disabling or deleting it
// stops it. The pollers of all nodes, and `updraft queue receive`, share
// the queue's one durable consumer, so they compete for messages as SQS
// consumers do. A poller long polls ([queue.Service.Fetch]) for up to
// BatchSize messages, gathering for up to MaximumBatchingWindowInSeconds
// once the first arrived, builds an aws-lambda-go events.SQSEvent (cut to
// the 6 MB synchronous payload limit; messages that do not fit are
// released at once for the next batch) and invokes the function
// synchronously through the invoke service. While the function runs the
// poller extends the messages' visibility timeout. Then:
//
//   - success: every message is acknowledged, which deletes it;
//   - function error, throttle or any other failure to invoke: every
//     message is released with a delay of the visibility timeout, so the
//     whole batch becomes visible again after it, with its
//     ApproximateReceiveCount one higher (Lambda's behaviour);
//   - with FunctionResponseTypes [ReportBatchItemFailures], a successful
//     response is parsed as {"batchItemFailures":[{"itemIdentifier":ID}]}:
//     the listed messages are released, the rest acknowledged; an empty
//     or null response or list is complete success, and a response that
//     is not such a document, or names an id that is empty or not in the
//     batch, is complete failure (see [ParseBatchItemFailures]).
//
// One batch per mapping is in flight on each node. Delivery is at least
// once: a node that dies mid-batch leaves its messages to come back after
// the visibility timeout.
package esm
