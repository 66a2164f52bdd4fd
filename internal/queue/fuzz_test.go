package queue

import (
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

// FuzzParseARN checks that ParseARN never panics, that what it accepts
// is rebuilt exactly by ARN, and that an accepted name survives the
// stream-name encoding.
func FuzzParseARN(f *testing.F) {
	for _, s := range []string{
		"arn:aws:sqs:us-east-1:000000000000:dlq",
		"arn:aws:sqs:eu-west-1:123456789012:orders.fifo",
		"arn:aws:sqs:us-gov-west-1:123456789012:My_Queue-1",
		"arn:aws:sqs:us-east-1:000000000000:",
		"arn:aws:sns:us-east-1:000000000000:topic",
		"arn:aws:sqs:us-east-1:000000000000:a.b",
		"arn:aws:sqs::::",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arn string) {
		region, account, name, err := ParseARN(arn)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseARN(%q) error %v is not a validation error", arn, err)
			}
			return
		}
		if got := ARN(region, account, name); got != arn {
			t.Fatalf("ParseARN(%q) then ARN = %q", arn, got)
		}
		back, err := decodeName(encodeName(name))
		if err != nil || back != name {
			t.Fatalf("name %q: encode/decode = %q, %v", name, back, err)
		}
	})
}

// FuzzDecodeAttributes feeds arbitrary header keys and values to the
// attribute decoder: it must never panic, and whatever it accepts must
// come back unchanged from an encode and a second decode.
func FuzzDecodeAttributes(f *testing.F) {
	f.Add("Updraft-Attr-RequestID", `{"DataType":"String","StringValue":"r-1"}`)
	f.Add("Updraft-Attr-ErrorCode", `{"DataType":"Number","StringValue":"-1.5e3"}`)
	f.Add("Updraft-Attr-ErrorMessage", `{"DataType":"String","StringValue":"a\r\nb \u2028"}`)
	f.Add("Updraft-Attr-a", `{"DataType":"Binary","StringValue":"x"}`)
	f.Add("Updraft-Attr-", `{}`)
	f.Add("Updraft-Attr-a", `String;x`)
	f.Add("Nats-Msg-Id", `x`)
	f.Fuzz(func(t *testing.T, key, value string) {
		attrs, err := decodeAttributes(nats.Header{key: {value}})
		if err != nil {
			return
		}
		if _, err := validateAttributes(attrs); err != nil {
			t.Fatalf("decoded attributes %v do not validate: %v", attrs, err)
		}
		h := nats.Header{}
		if err := encodeAttributes(h, attrs); err != nil {
			t.Fatalf("encode %v: %v", attrs, err)
		}
		again, err := decodeAttributes(h)
		if err != nil {
			t.Fatalf("decode of re-encoded %v: %v", h, err)
		}
		if !reflect.DeepEqual(attrs, again) {
			t.Fatalf("round trip changed %v into %v", attrs, again)
		}
	})
}

// FuzzReceiptHandle decodes any receipt handle: it is refused or names a
// JetStream acknowledgement subject of the queue's own stream and
// consumer.
func FuzzReceiptHandle(f *testing.F) {
	f.Add(base64.RawURLEncoding.EncodeToString([]byte("$JS.ACK.UPDRAFT_QUEUE_q.updraft-queue.1.7.7.1796654125731198610.0")))
	f.Add(base64.RawURLEncoding.EncodeToString([]byte("$JS.ACK.dom.hash.UPDRAFT_QUEUE_q.updraft-queue.1.7.7.1.0.tok")))
	f.Add("not base64!")
	f.Fuzz(func(t *testing.T, handle string) {
		subj, err := ackSubject("q", handle)
		if err != nil {
			return
		}
		if !strings.HasPrefix(subj, "$JS.ACK.") || !strings.Contains(subj, ".UPDRAFT_QUEUE_q.updraft-queue.") || strings.ContainsAny(subj, " \t\r\n") {
			t.Fatalf("accepted handle %q names %q", handle, subj)
		}
		_, _ = handleSequence("q", handle)
	})
}
