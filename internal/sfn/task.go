package sfn

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/updraft/updraft/internal/authz"
	"github.com/updraft/updraft/internal/iam"
	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/sfn/asl"
)

// The service integrations updraft runs.
const (
	resourceLambdaInvoke      = "arn:aws:states:::lambda:invoke"
	resourceLambdaInvokeToken = "arn:aws:states:::lambda:invoke.waitForTaskToken"
	resourceSQSSend           = "arn:aws:states:::sqs:sendMessage"
	resourceSQSSendToken      = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
	resourceStart             = "arn:aws:states:::states:startExecution"
	resourceStartSync         = "arn:aws:states:::states:startExecution.sync"
	resourceStartSync2        = "arn:aws:states:::states:startExecution.sync:2"
	resourceStartToken        = "arn:aws:states:::states:startExecution.waitForTaskToken"
)

// isLambdaARN reports whether a Task's Resource is a Lambda function's
// ARN (the original, non-integration form).
func isLambdaARN(r string) bool {
	parts := strings.Split(r, ":")
	return len(parts) >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function"
}

// resourceParts splits an integration ARN into the resourceType and
// resource of its history events: arn:aws:states:::lambda:invoke is
// "lambda" and "invoke".
func resourceParts(r string) (string, string) {
	rest := strings.TrimPrefix(r, "arn:aws:states:::")
	t, res, _ := strings.Cut(rest, ":")
	return t, res
}

// supportedResource reports whether updraft can run a Task's Resource.
func supportedResource(r string) bool {
	switch r {
	case resourceLambdaInvoke, resourceLambdaInvokeToken, resourceSQSSend, resourceSQSSendToken,
		resourceStart, resourceStartSync, resourceStartSync2, resourceStartToken:
		return true
	}
	return isLambdaARN(r)
}

// definitions caches parsed definitions by their text, which an
// execution keeps as it started.
type definitions struct {
	region string
	mu     sync.Mutex
	byHash map[[32]byte]*asl.Definition // guarded by mu
}

func (d *definitions) get(text string) (*asl.Definition, error) {
	h := sha256.Sum256([]byte(text))
	d.mu.Lock()
	def, ok := d.byHash[h]
	d.mu.Unlock()
	if ok {
		return def, nil
	}
	def, err := asl.Parse([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("sfn: stored definition: %w", err)
	}
	d.mu.Lock()
	if len(d.byHash) > 1000 {
		clear(d.byHash)
	}
	d.byHash[h] = def
	d.mu.Unlock()
	return def, nil
}

// taskResult is what running a task gave: a result, or an error name
// and cause; Wait says the task now waits for its token.
type taskResult struct {
	Output      json.RawMessage
	Error       string
	Cause       string
	WaitsForKey bool
}

// runTask calls a task's resource as the execution's role; id names
// the attempt (execution, frame, step) for the integrations that
// deduplicate a repeated call.
func (s *Service) runTask(ctx context.Context, x *execution, t *taskCall, id string) taskResult {
	if t.TimeoutSeconds > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Until(t.Deadline))
		defer cancel()
	}
	switch {
	case isLambdaARN(t.Resource):
		return s.invokeLambda(ctx, x, t.Resource, t.Parameters, false)
	case t.Resource == resourceLambdaInvoke, t.Resource == resourceLambdaInvokeToken:
		var p struct {
			FunctionName string          `json:"FunctionName"`
			Payload      json.RawMessage `json:"Payload"`
			Qualifier    string          `json:"Qualifier"`
		}
		if err := json.Unmarshal(t.Parameters, &p); err != nil || p.FunctionName == "" {
			return taskResult{Error: "States.Runtime", Cause: "The Parameters of arn:aws:states:::lambda:invoke must name a FunctionName"}
		}
		fn := p.FunctionName
		if p.Qualifier != "" {
			fn += ":" + p.Qualifier
		}
		payload := p.Payload
		if len(payload) == 0 {
			payload = json.RawMessage("{}")
		}
		res := s.invokeLambda(ctx, x, fn, payload, true)
		if res.Error == "" && t.Resource == resourceLambdaInvokeToken {
			return taskResult{WaitsForKey: true}
		}
		return res
	case strings.HasPrefix(t.Resource, resourceStart):
		return s.startChild(ctx, x, t, id)
	case t.Resource == resourceSQSSend, t.Resource == resourceSQSSendToken:
		res := s.sendMessage(ctx, x, t.Parameters, id)
		if res.Error == "" && t.Resource == resourceSQSSendToken {
			return taskResult{WaitsForKey: true}
		}
		return res
	}
	return taskResult{Error: "States.Runtime", Cause: fmt.Sprintf("The resource %s is not supported by this server", t.Resource)}
}

// sendMessage is arn:aws:states:::sqs:sendMessage on a built-in queue.
// QueueUrl may be AWS's (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)
// or the server's own queue URL: the queue is its last path segment. A
// MessageBody that is not a string is sent as its JSON. The message id
// is derived from the attempt, so a task run again after a crash does
// not send twice (within the queue's duplicate window).
func (s *Service) sendMessage(ctx context.Context, x *execution, params json.RawMessage, id string) taskResult {
	var p struct {
		QueueURL    string          `json:"QueueUrl"`
		MessageBody json.RawMessage `json:"MessageBody"`
	}
	if err := json.Unmarshal(params, &p); err != nil || p.QueueURL == "" || len(p.MessageBody) == 0 {
		return taskResult{Error: "States.Runtime", Cause: "The Parameters of arn:aws:states:::sqs:sendMessage must have a QueueUrl and a MessageBody"}
	}
	name := strings.TrimRight(p.QueueURL, "/")
	name = name[strings.LastIndex(name, "/")+1:]
	body := string(p.MessageBody)
	var str string
	if json.Unmarshal(p.MessageBody, &str) == nil {
		body = str
	}
	queueARN := "arn:aws:sqs:" + s.cfg.Region + ":" + s.cfg.AccountID + ":" + name
	if err := s.authorizeRole(x.RoleARN, x.Name, "sqs:SendMessage", queueARN); err != nil {
		return taskResult{Error: "SQS.AmazonSQSException", Cause: err.Error() + " (Service: AmazonSQS; Status Code: 403; Error Code: AccessDenied)"}
	}
	if s.deps.Queues == nil {
		return taskResult{Error: "SQS.AmazonSQSException", Cause: "queues are not available on this server"}
	}
	sum := sha256.Sum256([]byte(id))
	msgID, err := s.deps.Queues.Send(ctx, name, fmt.Sprintf("sfn-%x", sum[:16]), []byte(body))
	if err != nil {
		return taskResult{Error: "SQS.AmazonSQSException", Cause: err.Error()}
	}
	md5sum := md5.Sum([]byte(body))
	reqID := uuid.NewString()
	return taskResult{Output: raw(map[string]any{
		"MD5OfMessageBody": hex.EncodeToString(md5sum[:]),
		"MessageId":        msgID,
		"SdkHttpMetadata": map[string]any{"AllHttpHeaders": map[string]any{"x-amzn-RequestId": []any{reqID}, "Content-Type": []any{"text/xml"}},
			"HttpHeaders": map[string]any{"x-amzn-RequestId": reqID, "Content-Type": "text/xml"}, "HttpStatusCode": json.Number("200")},
		"SdkResponseMetadata": map[string]any{"RequestId": reqID},
	})}
}

// invokeLambda invokes a function; wrap gives lambda:invoke's result
// shape (the response with Payload inside) instead of the bare payload.
func (s *Service) invokeLambda(ctx context.Context, x *execution, function string, payload json.RawMessage, wrap bool) taskResult {
	arn := s.functionARN(function)
	if err := s.authorizeRole(x.RoleARN, x.Name, "lambda:InvokeFunction", arn); err != nil {
		return taskResult{Error: "Lambda.AWSLambdaException", Cause: err.Error() + " (Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException)"}
	}
	if s.deps.Invoker == nil {
		return taskResult{Error: "Lambda.ServiceException", Cause: "functions cannot be invoked on this server"}
	}
	resp, err := s.deps.Invoker.Invoke(ctx, &invoke.Request{FunctionName: function, Payload: payload})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return taskResult{Error: asl.ErrTimeout, Cause: "Task timed out"}
		}
		var le *lambdaerr.Error
		if errors.As(err, &le) {
			return taskResult{Error: "Lambda." + le.Type, Cause: le.Message}
		}
		return taskResult{Error: "Lambda.ServiceException", Cause: err.Error()}
	}
	if resp.FunctionError != "" {
		name := resp.ErrorType
		if name == "" {
			name = "Lambda.Unknown"
		}
		if !wrap && name == "Lambda.Unknown" {
			name = "Lambda.Unknown"
		}
		return taskResult{Error: name, Cause: string(resp.Payload)}
	}
	var out any
	if v, err := asl.Decode(resp.Payload); err == nil {
		out = v
	} else {
		out = string(resp.Payload)
	}
	if !wrap {
		return taskResult{Output: raw(out)}
	}
	reqID := resp.RequestID
	headers := map[string]any{
		"Connection": "keep-alive", "Content-Type": "application/json",
		"X-Amz-Executed-Version": resp.ExecutedVersion, "x-amzn-Remapped-Content-Length": "0",
		"x-amzn-RequestId": reqID,
	}
	all := map[string]any{}
	for k, v := range headers {
		all[k] = []any{v}
	}
	return taskResult{Output: raw(map[string]any{
		"ExecutedVersion":     resp.ExecutedVersion,
		"Payload":             out,
		"SdkHttpMetadata":     map[string]any{"AllHttpHeaders": all, "HttpHeaders": headers, "HttpStatusCode": json.Number("200")},
		"SdkResponseMetadata": map[string]any{"RequestId": reqID},
		"StatusCode":          json.Number("200"),
	})}
}

// functionARN turns a function name, partial or full ARN into the ARN
// the role's policy is checked against.
func (s *Service) functionARN(name string) string {
	if strings.HasPrefix(name, "arn:") {
		return name
	}
	if strings.Contains(name, ":function:") {
		return "arn:aws:lambda:" + s.cfg.Region + ":" + name
	}
	return "arn:aws:lambda:" + s.cfg.Region + ":" + s.cfg.AccountID + ":function:" + name
}

// authorizeRole checks that the state machine's role may act: the task
// runs as a session of that role, as Step Functions assumes it.
func (s *Service) authorizeRole(roleARN, session, action, resource string) error {
	if s.deps.Authorizer == nil || roleARN == "" {
		return nil
	}
	name := roleARN[strings.LastIndex(roleARN, "/")+1:]
	if len(session) > 64 {
		session = session[:64]
	}
	p := iam.Principal{
		Type: iam.PrincipalAssumedRole, Account: s.cfg.AccountID, Name: name, RoleARN: roleARN, SessionName: session,
		ARN: "arn:aws:sts::" + s.cfg.AccountID + ":assumed-role/" + name + "/" + session,
	}
	return s.deps.Authorizer.Authorize(p, action, resource, authz.Context{})
}

// startChild is arn:aws:states:::states:startExecution: a nested
// workflow. Without a Name the child's name is derived from the attempt,
// so a task run again after a crash finds the child it started instead
// of starting another. The .sync forms wait (holding nothing) for the
// child's end, which completes the task through its token.
func (s *Service) startChild(ctx context.Context, x *execution, t *taskCall, id string) taskResult {
	var p struct {
		StateMachineArn string          `json:"StateMachineArn"`
		Input           json.RawMessage `json:"Input"`
		Name            string          `json:"Name"`
	}
	if err := json.Unmarshal(t.Parameters, &p); err != nil || p.StateMachineArn == "" {
		return taskResult{Error: "States.Runtime", Cause: "The Parameters of arn:aws:states:::states:startExecution must name a StateMachineArn"}
	}
	if err := s.authorizeRole(x.RoleARN, x.Name, "states:StartExecution", p.StateMachineArn); err != nil {
		return taskResult{Error: "StepFunctions.AWSStepFunctionsException", Cause: err.Error() + " (Service: AWSStepFunctions; Status Code: 400; Error Code: AccessDeniedException)"}
	}
	input := "{}"
	if len(p.Input) > 0 {
		input = string(p.Input)
		var str string
		if json.Unmarshal(p.Input, &str) == nil {
			input = str
		}
	}
	if p.Name == "" {
		sum := sha256.Sum256([]byte(id))
		p.Name = hex.EncodeToString(sum[:16])
	}
	name, aerr := machineName(p.StateMachineArn)
	if aerr != nil {
		return taskResult{Error: "StepFunctions.InvalidArnException", Cause: aerr.Message}
	}
	m, _, err := s.loadMachine(ctx, name)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return taskResult{Error: "StepFunctions." + e.Type + "Exception", Cause: e.Message}
		}
		return taskResult{Error: "StepFunctions.AWSStepFunctionsException", Cause: err.Error()}
	}
	var parent *parentTask
	sync := t.Resource == resourceStartSync || t.Resource == resourceStartSync2
	if sync {
		parent = &parentTask{token: t.Token, v2: t.Resource == resourceStartSync2}
	}
	child, err := s.start(ctx, m, p.Name, input, parent)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Type == "ExecutionAlreadyExists" {
			// Started by an earlier attempt of this task.
			if c, _, lerr := s.loadExec(ctx, executionKey(m.Name, p.Name)); lerr == nil {
				child = c
				err = nil
				if sync && c.Status != StatusRunning {
					return childResult(c)
				}
			}
		}
		if err != nil {
			return taskResult{Error: "StepFunctions.ExecutionAlreadyExistsException", Cause: err.Error()}
		}
	}
	if sync || t.Resource == resourceStartToken {
		return taskResult{WaitsForKey: true}
	}
	return taskResult{Output: raw(map[string]any{"ExecutionArn": child.ARN, "StartDate": json.Number(fmt.Sprint(child.Start.UnixMilli()))})}
}

// childResult is the result a .sync task gets from its child's end.
func childResult(c *execution) taskResult {
	out := map[string]any{
		"ExecutionArn": c.ARN, "StateMachineArn": c.MachineARN, "Name": c.Name, "Status": c.Status,
		"StartDate": json.Number(fmt.Sprint(c.Start.UnixMilli())), "StopDate": json.Number(fmt.Sprint(c.Stop.UnixMilli())),
		"Input": c.Input, "InputDetails": map[string]any{"Included": true},
	}
	if c.Output != nil {
		out["Output"] = *c.Output
		out["OutputDetails"] = map[string]any{"Included": true}
	}
	if c.ParentV2 {
		if v, err := asl.Decode([]byte(c.Input)); err == nil {
			out["Input"] = v
		}
		if c.Output != nil {
			if v, err := asl.Decode([]byte(*c.Output)); err == nil {
				out["Output"] = v
			}
		}
	}
	if c.Status == StatusSucceeded {
		return taskResult{Output: raw(out)}
	}
	if c.Error != "" {
		out["Error"] = c.Error
	}
	if c.Cause != "" {
		out["Cause"] = c.Cause
	}
	return taskResult{Error: asl.ErrTaskFailed, Cause: string(raw(out))}
}

// notifyParent completes the .sync task that started x, once x ended.
// A parent that moved on (a repeat, or its own timeout) is no error.
func (s *Service) notifyParent(ctx context.Context, x *execution) error {
	if x.ParentToken == "" || x.Status == StatusRunning {
		return nil
	}
	res := childResult(x)
	err := s.completeTask(ctx, x.ParentToken, func(c *commit, f *frame) {
		if res.Error != "" {
			c.taskFailed(f, res.Error, res.Cause)
		} else {
			c.taskSucceeded(f, res.Output)
		}
	})
	var e *Error
	if errors.As(err, &e) {
		return nil
	}
	return err
}
