package e2e

import (
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// invokeScenarios: Invoke (RequestResponse, Event, DryRun, Tail,
// qualifiers, client context, function errors, throttles) and InvokeAsync.
func invokeScenarios() []scenario {
	const invokeDoc = srcDoc + "https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html "
	invoke := func(mod func(in *lambda.InvokeInput)) func(e *confEnv) outcome {
		return func(e *confEnv) outcome {
			in := &lambda.InvokeInput{FunctionName: aws.String(confFn), Payload: []byte(`{}`)}
			if mod != nil {
				mod(in)
			}
			return e.sdk(e.l.Invoke(e.ctx, in))
		}
	}
	return []scenario{
		{name: "invoke/request_response", source: srcLambda + "TestLambdaFeatures::test_invocation_type_request_response[python3.10]",
			run: invoke(nil), want: want{Status: 200, Fields: map[string]any{"StatusCode": 200, "ExecutedVersion": "$LATEST", "FunctionError": absent{}, "LogResult": absent{}}}},
		{name: "invoke/tail", source: srcLambda + "TestLambdaFeatures::test_invocation_with_logs[python3.10]",
			run:  invoke(func(in *lambda.InvokeInput) { in.LogType = types.LogTypeTail }),
			want: want{Status: 200, Fields: map[string]any{"StatusCode": 200, "ExecutedVersion": "$LATEST", "LogResult": present{}}}},
		{name: "invoke/version", source: srcLambda + "TestLambdaFeatures::test_invocation_with_qualifier (ExecutedVersion is the version)",
			run:  invoke(func(in *lambda.InvokeInput) { in.Qualifier = aws.String("1") }),
			want: want{Status: 200, Fields: map[string]any{"StatusCode": 200, "ExecutedVersion": "1"}}},
		{name: "invoke/alias", source: invokeDoc + "(X-Amz-Executed-Version: the version of the function that executed; an alias resolves to its version)",
			run:  invoke(func(in *lambda.InvokeInput) { in.Qualifier = aws.String("live") }),
			want: want{Status: 200, Fields: map[string]any{"StatusCode": 200, "ExecutedVersion": "1"}}},
		{name: "invoke/alias_in_name", source: invokeDoc + "(FunctionName with an alias suffix)",
			run:  invoke(func(in *lambda.InvokeInput) { in.FunctionName = aws.String(confFn + ":live") }),
			want: want{Status: 200, Fields: map[string]any{"StatusCode": 200, "ExecutedVersion": "1"}}},
		{name: "invoke/event", source: invokeDoc + "(StatusCode 202 for the Event invocation type)",
			run:  invoke(func(in *lambda.InvokeInput) { in.InvocationType = types.InvocationTypeEvent }),
			want: want{Status: 202, Fields: map[string]any{"StatusCode": 202, "Payload": ""}}},
		{name: "invoke/event_no_tail", source: invokeDoc + "(LogType: Tail only applies to synchronously invoked functions)",
			run: invoke(func(in *lambda.InvokeInput) {
				in.InvocationType, in.LogType = types.InvocationTypeEvent, types.LogTypeTail
			}),
			want: want{Status: 202, Fields: map[string]any{"StatusCode": 202, "LogResult": absent{}}}},
		{name: "invoke/dry_run", source: invokeDoc + "(StatusCode 204 for the DryRun invocation type)",
			run:  invoke(func(in *lambda.InvokeInput) { in.InvocationType = types.InvocationTypeDryRun }),
			want: want{Status: 204, Fields: map[string]any{"StatusCode": 204, "Payload": ""}}},
		{name: "invoke/client_context", source: invokeDoc + "(ClientContext: up to 3,583 bytes of base64-encoded data)",
			run: invoke(func(in *lambda.InvokeInput) {
				in.ClientContext = aws.String("eyJjdXN0b20iOnsiYSI6ImIifX0=")
			}),
			want: want{Status: 200, Fields: map[string]any{"StatusCode": 200, "ExecutedVersion": "$LATEST"}}},
		{name: "invoke/function_error", source: srcLambda + "TestLambdaErrors::test_lambda_handler_error (FunctionError Unhandled, StatusCode 200)",
			run:  invoke(func(in *lambda.InvokeInput) { in.Payload = []byte(`{"action":"error","value":"Handler fails"}`) }),
			want: want{Status: 200, Fields: map[string]any{"StatusCode": 200, "ExecutedVersion": "$LATEST", "FunctionError": "Unhandled"}}},
		{name: "invoke/runtime_exit", source: srcLambda + "TestLambdaErrors::test_lambda_runtime_wrapper_not_found (Runtime.ExitError, \"exit status N\")",
			run: invoke(func(in *lambda.InvokeInput) {
				in.FunctionName, in.Payload = aws.String(confDest), []byte(`{"action":"exit","n":3}`)
			}),
			want: want{Status: 200, Fields: map[string]any{"StatusCode": 200, "FunctionError": "Unhandled",
				"PayloadJSON": map[string]any{"errorType": "Runtime.ExitError", "errorMessage": "RequestId: <uuid> Error: Runtime exited with error: exit status 3"}}}},
		{name: "invoke/bad_utf8_payload", source: srcLambda + "TestLambdaErrors::test_lambda_invoke_payload_encoding_error[body-...]",
			run: invoke(func(in *lambda.InvokeInput) {
				in.Payload = []byte("n\x87r\x9e\xe9\xb5\xd7I\xee\x9bmt")
			}),
			want: want{Status: 400, Code: "InvalidRequestContentException", Msg: "Could not parse request body into json: Could not parse payload into json: Invalid UTF-8 start byte 0x87\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 3]"}},
		{name: "invoke/control_char_payload", source: srcLambda + "TestLambdaErrors::test_lambda_invoke_payload_encoding_error[message-...]",
			run: invoke(func(in *lambda.InvokeInput) {
				in.Payload = []byte("\x99\xeb,j\x07\xa1zYh")
			}),
			want: want{Status: 400, Code: "InvalidRequestContentException", Msg: "Could not parse request body into json: Could not parse payload into json: Unexpected character ((CTRL-CHAR, code 153)): expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 1]"}},
		{name: "invoke/name_pattern", source: srcAPI + "TestLambdaFunction::test_invalid_invoke (invoke_function_name_pattern_exc)",
			run: invoke(func(in *lambda.InvokeInput) {
				in.FunctionName = aws.String("arn:aws:lambda:us-east-1:123400000000@function:myfn")
			}),
			want: validation("1 validation error detected: " + patternErr("arn:<partition>:lambda:<region>:123400000000@function:myfn", "functionName", lookupNamePattern))},
		{name: "invoke/missing_alias", source: srcAPI + "TestLambdaFunction::test_function_name_and_qualifier_validation[qualifier_too_long1-invoke]",
			run:  func(e *confEnv) outcome { return nameOps[2].call(e, "my-function", strings.Repeat("a", 65)) },
			want: notFound(fnNotFound + "my-function:" + strings.Repeat("a", 65))},
		{name: "invoke/get_missing_alias", source: srcAPI + "TestLambdaFunction::test_function_name_and_qualifier_validation[qualifier_too_long1-get_function]",
			run:  func(e *confEnv) outcome { return nameOps[0].call(e, "my-function", strings.Repeat("a", 65)) },
			want: notFound(fnNotFound + "my-function:" + strings.Repeat("a", 65))},
		{name: "invoke/reserved_zero", source: srcLambda + "TestLambdaConcurrency (invoke_latest_first_exc: 429 Rate Exceeded., Reason ReservedFunctionConcurrentInvocationLimitExceeded)",
			run: func(e *confEnv) outcome {
				e.mkfn("conf-throttled")
				must(e.t, "reserve 0", e.sdk(e.l.PutFunctionConcurrency(e.ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("conf-throttled"), ReservedConcurrentExecutions: aws.Int32(0)})))
				return e.sdk(e.l.Invoke(e.ctx, &lambda.InvokeInput{FunctionName: aws.String("conf-throttled")}))
			},
			want: want{Status: 429, Code: "TooManyRequestsException", Msg: "Rate Exceeded."}},
		{name: "invoke/reserved_zero_reason", source: srcLambda + "TestLambdaConcurrency (Reason: ReservedFunctionConcurrentInvocationLimitExceeded)",
			run: func(e *confEnv) outcome {
				return e.raw("lambda", http.MethodPost, "/2015-03-31/functions/conf-throttled/invocations", []byte(`{}`), nil)
			},
			want: want{Status: 429, Code: "TooManyRequestsException", Msg: "Rate Exceeded.", Fields: map[string]any{"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"}}},
		{name: "invoke_async/accepted", source: srcDoc + "https://docs.aws.amazon.com/lambda/latest/api/API_InvokeAsync.html (Status: 202)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.InvokeAsync(e.ctx, &lambda.InvokeAsyncInput{FunctionName: aws.String(confFn), InvokeArgs: strings.NewReader(`{}`)}))
			},
			want: want{Status: 202, Fields: map[string]any{"Status": 202}}},
	}
}
