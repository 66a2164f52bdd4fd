package e2e

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// eventInvokeConfigScenarios replays test_lambda_eventinvokeconfig_exceptions
// on conf-fn (version 1, alias "live" standing for "eventinvokealias").
func eventInvokeConfigScenarios() []scenario {
	const ex = "TestLambdaEventInvokeConfig::test_lambda_eventinvokeconfig_exceptions "
	const noFn = "The function doesn't exist."
	noEIC := func(qualified string) string {
		return "The function " + qualified + " doesn't have an EventInvokeConfig"
	}
	arn := "arn:<partition>:lambda:<region>:111111111111:function:" + confFn
	put := func(mod func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput)) func(e *confEnv) outcome {
		return func(e *confEnv) outcome {
			in := &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String(confFn), MaximumRetryAttempts: aws.Int32(1)}
			mod(e, in)
			return e.sdk(e.l.PutFunctionEventInvokeConfig(e.ctx, in))
		}
	}
	ok := func(qual string, extra map[string]any) want {
		f := map[string]any{"FunctionArn": arn + ":" + qual, "DestinationConfig.OnFailure": map[string]any{}, "DestinationConfig.OnSuccess": map[string]any{}}
		for k, v := range extra {
			f[k] = v
		}
		return want{Status: 200, Fields: f}
	}
	return []scenario{
		{name: "eic/put/function_missing", source: srcAPI + ex + "(put_functionname_name_notfound)",
			run: put(func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput) {
				in.FunctionName = aws.String("doesnotexist")
			}), want: notFound(noFn)},
		{name: "eic/put/function_arn_missing", source: srcAPI + ex + "(put_functionname_arn_notfound)",
			run: put(func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput) {
				in.FunctionName = aws.String(e.fnARN("doesnotexist"))
			}),
			want: notFound(noFn)},
		{name: "eic/put/nothing_to_set", source: srcAPI + ex + "(put_functionname_nootherargs)",
			run: put(func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput) {
				in.FunctionName, in.MaximumRetryAttempts = aws.String("doesnotexist"), nil
			}),
			want: ipv(400, "You must specify at least one of error handling or destination setting.")},
		{name: "eic/put/destination_function_missing", source: srcAPI + ex + "(put_destination_lambda_doesntexist)",
			run: put(func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput) {
				in.MaximumRetryAttempts = nil
				in.DestinationConfig = &types.DestinationConfig{OnSuccess: &types.OnSuccess{Destination: aws.String(e.fnARN("doesnotexist"))}}
			}),
			want: ipv(400, "The destination ARN arn:<partition>:lambda:<region>:111111111111:function:doesnotexist is invalid.")},
		{name: "eic/put/destination_itself", source: srcAPI + ex + "(put_destination_recursive)",
			run: put(func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput) {
				in.MaximumRetryAttempts = nil
				in.DestinationConfig = &types.DestinationConfig{OnSuccess: &types.OnSuccess{Destination: aws.String(e.fnARN(confFn))}}
			}),
			want: ipv(400, "You can't specify the function as a destination for itself.")},
		{name: "eic/put/destination_other_function", source: srcAPI + ex + "(put_destination_other_lambda)",
			run: put(func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput) {
				in.MaximumRetryAttempts = nil
				in.DestinationConfig = &types.DestinationConfig{OnSuccess: &types.OnSuccess{Destination: aws.String(e.fnARN(confDest))}}
			}),
			want: want{Status: 200, Fields: map[string]any{"FunctionArn": arn + ":$LATEST", "DestinationConfig.OnFailure": map[string]any{},
				"DestinationConfig.OnSuccess.Destination": "arn:<partition>:lambda:<region>:111111111111:function:" + confDest}}},
		{name: "eic/put/destination_not_a_service_arn", source: srcAPI + ex + "(put_destination_invalid_service_arn)",
			run: put(func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput) {
				in.MaximumRetryAttempts = nil
				in.DestinationConfig = &types.DestinationConfig{OnSuccess: &types.OnSuccess{Destination: aws.String("arn:aws:iam:us-east-1:000000000000:function:" + confFn)}}
			}),
			want: ipv(400, "The provided destination config DestinationConfig(onSuccess=OnSuccess(destination=arn:<partition>:iam:<region>:111111111111:function:"+confFn+"), onFailure=null) is invalid.")},
		{name: "eic/put/success_without_destination", source: srcAPI + ex + "(put_destination_success_no_destination_arn)",
			run: put(func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput) {
				in.MaximumRetryAttempts = nil
				in.DestinationConfig = &types.DestinationConfig{OnSuccess: &types.OnSuccess{}}
			}),
			want: ok("$LATEST", nil)},
		{name: "eic/put/failure_without_destination", source: srcAPI + ex + "(put_destination_failure_no_destination_arn)",
			run: put(func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput) {
				in.MaximumRetryAttempts = nil
				in.DestinationConfig = &types.DestinationConfig{OnFailure: &types.OnFailure{}}
			}),
			want: ok("$LATEST", nil)},
		{name: "eic/put/destination_bad_arn_pattern", source: srcAPI + ex + "(put_destination_invalid_arn_pattern)",
			run: put(func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput) {
				in.MaximumRetryAttempts = nil
				in.DestinationConfig = &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String("arn:aws:_-/!lambda:us-east-1:000000000000:function:" + confFn)}}
			}),
			want: validation("1 validation error detected: Value 'arn:<partition>:_-/!lambda:<region>:111111111111:function:" + confFn + "' at 'destinationConfig.onFailure.destination' failed to satisfy constraint: Member must satisfy regular expression pattern: $|kafka://([^.]([a-zA-Z0-9\\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)")},
		{name: "eic/put/latest", source: srcAPI + ex + "(put_destination_latest)",
			run: put(func(*confEnv, *lambda.PutFunctionEventInvokeConfigInput) {}), want: ok("$LATEST", map[string]any{"MaximumRetryAttempts": 1})},
		{name: "eic/put/latest_explicit", source: srcAPI + ex + "(put_destination_latest_explicit_qualifier)",
			run:  put(func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput) { in.Qualifier = aws.String("$LATEST") }),
			want: ok("$LATEST", map[string]any{"MaximumRetryAttempts": 1})},
		{name: "eic/put/version", source: srcAPI + ex + "(put_destination_version)",
			run:  put(func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput) { in.Qualifier = aws.String("1") }),
			want: ok("1", map[string]any{"MaximumRetryAttempts": 1})},
		{name: "eic/put/alias", source: srcAPI + ex + "(put_alias_functionname_qualifier)",
			run:  put(func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput) { in.Qualifier = aws.String("live") }),
			want: ok("live", map[string]any{"MaximumRetryAttempts": 1})},
		{name: "eic/put/alias_missing", source: srcAPI + ex + "(put_alias_doesnotexist)",
			run: put(func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput) {
				in.Qualifier = aws.String("livedoesnotexist")
			}),
			want: notFound(noFn)},
		{name: "eic/put/alias_arn", source: srcAPI + ex + "(put_alias_qualifiedarn)",
			run: put(func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput) {
				in.FunctionName = aws.String(e.fnARN(confFn) + ":live")
			}),
			want: ok("live", map[string]any{"MaximumRetryAttempts": 1})},
		{name: "eic/put/alias_arn_conflict", source: srcAPI + ex + "(put_alias_qualifiedarn_qualifierconflict)",
			run: put(func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput) {
				in.FunctionName, in.Qualifier = aws.String(e.fnARN(confFn)+":live"), aws.String("livedoesnotexist")
			}),
			want: ipv(400, qualMismatch)},
		{name: "eic/put/alias_shorthand", source: srcAPI + ex + "(put_alias_shorthand)",
			run: put(func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput) {
				in.FunctionName = aws.String(confFn + ":live")
			}),
			want: ok("live", map[string]any{"MaximumRetryAttempts": 1})},
		{name: "eic/put/version_shorthand", source: srcAPI + ex + "(put_version_shorthand)",
			run: put(func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput) {
				in.FunctionName = aws.String(confFn + ":1")
			}),
			want: ok("1", map[string]any{"MaximumRetryAttempts": 1})},
		{name: "eic/put/shorthand_mismatch_version_latest", source: srcAPI + ex + "(put_shorthand_qualifier_mismatch_1)",
			run: put(func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput) {
				in.FunctionName, in.Qualifier = aws.String(confFn+":1"), aws.String("$LATEST")
			}),
			want: ipv(400, qualMismatch)},
		{name: "eic/put/shorthand_mismatch_latest_version", source: srcAPI + ex + "(put_shorthand_qualifier_mismatch_2)",
			run: put(func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput) {
				in.FunctionName, in.Qualifier = aws.String(confFn+":$LATEST"), aws.String("1")
			}),
			want: ipv(400, qualMismatch)},
		{name: "eic/put/max_values", source: srcAPI + ex + "(put_maxevent_maxvalue_result)",
			run: put(func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput) {
				in.MaximumRetryAttempts, in.MaximumEventAgeInSeconds = aws.Int32(2), aws.Int32(21600)
			}),
			want: ok("$LATEST", map[string]any{"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 21600})},
		{name: "eic/put/overwrites", source: srcAPI + ex + "(put_post_overwrite: MaximumEventAgeInSeconds gone)",
			run:  put(func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput) { in.MaximumRetryAttempts = aws.Int32(0) }),
			want: ok("$LATEST", map[string]any{"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": absent{}})},
		{name: "eic/update/merges", source: srcAPI + ex + "(update_response)",
			run: func(e *confEnv) outcome {
				must(e.t, "put", put(func(e *confEnv, in *lambda.PutFunctionEventInvokeConfigInput) {
					in.MaximumRetryAttempts, in.MaximumEventAgeInSeconds = aws.Int32(2), aws.Int32(60)
				})(e))
				return e.sdk(e.l.UpdateFunctionEventInvokeConfig(e.ctx, &lambda.UpdateFunctionEventInvokeConfigInput{FunctionName: aws.String(confFn), MaximumRetryAttempts: aws.Int32(0)}))
			},
			want: ok("$LATEST", map[string]any{"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60})},
		{name: "eic/update/function_missing", source: srcAPI + ex + "(update_eventinvokeconfig_function_doesnotexist)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.UpdateFunctionEventInvokeConfig(e.ctx, &lambda.UpdateFunctionEventInvokeConfigInput{FunctionName: aws.String("doesnotexist"), MaximumRetryAttempts: aws.Int32(0)}))
			},
			want: notFound(noFn)},
		{name: "eic/list/function_missing", source: srcAPI + ex + "(list_function_doesnotexist)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.ListFunctionEventInvokeConfigs(e.ctx, &lambda.ListFunctionEventInvokeConfigsInput{FunctionName: aws.String("doesnotexist")}))
			},
			want: notFound(noFn)},
		{name: "eic/get/function_missing", source: srcAPI + ex + "(get_function_doesnotexist)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.GetFunctionEventInvokeConfig(e.ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("doesnotexist")}))
			},
			want: notFound(noEIC("arn:<partition>:lambda:<region>:111111111111:function:doesnotexist:$LATEST"))},
		{name: "eic/get/qualifier_missing", source: srcAPI + ex + "(get_qualifier_doesnotexist)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.GetFunctionEventInvokeConfig(e.ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String(confFn), Qualifier: aws.String("doesnotexist")}))
			},
			want: notFound(noEIC(arn + ":doesnotexist"))},
		{name: "eic/get/version_missing", source: srcAPI + "TestLambdaFunction::test_ops_on_nonexisting_version[get_function_event_invoke_config]",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.GetFunctionEventInvokeConfig(e.ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String(confFn), Qualifier: aws.String("1221")}))
			},
			want: notFound(noEIC(arn + ":1221"))},
		{name: "eic/delete/latest", source: srcAPI + ex + "(delete_latest: 204)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.DeleteFunctionEventInvokeConfig(e.ctx, &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: aws.String(confFn), Qualifier: aws.String("$LATEST")}))
			},
			want: want{Status: 204}},
		{name: "eic/delete/none_left", source: srcAPI + ex + "(delete_function_not_found)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.DeleteFunctionEventInvokeConfig(e.ctx, &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: aws.String(confFn)}))
			},
			want: notFound(noEIC(arn + ":$LATEST"))},
		{name: "eic/delete/function_missing", source: srcAPI + ex + "(delete_function_doesnotexist)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.DeleteFunctionEventInvokeConfig(e.ctx, &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: aws.String("doesnotexist")}))
			},
			want: notFound(noEIC("arn:<partition>:lambda:<region>:111111111111:function:doesnotexist:$LATEST"))},
		{name: "eic/update/config_missing", source: srcAPI + ex + "(update_eventinvokeconfig_config_doesnotexist_without_qualifier)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.UpdateFunctionEventInvokeConfig(e.ctx, &lambda.UpdateFunctionEventInvokeConfigInput{FunctionName: aws.String(confFn), MaximumRetryAttempts: aws.Int32(0)}))
			},
			want: notFound(noEIC(arn + ":$LATEST"))},
	}
}
