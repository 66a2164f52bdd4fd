package sampleevents

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// at is the fixed time the tests generate events for.
var at = time.Date(2025, 3, 10, 12, 0, 1, 250_000_000, time.UTC)

var (
	uuidRE  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	kinesis = regexp.MustCompile(`^[0-9]{56}$`)
)

// roundTrip marshals ev, unmarshals the JSON into a new value of ev's own
// type (the aws-lambda-go type a handler declares), and returns that value
// after checking that it marshals to the same JSON again. Numbers are
// compared to within a microsecond of a second: aws-lambda-go carries
// epoch seconds through a float64.
func roundTrip[T any](t *testing.T, ev T) T {
	t.Helper()
	first, err := json.Marshal(ev)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var back T
	if err := json.Unmarshal(first, &back); err != nil {
		t.Fatalf("unmarshal into %T: %v\n%s", back, err, first)
	}
	second, err := json.Marshal(back)
	if err != nil {
		t.Fatalf("marshal again: %v", err)
	}
	var a, b any
	if err := json.Unmarshal(first, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(second, &b); err != nil {
		t.Fatal(err)
	}
	if path, ok := sameJSON(a, b, "$"); !ok {
		t.Fatalf("%T does not round-trip: differs at %s\nfirst:  %s\nsecond: %s", ev, path, first, second)
	}
	return back
}

// sameJSON compares two decoded JSON values, numbers within 1e-6.
func sameJSON(a, b any, path string) (string, bool) {
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return path, false
		}
		for k, v := range a {
			if p, ok := sameJSON(v, bm[k], path+"."+k); !ok {
				return p, false
			}
		}
		return "", true
	case []any:
		bs, ok := b.([]any)
		if !ok || len(a) != len(bs) {
			return path, false
		}
		for i := range a {
			if p, ok := sameJSON(a[i], bs[i], fmt.Sprintf("%s[%d]", path, i)); !ok {
				return p, false
			}
		}
		return "", true
	case float64:
		bf, ok := b.(float64)
		return path, ok && math.Abs(a-bf) < 1e-6
	default:
		return path, reflect.DeepEqual(a, b)
	}
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestSQS(t *testing.T) {
	tests := []struct {
		name string
		opts SQSOptions
		want func(t *testing.T, ev events.SQSEvent)
	}{
		{
			name: "one message carries the body, its MD5 and the queue's ARN",
			opts: SQSOptions{Common: Common{Time: at}, Body: "hi", Queue: "orders"},
			want: func(t *testing.T, ev events.SQSEvent) {
				m := ev.Records[0]
				if len(ev.Records) != 1 || m.Body != "hi" || m.Md5OfBody != "49f68a5c8493ec2c0bf489821c21fc3b" {
					t.Errorf("records %d, body %q, md5OfBody %s", len(ev.Records), m.Body, m.Md5OfBody)
				}
				if m.EventSourceARN != "arn:aws:sqs:us-east-1:000000000000:orders" || m.EventSource != "aws:sqs" || m.AWSRegion != "us-east-1" {
					t.Errorf("source %s %s %s", m.EventSourceARN, m.EventSource, m.AWSRegion)
				}
				if !uuidRE.MatchString(m.MessageId) || !strings.HasPrefix(m.ReceiptHandle, "AQEB") {
					t.Errorf("messageId %q, receiptHandle %q", m.MessageId, m.ReceiptHandle)
				}
				a := m.Attributes
				if a["ApproximateReceiveCount"] != "1" || a["SentTimestamp"] != strconv.FormatInt(at.UnixMilli(), 10) ||
					a["ApproximateFirstReceiveTimestamp"] != strconv.FormatInt(at.UnixMilli()+2, 10) ||
					!regexp.MustCompile(`^AIDA[A-Z0-9]{17}$`).MatchString(a["SenderId"]) {
					t.Errorf("attributes %v", a)
				}
				if m.MessageAttributes == nil {
					t.Error("messageAttributes is null, SQS sends {}")
				}
			},
		},
		{
			name: "a batch has distinct ids, the same MD5, and region and account in the ARN",
			opts: SQSOptions{Common: Common{Time: at, Region: "eu-west-1", AccountID: "123456789012"}, Body: `{"n":1}`, Count: 3},
			want: func(t *testing.T, ev events.SQSEvent) {
				if len(ev.Records) != 3 {
					t.Fatalf("%d records", len(ev.Records))
				}
				seen := map[string]bool{}
				for i, m := range ev.Records {
					seen[m.MessageId] = true
					if m.Md5OfBody != md5Hex(`{"n":1}`) || m.EventSourceARN != "arn:aws:sqs:eu-west-1:123456789012:my-queue" || m.AWSRegion != "eu-west-1" {
						t.Errorf("record %d: %s %s", i, m.Md5OfBody, m.EventSourceARN)
					}
					if m.Attributes["SentTimestamp"] != strconv.FormatInt(at.UnixMilli()+int64(i), 10) {
						t.Errorf("record %d sent at %s", i, m.Attributes["SentTimestamp"])
					}
				}
				if len(seen) != 3 {
					t.Errorf("message ids repeat: %v", seen)
				}
			},
		},
		{
			name: "an explicit message id is used",
			opts: SQSOptions{Common: Common{Time: at}, MessageID: "m-1"},
			want: func(t *testing.T, ev events.SQSEvent) {
				if ev.Records[0].MessageId != "m-1" || ev.Records[0].Md5OfBody != md5Hex("") {
					t.Errorf("messageId %q, md5OfBody %s", ev.Records[0].MessageId, ev.Records[0].Md5OfBody)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := SQS(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			tc.want(t, roundTrip(t, ev))
		})
	}
}

func TestSNS(t *testing.T) {
	ev, err := SNS(SNSOptions{Common: Common{Time: at, Region: "us-west-2", AccountID: "123456789012"}, Message: "hello", Subject: "greeting", Topic: "alerts"})
	if err != nil {
		t.Fatal(err)
	}
	ev = roundTrip(t, ev)
	r := ev.Records[0]
	const topic = "arn:aws:sns:us-west-2:123456789012:alerts"
	if r.EventVersion != "1.0" || r.EventSource != "aws:sns" || !strings.HasPrefix(r.EventSubscriptionArn, topic+":") ||
		!uuidRE.MatchString(strings.TrimPrefix(r.EventSubscriptionArn, topic+":")) {
		t.Errorf("record %+v", r)
	}
	s := r.SNS
	if s.Type != "Notification" || s.TopicArn != topic || s.Message != "hello" || s.Subject != "greeting" ||
		!s.Timestamp.Equal(at) || s.SignatureVersion != "1" || !uuidRE.MatchString(s.MessageID) {
		t.Errorf("notification %+v", s)
	}
	if !regexp.MustCompile(`^https://sns\.us-west-2\.amazonaws\.com/SimpleNotificationService-[0-9a-f]{32}\.pem$`).MatchString(s.SigningCertURL) ||
		s.UnsubscribeURL != "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="+r.EventSubscriptionArn {
		t.Errorf("urls %s %s", s.SigningCertURL, s.UnsubscribeURL)
	}
	if sig, err := base64.StdEncoding.DecodeString(s.Signature); err != nil || len(sig) != 256 {
		t.Errorf("signature is not 256 bytes of base64: %v", err)
	}
}

func TestS3EncodeKey(t *testing.T) {
	tests := []struct{ key, want string }{
		{"red flower.jpg", "red+flower.jpg"}, // the S3 doc's own example
		{"photos/2024/a b.jpg", "photos/2024/a+b.jpg"},
		{"test_file(3).png", "test_file%283%29.png"},
		{"a+b=c&d", "a%2Bb%3Dc%26d"},
		{"ünï cödé.txt", "%C3%BCn%C3%AF+c%C3%B6d%C3%A9.txt"},
		{"star*dash-dot.under_", "star*dash-dot.under_"},
		{"tilde~colon:", "tilde%7Ecolon%3A"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			if got := S3EncodeKey(tc.key); got != tc.want {
				t.Errorf("S3EncodeKey(%q) = %q, want %q", tc.key, got, tc.want)
			}
		})
	}
}

func TestS3(t *testing.T) {
	tests := []struct {
		name string
		opts S3Options
		want func(t *testing.T, ev events.S3Event)
	}{
		{
			name: "a put names the bucket, the encoded key and the size",
			opts: S3Options{Common: Common{Time: at}, Bucket: "photos", Key: "2024/red flower.jpg", Size: 1024},
			want: func(t *testing.T, ev events.S3Event) {
				r := ev.Records[0]
				if r.EventVersion != "2.1" || r.EventSource != "aws:s3" || r.EventName != "ObjectCreated:Put" ||
					r.AWSRegion != "us-east-1" || !r.EventTime.Equal(at) {
					t.Errorf("record %+v", r)
				}
				b, o := r.S3.Bucket, r.S3.Object
				if b.Name != "photos" || b.Arn != "arn:aws:s3:::photos" || r.S3.SchemaVersion != "1.0" {
					t.Errorf("bucket %+v", b)
				}
				if o.Key != "2024/red+flower.jpg" || o.URLDecodedKey != "2024/red flower.jpg" || o.Size != 1024 ||
					!regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(o.ETag) || !regexp.MustCompile(`^[0-9A-F]{18}$`).MatchString(o.Sequencer) {
					t.Errorf("object %+v", o)
				}
				if !strings.HasPrefix(r.PrincipalID.PrincipalID, "AWS:AIDA") || len(r.ResponseElements["x-amz-request-id"]) != 16 {
					t.Errorf("identity %+v, response %v", r.PrincipalID, r.ResponseElements)
				}
			},
		},
		{
			name: "a delete has no size or eTag",
			opts: S3Options{Common: Common{Time: at}, Key: "old.txt", Size: 10, EventName: "ObjectRemoved:Delete"},
			want: func(t *testing.T, ev events.S3Event) {
				o := ev.Records[0].S3.Object
				if ev.Records[0].EventName != "ObjectRemoved:Delete" || o.Size != 0 || o.ETag != "" {
					t.Errorf("object %+v", o)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := S3(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			tc.want(t, roundTrip(t, ev))
		})
	}
}

func TestAPIGateway(t *testing.T) {
	ev, err := APIGateway(HTTPOptions{
		Common: Common{Time: at}, Method: "post", Path: "/orders/42?debug=1", Body: `{"item":"carrot"}`,
		Query:   []Param{{"tag", "a"}, {"tag", "b"}},
		Headers: []Param{{"Content-Type", "application/json"}, {"X-Multi", "1"}, {"X-Multi", "2"}, {"User-Agent", "test/1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ev = roundTrip(t, ev)
	if ev.HTTPMethod != "POST" || ev.Path != "/orders/42" || ev.Resource != "/{proxy+}" || ev.PathParameters["proxy"] != "orders/42" ||
		ev.Body != `{"item":"carrot"}` || ev.IsBase64Encoded {
		t.Errorf("request %+v", ev)
	}
	if ev.QueryStringParameters["tag"] != "b" || !reflect.DeepEqual(ev.MultiValueQueryStringParameters["tag"], []string{"a", "b"}) ||
		ev.QueryStringParameters["debug"] != "1" {
		t.Errorf("query %v %v", ev.QueryStringParameters, ev.MultiValueQueryStringParameters)
	}
	if ev.Headers["X-Multi"] != "2" || !reflect.DeepEqual(ev.MultiValueHeaders["X-Multi"], []string{"1", "2"}) ||
		ev.Headers["Content-Type"] != "application/json" || ev.Headers["X-Forwarded-Proto"] != "https" {
		t.Errorf("headers %v %v", ev.Headers, ev.MultiValueHeaders)
	}
	rc := ev.RequestContext
	if rc.AccountID != "000000000000" || rc.Stage != "prod" || rc.Path != "/prod/orders/42" || rc.ResourcePath != "/{proxy+}" ||
		rc.HTTPMethod != "POST" || rc.RequestTime != "10/Mar/2025:12:00:01 +0000" || rc.RequestTimeEpoch != at.UnixMilli() ||
		!uuidRE.MatchString(rc.RequestID) || rc.DomainName != rc.APIID+".execute-api.us-east-1.amazonaws.com" ||
		ev.Headers["Host"] != rc.DomainName || rc.Identity.UserAgent != "test/1" || rc.Identity.SourceIP == "" {
		t.Errorf("requestContext %+v", rc)
	}

	root, err := APIGateway(HTTPOptions{Common: Common{Time: at}})
	if err != nil {
		t.Fatal(err)
	}
	root = roundTrip(t, root)
	if root.HTTPMethod != "GET" || root.Path != "/" || root.Resource != "/" || root.PathParameters != nil || root.QueryStringParameters != nil {
		t.Errorf("root request %+v", root)
	}
}

func TestAPIGatewayV2(t *testing.T) {
	ev, err := APIGatewayV2(HTTPOptions{
		Common: Common{Time: at, Region: "eu-central-1"}, Method: "PUT", Path: "/items/1",
		Query:   []Param{{"q", "a b"}, {"q", "c"}},
		Headers: []Param{{"X-Multi", "1"}, {"x-multi", "2"}, {"Cookie", "a=1; b=2"}},
		Body:    "text",
	})
	if err != nil {
		t.Fatal(err)
	}
	ev = roundTrip(t, ev)
	if ev.Version != "2.0" || ev.RouteKey != "$default" || ev.RawPath != "/items/1" || ev.RawQueryString != "q=a+b&q=c" ||
		ev.QueryStringParameters["q"] != "a b,c" || ev.Body != "text" {
		t.Errorf("request %+v", ev)
	}
	if ev.Headers["x-multi"] != "1,2" || ev.Headers["host"] == "" || ev.Headers["cookie"] != "" ||
		!reflect.DeepEqual(ev.Cookies, []string{"a=1", "b=2"}) {
		t.Errorf("headers %v, cookies %v", ev.Headers, ev.Cookies)
	}
	rc := ev.RequestContext
	if rc.HTTP.Method != "PUT" || rc.HTTP.Path != "/items/1" || rc.Stage != "$default" || rc.TimeEpoch != at.UnixMilli() ||
		rc.Time != "10/Mar/2025:12:00:01 +0000" || !strings.HasSuffix(rc.DomainName, ".execute-api.eu-central-1.amazonaws.com") {
		t.Errorf("requestContext %+v", rc)
	}
}

func TestKinesis(t *testing.T) {
	ev, err := Kinesis(KinesisOptions{Common: Common{Time: at}, Data: "Hello, this is a test.", Stream: "clicks", PartitionKey: "user-7", Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Kinesis delivers data base64 in the JSON.
	raw, _ := json.Marshal(ev)
	if !strings.Contains(string(raw), `"data":"SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg=="`) {
		t.Errorf("data is not the base64 of the input:\n%s", raw)
	}
	ev = roundTrip(t, ev)
	if len(ev.Records) != 2 {
		t.Fatalf("%d records", len(ev.Records))
	}
	prev := ""
	for i, r := range ev.Records {
		k := r.Kinesis
		if string(k.Data) != "Hello, this is a test." || k.PartitionKey != "user-7" || k.KinesisSchemaVersion != "1.0" ||
			!kinesis.MatchString(k.SequenceNumber) || k.SequenceNumber <= prev {
			t.Errorf("record %d: %+v", i, k)
		}
		prev = k.SequenceNumber
		if d := k.ApproximateArrivalTimestamp.Sub(at.Add(time.Duration(i) * time.Millisecond)); d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("record %d arrived %v", i, k.ApproximateArrivalTimestamp)
		}
		if r.EventSourceArn != "arn:aws:kinesis:us-east-1:000000000000:stream/clicks" || r.EventID != "shardId-000000000000:"+k.SequenceNumber ||
			r.EventName != "aws:kinesis:record" || r.EventSource != "aws:kinesis" || r.EventVersion != "1.0" ||
			r.InvokeIdentityArn != "arn:aws:iam::000000000000:role/lambda-role" {
			t.Errorf("record %d: %+v", i, r)
		}
	}
}

func TestDynamoDB(t *testing.T) {
	tests := []struct {
		eventName        string
		wantNew, wantOld bool
	}{
		{"INSERT", true, false},
		{"modify", true, true},
		{"REMOVE", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.eventName, func(t *testing.T) {
			ev, err := DynamoDB(DynamoDBOptions{Common: Common{Time: at, AccountID: "123456789012"}, Table: "users", EventName: tc.eventName, Key: "Id", Value: "101"})
			if err != nil {
				t.Fatal(err)
			}
			ev = roundTrip(t, ev)
			r := ev.Records[0]
			if r.EventName != strings.ToUpper(tc.eventName) || r.EventVersion != "1.1" || r.EventSource != "aws:dynamodb" ||
				!regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(r.EventID) ||
				!regexp.MustCompile(`^arn:aws:dynamodb:us-east-1:123456789012:table/users/stream/2025-03-10T00:00:00\.000$`).MatchString(r.EventSourceArn) {
				t.Errorf("record %+v", r)
			}
			c := r.Change
			if c.Keys["Id"].String() != "101" || (c.NewImage != nil) != tc.wantNew || (c.OldImage != nil) != tc.wantOld ||
				c.StreamViewType != "NEW_AND_OLD_IMAGES" || !c.ApproximateCreationDateTime.Equal(at.Truncate(time.Second)) {
				t.Errorf("stream record %+v", c)
			}
			// "Id" + "101" in Keys and in each image.
			if want := int64(5 * (1 + btoi(tc.wantNew) + btoi(tc.wantOld))); c.SizeBytes != want {
				t.Errorf("SizeBytes %d, want %d", c.SizeBytes, want)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestSchedule(t *testing.T) {
	ev, err := Schedule(ScheduleOptions{Common: Common{Time: at, Region: "ap-south-1"}, Rule: "nightly"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(ev)
	for _, want := range []string{`"detail-type":"Scheduled Event"`, `"source":"aws.events"`, `"time":"2025-03-10T12:00:01Z"`, `"detail":{}`, `"version":"0"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("event lacks %s:\n%s", want, raw)
		}
	}
	ev = roundTrip(t, ev)
	if !reflect.DeepEqual(ev.Resources, []string{"arn:aws:events:ap-south-1:000000000000:rule/nightly"}) ||
		ev.AccountID != "000000000000" || ev.Region != "ap-south-1" || !uuidRE.MatchString(ev.ID) {
		t.Errorf("event %+v", ev)
	}
}

func TestDefaultsAndTime(t *testing.T) {
	before := time.Now().Add(-time.Second)
	ev, err := SQS(SQSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sent, _ := strconv.ParseInt(ev.Records[0].Attributes["SentTimestamp"], 10, 64)
	if sent < before.UnixMilli() || sent > time.Now().Add(time.Second).UnixMilli() {
		t.Errorf("SentTimestamp %d is not now", sent)
	}
	if ev.Records[0].EventSourceARN != "arn:aws:sqs:"+DefaultRegion+":"+DefaultAccountID+":my-queue" {
		t.Errorf("default ARN %s", ev.Records[0].EventSourceARN)
	}
}

func TestInvalidOptions(t *testing.T) {
	tests := []struct {
		name    string
		gen     func() error
		wantErr string
	}{
		{"an account id must have 12 digits", func() error { _, err := SQS(SQSOptions{Common: Common{AccountID: "42"}}); return err }, `account id "42"`},
		{"a count above Lambda's batch limit is refused", func() error { _, err := Kinesis(KinesisOptions{Count: MaxRecords + 1}); return err }, "want 1 to 10000"},
		{"a message id with several messages is refused", func() error { _, err := SQS(SQSOptions{Count: 2, MessageID: "x"}); return err }, "names one message"},
		{"an unknown S3 event name lists the known ones", func() error { _, err := S3(S3Options{EventName: "ObjectCreated:Nope"}); return err }, "want one of ObjectCreated:Put"},
		{"an unknown DynamoDB event name is refused", func() error { _, err := DynamoDB(DynamoDBOptions{EventName: "UPSERT"}); return err }, "want INSERT, MODIFY or REMOVE"},
		{"a queue name with a colon would break the ARN", func() error { _, err := SQS(SQSOptions{Queue: "a:b"}); return err }, `queue name "a:b"`},
		{"a malformed header name is refused", func() error {
			_, err := APIGateway(HTTPOptions{Headers: []Param{{"Bad Name", "x"}}})
			return err
		}, `header name "Bad Name"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.gen(); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestParseParam(t *testing.T) {
	tests := []struct {
		in      string
		want    Param
		wantErr bool
	}{
		{"a=b", Param{"a", "b"}, false},
		{"a=b=c", Param{"a", "b=c"}, false},
		{"empty=", Param{"empty", ""}, false},
		{"novalue", Param{}, true},
		{"=x", Param{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseParam(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("ParseParam(%q) = %v, %v", tc.in, got, err)
			}
		})
	}
}
