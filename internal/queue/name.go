package queue

import (
	"fmt"
	"strings"

	"github.com/updraft/updraft/internal/jsname"
)

// Names of the JetStream objects behind a queue.
const (
	// StreamPrefix prefixes the stream of each queue:
	// UPDRAFT_QUEUE_<encoded name>.
	StreamPrefix = "UPDRAFT_QUEUE_"
	// SubjectPrefix prefixes the subject of each queue:
	// updraft.queue.<encoded name>.
	SubjectPrefix = "updraft.queue."
	// consumerName is the durable pull consumer of every queue stream,
	// shared by every node on the same JetStream.
	consumerName = "updraft-queue"
)

// SQS name rules ("CreateQueue", Amazon SQS API Reference): 1–80
// characters of letters, digits, hyphens and underscores; a FIFO queue's
// name ends in ".fifo", which counts towards the 80.
const (
	maxNameLen = 80
	fifoSuffix = ".fifo"
)

// ValidName reports whether name is a valid SQS queue name: 1–80
// characters of [A-Za-z0-9_-], optionally ending in ".fifo" (the suffix
// counts towards the 80). The error is a [*ValidationError] whose message
// can be shown to clients.
func ValidName(name string) error {
	if name == "" {
		return invalid("Queue name must not be empty.")
	}
	if len(name) > maxNameLen {
		return invalid("Queue name %q is too long: at most %d characters are allowed.", trunc(name), maxNameLen)
	}
	base := strings.TrimSuffix(name, fifoSuffix)
	if base == "" {
		return invalid("Queue name %q needs characters before the .fifo suffix.", name)
	}
	for i := 0; i < len(base); i++ {
		if !nameChar(base[i]) {
			return invalid("Queue name %q is invalid: only letters, digits, hyphens and underscores are allowed, with an optional .fifo suffix.", trunc(name))
		}
	}
	return nil
}

func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// trunc keeps names quoted in messages short.
func trunc(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}

// ParseARN splits an SQS queue ARN, arn:aws:sqs:REGION:ACCOUNT:NAME, and
// validates the name (see [ValidName]). The partition is "aws", the only
// one updraft writes in its ARNs; the region is lower-case letters,
// digits and hyphens, the account 12 digits. The error is a [*ValidationError].
func ParseARN(arn string) (region, account, name string, err error) {
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "sqs" {
		return "", "", "", invalid("%q is not an SQS queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME).", trunc(arn))
	}
	region, account, name = parts[3], parts[4], parts[5]
	if region == "" || strings.Trim(region, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return "", "", "", invalid("SQS queue ARN %q has no valid region.", trunc(arn))
	}
	if len(account) != 12 || strings.Trim(account, "0123456789") != "" {
		return "", "", "", invalid("SQS queue ARN %q has no valid account id (12 digits).", trunc(arn))
	}
	if err := ValidName(name); err != nil {
		return "", "", "", err
	}
	return region, account, name, nil
}

// ARN returns the SQS ARN of queue name in region and account.
func ARN(region, account, name string) string {
	return "arn:aws:sqs:" + region + ":" + account + ":" + name
}

// encodeName turns a valid queue name into a token usable in a stream
// name and a subject (see package jsname for the encoding).
func encodeName(name string) string { return jsname.Encode(name) }

// decodeName reverses encodeName. It fails on anything encodeName cannot
// produce, so a stream that merely looks like a queue is not taken for one.
func decodeName(enc string) (string, error) {
	name, err := jsname.Decode(enc)
	if err != nil {
		return "", fmt.Errorf("queue: %w", err)
	}
	if err := ValidName(name); err != nil {
		return "", fmt.Errorf("queue: decode %q: %w", enc, err)
	}
	return name, nil
}

// streamName is the JetStream stream of queue name.
func streamName(name string) string { return StreamPrefix + encodeName(name) }

// subject is the subject of queue name.
func subject(name string) string { return SubjectPrefix + encodeName(name) }

// nameOfStream returns the queue a stream belongs to, or false for a
// stream that is not a queue's.
func nameOfStream(stream string) (string, bool) {
	enc, ok := strings.CutPrefix(stream, StreamPrefix)
	if !ok {
		return "", false
	}
	name, err := decodeName(enc)
	if err != nil {
		return "", false
	}
	return name, true
}
