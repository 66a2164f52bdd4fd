package sampleevents

import (
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// SESOptions are the options of [SES].
type SESOptions struct {
	Common
	// From is the sender's address; "" means "sender@example.com".
	From string
	// To is the recipient's address; "" means "recipient@example.com".
	To string
	// Subject is the mail's subject; "" means "Test Subject".
	Subject string
	// Function is the name of the function the receipt rule's Lambda
	// action invokes; "" means "my-function".
	Function string
}

// SES returns the event an SES receipt rule's Lambda action sends for
// one received mail, shaped as in "Invoking Lambda functions" of the SES
// developer guide (the Lambda action's event) and aws-lambda-go's
// SimpleEmailEvent: one record with eventSource "aws:ses", eventVersion
// "1.0", the mail (source, destination, a random 40-character SES
// messageId, commonHeaders, the headers in the order SES lists them) and
// the receipt (recipients, PASS verdicts for spam, DKIM, DMARC, SPF and
// viruses, and the action: type Lambda, invocationType Event, the
// function's ARN). The mail arrived at Time; SES processed it in 574 ms.
func SES(o SESOptions) (events.SimpleEmailEvent, error) {
	c := o.Common.resolved()
	if o.From == "" {
		o.From = "sender@example.com"
	}
	if o.To == "" {
		o.To = "recipient@example.com"
	}
	if o.Subject == "" {
		o.Subject = "Test Subject"
	}
	if o.Function == "" {
		o.Function = "my-function"
	}
	if err := errors.Join(c.check(), checkAddress("from", o.From), checkAddress("to", o.To), checkName("function", o.Function)); err != nil {
		return events.SimpleEmailEvent{}, fmt.Errorf("ses: %w", err)
	}
	const processing = 574 * time.Millisecond
	domain := o.From[strings.LastIndex(o.From, "@")+1:]
	headerID := "<" + randomHex(16, false) + "@" + domain + ">"
	date := c.Time.Format("Mon, 2 Jan 2006 15:04:05 -0700")
	sesID := randomBase32(40)
	pass := events.SimpleEmailVerdict{Status: "PASS"}
	mail := events.SimpleEmailMessage{
		CommonHeaders: events.SimpleEmailCommonHeaders{
			From: []string{o.From}, To: []string{o.To}, ReturnPath: o.From,
			MessageID: headerID, Date: date, Subject: o.Subject,
		},
		Source:      o.From,
		Timestamp:   c.Time,
		Destination: []string{o.To},
		Headers: []events.SimpleEmailHeader{
			{Name: "Return-Path", Value: "<" + o.From + ">"},
			{Name: "Received", Value: fmt.Sprintf("from mail.%s by inbound-smtp.%s.amazonaws.com with SMTP id %s for %s; %s", domain, c.Region, sesID, o.To, c.Time.Format("Mon, 02 Jan 2006 15:04:05 -0700 (MST)"))},
			{Name: "MIME-Version", Value: "1.0"},
			{Name: "From", Value: o.From},
			{Name: "Date", Value: date},
			{Name: "Message-ID", Value: headerID},
			{Name: "Subject", Value: o.Subject},
			{Name: "To", Value: o.To},
			{Name: "Content-Type", Value: "text/plain; charset=UTF-8"},
		},
		MessageID: sesID,
	}
	receipt := events.SimpleEmailReceipt{
		Recipients:   []string{o.To},
		Timestamp:    c.Time.Add(processing),
		SpamVerdict:  pass,
		DKIMVerdict:  pass,
		DMARCVerdict: pass,
		DMARCPolicy:  "none",
		SPFVerdict:   pass,
		VirusVerdict: pass,
		Action: events.SimpleEmailReceiptAction{
			Type:           "Lambda",
			InvocationType: "Event",
			FunctionARN:    fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", c.Region, c.AccountID, o.Function),
		},
		ProcessingTimeMillis: processing.Milliseconds(),
	}
	return events.SimpleEmailEvent{Records: []events.SimpleEmailRecord{{
		EventVersion: "1.0",
		EventSource:  "aws:ses",
		SES:          events.SimpleEmailService{Mail: mail, Receipt: receipt},
	}}}, nil
}

// randomBase32 returns n random lower-case letters and digits, the
// alphabet of SES message ids.
func randomBase32(n int) string {
	return strings.ToLower(base32.StdEncoding.EncodeToString(randomBytes(n)))[:n]
}

// checkAddress refuses a mail address without a local part and a domain.
func checkAddress(what, addr string) error {
	at := strings.LastIndex(addr, "@")
	if at <= 0 || at == len(addr)-1 || strings.ContainsAny(addr, " <>,") {
		return fmt.Errorf("%s address %q: want an address such as user@example.com", what, addr)
	}
	return nil
}
