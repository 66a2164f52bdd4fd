package sqs

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/updraft/updraft/internal/queue"
)

// Limits of the API.
const (
	// maxBatch is the most entries of a batch request.
	maxBatch = 10
	// maxBatchID is the longest batch entry id.
	maxBatchID = 80
	// maxListQueues is the most URLs ListQueues returns.
	maxListQueues = 1000
	// maxTags is the most tags a queue may have.
	maxTags = 50
	// maxDedupID is the longest MessageDeduplicationId and MessageGroupId.
	maxDedupID = 128
)

// Queues is the queue store the API runs on: *queue.Service.
type Queues interface {
	Create(ctx context.Context, name string, attrs, tags map[string]string) (*queue.State, error)
	State(ctx context.Context, name string) (*queue.State, error)
	SetAttributes(ctx context.Context, name string, attrs map[string]string) error
	Tag(ctx context.Context, name string, tags map[string]string) error
	Untag(ctx context.Context, name string, keys []string) error
	Delete(ctx context.Context, name string) error
	Purge(ctx context.Context, name string) error
	List(ctx context.Context) ([]queue.QueueInfo, error)
	SendMessage(ctx context.Context, name string, body []byte, attrs map[string]queue.Attribute, o queue.SendOptions) (queue.Sent, error)
	ReceiveVisible(ctx context.Context, name string, max int, wait, visibility time.Duration) ([]queue.Received, error)
	DeleteMessage(ctx context.Context, name, handle string) error
	ChangeVisibility(ctx context.Context, name, handle string, d time.Duration) error
}

// Config configures a Handler.
type Config struct {
	// Queues is the queue store.
	Queues Queues
	// Region and AccountID name queues in ARNs and URLs.
	Region, AccountID string
	// Authorize checks the caller of r for an IAM action ("sqs:SendMessage")
	// on a resource (a queue ARN, or "*"); nil allows everything. A
	// non-nil error is answered as AccessDenied with its text.
	Authorize func(r *http.Request, action, resource string) error
	// Logger gets internal errors.
	Logger *slog.Logger
}

// call is one request: the HTTP request and the queue its path names.
type call struct {
	r *http.Request
	// pathQueue is the queue of a request posted to a queue URL path.
	pathQueue string
}

// base is the scheme and host of queue URLs for this request.
func (c *call) base() string {
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.r.Host
}

func (h *Handler) queueURL(c *call, name string) string {
	return c.base() + "/" + h.cfg.AccountID + "/" + name
}

// queueName resolves a QueueUrl (or the request's path) to a queue name:
// any URL whose path is /ACCOUNT/NAME with this server's account.
func (h *Handler) queueName(c *call, raw string) (string, *Error) {
	if raw == "" {
		if c.pathQueue != "" {
			return c.pathQueue, nil
		}
		return "", missing("QueueUrl")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", errInvalidAddress.err("The address %s is not valid for this endpoint.", raw)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 2 || queue.ValidName(parts[1]) != nil {
		return "", errInvalidAddress.err("The address %s is not valid for this endpoint.", raw)
	}
	if parts[0] != h.cfg.AccountID {
		return "", noQueue()
	}
	return parts[1], nil
}

// authorize checks action on queue name ("" for "*").
func (h *Handler) authorize(c *call, action, name string) *Error {
	if h.cfg.Authorize == nil {
		return nil
	}
	resource := "*"
	if name != "" {
		resource = queue.ARN(h.cfg.Region, h.cfg.AccountID, name)
	}
	if err := h.cfg.Authorize(c.r, "sqs:"+action, resource); err != nil {
		return errAccessDenied.err("%s", err.Error())
	}
	return nil
}

// target resolves the queue of an operation on one queue and authorises
// action on it.
func (h *Handler) target(c *call, action, rawURL string) (string, *Error) {
	name, e := h.queueName(c, rawURL)
	if e != nil {
		return "", e
	}
	if e := h.authorize(c, action, name); e != nil {
		return "", e
	}
	return name, nil
}

// state looks up queue name; QueueDoesNotExist when it does not exist.
func (h *Handler) state(ctx context.Context, name string) (*queue.State, error) {
	st, err := h.cfg.Queues.State(ctx, name)
	if errors.Is(err, queue.ErrNotFound) {
		return nil, noQueue()
	}
	return st, err
}

// storeErr maps a queue error to the API's.
func storeErr(err error) error {
	var ve *queue.ValidationError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, queue.ErrNotFound):
		return noQueue()
	case errors.Is(err, queue.ErrBadHandle):
		return err // callers name the handle
	case errors.As(err, &ve):
		return errInvalidParameter.err("%s", ve.Message)
	case errors.Is(err, queue.ErrFull):
		return errOverLimit.err("The queue holds its maximum number of bytes; delete messages before sending more.")
	}
	return err
}

func (h *Handler) createQueue(ctx context.Context, c *call, in *createQueueInput) (any, error) {
	if in.QueueName == "" {
		return nil, missing("QueueName")
	}
	if err := queue.ValidName(in.QueueName); err != nil {
		return nil, errInvalidParameter.err("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	if e := h.authorize(c, "CreateQueue", in.QueueName); e != nil {
		return nil, e
	}
	if e := checkAttributes(in.QueueName, in.Attributes, true); e != nil {
		return nil, e
	}
	if e := checkTags(in.Tags); e != nil {
		return nil, e
	}
	attrs := defaults(queue.FIFO(in.QueueName))
	maps.Copy(attrs, in.Attributes)
	st, err := h.cfg.Queues.Create(ctx, in.QueueName, attrs, in.Tags)
	if errors.Is(err, queue.ErrExists) {
		// SQS answers with the URL when every attribute given matches.
		for k, v := range in.Attributes {
			if cur, ok := st.Attributes[k]; ok && cur != v || !ok && defaults(queue.FIFO(in.QueueName))[k] != v {
				return nil, errQueueExists.err("A queue already exists with the same name and a different value for attribute %s", k)
			}
		}
		err = nil
	}
	if err != nil {
		return nil, storeErr(err)
	}
	return queueURLOutput{QueueURL: h.queueURL(c, in.QueueName)}, nil
}

func checkTags(tags map[string]string) *Error {
	if len(tags) > maxTags {
		return errInvalidParameter.err("Too many tags added for queue. The maximum number of tags is %d.", maxTags)
	}
	for k, v := range tags {
		if k == "" || len(k) > 128 || len(v) > 256 {
			return errInvalidParameter.err("Tag keys must be 1 to 128 characters and values at most 256 characters.")
		}
	}
	return nil
}

func (h *Handler) getQueueURL(ctx context.Context, c *call, in *getQueueURLInput) (any, error) {
	if in.QueueName == "" {
		return nil, missing("QueueName")
	}
	if e := h.authorize(c, "GetQueueUrl", in.QueueName); e != nil {
		return nil, e
	}
	if queue.ValidName(in.QueueName) != nil || in.QueueOwnerAWSAccountID != "" && in.QueueOwnerAWSAccountID != h.cfg.AccountID {
		return nil, noQueue()
	}
	if _, err := h.state(ctx, in.QueueName); err != nil {
		return nil, err
	}
	return queueURLOutput{QueueURL: h.queueURL(c, in.QueueName)}, nil
}

func (h *Handler) listQueues(ctx context.Context, c *call, in *listQueuesInput) (any, error) {
	if e := h.authorize(c, "ListQueues", ""); e != nil {
		return nil, e
	}
	limit := maxListQueues
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > maxListQueues {
			return nil, invalidValue("MaxResults", *in.MaxResults, "MaxResults must be an integer between 1 and 1000.")
		}
		limit = *in.MaxResults
	}
	after := ""
	if in.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		if err != nil {
			return nil, errInvalidParameter.err("Invalid NextToken value.")
		}
		after = string(b)
	}
	all, err := h.cfg.Queues.List(ctx)
	if err != nil {
		return nil, err
	}
	out := listQueuesOutput{QueueURLs: []string{}}
	for _, q := range all {
		if !strings.HasPrefix(q.Name, in.QueueNamePrefix) || q.Name <= after {
			continue
		}
		if len(out.QueueURLs) == limit {
			if in.MaxResults != nil {
				last := out.QueueURLs[len(out.QueueURLs)-1]
				out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(last[strings.LastIndex(last, "/")+1:]))
			}
			break
		}
		out.QueueURLs = append(out.QueueURLs, h.queueURL(c, q.Name))
	}
	return out, nil
}

func (h *Handler) deleteQueue(ctx context.Context, c *call, in *queueURLInput) (any, error) {
	name, e := h.target(c, "DeleteQueue", in.QueueURL)
	if e != nil {
		return nil, e
	}
	return nil, storeErr(h.cfg.Queues.Delete(ctx, name))
}

func (h *Handler) purgeQueue(ctx context.Context, c *call, in *queueURLInput) (any, error) {
	name, e := h.target(c, "PurgeQueue", in.QueueURL)
	if e != nil {
		return nil, e
	}
	return nil, storeErr(h.cfg.Queues.Purge(ctx, name))
}

func (h *Handler) getQueueAttributes(ctx context.Context, c *call, in *getQueueAttributesInput) (any, error) {
	name, e := h.target(c, "GetQueueAttributes", in.QueueURL)
	if e != nil {
		return nil, e
	}
	st, err := h.state(ctx, name)
	if err != nil {
		return nil, err
	}
	all := map[string]string{}
	for k, v := range defaults(queue.FIFO(name)) {
		all[k] = v
	}
	if _, ok := st.Attributes[attrRetention]; !ok {
		all[attrRetention] = strconv.Itoa(maxRetention)
	}
	maps.Copy(all, st.Attributes)
	all["ApproximateNumberOfMessages"] = strconv.FormatUint(st.Messages-min(st.Messages, st.InFlight), 10)
	all["ApproximateNumberOfMessagesNotVisible"] = strconv.FormatUint(min(st.Messages, st.InFlight), 10)
	all["ApproximateNumberOfMessagesDelayed"] = "0"
	all["CreatedTimestamp"] = strconv.FormatInt(st.Created.Unix(), 10)
	modified := st.Created.Unix()
	if m, err := strconv.ParseInt(st.Attributes[modifiedKey], 10, 64); err == nil {
		modified = m
	}
	delete(all, modifiedKey)
	all["LastModifiedTimestamp"] = strconv.FormatInt(modified, 10)
	all["QueueArn"] = queue.ARN(h.cfg.Region, h.cfg.AccountID, name)
	out := nameValues{}
	for _, n := range in.AttributeNames {
		if n == "All" {
			return attributesOutput{Attributes: all}, nil
		}
		v, ok := all[n]
		if !ok {
			if _, known := settable[n]; !known && !slices.Contains(readOnly, n) {
				return nil, errAttrName.err("Unknown Attribute %s.", n)
			}
			continue
		}
		out[n] = v
	}
	if len(out) == 0 {
		return struct{}{}, nil
	}
	return attributesOutput{Attributes: out}, nil
}

// modifiedKey is the attribute that keeps LastModifiedTimestamp; it is
// not one of SQS's and never shown as one.
const modifiedKey = "updraft.LastModified"

func (h *Handler) setQueueAttributes(ctx context.Context, c *call, in *setQueueAttributesInput) (any, error) {
	name, e := h.target(c, "SetQueueAttributes", in.QueueURL)
	if e != nil {
		return nil, e
	}
	if len(in.Attributes) == 0 {
		return nil, missing("Attribute.1.Name")
	}
	if e := checkAttributes(name, in.Attributes, false); e != nil {
		return nil, e
	}
	attrs := maps.Clone(in.Attributes)
	attrs[modifiedKey] = strconv.FormatInt(time.Now().Unix(), 10)
	return nil, storeErr(h.cfg.Queues.SetAttributes(ctx, name, attrs))
}

func (h *Handler) tagQueue(ctx context.Context, c *call, in *tagQueueInput) (any, error) {
	name, e := h.target(c, "TagQueue", in.QueueURL)
	if e != nil {
		return nil, e
	}
	if len(in.Tags) == 0 {
		return nil, missing("Tags")
	}
	st, err := h.state(ctx, name)
	if err != nil {
		return nil, err
	}
	merged := maps.Clone(st.Tags)
	maps.Copy(merged, in.Tags)
	if e := checkTags(merged); e != nil {
		return nil, e
	}
	return nil, storeErr(h.cfg.Queues.Tag(ctx, name, in.Tags))
}

func (h *Handler) untagQueue(ctx context.Context, c *call, in *untagQueueInput) (any, error) {
	name, e := h.target(c, "UntagQueue", in.QueueURL)
	if e != nil {
		return nil, e
	}
	if len(in.TagKeys) == 0 {
		return nil, missing("TagKeys")
	}
	return nil, storeErr(h.cfg.Queues.Untag(ctx, name, in.TagKeys))
}

func (h *Handler) listQueueTags(ctx context.Context, c *call, in *queueURLInput) (any, error) {
	name, e := h.target(c, "ListQueueTags", in.QueueURL)
	if e != nil {
		return nil, e
	}
	st, err := h.state(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(st.Tags) == 0 {
		return struct{}{}, nil
	}
	return tagsOutput{Tags: st.Tags}, nil
}

// send checks and stores one message of queue st.
func (h *Handler) send(ctx context.Context, st *queue.State, in *sendEntry) (sendMessageOutput, *Error, error) {
	if in.MessageBody == nil || *in.MessageBody == "" {
		return sendMessageOutput{}, missing("MessageBody"), nil
	}
	body := *in.MessageBody
	if !queue.ValidText(body) {
		return sendMessageOutput{}, errMessageContents.err("Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"), nil
	}
	size := len(body)
	for n, a := range in.MessageAttributes {
		size += len(n) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
	}
	if limit := intAttr(st.Attributes, attrMaximumMessageSize); size > limit {
		return sendMessageOutput{}, errInvalidParameter.err("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", limit), nil
	}
	fifo := queue.FIFO(st.Name)
	o := queue.SendOptions{MustExist: true}
	for n, a := range in.MessageSystemAttributes {
		if n != "AWSTraceHeader" {
			return sendMessageOutput{}, errInvalidParameter.err("Message system attribute name '%s' is invalid.", sanitize(n)), nil
		}
		if a.BaseType() != queue.TypeString || a.StringValue == "" {
			return sendMessageOutput{}, errInvalidParameter.err("Message system attribute 'AWSTraceHeader' must be of type String with a value."), nil
		}
		o.Trace = a.StringValue
	}
	delay := intAttr(st.Attributes, attrDelaySeconds)
	if in.DelaySeconds != nil {
		if fifo {
			return sendMessageOutput{}, invalidValue("DelaySeconds", *in.DelaySeconds, "The request include parameter that is not valid for this queue type."), nil
		}
		if *in.DelaySeconds < 0 || *in.DelaySeconds > maxDelaySecs {
			return sendMessageOutput{}, invalidValue("DelaySeconds", *in.DelaySeconds, "DelaySeconds must be >= 0 and <= 900."), nil
		}
		delay = *in.DelaySeconds
	}
	o.Delay = time.Duration(delay) * time.Second
	switch {
	case fifo:
		if in.MessageGroupID == "" {
			return sendMessageOutput{}, missing("MessageGroupId"), nil
		}
		if e := checkFIFOID("MessageGroupId", in.MessageGroupID); e != nil {
			return sendMessageOutput{}, e, nil
		}
		o.Group = in.MessageGroupID
		o.DedupID = in.MessageDeduplicationID
		if o.DedupID == "" {
			if st.Attributes[attrContentBasedDedup] != "true" {
				return sendMessageOutput{}, errInvalidParameter.err("The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"), nil
			}
			sum := sha256.Sum256([]byte(body))
			o.DedupID = hex.EncodeToString(sum[:])
		} else if e := checkFIFOID("MessageDeduplicationId", o.DedupID); e != nil {
			return sendMessageOutput{}, e, nil
		}
		if st.Attributes[attrDeduplicationScope] == "messageGroup" {
			sum := sha256.Sum256([]byte(o.Group + "\x00" + o.DedupID))
			o.DedupID = hex.EncodeToString(sum[:])
		}
	case in.MessageDeduplicationID != "":
		return sendMessageOutput{}, invalidValue("MessageDeduplicationId", in.MessageDeduplicationID, "The request includes a parameter that is not valid for this queue type."), nil
	}
	sent, err := h.cfg.Queues.SendMessage(ctx, st.Name, []byte(body), in.MessageAttributes, o)
	if err != nil {
		var e *Error
		if errors.As(storeErr(err), &e) {
			return sendMessageOutput{}, e, nil
		}
		return sendMessageOutput{}, nil, err
	}
	sum := md5.Sum([]byte(body))
	out := sendMessageOutput{
		MD5OfMessageBody:       hex.EncodeToString(sum[:]),
		MD5OfMessageAttributes: queue.MD5OfAttributes(in.MessageAttributes),
		MD5OfSystemAttributes:  queue.MD5OfAttributes(in.MessageSystemAttributes),
		MessageID:              sent.MessageID,
	}
	if fifo {
		out.SequenceNumber = fmt.Sprintf("%020d", sent.Sequence)
	}
	return out, nil, nil
}

// checkFIFOID applies SQS's rules to a MessageGroupId or
// MessageDeduplicationId: 1–128 characters of a-z, A-Z, 0-9 and
// !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~.
func checkFIFOID(param, v string) *Error {
	if len(v) > maxDedupID {
		return invalidValue(param, v, fmt.Sprintf("%s can only include alphanumeric and punctuation characters. 1 to 128 in length.", param))
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] > '~' {
			return invalidValue(param, v, fmt.Sprintf("%s can only include alphanumeric and punctuation characters. 1 to 128 in length.", param))
		}
	}
	return nil
}

func (h *Handler) sendMessage(ctx context.Context, c *call, in *sendMessageInput) (any, error) {
	name, e := h.target(c, "SendMessage", in.QueueURL)
	if e != nil {
		return nil, e
	}
	st, err := h.state(ctx, name)
	if err != nil {
		return nil, err
	}
	out, e, err := h.send(ctx, st, &in.sendEntry)
	if e != nil {
		return nil, e
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkBatch applies SQS's rules for batch entry ids.
func checkBatch(kind string, ids []string) *Error {
	if len(ids) == 0 {
		return errEmptyBatch.err("There should be at least one %s in the request.", kind)
	}
	if len(ids) > maxBatch {
		return errTooManyEntries.err("Maximum number of entries per request are %d. You have sent %d.", maxBatch, len(ids))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "" || len(id) > maxBatchID || strings.Trim(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
			return errBadBatchID.err("A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
		}
		if seen[id] {
			return errIDsNotDistinct.err("Id %s repeated.", id)
		}
		seen[id] = true
	}
	return nil
}

func (h *Handler) sendMessageBatch(ctx context.Context, c *call, in *sendMessageBatchInput) (any, error) {
	name, e := h.target(c, "SendMessage", in.QueueURL)
	if e != nil {
		return nil, e
	}
	ids := make([]string, len(in.Entries))
	total := 0
	for i, en := range in.Entries {
		ids[i] = en.ID
		if en.MessageBody != nil {
			total += len(*en.MessageBody)
		}
		for n, a := range en.MessageAttributes {
			total += len(n) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
		}
	}
	if e := checkBatch("SendMessageBatchRequestEntry", ids); e != nil {
		return nil, e
	}
	st, err := h.state(ctx, name)
	if err != nil {
		return nil, err
	}
	if limit := intAttr(st.Attributes, attrMaximumMessageSize); total > limit {
		return nil, errBatchTooLong.err("Batch requests cannot be longer than %d bytes. You have sent %d bytes.", limit, total)
	}
	out := sendBatchOutput{Successful: []sendBatchEntry{}, Failed: []batchError{}}
	for i := range in.Entries {
		en := &in.Entries[i]
		res, e, err := h.send(ctx, st, en)
		switch {
		case err != nil:
			h.cfg.Logger.Warn("sqs: send a batch entry", "queue", name, "err", err)
			out.Failed = append(out.Failed, batchError{ID: en.ID, Code: "InternalError", Message: "An internal error occurred."})
		case e != nil:
			out.Failed = append(out.Failed, batchError{ID: en.ID, SenderFault: true, Code: e.Code, Message: e.Message})
		default:
			out.Successful = append(out.Successful, sendBatchEntry{ID: en.ID, sendMessageOutput: res})
		}
	}
	return out, nil
}

// systemAttributeNames are the message attributes ReceiveMessage can
// return.
var systemAttributeNames = []string{
	"ApproximateFirstReceiveTimestamp", "ApproximateReceiveCount", "AWSTraceHeader", "SenderId", "SentTimestamp",
	"SequenceNumber", "MessageDeduplicationId", "MessageGroupId", "SqsManagedSseEnabled",
}

func (h *Handler) receiveMessage(ctx context.Context, c *call, in *receiveMessageInput) (any, error) {
	name, e := h.target(c, "ReceiveMessage", in.QueueURL)
	if e != nil {
		return nil, e
	}
	maxN := 1
	if in.MaxNumberOfMessages != nil {
		maxN = *in.MaxNumberOfMessages
		if maxN < 1 || maxN > queue.MaxReceive {
			return nil, invalidValue("MaxNumberOfMessages", maxN, "Must be between 1 and 10, if provided.")
		}
	}
	if in.WaitTimeSeconds != nil && (*in.WaitTimeSeconds < 0 || *in.WaitTimeSeconds > maxReceiveWaitSecs) {
		return nil, invalidValue("WaitTimeSeconds", *in.WaitTimeSeconds, "Must be >= 0 and <= 20, if provided.")
	}
	if in.VisibilityTimeout != nil && (*in.VisibilityTimeout < 0 || *in.VisibilityTimeout > maxVisibilitySecs) {
		return nil, invalidValue("VisibilityTimeout", *in.VisibilityTimeout, "Must be >= 0 and <= 43200, if provided.")
	}
	st, err := h.state(ctx, name)
	if err != nil {
		return nil, err
	}
	wait := intAttr(st.Attributes, attrReceiveWait)
	if in.WaitTimeSeconds != nil {
		wait = *in.WaitTimeSeconds
	}
	vis := intAttr(st.Attributes, attrVisibilityTimeout)
	if in.VisibilityTimeout != nil {
		vis = *in.VisibilityTimeout
	}
	sysNames := append(slices.Clone(in.AttributeNames), in.MessageSystemAttributeNames...)
	for _, n := range sysNames {
		if n != "All" && !slices.Contains(systemAttributeNames, n) {
			return nil, errAttrName.err("Unknown Attribute %s.", n)
		}
	}
	got, err := h.cfg.Queues.ReceiveVisible(ctx, name, maxN, time.Duration(wait)*time.Second, time.Duration(vis)*time.Second)
	if err != nil {
		return nil, storeErr(err)
	}
	out := receiveOutput{}
	now := time.Now()
	for _, m := range got {
		msg := message{MessageID: m.MessageID, ReceiptHandle: m.Handle, MD5OfBody: m.MD5OfBody, Body: string(m.Body)}
		sys := map[string]string{
			"ApproximateFirstReceiveTimestamp": strconv.FormatInt(now.UnixMilli(), 10),
			"ApproximateReceiveCount":          strconv.FormatUint(max(m.ReceiveCount, 1), 10),
			"SenderId":                         h.cfg.AccountID,
			"SentTimestamp":                    strconv.FormatInt(m.SentAt.UnixMilli(), 10),
			"SqsManagedSseEnabled":             "false",
		}
		if m.Trace != "" {
			sys["AWSTraceHeader"] = m.Trace
		}
		if m.Group != "" {
			sys["MessageGroupId"] = m.Group
			sys["SequenceNumber"] = fmt.Sprintf("%020d", m.Sequence)
			sys["MessageDeduplicationId"] = m.DedupID
			if m.DedupID == "" {
				sys["MessageDeduplicationId"] = m.MessageID
			}
		}
		for _, n := range sysNames {
			if v, ok := sys[n]; ok || n == "All" {
				if msg.Attributes == nil {
					msg.Attributes = nameValues{}
				}
				if n == "All" {
					maps.Copy(msg.Attributes, sys)
				} else {
					msg.Attributes[n] = v
				}
			}
		}
		if attrs := selectAttributes(m.Attributes, in.MessageAttributeNames); len(attrs) > 0 {
			msg.MessageAttributes = attrs
			msg.MD5OfMessageAttributes = queue.MD5OfAttributes(attrs)
		}
		out.Messages = append(out.Messages, msg)
	}
	return out, nil
}

// selectAttributes keeps the message attributes names asks for: "All",
// ".*", a prefix ending in ".*", or exact names.
func selectAttributes(attrs map[string]queue.Attribute, names []string) map[string]queue.Attribute {
	out := map[string]queue.Attribute{}
	for k, a := range attrs {
		for _, n := range names {
			p, isPrefix := strings.CutSuffix(n, ".*")
			if n == "All" || n == ".*" || n == k || isPrefix && strings.HasPrefix(k, p+".") {
				out[k] = a
				break
			}
		}
	}
	return out
}

// settleOne deletes a message or changes its visibility.
func (h *Handler) settleOne(ctx context.Context, name, handle string, vis *int, change bool) *Error {
	if handle == "" {
		return missing("ReceiptHandle")
	}
	var err error
	if change {
		if vis == nil {
			return missing("VisibilityTimeout")
		}
		if *vis < 0 || *vis > maxVisibilitySecs {
			return invalidValue("VisibilityTimeout", *vis, "Must be >= 0 and <= 43200, if provided.")
		}
		err = h.cfg.Queues.ChangeVisibility(ctx, name, handle, time.Duration(*vis)*time.Second)
	} else {
		err = h.cfg.Queues.DeleteMessage(ctx, name, handle)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, queue.ErrBadHandle):
		return errBadHandle.err("The input receipt handle \"%s\" is not a valid receipt handle.", handle)
	}
	var e *Error
	if errors.As(storeErr(err), &e) {
		return e
	}
	h.cfg.Logger.Warn("sqs: settle a message", "queue", name, "err", err)
	return errInternal.err("An internal error occurred.")
}

func (h *Handler) deleteMessage(ctx context.Context, c *call, in *deleteMessageInput) (any, error) {
	name, e := h.target(c, "DeleteMessage", in.QueueURL)
	if e != nil {
		return nil, e
	}
	if e := h.settleOne(ctx, name, in.ReceiptHandle, nil, false); e != nil {
		return nil, e
	}
	return nil, nil
}

func (h *Handler) changeMessageVisibility(ctx context.Context, c *call, in *changeVisibilityInput) (any, error) {
	name, e := h.target(c, "ChangeMessageVisibility", in.QueueURL)
	if e != nil {
		return nil, e
	}
	if e := h.settleOne(ctx, name, in.ReceiptHandle, in.VisibilityTimeout, true); e != nil {
		return nil, e
	}
	return nil, nil
}

// settleBatch is DeleteMessageBatch (change false) and
// ChangeMessageVisibilityBatch.
func (h *Handler) settleBatch(ctx context.Context, c *call, in *batchHandleInput, change bool) (any, error) {
	action, kind, okName := "DeleteMessage", "DeleteMessageBatchRequestEntry", "DeleteMessageBatchResultEntry"
	if change {
		action, kind, okName = "ChangeMessageVisibility", "ChangeMessageVisibilityBatchRequestEntry", "ChangeMessageVisibilityBatchResultEntry"
	}
	name, e := h.target(c, action, in.QueueURL)
	if e != nil {
		return nil, e
	}
	ids := make([]string, len(in.Entries))
	for i, en := range in.Entries {
		ids[i] = en.ID
	}
	if e := checkBatch(kind, ids); e != nil {
		return nil, e
	}
	if _, err := h.state(ctx, name); err != nil {
		return nil, err
	}
	out := handleBatchOutput{Successful: []batchID{}, Failed: []batchError{}}
	for _, en := range in.Entries {
		if e := h.settleOne(ctx, name, en.ReceiptHandle, en.VisibilityTimeout, change); e != nil {
			out.Failed = append(out.Failed, batchError{ID: en.ID, SenderFault: e.Status < 500, Code: e.Code, Message: e.Message})
			continue
		}
		out.Successful = append(out.Successful, batchID{ID: en.ID})
		out.XMLOK = append(out.XMLOK, xmlResultOK{XMLName: xmlName(okName), ID: en.ID})
	}
	return out, nil
}
