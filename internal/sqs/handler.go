package sqs

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/updraft/updraft/internal/awsquery"
	"github.com/updraft/updraft/internal/queue"
)

// Protocol constants.
const (
	// TargetPrefix starts the X-Amz-Target of the JSON protocol.
	TargetPrefix = "AmazonSQS."
	// APIVersion is the query protocol's Version.
	APIVersion = "2012-11-05"
	// namespace is the xmlns of query answers.
	namespace       = "http://queue.amazonaws.com/doc/" + APIVersion + "/"
	contentTypeJSON = "application/x-amz-json-1.0"
	// maxBody bounds a request: a batch of 1 MiB of messages, with
	// binary attributes in base64 or the whole URL-encoded in a form.
	maxBody = 4 << 20
)

// Handler serves the SQS API, both protocols, on POST / and on queue URL
// paths (POST /ACCOUNT/NAME).
type Handler struct {
	cfg Config
}

// New returns a Handler for cfg.
func New(cfg Config) *Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Logger = cfg.Logger.With("component", "sqs")
	return &Handler{cfg: cfg}
}

// IsJSON reports whether r is an SQS JSON-protocol request.
func IsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
}

// IsQueuePath reports whether path is a queue URL's path, /ACCOUNT/NAME
// with a 12-digit account.
func IsQueuePath(path string) bool {
	account, name, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return ok && len(account) == 12 && strings.Trim(account, "0123456789") == "" && queue.ValidName(name) == nil
}

// operation is one SQS operation: how to make its input, fill it from a
// query form, and run it.
type operation struct {
	newIn    func() any
	fromForm func(f *form, in any) *Error
	run      func(h *Handler, ctx context.Context, c *call, in any) (any, error)
}

func op[T any](fromForm func(f *form, in *T) *Error, run func(h *Handler, ctx context.Context, c *call, in *T) (any, error)) operation {
	return operation{
		newIn:    func() any { return new(T) },
		fromForm: func(f *form, in any) *Error { return fromForm(f, in.(*T)) },
		run:      func(h *Handler, ctx context.Context, c *call, in any) (any, error) { return run(h, ctx, c, in.(*T)) },
	}
}

// operations maps each action to its implementation.
var operations = map[string]operation{
	"CreateQueue":        op(formCreateQueue, (*Handler).createQueue),
	"GetQueueUrl":        op(formGetQueueURL, (*Handler).getQueueURL),
	"ListQueues":         op(formListQueues, (*Handler).listQueues),
	"DeleteQueue":        op(formQueueURL, (*Handler).deleteQueue),
	"PurgeQueue":         op(formQueueURL, (*Handler).purgeQueue),
	"GetQueueAttributes": op(formGetQueueAttributes, (*Handler).getQueueAttributes),
	"SetQueueAttributes": op(formSetQueueAttributes, (*Handler).setQueueAttributes),
	"SendMessage":        op(formSendMessage, (*Handler).sendMessage),
	"SendMessageBatch":   op(formSendMessageBatch, (*Handler).sendMessageBatch),
	"ReceiveMessage":     op(formReceiveMessage, (*Handler).receiveMessage),
	"DeleteMessage":      op(formDeleteMessage, (*Handler).deleteMessage),
	"DeleteMessageBatch": op(formBatchHandles("DeleteMessageBatchRequestEntry"), func(h *Handler, ctx context.Context, c *call, in *batchHandleInput) (any, error) {
		return h.settleBatch(ctx, c, in, false)
	}),
	"ChangeMessageVisibility": op(formChangeVisibility, (*Handler).changeMessageVisibility),
	"ChangeMessageVisibilityBatch": op(formBatchHandles("ChangeMessageVisibilityBatchRequestEntry"), func(h *Handler, ctx context.Context, c *call, in *batchHandleInput) (any, error) {
		return h.settleBatch(ctx, c, in, true)
	}),
	"TagQueue":      op(formTagQueue, (*Handler).tagQueue),
	"UntagQueue":    op(formUntagQueue, (*Handler).untagQueue),
	"ListQueueTags": op(formQueueURL, (*Handler).listQueueTags),
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := uuid.NewString()
	c := &call{r: r}
	if IsQueuePath(r.URL.Path) {
		account, name, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if account == h.cfg.AccountID {
			c.pathQueue = name
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if IsJSON(r) {
		action := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
		if err != nil || len(body) > maxBody {
			h.writeJSONError(w, reqID, action, errSerialization.err("The request body could not be read or is larger than %d bytes.", maxBody))
			return
		}
		out, err := h.serveJSON(c, action, body)
		if err != nil {
			h.writeJSONError(w, reqID, action, err)
			return
		}
		writeJSON(w, http.StatusOK, reqID, out)
		return
	}
	if err != nil || len(body) > maxBody {
		h.writeXMLError(w, reqID, "", errMalformed.err("The request body could not be read or is larger than %d bytes.", maxBody))
		return
	}
	req, err := awsquery.ParseForm(r.URL.RawQuery, body)
	if err != nil {
		h.writeXMLError(w, reqID, "", errMalformed.err("The request is not a valid form."))
		return
	}
	out, err := h.serveQuery(c, req)
	if err != nil {
		h.writeXMLError(w, reqID, req.Action, err)
		return
	}
	b, err := awsquery.Marshal(namespace, req.Action, reqID, out)
	if err != nil {
		h.writeXMLError(w, reqID, req.Action, err)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-RequestId", reqID)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// serveJSON runs one JSON-protocol request.
func (h *Handler) serveJSON(c *call, action string, body []byte) (any, error) {
	o, ok := operations[action]
	if !ok {
		return nil, errInvalidAction.err("The action %s is not valid for this endpoint.", sanitize(action))
	}
	in := o.newIn()
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, in); err != nil {
		return nil, errSerialization.err("Could not parse the request body: %s", sanitize(err.Error()))
	}
	out, err := o.run(h, c.r.Context(), c, in)
	if out == nil && err == nil {
		out = struct{}{}
	}
	return out, err
}

// serveQuery runs one query-protocol request.
func (h *Handler) serveQuery(c *call, req *awsquery.Request) (any, error) {
	o, ok := operations[req.Action]
	if !ok || req.Version != APIVersion {
		return nil, errInvalidAction.err("The action %s is not valid for this endpoint.", sanitize(req.Action))
	}
	in := o.newIn()
	if e := o.fromForm(&form{req}, in); e != nil {
		return nil, e
	}
	out, err := o.run(h, c.r.Context(), c, in)
	if o, ok := out.(struct{}); ok {
		return o, err
	}
	return out, err
}

// sanitize keeps client text quoted in messages short and printable.
func sanitize(s string) string {
	if len(s) > 100 {
		s = s[:100] + "..."
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// apiError turns err into an *Error, logging one that is not a client's.
func (h *Handler) apiError(action string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// The client went away (or gave up) during a long poll.
		return errInternal.err("The request was cancelled.")
	}
	h.cfg.Logger.Error("internal error", "action", action, "err", err)
	return errInternal.err("An internal error occurred.")
}

func (h *Handler) writeJSONError(w http.ResponseWriter, reqID, action string, err error) {
	e := h.apiError(action, err)
	w.Header().Set("x-amzn-query-error", e.Code+";"+e.fault())
	writeJSON(w, e.Status, reqID, struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{"com.amazonaws.sqs#" + e.Shape, e.Message})
}

func writeJSON(w http.ResponseWriter, status int, reqID string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"__type":"com.amazonaws.sqs#InternalError","message":"response encoding failed"}`)
	}
	w.Header().Set("Content-Type", contentTypeJSON)
	w.Header().Set("X-Amzn-RequestId", reqID)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (h *Handler) writeXMLError(w http.ResponseWriter, reqID, action string, err error) {
	e := h.apiError(action, err)
	msg := e.Message
	if e.Code == errNoQueue.code {
		// The query protocol's message still names the WSDL.
		msg = "The specified queue does not exist for this wsdl version."
	}
	body := awsquery.MarshalError(namespace, reqID, &awsquery.Error{Status: e.Status, Code: e.Code, Message: msg})
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-RequestId", reqID)
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

// xmlName is an element name.
func xmlName(local string) xml.Name { return xml.Name{Local: local} }
