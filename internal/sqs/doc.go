// Package sqs is the Amazon SQS API over updraft's built-in queues
// (internal/queue): the same queues that event source mappings read and
// that asynchronous invocation writes dead letters and destination
// records to, so a queue-triggered function receives what `aws sqs
// send-message` sent.
//
// # Protocols
//
// One [Handler] speaks both of SQS's protocols. The JSON protocol
// (X-Amz-Target: AmazonSQS.<Operation>, application/x-amz-json-1.0), which
// current SDKs and the aws CLI v1 send, and the query protocol (a form
// with Action and Version=2012-11-05, answered in XML), which older
// clients send. Both decode into the same input structs (json.go reads
// the JSON, query.go builds them from the form) and run the same
// operation (ops.go); each renders the output and errors in its own shape:
// JSON errors carry __type "com.amazonaws.sqs#<Shape>" and the
// x-amzn-query-error header with the query protocol's code, which is what
// SDKs report (AWS.SimpleQueueService.NonExistentQueue and so on);
// query errors are an ErrorResponse document with that code.
//
// # Queues and URLs
//
// A queue's URL is http(s)://HOST/ACCOUNT/NAME on the address the client
// reached the server at (its Host header), so URLs work from wherever the
// client is. Any URL whose path is /ACCOUNT/NAME for this server's account
// is accepted, https://sqs.REGION.amazonaws.com/ACCOUNT/NAME included. A
// request posted to a queue's URL path names its queue by that path when
// the form has no QueueUrl.
//
// Queue attributes are kept by internal/queue in the queue stream's
// metadata; CreateQueue stores SQS's defaults explicitly, so that
// creating a queue again with different attributes is QueueAlreadyExists
// as in SQS. See internal/queue for how visibility, delays, FIFO groups,
// deduplication and redrive map onto JetStream.
package sqs
