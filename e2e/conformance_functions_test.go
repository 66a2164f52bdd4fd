package e2e

import (
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func itoa(n int) string { return strconv.Itoa(n) }

// runtimeEnumMsg is the message AWS gives for a runtime it does not know
// (recorded; the order is AWS's).
func runtimeEnumMsg(rt string) string {
	return "Value " + rt + " at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2] or be a valid ARN"
}

func deprecatedRuntimeMsg(rt string) string {
	return "The runtime parameter of " + rt + " is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions."
}

const (
	rolePatternMsg = "1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+"
	revisionMsg    = "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
)

func ipv(status int, msg string) want {
	return want{Status: status, Code: "InvalidParameterValueException", Msg: msg}
}

func notFound(msg string) want { return want{Status: 404, Code: "ResourceNotFoundException", Msg: msg} }

func validation(msg string) want { return want{Status: 400, Code: "ValidationException", Msg: msg} }

// functionScenarios: CreateFunction, GetFunction(Configuration),
// UpdateFunctionCode/Configuration, DeleteFunction, ListFunctions.
func functionScenarios() []scenario {
	create := func(name string, mod func(*lambda.CreateFunctionInput)) func(e *confEnv) outcome {
		return func(e *confEnv) outcome {
			in := e.createInput(name)
			if mod != nil {
				mod(in)
			}
			return e.sdk(e.l.CreateFunction(e.ctx, in))
		}
	}
	updateConf := func(mod func(*lambda.UpdateFunctionConfigurationInput)) func(e *confEnv) outcome {
		return func(e *confEnv) outcome {
			in := &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(confFn)}
			mod(in)
			return e.sdk(e.l.UpdateFunctionConfiguration(e.ctx, in))
		}
	}
	bad := "bad-create-fn"
	someFnARN := "arn:aws:lambda:us-east-1:000000000000:function:some-function"
	out := []scenario{
		{name: "function/create/defaults", source: srcAPI + "TestLambdaFunction::test_function_arns (create-function-arn-response); " + srcModel + "CreateFunctionRequest (Timeout default 3)",
			run: create("conf-created", nil),
			want: want{Status: 201, Fields: map[string]any{
				"FunctionName": "conf-created", "FunctionArn": "arn:<partition>:lambda:<region>:111111111111:function:conf-created",
				"MemorySize": 128, "Timeout": 3, "Version": "$LATEST", "PackageType": "Zip", "Architectures": []string{"x86_64"},
				"EphemeralStorage.Size": 512, "TracingConfig.Mode": "PassThrough", "Description": "",
				"LoggingConfig.LogFormat": "Text", "LoggingConfig.LogGroup": "/aws/lambda/conf-created",
				"SnapStart.ApplyOn": "None", "SnapStart.OptimizationStatus": "Off", "Runtime": "provided.al2023", "Handler": "bootstrap",
				"Role": "arn:<partition>:iam::111111111111:role/updraft-test"}}},
		{name: "function/create/by_full_arn", source: srcAPI + "TestLambdaFunction::test_function_arns (create-function-arn-response)",
			run:  create("arn:aws:lambda:us-east-1:000000000000:function:conf-by-arn", nil),
			want: want{Status: 201, Fields: map[string]any{"FunctionName": "conf-by-arn", "FunctionArn": "arn:<partition>:lambda:<region>:111111111111:function:conf-by-arn"}}},
		{name: "function/create/by_partial_arn", source: srcAPI + "TestLambdaFunction::test_function_arns (create-function-partial-arn-response)",
			run:  create("000000000000:function:conf-by-partial", nil),
			want: want{Status: 201, Fields: map[string]any{"FunctionName": "conf-by-partial", "FunctionArn": "arn:<partition>:lambda:<region>:111111111111:function:conf-by-partial"}}},
		{name: "function/create/colon_name", source: srcAPI + "TestLambdaFunction::test_function_arns (invalid_function_name_exc)",
			run:  create("invalid:function:name", nil),
			want: validation("1 validation error detected: " + patternErr("invalid:function:name", "functionName", createNamePattern))},
		{name: "function/create/other_region_arn", source: srcAPI + "TestLambdaFunction::test_function_arns (function_arn_other_region_exc)",
			run:  create("arn:aws:lambda:ap-southeast-1:000000000000:function:"+bad, nil),
			want: notFound("Functions from 'ap-southeast-1' are not reachable in this region ('<region>')")},
		{name: "function/create/other_account_arn", source: srcAPI + "TestLambdaFunction::test_function_arns (function_arn_other_account_exc: 403; the recording skips the message, which is the one name/other_account_arn/create_function expects)",
			run:  create("arn:aws:lambda:us-east-1:123456789012:function:"+bad, nil),
			want: want{Status: 403, Code: "AccessDeniedException", Msg: "Cross-account pass role is not allowed."}},
		{name: "function/create/role_pattern", source: srcAPI + "TestLambdaFunction::test_create_lambda_exceptions (invalid_role_arn_exc)",
			run:  create(bad, func(in *lambda.CreateFunctionInput) { in.Role = aws.String("r1") }),
			want: validation(rolePatternMsg)},
		{name: "function/create/unknown_runtime", source: srcAPI + "TestLambdaFunction::test_create_lambda_exceptions (invalid_runtime_exc)",
			run:  create(bad, func(in *lambda.CreateFunctionInput) { in.Runtime = "non-existent-runtime" }),
			want: ipv(400, runtimeEnumMsg("non-existent-runtime"))},
		{name: "function/create/uppercase_runtime", source: srcAPI + "TestLambdaFunction::test_create_lambda_exceptions (uppercase_runtime_exc)",
			run:  create(bad, func(in *lambda.CreateFunctionInput) { in.Runtime = "PYTHON3.9" }),
			want: ipv(400, runtimeEnumMsg("PYTHON3.9"))},
		{name: "function/create/two_architectures", source: srcAPI + "TestLambdaFunction::test_create_lambda_exceptions (multiple_architectures)",
			run: create(bad, func(in *lambda.CreateFunctionInput) {
				in.Architectures = []types.Architecture{types.ArchitectureX8664, types.ArchitectureArm64}
			}),
			want: validation("1 validation error detected: Value '[x86_64, arm64]' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1")},
		{name: "function/create/uppercase_architecture", source: srcAPI + "TestLambdaFunction::test_create_lambda_exceptions (uppercase_architecture)",
			run:  create(bad, func(in *lambda.CreateFunctionInput) { in.Architectures = []types.Architecture{"X86_64"} }),
			want: validation("1 validation error detected: Value '[X86_64]' at 'architectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]")},
		{name: "function/create/not_a_zip", source: srcAPI + "TestLambdaFunction::test_create_lambda_exceptions (invalid_zip_exc)",
			run: create(bad, func(in *lambda.CreateFunctionInput) {
				in.Code = &types.FunctionCode{ZipFile: []byte("this is not a zip file")}
			}),
			want: ipv(400, "Could not unzip uploaded file. Please check your file, then try to upload again.")},
		{name: "function/create/environment_over_4KB", source: srcAPI + "TestLambdaSizeLimits::test_large_environment_variables_fails",
			run: create(bad, func(in *lambda.CreateFunctionInput) {
				in.Environment = &types.Environment{Variables: map[string]string{"LARGE_VAR": strings.Repeat("x", 4081)}}
			}),
			want: ipv(400, `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {"LARGE_VAR":"`+strings.Repeat("x", 4081)+`"}`)},
		{name: "function/create/java21_cannot_run_here", source: srcDoc + "updraft docs/architecture.md \"Deliberate differences from Lambda\" (AWS accepts java21: botocore Runtime enum)",
			run:  create(bad, func(in *lambda.CreateFunctionInput) { in.Runtime = types.RuntimeJava21 }),
			want: ipv(400, "The runtime parameter of java21 is not supported by this server, which runs provided.al2023, provided.al2, python3.x and nodejsNN.x functions. We recommend you use a supported runtime while creating or updating functions.")},
		{name: "function/update_configuration/role_pattern", source: srcAPI + "TestLambdaFunction::test_update_lambda_exceptions (invalid_role_arn_exc)",
			run:  updateConf(func(in *lambda.UpdateFunctionConfigurationInput) { in.Role = aws.String("r1") }),
			want: validation(rolePatternMsg)},
		{name: "function/update_configuration/unknown_runtime", source: srcAPI + "TestLambdaFunction::test_update_lambda_exceptions (invalid_runtime_exc)",
			run:  updateConf(func(in *lambda.UpdateFunctionConfigurationInput) { in.Runtime = "non-existent-runtime" }),
			want: ipv(400, runtimeEnumMsg("non-existent-runtime"))},
		{name: "function/update_configuration/uppercase_runtime", source: srcAPI + "TestLambdaFunction::test_update_lambda_exceptions (uppercase_runtime_exc)",
			run:  updateConf(func(in *lambda.UpdateFunctionConfigurationInput) { in.Runtime = "PYTHON3.9" }),
			want: ipv(400, runtimeEnumMsg("PYTHON3.9"))},
		{name: "function/update_configuration/wrong_revision", source: srcAPI + "TestLambdaRevisions::test_function_revisions_basic (update_function_configuration_revision_exception)",
			run:  updateConf(func(in *lambda.UpdateFunctionConfigurationInput) { in.RevisionId = aws.String("wrong") }),
			want: want{Status: 412, Code: "PreconditionFailedException", Msg: revisionMsg}},
		{name: "function/update_code/wrong_revision", source: srcAPI + "TestLambdaRevisions::test_function_revisions_basic (update_function_revision_exception)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.UpdateFunctionCode(e.ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(confFn), ZipFile: e.zip, RevisionId: aws.String("wrong")}))
			},
			want: want{Status: 412, Code: "PreconditionFailedException", Msg: revisionMsg}},
		{name: "function/update_configuration/fields", source: srcAPI + "TestLambdaFunction::test_function_lifecycle (update_func_conf_response)",
			run: func(e *confEnv) outcome {
				e.mkfn("conf-upd")
				return e.sdk(e.l.UpdateFunctionConfiguration(e.ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("conf-upd"),
					Description: aws.String("Changed-Description"), MemorySize: aws.Int32(512), Timeout: aws.Int32(10),
					Environment: &types.Environment{Variables: map[string]string{"ENV_A": "a"}}}))
			},
			want: want{Status: 200, Fields: map[string]any{"Description": "Changed-Description", "MemorySize": 512, "Timeout": 10,
				"Environment.Variables": map[string]string{"ENV_A": "a"}, "Version": "$LATEST", "FunctionName": "conf-upd"}}},
		{name: "function/get/code_location", source: srcAPI + "TestLambdaFunction::test_function_lifecycle (get_function_response)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.GetFunction(e.ctx, &lambda.GetFunctionInput{FunctionName: aws.String(confFn)}))
			},
			want: want{Status: 200, Fields: map[string]any{"Code.RepositoryType": "S3", "Configuration.FunctionName": confFn, "Configuration.Version": "$LATEST",
				"Configuration.FunctionArn": "arn:<partition>:lambda:<region>:111111111111:function:" + confFn}}},
		{name: "function/list/invalid_function_version", source: srcAPI + "TestLambdaFunction::test_list_functions (list_functions_invalid_functionversion)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.ListFunctions(e.ctx, &lambda.ListFunctionsInput{FunctionVersion: "invalid"}))
			},
			want: validation("1 validation error detected: Value 'invalid' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]")},
		{name: "function/get/not_found", source: srcAPI + "TestLambdaFunction::test_ops_on_nonexisting_fn[get_function]",
			run:  func(e *confEnv) outcome { return nameOps[0].call(e, "i-dont-exist", "") },
			want: notFound(fnNotFound + "i-dont-exist")},
		{name: "function/get_configuration/not_found", source: srcAPI + "TestLambdaFunction::test_ops_on_nonexisting_fn[get_function_configuration]",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.GetFunctionConfiguration(e.ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("i-dont-exist")}))
			},
			want: notFound(fnNotFound + "i-dont-exist")},
		{name: "function/delete/not_found", source: srcAPI + "TestLambdaFunction::test_ops_on_nonexisting_fn[delete_function]",
			run:  func(e *confEnv) outcome { return nameOps[1].call(e, "i-dont-exist", "") },
			want: notFound(fnNotFound + "i-dont-exist")},
		{name: "function/get/version_not_found", source: srcAPI + "TestLambdaFunction::test_ops_on_nonexisting_version[get_function]",
			run:  func(e *confEnv) outcome { return nameOps[0].call(e, confFn, "1221") },
			want: notFound(fnNotFound + confFn + ":1221")},
		{name: "function/get_configuration/version_not_found", source: srcAPI + "TestLambdaFunction::test_ops_on_nonexisting_version[get_function_configuration]",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.GetFunctionConfiguration(e.ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(confFn), Qualifier: aws.String("1221")}))
			},
			want: notFound(fnNotFound + confFn + ":1221")},
		{name: "function/get/arn_qualifier_mismatch", source: srcAPI + "TestLambdaFunction::test_ops_with_arn_qualifier_mismatch[get_function] (not_match_exception)",
			run:  func(e *confEnv) outcome { return nameOps[0].call(e, someFnARN+":1", "$LATEST") },
			want: ipv(400, qualMismatch)},
		{name: "function/get/arn_qualifier_match_not_found", source: srcAPI + "TestLambdaFunction::test_ops_with_arn_qualifier_mismatch[get_function] (match_exception)",
			run:  func(e *confEnv) outcome { return nameOps[0].call(e, someFnARN+":$LATEST", "$LATEST") },
			want: notFound(fnNotFound + "some-function:$LATEST")},
		{name: "function/get_configuration/arn_qualifier_mismatch", source: srcAPI + "TestLambdaFunction::test_ops_with_arn_qualifier_mismatch[get_function_configuration] (not_match_exception)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.GetFunctionConfiguration(e.ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(someFnARN + ":1"), Qualifier: aws.String("$LATEST")}))
			},
			want: ipv(400, qualMismatch)},
		{name: "function/get_configuration/arn_qualifier_match_not_found", source: srcAPI + "TestLambdaFunction::test_ops_with_arn_qualifier_mismatch[get_function_configuration] (match_exception)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.GetFunctionConfiguration(e.ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(someFnARN + ":$LATEST"), Qualifier: aws.String("$LATEST")}))
			},
			want: notFound(fnNotFound + "some-function:$LATEST")},
		{name: "function/delete/arn_qualifier_mismatch", source: srcAPI + "TestLambdaFunction::test_ops_with_arn_qualifier_mismatch[delete_function] (not_match_exception)",
			run:  func(e *confEnv) outcome { return nameOps[1].call(e, someFnARN+":1", "$LATEST") },
			want: ipv(400, qualMismatch)},
		{name: "function/delete/latest_qualifier", source: srcAPI + "TestLambdaFunction::test_ops_with_arn_qualifier_mismatch[delete_function] (match_exception)",
			run:  func(e *confEnv) outcome { return nameOps[1].call(e, someFnARN+":$LATEST", "$LATEST") },
			want: ipv(400, "$LATEST version cannot be deleted without deleting the function.")},
		{name: "function/delete/unknown_qualifier_is_noop", source: srcAPI + "TestLambdaFunction::test_delete_on_nonexisting_version (delete with Qualifier 1233 succeeds twice)",
			run: func(e *confEnv) outcome {
				e.mkfn("conf-del")
				must(e.t, "first delete", nameOps[1].call(e, "conf-del", "1233"))
				return nameOps[1].call(e, "conf-del", "1233")
			},
			want: want{Status: 204}},
		{name: "function/delete/unknown_qualifier_kept_function", source: srcAPI + "TestLambdaFunction::test_delete_on_nonexisting_version (the function is still there to delete)",
			run:  func(e *confEnv) outcome { return nameOps[1].call(e, "conf-del", "") },
			want: want{Status: 204}},
		{name: "function/delete/deleted", source: srcAPI + "TestLambdaFunction::test_delete_on_nonexisting_version (delete_function_response_non_existent)",
			run:  func(e *confEnv) outcome { return nameOps[1].call(e, "conf-del", "") },
			want: notFound(fnNotFound + "conf-del")},
		{name: "function/delete/deleted_with_qualifier", source: srcAPI + "TestLambdaFunction::test_delete_on_nonexisting_version (delete_function_response_non_existent_with_qualifier)",
			run:  func(e *confEnv) outcome { return nameOps[1].call(e, "conf-del", "1233") },
			want: notFound(fnNotFound + "conf-del")},
	}
	for _, rt := range []string{"java8", "python3.7", "nodejs14.x", "go1.x", "provided"} {
		rt := rt
		out = append(out, scenario{
			name:   "function/create/deprecated_runtime_" + rt,
			source: srcAPI + "TestRuntimeValidation::test_create_deprecated_function_runtime_with_validation_enabled[" + rt + "]",
			run:    create(bad, func(in *lambda.CreateFunctionInput) { in.Runtime = types.Runtime(rt) }),
			want:   ipv(400, deprecatedRuntimeMsg(rt)),
		})
	}
	return out
}
