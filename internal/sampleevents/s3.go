package sampleevents

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// S3EventNames are the eventName values [S3] accepts: the event types of
// "Event notification types and destinations" as they appear in the
// message, without the "s3:" prefix of the notification configuration.
var S3EventNames = []string{
	"ObjectCreated:Put", "ObjectCreated:Post", "ObjectCreated:Copy", "ObjectCreated:CompleteMultipartUpload",
	"ObjectRemoved:Delete", "ObjectRemoved:DeleteMarkerCreated",
	"ObjectRestore:Post", "ObjectRestore:Completed", "ObjectRestore:Delete",
	"ObjectTagging:Put", "ObjectTagging:Delete", "ObjectAcl:Put",
	"LifecycleExpiration:Delete", "LifecycleExpiration:DeleteMarkerCreated", "LifecycleTransition",
	"IntelligentTiering", "ReducedRedundancyLostObject",
}

// S3Options are the options of [S3].
type S3Options struct {
	Common
	// Bucket is the bucket name; "" means "amzn-s3-demo-bucket".
	Bucket string
	// Key is the object key as stored (not encoded); "" means
	// "example/object.txt".
	Key string
	// Size is the object size in bytes.
	Size int64
	// EventName is one of S3EventNames; "" means "ObjectCreated:Put".
	EventName string
}

// S3 returns the notification S3 sends to a function for one object,
// shaped as in S3's "Event message structure" (version 2.1, which S3 uses
// for object created and removed events): eventSource "aws:s3", eventTime
// in milliseconds, the bucket's ARN arn:aws:s3:::BUCKET (S3 ARNs carry no
// region or account), and the object key URL-encoded — the doc's example:
// "red flower.jpg" becomes "red+flower.jpg" — with size, eTag and a
// sequencer that grows with Time. Removal events carry no size or eTag.
//
// aws-lambda-go's S3Object also has urlDecodedKey, which S3 does not send
// but the type always marshals; it is set to Key so that the event reads
// back unchanged.
func S3(o S3Options) (events.S3Event, error) {
	c := o.Common.resolved()
	if o.Bucket == "" {
		o.Bucket = "amzn-s3-demo-bucket"
	}
	if o.Key == "" {
		o.Key = "example/object.txt"
	}
	if o.EventName == "" {
		o.EventName = "ObjectCreated:Put"
	}
	var errs []error
	if !slices.Contains(S3EventNames, o.EventName) {
		errs = append(errs, fmt.Errorf("event name %q: want one of %s", o.EventName, strings.Join(S3EventNames, ", ")))
	}
	if o.Size < 0 {
		errs = append(errs, fmt.Errorf("size %d: want 0 or more bytes", o.Size))
	}
	if err := errors.Join(append(errs, c.check(), checkName("bucket", o.Bucket))...); err != nil {
		return events.S3Event{}, fmt.Errorf("s3: %w", err)
	}
	obj := events.S3Object{
		Key:           S3EncodeKey(o.Key),
		URLDecodedKey: o.Key,
		// The sequencer is a hex string that orders events for one key;
		// time in nanoseconds orders these.
		Sequencer: fmt.Sprintf("00%016X", c.Time.UnixNano()),
	}
	if !strings.HasPrefix(o.EventName, "ObjectRemoved:") && !strings.HasPrefix(o.EventName, "LifecycleExpiration:") {
		obj.Size = o.Size
		obj.ETag = randomHex(16, false)
	}
	principal := principalID(c.AccountID)
	return events.S3Event{Records: []events.S3EventRecord{{
		EventVersion:      "2.1",
		EventSource:       "aws:s3",
		AWSRegion:         c.Region,
		EventTime:         c.Time,
		EventName:         o.EventName,
		PrincipalID:       events.S3UserIdentity{PrincipalID: "AWS:" + principal},
		RequestParameters: events.S3RequestParameters{SourceIPAddress: "127.0.0.1"},
		ResponseElements: map[string]string{
			"x-amz-request-id": randomHex(8, true),
			"x-amz-id-2":       randomBase64(48),
		},
		S3: events.S3Entity{
			SchemaVersion:   "1.0",
			ConfigurationID: "updraft-sample",
			Bucket: events.S3Bucket{
				Name:          o.Bucket,
				OwnerIdentity: events.S3UserIdentity{PrincipalID: principal},
				Arn:           "arn:aws:s3:::" + o.Bucket,
			},
			Object: obj,
		},
	}}}, nil
}

// S3EncodeKey encodes an object key as S3 writes it into event
// notifications: "The object key name value is URL encoded. For example,
// 'red flower.jpg' becomes 'red+flower.jpg' (Amazon S3 returns
// 'application/x-www-form-urlencoded' as the content type in the
// response)" (S3, "Event message structure"). That is form encoding —
// letters, digits and "*-._" stay, a space becomes "+", every other byte
// of the UTF-8 key becomes %XX — except that "/" stays, so a key's
// prefixes read as they were written ("photos/2024/a b.jpg" →
// "photos/2024/a+b.jpg"). url.QueryUnescape, which aws-lambda-go applies
// for urlDecodedKey, reverses it.
func S3EncodeKey(key string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		switch ch := key[i]; {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9',
			ch == '*', ch == '-', ch == '.', ch == '_', ch == '/':
			b.WriteByte(ch)
		case ch == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[ch>>4])
			b.WriteByte(hexDigits[ch&0x0f])
		}
	}
	return b.String()
}
