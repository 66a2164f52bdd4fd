// Package sampleevents builds sample events of the common Lambda event
// sources — SQS, SNS, S3, API Gateway (REST payload 1.0 and HTTP API
// payload 2.0), Kinesis, DynamoDB Streams, EventBridge scheduled events,
// SES receipt notifications and CloudWatch Logs subscriptions — for testing handlers, like `sam local generate-event` or the Lambda
// console's test-event templates.
//
// Each source is one function that takes an options struct and returns the
// aws-lambda-go events type a Go handler would declare (events.SQSEvent,
// events.S3Event, ...), so the JSON is whatever that type marshals to and
// a handler reads back exactly what was generated. The values are filled
// the way the services fill them, as their AWS documentation pages show
// ("Using Lambda with Amazon SQS", "Event message structure" for S3, "Input
// format of a Lambda function for proxy integration", ...): ARNs built
// from the region, account and resource name, md5OfBody as SQS computes
// it, Kinesis data base64 as delivered, S3 keys URL-encoded, timestamps in
// each service's own format.
//
// Times come from [Common.Time] (now when zero), so an event is
// reproducible except for the values AWS makes random: message ids,
// request ids, receipt handles, signatures. Those are random on every
// call unless an option names them (SQSOptions.MessageID,
// SNSOptions.MessageID). The package does no I/O and keeps no state.
package sampleevents

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// DefaultRegion and DefaultAccountID are the region and account used when
// [Common] leaves them empty: the updraft server's own defaults, so the
// ARNs in a sample event match the ones the server prints.
const (
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "000000000000"
)

// MaxRecords is the most records one generated event may hold: Lambda's
// largest batch size for queue and stream event source mappings.
const MaxRecords = 10000

// Common holds the options every source shares.
type Common struct {
	// Region is the AWS region in ARNs and awsRegion fields; "" means
	// DefaultRegion.
	Region string
	// AccountID is the 12-digit account in ARNs; "" means DefaultAccountID.
	AccountID string
	// Time is when the event happened (a message was sent, an object
	// written, a rule fired); the zero value means now. It is truncated to
	// the precision the service uses (milliseconds, or seconds).
	Time time.Time
}

// resolved returns c with its defaults filled in.
func (c Common) resolved() Common {
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.AccountID == "" {
		c.AccountID = DefaultAccountID
	}
	if c.Time.IsZero() {
		c.Time = time.Now()
	}
	c.Time = c.Time.UTC().Truncate(time.Millisecond)
	return c
}

// check validates the shared options.
func (c Common) check() error {
	if len(c.AccountID) != 12 || strings.Trim(c.AccountID, "0123456789") != "" {
		return fmt.Errorf("account id %q: want 12 digits", c.AccountID)
	}
	if c.Region == "" || strings.ContainsAny(c.Region, ": /") {
		return fmt.Errorf("region %q: want a region name such as %s", c.Region, DefaultRegion)
	}
	return nil
}

// checkCount validates a record count.
func checkCount(n int) error {
	if n < 1 || n > MaxRecords {
		return fmt.Errorf("count %d: want 1 to %d records", n, MaxRecords)
	}
	return nil
}

// checkName refuses an empty resource name or one that would break the
// ARN it goes into.
func checkName(what, name string) error {
	if name == "" || strings.ContainsAny(name, ": ") {
		return fmt.Errorf("%s name %q: want a non-empty name without ':' or spaces", what, name)
	}
	return nil
}

// newUUID returns a random (version 4) UUID, the form AWS uses for
// message and request ids.
func newUUID() string { return uuid.NewString() }

// randomBytes returns n bytes from crypto/rand.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics if the OS source does)
	return b
}

// randomBase64 returns n random bytes in standard base64.
func randomBase64(n int) string { return base64.StdEncoding.EncodeToString(randomBytes(n)) }

// randomHex returns n random bytes in upper- or lower-case hex.
func randomHex(n int, upper bool) string {
	s := hex.EncodeToString(randomBytes(n))
	if upper {
		s = strings.ToUpper(s)
	}
	return s
}

// principalID is a stable IAM unique id for the account, in the form IAM
// gives users ("AIDA" and 17 more upper-case letters and digits), which
// SQS reports as SenderId and S3 as the principalId of userIdentity.
func principalID(account string) string {
	sum := sha256.Sum256([]byte("updraft-sample-user:" + account))
	return "AIDA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
}

// shortID is a stable lower-case id of n letters and digits derived from
// seed, for API Gateway's apiId and resourceId.
func shortID(seed string, n int) string {
	sum := sha256.Sum256([]byte(seed))
	return strings.ToLower(base32.StdEncoding.EncodeToString(sum[:]))[:n]
}
