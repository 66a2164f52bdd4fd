package dynamodb

import (
	"context"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/updraft/updraft/internal/dynamodb/attr"
)

// TargetPrefix starts the X-Amz-Target of DynamoDB's operations.
const TargetPrefix = "DynamoDB_20120810."

// maxBody bounds a request (DynamoDB's limit is 16 MB for batches).
const maxBody = 16 << 20

// AuthorizeFunc checks the caller of r for an IAM action on a resource;
// it returns *AccessDenied when refused.
type AuthorizeFunc func(r *http.Request, action, resource string) error

// Handler serves DynamoDB's JSON 1.0 API.
type Handler struct {
	Service   *Service
	Authorize AuthorizeFunc
}

// op is one operation: a new input and the function that runs it.
type op struct {
	in  func() any
	run func(s *Service, ctx context.Context, in any) (any, error)
	// table names the table the action is on ("" for none).
	table func(in any) string
}

func mk[T any](run func(*Service, context.Context, *T) (any, error), table func(*T) string) op {
	o := op{
		in:  func() any { return new(T) },
		run: func(s *Service, ctx context.Context, in any) (any, error) { return run(s, ctx, in.(*T)) },
	}
	if table != nil {
		o.table = func(in any) string { return table(in.(*T)) }
	}
	return o
}

var ops = map[string]op{
	"CreateTable":        mk((*Service).createTable, func(i *createTableInput) string { return i.TableName }),
	"DescribeTable":      mk((*Service).describeTable, func(i *tableNameInput) string { return i.TableName }),
	"DeleteTable":        mk((*Service).deleteTable, func(i *tableNameInput) string { return i.TableName }),
	"ListTables":         mk((*Service).listTables, nil),
	"UpdateTable":        mk((*Service).updateTable, func(i *updateTableInput) string { return i.TableName }),
	"PutItem":            mk((*Service).putItem, func(i *putItemInput) string { return i.TableName }),
	"GetItem":            mk((*Service).getItem, func(i *keyInput) string { return i.TableName }),
	"DeleteItem":         mk((*Service).deleteItem, func(i *keyInput) string { return i.TableName }),
	"UpdateItem":         mk((*Service).updateItem, func(i *keyInput) string { return i.TableName }),
	"Query":              mk((*Service).query, func(i *readInput) string { return i.TableName }),
	"Scan":               mk((*Service).scan, func(i *readInput) string { return i.TableName }),
	"BatchGetItem":       mk((*Service).batchGetItem, nil),
	"BatchWriteItem":     mk((*Service).batchWriteItem, nil),
	"TransactWriteItems": mk((*Service).transactWriteItems, nil),
	"TransactGetItems":   mk((*Service).transactGetItems, nil),
	"UpdateTimeToLive":   mk((*Service).updateTimeToLive, func(i *updateTTLInput) string { return i.TableName }),
	"DescribeTimeToLive": mk((*Service).describeTimeToLive, func(i *tableNameInput) string { return i.TableName }),
}

// tablesOf names the tables of a batch, for authorisation.
func tablesOf(in any) []string {
	var names []string
	switch in := in.(type) {
	case *batchGetInput:
		for n := range in.RequestItems {
			names = append(names, n)
		}
	case *batchWriteInput:
		for n := range in.RequestItems {
			names = append(names, n)
		}
	}
	return names
}

// ServeHTTP serves one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	out, err := h.serve(r)
	status := http.StatusOK
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			h.Service.logger.Error("dynamodb: internal error", "target", r.Header.Get("X-Amz-Target"), "err", err)
			ae = &apiError{Type: "InternalServerError", Message: "Internal server error", Status: http.StatusInternalServerError}
		}
		out, status = ae, ae.Status
	}
	b, merr := json.Marshal(out)
	if merr != nil {
		status, b = http.StatusInternalServerError, []byte(`{"__type":"`+errPrefix+`InternalServerError","message":"response encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-RequestId", uuid.NewString())
	w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (h *Handler) serve(r *http.Request) (any, error) {
	target := r.Header.Get("X-Amz-Target")
	name, isTables := strings.CutPrefix(target, TargetPrefix)
	table := ops
	if !isTables {
		name, _ = strings.CutPrefix(target, StreamsTargetPrefix)
		table = streamOps
		if h.Service.streams == nil {
			return nil, &apiError{Type: "UnknownOperationException", Status: http.StatusBadRequest}
		}
	}
	o, ok := table[name]
	if !ok {
		return nil, &apiError{Type: "UnknownOperationException", Message: "", Status: http.StatusBadRequest}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, serialization("Could not read the request body.")
	}
	if len(body) > maxBody {
		return nil, validation("Request size exceeded %d bytes", maxBody)
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	in := o.in()
	if err := json.Unmarshal(body, in); err != nil {
		var ae *attr.Error
		if errors.As(err, &ae) {
			return nil, validation("%s", ae.Msg)
		}
		return nil, serialization("Start of structure or map found where not expected.")
	}
	if h.Authorize != nil {
		for _, g := range h.grants(name, o, in) {
			if err := h.Authorize(r, g.action, g.resource); err != nil {
				var d *AccessDenied
				if errors.As(err, &d) {
					return nil, &apiError{Type: "AccessDeniedException", Message: d.Message, Status: http.StatusBadRequest}
				}
				return nil, err
			}
		}
	}
	return o.run(h.Service, r.Context(), in)
}

// streamARNOf is the stream a Streams operation acts on ("" for none).
func streamARNOf(in any) string {
	switch in := in.(type) {
	case *describeStreamInput:
		return in.StreamArn
	case *getShardIteratorInput:
		return in.StreamArn
	}
	return ""
}

// IsTarget reports whether an X-Amz-Target is DynamoDB's or DynamoDB
// Streams'.
func IsTarget(target string) bool {
	return strings.HasPrefix(target, TargetPrefix) || strings.HasPrefix(target, StreamsTargetPrefix)
}

// grant is one IAM action on one resource a request needs.
type grant struct{ action, resource string }

// grants are the IAM checks of a request, as AWS makes them: the
// operation on its table (each table of a batch); for transactions, each
// item's own action (dynamodb:PutItem, UpdateItem, DeleteItem,
// ConditionCheckItem, GetItem) on its table; for the stream operations,
// the stream's ARN.
func (h *Handler) grants(name string, o op, in any) []grant {
	arn := h.Service.tableARN
	switch in := in.(type) {
	case *transactWriteInput:
		var out []grant
		for _, t := range in.TransactItems {
			for action, x := range map[string]*txOp{"PutItem": t.Put, "UpdateItem": t.Update, "DeleteItem": t.Delete, "ConditionCheckItem": t.ConditionCheck} {
				if x != nil {
					out = append(out, grant{"dynamodb:" + action, arn(x.TableName)})
				}
			}
		}
		return out
	case *transactGetInput:
		var out []grant
		for _, t := range in.TransactItems {
			if t.Get != nil {
				out = append(out, grant{"dynamodb:GetItem", arn(t.Get.TableName)})
			}
		}
		return out
	}
	if s := streamARNOf(in); s != "" {
		return []grant{{"dynamodb:" + name, s}}
	}
	tables := tablesOf(in)
	if o.table != nil && o.table(in) != "" {
		tables = []string{o.table(in)}
	}
	if len(tables) == 0 {
		return []grant{{"dynamodb:" + name, "*"}}
	}
	out := make([]grant, len(tables))
	for i, t := range tables {
		out[i] = grant{"dynamodb:" + name, arn(t)}
	}
	return out
}
