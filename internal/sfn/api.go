package sfn

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/updraft/updraft/internal/authz"
)

// TargetPrefix begins the X-Amz-Target of every Step Functions request.
const TargetPrefix = "AWSStepFunctions."

// maxBody bounds a request: a definition (1 MB) or an input (256 KB)
// and the JSON around it.
const maxBody = 2 << 20

// AuthorizeFunc authorises the caller of r for an action on a resource;
// an *authz.Denied refuses.
type AuthorizeFunc func(r *http.Request, action, resource string) error

// Handler serves the Step Functions JSON 1.0 API on POST / with an
// AWSStepFunctions.* target.
func (s *Service) Handler(authorize AuthorizeFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out, err := s.serve(r, authorize)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				s.logger.Error("sfn: internal error", "target", r.Header.Get("X-Amz-Target"), "err", err)
				e = &Error{Type: "InternalFailure", Message: "An internal error occurred.", Status: http.StatusInternalServerError}
			}
			writeJSON(w, e.Status, map[string]string{"__type": e.Type, "message": e.Message})
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"__type":"InternalFailure","message":"response encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-RequestId", uuid.NewString())
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// operation is one API action: it decodes its input into in and runs.
type operation struct {
	// resource names the ARN the action is authorised on ("*" if nil).
	resource func(s *Service, in map[string]json.RawMessage) string
	run      func(s *Service, r *http.Request, body []byte) (any, error)
}

func field(name string) func(*Service, map[string]json.RawMessage) string {
	return func(_ *Service, in map[string]json.RawMessage) string {
		var v string
		_ = json.Unmarshal(in[name], &v)
		return v
	}
}

var operations = map[string]operation{
	"CreateStateMachine": {resource: func(s *Service, in map[string]json.RawMessage) string {
		return s.machineARN(field("name")(s, in))
	}, run: (*Service).createStateMachine},
	"DescribeStateMachine":             {resource: field("stateMachineArn"), run: (*Service).describeStateMachine},
	"UpdateStateMachine":               {resource: field("stateMachineArn"), run: (*Service).updateStateMachine},
	"DeleteStateMachine":               {resource: field("stateMachineArn"), run: (*Service).deleteStateMachine},
	"ListStateMachines":                {run: (*Service).listStateMachines},
	"ValidateStateMachineDefinition":   {run: (*Service).validateDefinition},
	"StartExecution":                   {resource: field("stateMachineArn"), run: (*Service).startExecution},
	"StartSyncExecution":               {resource: field("stateMachineArn"), run: (*Service).startSyncExecution},
	"DescribeExecution":                {resource: field("executionArn"), run: (*Service).describeExecution},
	"StopExecution":                    {resource: field("executionArn"), run: (*Service).stopExecution},
	"ListExecutions":                   {resource: field("stateMachineArn"), run: (*Service).listExecutions},
	"GetExecutionHistory":              {resource: field("executionArn"), run: (*Service).getExecutionHistory},
	"DescribeStateMachineForExecution": {resource: field("executionArn"), run: (*Service).describeMachineForExecution},
	"SendTaskSuccess":                  {run: (*Service).sendTaskSuccess},
	"SendTaskFailure":                  {run: (*Service).sendTaskFailure},
	"SendTaskHeartbeat":                {run: (*Service).sendTaskHeartbeat},
	"TagResource":                      {resource: field("resourceArn"), run: (*Service).tagResource},
	"UntagResource":                    {resource: field("resourceArn"), run: (*Service).untagResource},
	"ListTagsForResource":              {resource: field("resourceArn"), run: (*Service).listTags},
}

// serve decodes, authorises and runs one request.
func (s *Service) serve(r *http.Request, authorize AuthorizeFunc) (any, error) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
	o, known := operations[op]
	if !ok || !known {
		return nil, apiErr("UnknownOperationException", "Operation %s is not supported by this server.", op)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, apiErr("SerializationException", "Could not read the request body.")
	}
	if len(body) > maxBody {
		return nil, errValidation("Request must be smaller than %d bytes.", maxBody)
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	var in map[string]json.RawMessage
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, apiErr("SerializationException", "Start of structure or map found where not expected.")
	}
	if authorize != nil {
		res := "*"
		if o.resource != nil {
			res = o.resource(s, in)
		}
		if err := authorize(r, "states:"+op, res); err != nil {
			var d *authz.Denied
			if errors.As(err, &d) {
				return nil, apiErr("AccessDeniedException", "%s", d.Message)
			}
			return nil, err
		}
	}
	return o.run(s, r, body)
}

// decode reads a request body into v, refusing values of the wrong type
// as the JSON protocol does.
func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return apiErr("SerializationException", "Unexpected value for field %s.", te.Field)
		}
		return apiErr("SerializationException", "The request body could not be read.")
	}
	return nil
}
