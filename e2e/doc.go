// Package e2e holds end-to-end tests: each starts the real updraft binary
// on a loopback port, deploys real functions built with aws-lambda-go, and
// drives them the way users do, with the aws CLI and aws-sdk-go-v2.
package e2e
