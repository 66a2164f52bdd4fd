package sqs

import (
	"strconv"
	"strings"

	"github.com/updraft/updraft/internal/queue"
)

// Queue attribute names and SQS's limits for them ("SetQueueAttributes",
// Amazon SQS API Reference).
const (
	attrDelaySeconds        = "DelaySeconds"
	attrMaximumMessageSize  = "MaximumMessageSize"
	attrRetention           = queue.AttrMessageRetentionPeriod
	attrReceiveWait         = "ReceiveMessageWaitTimeSeconds"
	attrVisibilityTimeout   = "VisibilityTimeout"
	attrRedrivePolicy       = queue.AttrRedrivePolicy
	attrFifoQueue           = "FifoQueue"
	attrContentBasedDedup   = "ContentBasedDeduplication"
	attrDeduplicationScope  = "DeduplicationScope"
	attrFifoThroughputLimit = "FifoThroughputLimit"

	defaultRetention   = 345600 // 4 days
	defaultVisibility  = 30
	defaultMaxMessage  = queue.MaxMessageBytes
	minMaxMessage      = 1024
	minRetention       = 60
	maxRetention       = 1209600
	maxVisibilitySecs  = 43200
	maxDelaySecs       = 900
	maxReceiveWaitSecs = 20
)

// intRange is the valid range of a numeric attribute.
type intRange struct{ min, max int }

// settable are the attributes CreateQueue and SetQueueAttributes accept;
// numeric ones with their range, others (nil) checked on their own or
// kept verbatim (Policy, encryption settings: accepted, not enforced).
var settable = map[string]*intRange{
	attrDelaySeconds:               {0, maxDelaySecs},
	attrMaximumMessageSize:         {minMaxMessage, defaultMaxMessage},
	attrRetention:                  {minRetention, maxRetention},
	attrReceiveWait:                {0, maxReceiveWaitSecs},
	attrVisibilityTimeout:          {0, maxVisibilitySecs},
	attrRedrivePolicy:              nil,
	"RedriveAllowPolicy":           nil,
	"Policy":                       nil,
	"KmsMasterKeyId":               nil,
	"KmsDataKeyReusePeriodSeconds": {60, 86400},
	"SqsManagedSseEnabled":         nil,
	attrFifoQueue:                  nil,
	attrContentBasedDedup:          nil,
	attrDeduplicationScope:         nil,
	attrFifoThroughputLimit:        nil,
}

// fifoOnly are attributes only a FIFO queue may have.
var fifoOnly = map[string]bool{attrFifoQueue: true, attrContentBasedDedup: true, attrDeduplicationScope: true, attrFifoThroughputLimit: true}

// readOnly are attributes GetQueueAttributes computes.
var readOnly = []string{
	"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed",
	"CreatedTimestamp", "LastModifiedTimestamp", "QueueArn",
}

// checkAttributes validates attributes for queue name, as CreateQueue
// (create) or SetQueueAttributes would.
func checkAttributes(name string, attrs map[string]string, create bool) *Error {
	fifo := queue.FIFO(name)
	for k, v := range attrs {
		r, ok := settable[k]
		if !ok || (fifoOnly[k] && !fifo) {
			return errAttrName.err("Unknown Attribute %s.", k)
		}
		bad := func() *Error { return errAttrValue.err("Invalid value for the parameter %s.", k) }
		switch k {
		case attrFifoQueue:
			if !create {
				return errAttrName.err("Unknown Attribute %s.", k)
			}
			if v != "true" {
				return bad()
			}
			continue
		case attrContentBasedDedup, "SqsManagedSseEnabled":
			if v != "true" && v != "false" {
				return bad()
			}
			continue
		case attrDeduplicationScope:
			if v != "queue" && v != "messageGroup" {
				return bad()
			}
			continue
		case attrFifoThroughputLimit:
			if v != "perQueue" && v != "perMessageGroupId" {
				return bad()
			}
			continue
		case attrRedrivePolicy:
			if v == "" {
				continue // removes the policy
			}
			p, err := queue.ParseRedrivePolicy(v)
			if err != nil {
				return errInvalidParameter.err("%s", strings.TrimPrefix(err.Error(), "queue: "))
			}
			if queue.FIFO(dlqName(p.DeadLetterTargetArn)) != fifo {
				return errInvalidParameter.err("Value %s for parameter RedrivePolicy is invalid. Reason: Dead-letter target must be of same type as the source.", v)
			}
			continue
		}
		if r != nil {
			n, err := strconv.Atoi(v)
			if err != nil || n < r.min || n > r.max {
				return bad()
			}
		}
	}
	if create && strings.HasSuffix(name, ".fifo") && attrs[attrFifoQueue] != "true" {
		return errInvalidParameter.err("The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")
	}
	return nil
}

// dlqName is the queue name at the end of an ARN.
func dlqName(arn string) string {
	return arn[strings.LastIndex(arn, ":")+1:]
}

// defaults are the attributes CreateQueue stores when the client sets
// none.
func defaults(fifo bool) map[string]string {
	d := map[string]string{
		attrDelaySeconds:       "0",
		attrMaximumMessageSize: strconv.Itoa(defaultMaxMessage),
		attrRetention:          strconv.Itoa(defaultRetention),
		attrReceiveWait:        "0",
		attrVisibilityTimeout:  strconv.Itoa(defaultVisibility),
		"SqsManagedSseEnabled": "false",
	}
	if fifo {
		d[attrFifoQueue] = "true"
		d[attrContentBasedDedup] = "false"
		d[attrDeduplicationScope] = "queue"
		d[attrFifoThroughputLimit] = "perQueue"
	}
	return d
}

// intAttr reads a numeric attribute of a queue's state, with SQS's
// default when it is not set.
func intAttr(attrs map[string]string, name string) int {
	if n, err := strconv.Atoi(attrs[name]); err == nil {
		return n
	}
	switch name {
	case attrVisibilityTimeout:
		return defaultVisibility
	case attrMaximumMessageSize:
		return defaultMaxMessage
	case attrRetention:
		// A queue updraft created for itself keeps 14 days.
		return maxRetention
	}
	return 0
}
