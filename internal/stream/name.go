package stream

import (
	"strings"

	"github.com/updraft/updraft/internal/jsname"
)

// MaxNameLen is the longest stream name (Kinesis's StreamName).
const MaxNameLen = 128

// ValidName checks a stream name against Kinesis's rule: 1 to 128 of
// a-z A-Z 0-9 _ . -.
func ValidName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return invalid("Stream name %q must have length from 1 to %d.", trunc(name), MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return invalid("Stream name %q may contain only a-z, A-Z, 0-9, '_', '.' and '-'.", trunc(name))
		}
	}
	return nil
}

// ARN returns the Kinesis ARN of stream name in region and account.
func ARN(region, account, name string) string {
	return "arn:aws:kinesis:" + region + ":" + account + ":stream/" + name
}

// ParseARN splits arn:aws:kinesis:REGION:ACCOUNT:stream/NAME.
func ParseARN(arn string) (region, account, name string, err error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "kinesis" {
		return "", "", "", invalid("%q is not a Kinesis stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME).", trunc(arn))
	}
	region, account = parts[3], parts[4]
	name, ok := strings.CutPrefix(parts[5], "stream/")
	if !ok {
		return "", "", "", invalid("%q is not a Kinesis stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME).", trunc(arn))
	}
	if region == "" || strings.Trim(region, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return "", "", "", invalid("Kinesis stream ARN %q has no valid region.", trunc(arn))
	}
	if len(account) != 12 || strings.Trim(account, "0123456789") != "" {
		return "", "", "", invalid("Kinesis stream ARN %q has no valid account id (12 digits).", trunc(arn))
	}
	if err := ValidName(name); err != nil {
		return "", "", "", err
	}
	return region, account, name, nil
}

// encodeName turns a valid stream name into a token usable in a JetStream
// stream name and a subject (see package jsname).
func encodeName(name string) string { return jsname.Encode(name) }

// jsName is the JetStream stream of stream name.
func jsName(name string) string { return "UPDRAFT_STREAM_" + encodeName(name) }

// subject is the subject of shard i of stream name.
func subject(name string, i int) string {
	return "updraft.stream." + encodeName(name) + "." + itoa(i)
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
