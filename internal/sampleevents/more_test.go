package sampleevents

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestSES(t *testing.T) {
	ev, err := SES(SESOptions{Common: Common{Time: at, Region: "eu-west-1", AccountID: "123456789012"},
		From: "alice@example.org", To: "orders@shop.example", Subject: "order 42", Function: "mailer"})
	if err != nil {
		t.Fatal(err)
	}
	ev = roundTrip(t, ev)
	if len(ev.Records) != 1 || ev.Records[0].EventSource != "aws:ses" || ev.Records[0].EventVersion != "1.0" {
		t.Fatalf("records %+v", ev.Records)
	}
	m, r := ev.Records[0].SES.Mail, ev.Records[0].SES.Receipt
	if m.Source != "alice@example.org" || !m.Timestamp.Equal(at) || len(m.Destination) != 1 || m.Destination[0] != "orders@shop.example" ||
		!regexp.MustCompile(`^[a-z2-7]{40}$`).MatchString(m.MessageID) {
		t.Errorf("mail %+v", m)
	}
	h := m.CommonHeaders
	if h.Subject != "order 42" || h.From[0] != "alice@example.org" || h.To[0] != "orders@shop.example" ||
		h.Date != "Mon, 10 Mar 2025 12:00:01 +0000" || !strings.HasSuffix(h.MessageID, "@example.org>") {
		t.Errorf("common headers %+v", h)
	}
	subject := ""
	for _, hd := range m.Headers {
		if hd.Name == "Subject" {
			subject = hd.Value
		}
	}
	if subject != "order 42" {
		t.Errorf("Subject header %q", subject)
	}
	if r.Action.Type != "Lambda" || r.Action.InvocationType != "Event" ||
		r.Action.FunctionARN != "arn:aws:lambda:eu-west-1:123456789012:function:mailer" ||
		r.SpamVerdict.Status != "PASS" || r.VirusVerdict.Status != "PASS" || r.Recipients[0] != "orders@shop.example" ||
		!r.Timestamp.Equal(at.Add(time.Duration(r.ProcessingTimeMillis)*time.Millisecond)) {
		t.Errorf("receipt %+v", r)
	}
	if _, err := SES(SESOptions{From: "no-at-sign"}); err == nil || !strings.Contains(err.Error(), `from address "no-at-sign"`) {
		t.Errorf("a malformed address: %v", err)
	}
}

func TestCloudWatchLogs(t *testing.T) {
	ev, err := CloudWatchLogs(CloudWatchLogsOptions{Common: Common{Time: at, AccountID: "123456789012"},
		Message: `{"level":"ERROR"}`, LogGroup: "/aws/lambda/orders", Filter: "errors", Count: 3})
	if err != nil {
		t.Fatal(err)
	}
	ev = roundTrip(t, ev)
	raw, _ := json.Marshal(ev)
	if !regexp.MustCompile(`^\{"awslogs":\{"data":"H4sI[A-Za-z0-9+/=]+"\}\}$`).Match(raw) {
		t.Fatalf("event %s: want awslogs.data, base64 of gzip", raw)
	}
	d, err := ev.AWSLogs.Parse()
	if err != nil {
		t.Fatalf("CloudwatchLogsRawData.Parse: %v", err)
	}
	if d.Owner != "123456789012" || d.LogGroup != "/aws/lambda/orders" || d.MessageType != "DATA_MESSAGE" ||
		len(d.SubscriptionFilters) != 1 || d.SubscriptionFilters[0] != "errors" ||
		!regexp.MustCompile(`^2025/03/10/\[\$LATEST\][0-9a-f]{32}$`).MatchString(d.LogStream) {
		t.Errorf("data %+v", d)
	}
	if len(d.LogEvents) != 3 {
		t.Fatalf("%d log events, want 3", len(d.LogEvents))
	}
	idRE := regexp.MustCompile(`^[1-9][0-9]{55}$`)
	for i, e := range d.LogEvents {
		if e.Message != `{"level":"ERROR"}` || e.Timestamp != at.UnixMilli()+int64(i) || !idRE.MatchString(e.ID) {
			t.Errorf("log event %d: %+v", i, e)
		}
		if i > 0 && e.ID <= d.LogEvents[i-1].ID {
			t.Errorf("log event ids out of order: %s after %s", e.ID, d.LogEvents[i-1].ID)
		}
	}
}
