// Package dynamodb serves DynamoDB-compatible tables on the JetStream
// store: the DynamoDB JSON 1.0 API (X-Amz-Target DynamoDB_20120810.*),
// tables and items, conditional writes, queries and scans over in-memory
// sorted indexes kept by KV watchers, transactions as JetStream atomic
// batches, and TTL sweeping. Expressions are package expr, values package
// attr. See docs/architecture.md, "DynamoDB tables", for the design and
// its guarantees.
package dynamodb
