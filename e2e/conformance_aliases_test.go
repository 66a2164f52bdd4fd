package e2e

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// aliasFn has versions 1 and 2 (made by the first alias scenario).
const aliasFn = "conf-alias-fn"

func aliasARN(name string) string {
	return "arn:<partition>:lambda:<region>:111111111111:function:" + aliasFn + ":" + name
}

// versionAliasScenarios: PublishVersion, ListVersionsByFunction and the
// alias operations, from test_notfound_and_invalid_routingconfigs,
// test_alias_lifecycle and friends.
func versionAliasScenarios() []scenario {
	const rt = "TestLambdaAlias::test_notfound_and_invalid_routingconfigs "
	createAlias := func(fn, name, version string, weights map[string]float64) func(e *confEnv) outcome {
		return func(e *confEnv) outcome {
			in := &lambda.CreateAliasInput{FunctionName: aws.String(fn), Name: aws.String(name), FunctionVersion: aws.String(version)}
			if weights != nil {
				in.RoutingConfig = &types.AliasRoutingConfiguration{AdditionalVersionWeights: weights}
			}
			return e.sdk(e.l.CreateAlias(e.ctx, in))
		}
	}
	return []scenario{
		{name: "version/publish/first", source: srcAPI + rt + "(publish_v1)",
			run: func(e *confEnv) outcome {
				e.mkfn(aliasFn)
				return e.sdk(e.l.PublishVersion(e.ctx, &lambda.PublishVersionInput{FunctionName: aws.String(aliasFn)}))
			},
			want: want{Status: 201, Fields: map[string]any{"Version": "1", "FunctionArn": aliasARN("1"), "FunctionName": aliasFn}}},
		{name: "version/publish/second", source: srcAPI + rt + "(publish_v2)",
			run: func(e *confEnv) outcome {
				must(e.t, "update", e.sdk(e.l.UpdateFunctionConfiguration(e.ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(aliasFn),
					Environment: &types.Environment{Variables: map[string]string{"testenv": "prod"}}})))
				return e.sdk(e.l.PublishVersion(e.ctx, &lambda.PublishVersionInput{FunctionName: aws.String(aliasFn)}))
			},
			want: want{Status: 201, Fields: map[string]any{"Version": "2", "FunctionArn": aliasARN("2"), "Environment.Variables.testenv": "prod"}}},
		{name: "version/publish/wrong_revision", source: srcAPI + "TestLambdaRevisions::test_function_revisions_version_and_alias (publish_version_revision_exception)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.PublishVersion(e.ctx, &lambda.PublishVersionInput{FunctionName: aws.String(aliasFn), RevisionId: aws.String("wrong")}))
			},
			want: want{Status: 412, Code: "PreconditionFailedException", Msg: revisionMsg}},
		{name: "version/publish/wrong_sha256", source: srcAPI + "TestLambdaVersions::test_publish_with_wrong_sha256",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.PublishVersion(e.ctx, &lambda.PublishVersionInput{FunctionName: aws.String(confFn), CodeSha256: aws.String("somenonexistentsha256")}))
			},
			want: ipv(400, "CodeSHA256 (somenonexistentsha256) is different from current CodeSHA256 in $LATEST (<code-sha256:1>). Please try again with the CodeSHA256 in $LATEST.")},
		{name: "alias/create/too_many_weights", source: srcAPI + rt + "(routing_config_exc_toomany)",
			run:  createAlias(aliasFn, "custom", "1", map[string]float64{"1": 0.8, "2": 0.2}),
			want: ipv(400, "Number of items in AdditionalVersionWeights cannot be greater than 1")},
		{name: "alias/create/weight_too_high", source: srcAPI + rt + "(routing_config_exc_toohigh)",
			run:  createAlias(aliasFn, "custom", "1", map[string]float64{"2": 2}),
			want: validation("1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]")},
		{name: "alias/create/weight_below_zero", source: srcAPI + rt + "(routing_config_exc_subzero)",
			run:  createAlias(aliasFn, "custom", "1", map[string]float64{"2": -1}),
			want: validation("1 validation error detected: Value '{2=-1.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]")},
		{name: "alias/create/routes_to_own_version", source: srcAPI + rt + "(routing_config_exc_sameversion)",
			run:  createAlias(aliasFn, "custom", "1", map[string]float64{"1": 0.5}),
			want: ipv(400, "Invalid function version 1. Function version 1 is already included in routing configuration.")},
		{name: "alias/create/target_version_missing", source: srcAPI + rt + "(target_version_doesnotexist)",
			run:  createAlias(aliasFn, "custom", "10", map[string]float64{"2": 0.5}),
			want: notFound(fnNotFound + aliasFn + ":10")},
		{name: "alias/create/routed_version_missing", source: srcAPI + rt + "(routing_config_exc_version_doesnotexist)",
			run:  createAlias(aliasFn, "custom", "1", map[string]float64{"10": 0.5}),
			want: notFound(fnNotFound + aliasFn + ":10")},
		{name: "alias/create/latest_with_routing", source: srcAPI + rt + "(target_version_exc_version_latest)",
			run:  createAlias(aliasFn, "custom", "$LATEST", map[string]float64{"1": 0.5}),
			want: ipv(400, "$LATEST is not supported for an alias pointing to more than 1 version")},
		{name: "alias/create/latest_routing_key", source: srcAPI + rt + "(routing_config_exc_version_latest)",
			run:  createAlias(aliasFn, "custom", "1", map[string]float64{"$LATEST": 0.5}),
			want: validation("1 validation error detected: Value '{$LATEST=0.5}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]")},
		{name: "alias/create/latest", source: srcAPI + rt + "(create-alias-latest)",
			run: createAlias(aliasFn, "custom-latest", "$LATEST", nil),
			want: want{Status: 201, Fields: map[string]any{"AliasArn": aliasARN("custom-latest"), "Description": "", "FunctionVersion": "$LATEST",
				"Name": "custom-latest", "RoutingConfig": absent{}}}},
		{name: "alias/create/function_missing", source: srcAPI + rt + "(routing_config_exc_fn_doesnotexist)",
			run:  createAlias(aliasFn+"-unknown", "custom", "1", map[string]float64{"2": 0.5}),
			want: notFound(fnNotFound + aliasFn + "-unknown:1")},
		{name: "alias/create/empty_routing", source: srcAPI + rt + "(create_alias_empty_routingconfig)",
			run:  createAlias(aliasFn, "custom-empty-routingconfig", "1", map[string]float64{}),
			want: want{Status: 201, Fields: map[string]any{"AliasArn": aliasARN("custom-empty-routingconfig"), "FunctionVersion": "1", "Description": ""}}},
		{name: "alias/create/weighted", source: srcAPI + rt + "(create_alias_response)",
			run: createAlias(aliasFn, "custom", "1", map[string]float64{"2": 0.5}),
			want: want{Status: 201, Fields: map[string]any{"AliasArn": aliasARN("custom"), "FunctionVersion": "1", "Name": "custom",
				"RoutingConfig.AdditionalVersionWeights": map[string]float64{"2": 0.5}}}},
		{name: "alias/create/exists", source: srcAPI + rt + "(routing_config_exc_already_exist)",
			run:  createAlias(aliasFn, "custom", "1", map[string]float64{"2": 0.5}),
			want: want{Status: 409, Code: "ResourceConflictException", Msg: "Alias already exists: " + aliasARN("custom")}},
		{name: "alias/get/missing", source: srcAPI + rt + "(alias_does_not_exist_esc)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.GetAlias(e.ctx, &lambda.GetAliasInput{FunctionName: aws.String(aliasFn), Name: aws.String("non-existent")}))
			},
			want: notFound("Cannot find alias arn: " + aliasARN("non-existent"))},
		{name: "alias/get/weighted", source: srcAPI + "TestLambdaAlias::test_alias_lifecycle (get_alias_1_1)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.GetAlias(e.ctx, &lambda.GetAliasInput{FunctionName: aws.String(aliasFn), Name: aws.String("custom")}))
			},
			want: want{Status: 200, Fields: map[string]any{"AliasArn": aliasARN("custom"), "RoutingConfig.AdditionalVersionWeights": map[string]float64{"2": 0.5}}}},
		{name: "alias/update/missing", source: srcAPI + "TestLambdaAlias::test_non_existent_alias_update (update_alias_response)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.UpdateAlias(e.ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(aliasFn), Name: aws.String("non-existent"), FunctionVersion: aws.String("1")}))
			},
			want: notFound("Alias not found: " + aliasARN("non-existent"))},
		{name: "alias/update/wrong_revision", source: srcAPI + "TestLambdaRevisions::test_function_revisions_version_and_alias (update_alias_revision_exception)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.UpdateAlias(e.ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(aliasFn), Name: aws.String("custom"), FunctionVersion: aws.String("2"), RevisionId: aws.String("wrong")}))
			},
			want: want{Status: 412, Code: "PreconditionFailedException", Msg: revisionMsg}},
		{name: "alias/create/numeric_name", source: srcAPI + "TestLambdaAlias::test_alias_naming (create_alias_number_exception)",
			run:  createAlias(aliasFn, "2024", "1", nil),
			want: validation("1 validation error detected: Value '2024' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)")},
		{name: "alias/create/date_name", source: srcAPI + "TestLambdaAlias::test_alias_naming (create_alias_date)",
			run:  createAlias(aliasFn, "2024-01-02", "1", nil),
			want: want{Status: 201, Fields: map[string]any{"Name": "2024-01-02", "AliasArn": aliasARN("2024-01-02")}}},
		{name: "alias/get_function/by_alias", source: srcAPI + "TestLambdaAlias::test_alias_lifecycle (get_function_alias_1_1)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.GetFunction(e.ctx, &lambda.GetFunctionInput{FunctionName: aws.String(aliasFn), Qualifier: aws.String("custom")}))
			},
			want: want{Status: 200, Fields: map[string]any{"Configuration.FunctionArn": aliasARN("custom"), "Configuration.Version": "1"}}},
		{name: "alias/get_function/missing_alias", source: srcAPI + "TestLambdaAlias::test_alias_lifecycle (get_function_alias_notfound_exc)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.GetFunction(e.ctx, &lambda.GetFunctionInput{FunctionName: aws.String(aliasFn), Qualifier: aws.String("aliasdoesnotexist")}))
			},
			want: notFound(fnNotFound + aliasFn + ":aliasdoesnotexist")},
		{name: "alias/get_function/missing_alias_by_arn", source: srcAPI + "TestLambdaAlias::test_alias_lifecycle (get_function_alias_byarn_notfound_exc)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.GetFunction(e.ctx, &lambda.GetFunctionInput{FunctionName: aws.String(e.fnARN(aliasFn) + ":aliasdoesnotexist")}))
			},
			want: notFound(fnNotFound + aliasFn + ":aliasdoesnotexist")},
		{name: "alias/delete/missing", source: srcAPI + "TestLambdaAlias::test_non_existent_alias_deletion (delete_alias_response: 204)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.DeleteAlias(e.ctx, &lambda.DeleteAliasInput{FunctionName: aws.String(aliasFn), Name: aws.String("non-existent")}))
			},
			want: want{Status: 204}},
		{name: "alias/delete/existing", source: srcAPI + "TestLambdaAlias::test_alias_lifecycle (delete_alias_response: 204)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.DeleteAlias(e.ctx, &lambda.DeleteAliasInput{FunctionName: aws.String(aliasFn), Name: aws.String("2024-01-02")}))
			},
			want: want{Status: 204}},
		{name: "alias/delete_function/alias_qualifier", source: srcAPI + "TestLambdaFunction::test_function_name_and_qualifier_validation[qualifier_too_long1-delete_function]",
			run:  func(e *confEnv) outcome { return nameOps[1].call(e, aliasFn, "custom") },
			want: ipv(400, "Deletion of aliases is not currently supported.")},
	}
}

// concurrencyScenarios: Put/Get/DeleteFunctionConcurrency.
func concurrencyScenarios() []scenario {
	const ce = "TestLambdaReservedConcurrency::test_function_concurrency_exceptions "
	put := func(name string, n int32) func(e *confEnv) outcome {
		return func(e *confEnv) outcome {
			return e.sdk(e.l.PutFunctionConcurrency(e.ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(name), ReservedConcurrentExecutions: aws.Int32(n)}))
		}
	}
	return []scenario{
		{name: "concurrency/put/function_missing", source: srcAPI + ce + "(put_function_concurrency_with_function_name_doesnotexist)",
			run: put("doesnotexist", 1), want: notFound(fnNotFound + "doesnotexist:$LATEST")},
		{name: "concurrency/put/function_missing_and_invalid_value", source: srcAPI + ce + "(put_function_concurrency_with_function_name_doesnotexist_and_invalid_concurrency)",
			run: put("doesnotexist", -1), want: notFound(fnNotFound + "doesnotexist:$LATEST")},
		{name: "concurrency/put/qualified_arn", source: srcAPI + ce + "(put_function_concurrency_with_qualified_arn)",
			run:  func(e *confEnv) outcome { return put(e.fnARN(confFn)+":1", 1)(e) },
			want: ipv(400, "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.")},
		{name: "concurrency/put/ok", source: srcAPI + "TestLambdaReservedConcurrency::test_function_concurrency (put_function_concurrency_with_reserved_1)",
			run: put(confDest, 1), want: want{Status: 200, Fields: map[string]any{"ReservedConcurrentExecutions": 1}}},
		{name: "concurrency/get/ok", source: srcAPI + "TestLambdaReservedConcurrency::test_function_concurrency (get_function_concurrency)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.GetFunctionConcurrency(e.ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(confDest)}))
			},
			want: want{Status: 200, Fields: map[string]any{"ReservedConcurrentExecutions": 1}}},
		{name: "concurrency/delete/ok", source: srcAPI + "TestLambdaReservedConcurrency::test_function_concurrency (delete_response: 204)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.DeleteFunctionConcurrency(e.ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String(confDest)}))
			},
			want: want{Status: 204}},
		{name: "concurrency/get/none", source: srcAPI + "TestLambdaReservedConcurrency::test_function_concurrency (get_function_concurrency_after_delete: {})",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.GetFunctionConcurrency(e.ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(confDest)}))
			},
			want: want{Status: 200, Fields: map[string]any{"ReservedConcurrentExecutions": absent{}}}},
		{name: "concurrency/get/function_missing", source: srcAPI + "TestLambdaFunction::test_ops_on_nonexisting_fn[get_function_concurrency]",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.GetFunctionConcurrency(e.ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String("i-dont-exist")}))
			},
			want: notFound(fnNotFound + "i-dont-exist")},
	}
}
