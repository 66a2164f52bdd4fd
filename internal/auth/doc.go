// Package auth authenticates requests to updraft's Lambda-compatible API the
// way AWS does: with Signature Version 4 (SigV4) over a small set of static
// access keys.
//
// # Credentials
//
// At start-up the daemon calls [LoadOrCreate]: keys from the environment win;
// otherwise <data dir>/credentials.json (mode 0600) is read, or created with a
// fresh random pair that the daemon prints with [ExportLines] so the operator
// can point the aws CLI or an SDK at the server.
//
// # Verification
//
// The API layer builds one [Verifier] with [New] and wraps its router in
// [Verifier.Middleware]. For each request the verifier
//
//  1. finds the signature: an "Authorization: AWS4-HMAC-SHA256 ..." header or
//     presigned X-Amz-* query parameters (neither: MissingAuthenticationToken;
//     malformed: IncompleteSignature);
//  2. with [WithScope], checks the credential scope's region and service
//     against the server's region and what the API layer says the request
//     may be signed for (else: InvalidSignature "Credential should be
//     scoped to ...");
//  3. looks up the access key ID (unknown: UnrecognizedClient);
//  4. checks the signing time against the clock, ±15 minutes, or X-Amz-Expires
//     for presigned URLs (outside: InvalidSignature "Signature expired");
//  5. rebuilds the canonical request from the request as it came off the
//     wire — the raw path encoded a second time, as every non-S3 client signs
//     it, the query re-encoded and sorted, the signed headers with r.Host as
//     the host — and compares signatures with hmac.Equal (mismatch:
//     InvalidSignature);
//  6. hashes the body for the payload hash, as every AWS service but S3
//     does: it reads the body once, up to a limit, keeping it in memory or
//     spooling it to a temporary file, and gives the handler an identical
//     body. When X-Amz-Content-Sha256 states the hash, the signature over it
//     is checked first. UNSIGNED-PAYLOAD is accepted only in presigned URLs.
//
// Nothing of the body is read before steps 1–4 (and 5, when the hash is
// stated) have passed, and all bodies held at once by requests still being
// verified share a budget ([WithSpoolBudget]); a request over it is
// refused with 503 SlowDown before its bytes are read.
//
// Without [WithScope] any service name and region in the credential scope
// are accepted. The verified [Scope] (access key, region, service) travels
// in the request context; see [AccessKeyFromContext].
//
// Failures are [*Error] values in Lambda's wire shape (403, an
// X-Amzn-ErrorType header and a {"Type","Message"} body), rendered by
// [WriteError] or by the API layer's own error mapping. Their messages are
// AWS's; the internal cause (such as the canonical request the server
// computed) is reachable with errors.Unwrap for logs and never sent.
//
// Where real clients differ from each other (botocore removes dot segments
// from the path and sorts the query as sent; the Go SDK does neither) the
// verifier tries each client's spelling of the same request. The spool
// budget is its only state shared between requests, under its own mutex.
package auth
