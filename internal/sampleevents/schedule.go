package sampleevents

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// ScheduleOptions are the options of [Schedule].
type ScheduleOptions struct {
	Common
	// Rule is the name of the EventBridge rule; "" means
	// "my-scheduled-rule".
	Rule string
}

// Schedule returns the event an EventBridge (CloudWatch Events) schedule
// rule sends, shaped as in "Using Lambda with EventBridge (CloudWatch
// Events)": version "0", a UUID id, "detail-type": "Scheduled Event",
// source "aws.events", account, time in whole seconds, region, resources
// holding the rule's ARN arn:aws:events:REGION:ACCOUNT:rule/RULE, and an
// empty detail object.
func Schedule(o ScheduleOptions) (events.CloudWatchEvent, error) {
	c := o.Common.resolved()
	if o.Rule == "" {
		o.Rule = "my-scheduled-rule"
	}
	if err := errors.Join(c.check(), checkName("rule", o.Rule)); err != nil {
		return events.CloudWatchEvent{}, fmt.Errorf("schedule: %w", err)
	}
	return events.CloudWatchEvent{
		Version:    "0",
		ID:         newUUID(),
		DetailType: "Scheduled Event",
		Source:     "aws.events",
		AccountID:  c.AccountID,
		Time:       c.Time.Truncate(time.Second),
		Region:     c.Region,
		Resources:  []string{fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", c.Region, c.AccountID, o.Rule)},
		Detail:     json.RawMessage(`{}`),
	}, nil
}
