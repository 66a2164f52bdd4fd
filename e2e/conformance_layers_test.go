package e2e

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/testutil"
)

// layerScenarios replays test_layer_exceptions and
// test_layer_function_exceptions on conf-layer.
func layerScenarios() []scenario {
	const lx, lf = "TestLambdaLayer::test_layer_exceptions ", "TestLambdaLayer::test_layer_function_exceptions "
	const layerPattern = `(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)`
	const noResource = "The resource you requested does not exist."
	layerARN := "arn:aws:lambda:us-east-1:000000000000:layer:" + confLayer
	nLayerARN := "arn:<partition>:lambda:<region>:111111111111:layer:" + confLayer
	getV := func(name string, n int64) func(e *confEnv) outcome {
		return func(e *confEnv) outcome {
			return e.sdk(e.l.GetLayerVersion(e.ctx, &lambda.GetLayerVersionInput{LayerName: aws.String(name), VersionNumber: aws.Int64(n)}))
		}
	}
	delV := func(name string, n int64) func(e *confEnv) outcome {
		return func(e *confEnv) outcome {
			return e.sdk(e.l.DeleteLayerVersion(e.ctx, &lambda.DeleteLayerVersionInput{LayerName: aws.String(name), VersionNumber: aws.Int64(n)}))
		}
	}
	setLayers := func(layers ...string) func(e *confEnv) outcome {
		return func(e *confEnv) outcome {
			return e.sdk(e.l.UpdateFunctionConfiguration(e.ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(confDest), Layers: layers}))
		}
	}
	sameLayer := func(a, b string) string {
		return "Two different versions of the same layer are not allowed to be referenced in the same function. " + nLayerARN + ":" + a + " and " + nLayerARN + ":" + b + " are versions of the same layer."
	}
	layerZip := func(e *confEnv) *types.LayerVersionContentInput {
		return &types.LayerVersionContentInput{ZipFile: testutil.ZipFiles(e.t, map[string]testutil.ZipEntry{"lib/y.txt": {Data: []byte("y")}})}
	}
	return []scenario{
		{name: "layer/list/invalid_architecture", source: srcAPI + lx + "(list_layers_exc_compatiblearchitecture_invalid)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.ListLayers(e.ctx, &lambda.ListLayersInput{CompatibleArchitecture: "archdoesnotexist"}))
			},
			want: validation("1 validation error detected: Value 'archdoesnotexist' at 'compatibleArchitecture' failed to satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]")},
		{name: "layer/list_versions/missing_layer", source: srcAPI + lx + "(list_nonexistent_layer)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.ListLayerVersions(e.ctx, &lambda.ListLayerVersionsInput{LayerName: aws.String("layerdoesnotexist")}))
			},
			want: want{Status: 200, Fields: map[string]any{"LayerVersions": []any{}}}},
		{name: "layer/get/missing_layer", source: srcAPI + lx + "(get_layer_version_exc_layer_doesnotexist)",
			run: getV("layerdoesnotexist", 1), want: notFound(noResource)},
		{name: "layer/get/negative_version", source: srcAPI + lx + "(get_layer_version_exc_layer_version_doesnotexist_negative)",
			run: getV(confLayer, -1), want: ipv(400, "Layer Version Cannot be less than 1")},
		{name: "layer/get/zero_version", source: srcAPI + lx + "(get_layer_version_exc_layer_version_doesnotexist_zero)",
			run: getV(confLayer, 0), want: ipv(400, "Layer Version Cannot be less than 1")},
		{name: "layer/get/missing_version", source: srcAPI + lx + "(get_layer_version_exc_layer_version_doesnotexist_2)",
			run: getV(confLayer, 2), want: notFound(noResource)},
		{name: "layer/get/ok", source: srcAPI + lx + "(publish_result: LayerArn, LayerVersionArn, Version, Description)",
			run:  getV(confLayer, 1),
			want: want{Status: 200, Fields: map[string]any{"LayerArn": nLayerARN, "LayerVersionArn": nLayerARN + ":1", "Version": 1, "Description": ""}}},
		{name: "layer/get_by_arn/no_version", source: srcAPI + lx + "(get_layer_version_by_arn_exc_invalidarn)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.GetLayerVersionByArn(e.ctx, &lambda.GetLayerVersionByArnInput{Arn: aws.String(layerARN)}))
			},
			want: validation("1 validation error detected: Value '" + nLayerARN + "' at 'arn' failed to satisfy constraint: Member must satisfy regular expression pattern: " + layerPattern)},
		{name: "layer/get_by_arn/missing_version", source: srcAPI + lx + "(get_layer_version_by_arn_exc_nonexistentversion)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.GetLayerVersionByArn(e.ctx, &lambda.GetLayerVersionByArnInput{Arn: aws.String(layerARN + ":2")}))
			},
			want: notFound(noResource)},
		{name: "layer/delete/missing_layer", source: srcAPI + lx + "(delete_nonexistent_response: 204)",
			run: delV("layerdoesnotexist", 1), want: want{Status: 204}},
		{name: "layer/delete/missing_version", source: srcAPI + lx + "(delete_nonexistent_version_response: 204)",
			run: delV(confLayer, 2), want: want{Status: 204}},
		{name: "layer/delete/negative_version", source: srcAPI + lx + "(delete_layer_version_exc_layerversion_invalid_version)",
			run: delV(confLayer, -1), want: ipv(400, "Layer Version Cannot be less than 1")},
		{name: "layer/publish/empty_compatibility", source: srcAPI + lx + "(publish_empty_result: empty lists are valid)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.PublishLayerVersion(e.ctx, &lambda.PublishLayerVersionInput{LayerName: aws.String(confLayer), Content: layerZip(e),
					CompatibleRuntimes: []types.Runtime{}, CompatibleArchitectures: []types.Architecture{}}))
			},
			want: want{Status: 201, Fields: map[string]any{"Version": 2, "LayerVersionArn": nLayerARN + ":2", "Description": ""}}},
		{name: "layer/publish/invalid_runtime_and_architecture", source: srcAPI + lx + "(publish_layer_version_exc_invalid_runtime_arch)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.PublishLayerVersion(e.ctx, &lambda.PublishLayerVersionInput{LayerName: aws.String(confLayer), Content: layerZip(e),
					CompatibleRuntimes: []types.Runtime{"invalidruntime"}, CompatibleArchitectures: []types.Architecture{"invalidarch"}}))
			},
			want: want{Status: 400, Code: "ValidationException", Errors: []string{
				"Value '[invalidruntime]' at 'compatibleRuntimes' failed to satisfy constraint: Member must satisfy enum value set: [nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2]",
				"Value '[invalidarch]' at 'compatibleArchitectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]"}}},
		{name: "layer/function/two_versions", source: srcAPI + lf + "(two_layer_versions_single_function_exc)",
			run: setLayers(layerARN+":1", layerARN+":2"), want: ipv(400, sameLayer("1", "2"))},
		{name: "layer/function/same_version_twice", source: srcAPI + lf + "(two_identical_layer_versions_single_function_exc)",
			run: setLayers(layerARN+":1", layerARN+":1"), want: ipv(400, sameLayer("1", "1"))},
		{name: "layer/function/missing_layer", source: srcAPI + lf + "(add_nonexistent_layer_exc)",
			run:  setLayers("arn:aws:lambda:us-east-1:000000000000:layer:doesnotexist:1"),
			want: ipv(400, "Layer version arn:<partition>:lambda:<region>:111111111111:layer:doesnotexist:1 does not exist.")},
		{name: "layer/function/missing_version", source: srcAPI + lf + "(add_nonexistent_layer_version_exc)",
			run: setLayers(layerARN + ":9"), want: ipv(400, "Layer version "+nLayerARN+":9 does not exist.")},
		{name: "layer/function/arn_without_version", source: srcAPI + lf + "(add_layer_arn_without_version_exc)",
			run:  setLayers(layerARN),
			want: validation("1 validation error detected: Value '[" + nLayerARN + "]' at 'layers' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 2048, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: " + layerPattern + ", Member must not be null]")},
		{name: "layer/function/other_region", source: srcAPI + lf + "(create_function_with_layer_in_different_region)",
			run:  setLayers("arn:aws:lambda:eu-west-1:000000000000:layer:" + confLayer + ":1"),
			want: ipv(400, "Layers are not in the same region as the function. Layers are expected to be in region <region>.")},
		{name: "layer/function/six_layers", source: srcAPI + "TestLambdaLayer::test_layer_function_quota_exception (create_function_with_six_layers)",
			run:  setLayers(layerARN+":1", layerARN+":1", layerARN+":1", layerARN+":1", layerARN+":1", layerARN+":1"),
			want: ipv(400, "Cannot reference more than 5 layers.")},
		{name: "layer/function/ok", source: srcAPI + lf + "(get_fn_result: Layers[].Arn)",
			run:  setLayers(layerARN + ":1"),
			want: want{Status: 200, Fields: map[string]any{"Layers.0.Arn": nLayerARN + ":1"}}},
	}
}
