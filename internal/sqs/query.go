package sqs

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/updraft/updraft/internal/awsquery"
	"github.com/updraft/updraft/internal/queue"
)

// maxMembers bounds the members of one list or map in a form.
const maxMembers = 100

// form reads the query protocol's flattened lists and maps, as botocore
// serialises SQS's: AttributeName.1, Attribute.1.Name / Attribute.1.Value,
// MessageAttribute.1.Name / MessageAttribute.1.Value.StringValue,
// SendMessageBatchRequestEntry.1.Id and so on.
type form struct {
	req *awsquery.Request
}

func (f *form) str(name string) string { return f.req.Get(name) }

// strp is a string parameter that may be absent.
func (f *form) strp(name string) *string {
	if !f.req.Has(name) {
		return nil
	}
	v := f.req.Get(name)
	return &v
}

// intp is an integer parameter that may be absent.
func (f *form) intp(name string) (*int, *Error) {
	if !f.req.Has(name) {
		return nil, nil
	}
	n, err := strconv.Atoi(f.req.Get(name))
	if err != nil {
		return nil, invalidValue(name, sanitize(f.req.Get(name)), "Must be an integer.")
	}
	return &n, nil
}

// count is how many members prefix.1, prefix.2, … the form has, each
// either a value (prefix.N) or a structure (prefix.N.Member).
func (f *form) count(prefix string) int {
	n := 0
	for n < maxMembers {
		p := prefix + "." + strconv.Itoa(n+1)
		found := f.req.Has(p)
		if !found {
			for k := range f.req.Params {
				if strings.HasPrefix(k, p+".") {
					found = true
					break
				}
			}
		}
		if !found {
			break
		}
		n++
	}
	return n
}

// list reads prefix.1, prefix.2, ….
func (f *form) list(prefix string) []string {
	var out []string
	for i := 1; i <= f.count(prefix); i++ {
		out = append(out, f.str(prefix+"."+strconv.Itoa(i)))
	}
	return out
}

// pairs reads a map: prefix.N.<key> and prefix.N.Value.
func (f *form) pairs(prefix, key string) map[string]string {
	n := f.count(prefix)
	if n == 0 {
		return nil
	}
	out := make(map[string]string, n)
	for i := 1; i <= n; i++ {
		p := prefix + "." + strconv.Itoa(i) + "."
		out[f.str(p+key)] = f.str(p + "Value")
	}
	return out
}

// messageAttributes reads prefix.N.Name and prefix.N.Value.{DataType,
// StringValue, BinaryValue}.
func (f *form) messageAttributes(prefix string) (map[string]queue.Attribute, *Error) {
	n := f.count(prefix)
	if n == 0 {
		return nil, nil
	}
	out := make(map[string]queue.Attribute, n)
	for i := 1; i <= n; i++ {
		p := prefix + "." + strconv.Itoa(i) + "."
		a := queue.Attribute{DataType: f.str(p + "Value.DataType"), StringValue: f.str(p + "Value.StringValue")}
		if b := f.str(p + "Value.BinaryValue"); b != "" {
			raw, err := base64.StdEncoding.DecodeString(b)
			if err != nil {
				return nil, invalidValue(p+"Value.BinaryValue", "", "Must be base64.")
			}
			a.BinaryValue = raw
		}
		out[f.str(p+"Name")] = a
	}
	return out, nil
}

func formCreateQueue(f *form, in *createQueueInput) *Error {
	in.QueueName = f.str("QueueName")
	in.Attributes = f.pairs("Attribute", "Name")
	in.Tags = f.pairs("Tag", "Key")
	return nil
}

func formGetQueueURL(f *form, in *getQueueURLInput) *Error {
	in.QueueName = f.str("QueueName")
	in.QueueOwnerAWSAccountID = f.str("QueueOwnerAWSAccountId")
	return nil
}

func formListQueues(f *form, in *listQueuesInput) *Error {
	in.QueueNamePrefix = f.str("QueueNamePrefix")
	in.NextToken = f.str("NextToken")
	var e *Error
	in.MaxResults, e = f.intp("MaxResults")
	return e
}

func formQueueURL(f *form, in *queueURLInput) *Error {
	in.QueueURL = f.str("QueueUrl")
	return nil
}

func formGetQueueAttributes(f *form, in *getQueueAttributesInput) *Error {
	in.QueueURL = f.str("QueueUrl")
	in.AttributeNames = f.list("AttributeName")
	return nil
}

func formSetQueueAttributes(f *form, in *setQueueAttributesInput) *Error {
	in.QueueURL = f.str("QueueUrl")
	in.Attributes = f.pairs("Attribute", "Name")
	return nil
}

// formSendEntry reads one message: the request's parameters (prefix "")
// or a batch entry's ("SendMessageBatchRequestEntry.N.").
func formSendEntry(f *form, prefix string, in *sendEntry) *Error {
	var e *Error
	in.ID = f.str(prefix + "Id")
	in.MessageBody = f.strp(prefix + "MessageBody")
	if in.DelaySeconds, e = f.intp(prefix + "DelaySeconds"); e != nil {
		return e
	}
	if in.MessageAttributes, e = f.messageAttributes(prefix + "MessageAttribute"); e != nil {
		return e
	}
	if in.MessageSystemAttributes, e = f.messageAttributes(prefix + "MessageSystemAttribute"); e != nil {
		return e
	}
	in.MessageDeduplicationID = f.str(prefix + "MessageDeduplicationId")
	in.MessageGroupID = f.str(prefix + "MessageGroupId")
	return nil
}

func formSendMessage(f *form, in *sendMessageInput) *Error {
	in.QueueURL = f.str("QueueUrl")
	return formSendEntry(f, "", &in.sendEntry)
}

func formSendMessageBatch(f *form, in *sendMessageBatchInput) *Error {
	in.QueueURL = f.str("QueueUrl")
	const prefix = "SendMessageBatchRequestEntry"
	n := f.count(prefix)
	in.Entries = make([]sendEntry, n)
	for i := range n {
		if e := formSendEntry(f, prefix+"."+strconv.Itoa(i+1)+".", &in.Entries[i]); e != nil {
			return e
		}
	}
	return nil
}

func formReceiveMessage(f *form, in *receiveMessageInput) *Error {
	var e *Error
	in.QueueURL = f.str("QueueUrl")
	in.AttributeNames = f.list("AttributeName")
	in.MessageSystemAttributeNames = f.list("MessageSystemAttributeName")
	in.MessageAttributeNames = f.list("MessageAttributeName")
	in.ReceiveRequestAttemptID = f.str("ReceiveRequestAttemptId")
	if in.MaxNumberOfMessages, e = f.intp("MaxNumberOfMessages"); e != nil {
		return e
	}
	if in.VisibilityTimeout, e = f.intp("VisibilityTimeout"); e != nil {
		return e
	}
	in.WaitTimeSeconds, e = f.intp("WaitTimeSeconds")
	return e
}

func formDeleteMessage(f *form, in *deleteMessageInput) *Error {
	in.QueueURL = f.str("QueueUrl")
	in.ReceiptHandle = f.str("ReceiptHandle")
	return nil
}

func formChangeVisibility(f *form, in *changeVisibilityInput) *Error {
	var e *Error
	in.QueueURL = f.str("QueueUrl")
	in.ReceiptHandle = f.str("ReceiptHandle")
	in.VisibilityTimeout, e = f.intp("VisibilityTimeout")
	return e
}

// formBatchHandles reads DeleteMessageBatch's or
// ChangeMessageVisibilityBatch's entries.
func formBatchHandles(prefix string) func(f *form, in *batchHandleInput) *Error {
	return func(f *form, in *batchHandleInput) *Error {
		in.QueueURL = f.str("QueueUrl")
		n := f.count(prefix)
		in.Entries = make([]handleEntry, n)
		for i := range n {
			p := prefix + "." + strconv.Itoa(i+1) + "."
			in.Entries[i].ID = f.str(p + "Id")
			in.Entries[i].ReceiptHandle = f.str(p + "ReceiptHandle")
			var e *Error
			if in.Entries[i].VisibilityTimeout, e = f.intp(p + "VisibilityTimeout"); e != nil {
				return e
			}
		}
		return nil
	}
}

func formTagQueue(f *form, in *tagQueueInput) *Error {
	in.QueueURL = f.str("QueueUrl")
	in.Tags = f.pairs("Tag", "Key")
	return nil
}

func formUntagQueue(f *form, in *untagQueueInput) *Error {
	in.QueueURL = f.str("QueueUrl")
	in.TagKeys = f.list("TagKey")
	return nil
}
