package api_test

import (
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

const layerARN = "arn:aws:lambda:us-east-1:000000000000:layer:"

var createdDateRE = regexp.MustCompile(`"CreatedDate":"[^"]*"`)

// TestLayerWireShape checks the layer operations' responses byte for byte
// against testdata/layer_*.golden (CreatedDate masked).
func TestLayerWireShape(t *testing.T) {
	f := newFixture(t)
	zip := base64.StdEncoding.EncodeToString(codeZip(t))
	tests := []struct {
		golden string
		method string
		target string
		body   string
		status int
	}{
		{golden: "layer_publish", method: "POST", target: "/2018-10-31/layers/tools/versions", status: 201,
			body: `{"Content":{"ZipFile":"` + zip + `"},"Description":"shared tools","CompatibleRuntimes":["provided.al2023"],"CompatibleArchitectures":["x86_64"],"LicenseInfo":"MIT"}`},
		{golden: "layer_publish_no_content", method: "POST", target: "/2018-10-31/layers/tools/versions", body: `{}`, status: 400},
		{golden: "layer_publish_bad_name", method: "POST", target: "/2018-10-31/layers/a.b/versions", body: `{"Content":{"ZipFile":"` + zip + `"}}`, status: 400},
		{golden: "layer_publish_s3", method: "POST", target: "/2018-10-31/layers/tools/versions", body: `{"Content":{"S3Bucket":"b","S3Key":"k"}}`, status: 400},
		{golden: "layer_publish_not_zip", method: "POST", target: "/2018-10-31/layers/tools/versions", body: `{"Content":{"ZipFile":"bm90IGEgemlw"}}`, status: 400},
		{golden: "layer_get", method: "GET", target: "/2018-10-31/layers/tools/versions/1", status: 200},
		{golden: "layer_get_missing", method: "GET", target: "/2018-10-31/layers/tools/versions/7", status: 404},
		{golden: "layer_get_by_arn", method: "GET", target: "/2018-10-31/layers?find=LayerVersion&Arn=" + layerARN + "tools:1", status: 200},
		{golden: "layer_get_by_arn_invalid", method: "GET", target: "/2018-10-31/layers?find=LayerVersion&Arn=tools", status: 400},
		{golden: "layer_list", method: "GET", target: "/2018-10-31/layers", status: 200},
		{golden: "layer_list_max_items", method: "GET", target: "/2018-10-31/layers?MaxItems=51", status: 400},
		{golden: "layer_list_versions", method: "GET", target: "/2018-10-31/layers/tools/versions?CompatibleRuntime=provided.al2023", status: 200},
		{golden: "layer_create_function_missing_layer", method: "POST", target: "/2015-03-31/functions", status: 400,
			body: `{"FunctionName":"fn","Runtime":"provided.al2023","Role":"` + testRole + `","Handler":"bootstrap","Code":{"ZipFile":"` + zip + `"},"Layers":["` + layerARN + `tools:2"]}`},
		{golden: "layer_delete", method: "DELETE", target: "/2018-10-31/layers/tools/versions/1", status: 204},
		{golden: "layer_delete", method: "DELETE", target: "/2018-10-31/layers/tools/versions/1", status: 204},
		{golden: "layer_list_versions_empty", method: "GET", target: "/2018-10-31/layers/tools/versions", status: 200},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			rec := f.do(t, tc.method, tc.target, strings.NewReader(tc.body))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tc.status, rec.Body)
			}
			got := createdDateRE.ReplaceAll(goldenResponse(t, rec), []byte(`"CreatedDate":"<date>"`))
			checkGolden(t, tc.golden, got)
		})
	}
}

// TestLayersThroughTheSDK drives the operations with aws-sdk-go-v2, whose
// serializers choose the paths and whose deserializers must accept every
// response.
func TestLayersThroughTheSDK(t *testing.T) {
	f := newFixture(t)
	ts := httptest.NewServer(f.srv)
	t.Cleanup(ts.Close)
	c := lambda.New(lambda.Options{
		Region:           testRegion,
		BaseEndpoint:     aws.String(ts.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		RetryMaxAttempts: 1,
	})
	ctx := t.Context()

	pub, err := c.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{
		LayerName:          aws.String(layerARN + "sdk"),
		Content:            &types.LayerVersionContentInput{ZipFile: codeZip(t)},
		CompatibleRuntimes: []types.Runtime{types.RuntimeProvidedal2023},
	})
	if err != nil {
		t.Fatalf("PublishLayerVersion: %v", err)
	}
	if pub.Version != 1 || aws.ToString(pub.LayerVersionArn) != layerARN+"sdk:1" || pub.Content == nil || pub.Content.CodeSize == 0 {
		t.Fatalf("PublishLayerVersion = %+v", pub)
	}
	pub2, err := c.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{LayerName: aws.String("sdk"), Content: &types.LayerVersionContentInput{ZipFile: codeZip(t)}})
	if err != nil || pub2.Version != 2 {
		t.Fatalf("second PublishLayerVersion = %+v, %v", pub2, err)
	}
	get, err := c.GetLayerVersion(ctx, &lambda.GetLayerVersionInput{LayerName: aws.String("sdk"), VersionNumber: aws.Int64(1)})
	if err != nil || aws.ToString(get.Content.CodeSha256) != aws.ToString(pub.Content.CodeSha256) {
		t.Fatalf("GetLayerVersion = %+v, %v", get, err)
	}
	byARN, err := c.GetLayerVersionByArn(ctx, &lambda.GetLayerVersionByArnInput{Arn: aws.String(layerARN + "sdk:2")})
	if err != nil || byARN.Version != 2 {
		t.Fatalf("GetLayerVersionByArn = %+v, %v", byARN, err)
	}
	list, err := c.ListLayers(ctx, &lambda.ListLayersInput{CompatibleRuntime: types.RuntimeProvidedal2023})
	if err != nil || len(list.Layers) != 1 || list.Layers[0].LatestMatchingVersion.Version != 1 {
		t.Fatalf("ListLayers(provided.al2023) = %+v, %v", list, err)
	}
	var versions []int64
	pages := lambda.NewListLayerVersionsPaginator(c, &lambda.ListLayerVersionsInput{LayerName: aws.String("sdk"), MaxItems: aws.Int32(1)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListLayerVersions: %v", err)
		}
		for _, v := range page.LayerVersions {
			versions = append(versions, v.Version)
		}
	}
	if len(versions) != 2 || versions[0] != 2 || versions[1] != 1 {
		t.Fatalf("ListLayerVersions pages gave %v, want [2 1]", versions)
	}

	fn, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("uses-layers"),
		Runtime:      types.RuntimeProvidedal2023,
		Role:         aws.String(testRole),
		Handler:      aws.String("bootstrap"),
		Code:         &types.FunctionCode{ZipFile: codeZip(t)},
		Layers:       []string{layerARN + "sdk:1"},
	})
	if err != nil || len(fn.Layers) != 1 || aws.ToString(fn.Layers[0].Arn) != layerARN+"sdk:1" || fn.Layers[0].CodeSize != pub.Content.CodeSize {
		t.Fatalf("CreateFunction with a layer = %+v, %v", fn, err)
	}

	if _, err := c.DeleteLayerVersion(ctx, &lambda.DeleteLayerVersionInput{LayerName: aws.String("sdk"), VersionNumber: aws.Int64(1)}); err != nil {
		t.Fatalf("DeleteLayerVersion: %v", err)
	}
	_, err = c.GetLayerVersion(ctx, &lambda.GetLayerVersionInput{LayerName: aws.String("sdk"), VersionNumber: aws.Int64(1)})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("GetLayerVersion after delete: %v", err)
	}
	_, err = c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("uses-layers"), Layers: []string{layerARN + "sdk:1"}})
	var ipv *types.InvalidParameterValueException
	if !errors.As(err, &ipv) {
		var ae smithy.APIError
		errors.As(err, &ae)
		t.Fatalf("referencing a deleted layer version: %v (%v)", err, ae)
	}
	got, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("uses-layers")})
	if err != nil || len(got.Layers) != 1 || got.Layers[0].CodeSize != pub.Content.CodeSize {
		t.Fatalf("GetFunctionConfiguration after the layer's delete = %+v, %v", got, err)
	}
}
