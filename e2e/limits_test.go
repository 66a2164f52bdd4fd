package e2e

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/testutil"
)

// TestBadInputIsRefusedAndChangesNothing sends each kind of bad request
// and checks Lambda's error and that no state changed. Values outside the
// API model's constraints get ValidationException, as Lambda answers them;
// rule violations the model cannot express get
// InvalidParameterValueException.
func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	c := srv.Lambda()
	good := testFunctionZip(t)

	escape := testutil.ZipFiles(t, map[string]testutil.ZipEntry{"../evil": {Data: []byte("x")}, "bootstrap": {Data: []byte("#!/bin/sh\n"), Mode: 0o755}})
	absolute := testutil.ZipFiles(t, map[string]testutil.ZipEntry{"/etc/evil": {Data: []byte("x")}})
	bomb := testutil.ZipZeros(t, "zeros", 300<<20) // 300 MB of zeros compresses to ~300 KB

	create := func(mut func(in *lambda.CreateFunctionInput)) error {
		in := &lambda.CreateFunctionInput{
			FunctionName: aws.String("limits"), Runtime: types.RuntimeProvidedal2023,
			Handler: aws.String("bootstrap"), Role: aws.String(testRole), Code: &types.FunctionCode{ZipFile: good},
		}
		mut(in)
		_, err := c.CreateFunction(ctx(t), in)
		return err
	}
	cases := []struct {
		name string
		mut  func(in *lambda.CreateFunctionInput)
		want string
	}{
		{"name with a slash", func(in *lambda.CreateFunctionInput) { in.FunctionName = aws.String("bad/name") }, "ValidationException"},
		{"name too long", func(in *lambda.CreateFunctionInput) { in.FunctionName = aws.String(strings.Repeat("a", 65)) }, "InvalidParameterValueException"},
		{"handler with a space", func(in *lambda.CreateFunctionInput) { in.Handler = aws.String("boot strap") }, "ValidationException"},
		{"timeout zero", func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(0) }, "ValidationException"},
		{"timeout 901", func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(901) }, "ValidationException"},
		{"memory 127", func(in *lambda.CreateFunctionInput) { in.MemorySize = aws.Int32(127) }, "ValidationException"},
		{"memory 10241", func(in *lambda.CreateFunctionInput) { in.MemorySize = aws.Int32(10241) }, "ValidationException"},
		{"ephemeral 511", func(in *lambda.CreateFunctionInput) {
			in.EphemeralStorage = &types.EphemeralStorage{Size: aws.Int32(511)}
		}, "ValidationException"},
		{"ephemeral 10241", func(in *lambda.CreateFunctionInput) {
			in.EphemeralStorage = &types.EphemeralStorage{Size: aws.Int32(10241)}
		}, "ValidationException"},
		{"not a zip", func(in *lambda.CreateFunctionInput) { in.Code.ZipFile = []byte("plain text") }, "InvalidParameterValueException"},
		{"path escaping the code root", func(in *lambda.CreateFunctionInput) { in.Code.ZipFile = escape }, "InvalidParameterValueException"},
		{"absolute path", func(in *lambda.CreateFunctionInput) { in.Code.ZipFile = absolute }, "InvalidParameterValueException"},
		{"zip bomb", func(in *lambda.CreateFunctionInput) { in.Code.ZipFile = bomb }, ""},
		{"zip over 50 MB", func(in *lambda.CreateFunctionInput) { in.Code.ZipFile = bytes.Repeat([]byte{1}, 50*1024*1024+1) }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := create(tc.mut)
			if err == nil {
				t.Fatal("accepted")
			}
			if code := apiErrorCode(err); tc.want != "" && code != tc.want {
				t.Fatalf("error %v (code %q), want %s", err, code, tc.want)
			}
			list, lerr := c.ListFunctions(ctx(t), &lambda.ListFunctionsInput{})
			if lerr != nil || len(list.Functions) != 0 {
				t.Fatalf("a refused create left state behind: %v %+v", lerr, list)
			}
		})
	}

	createTestFunction(t, c, "limits", fnOpts{})
	before, _ := c.GetFunctionConfiguration(ctx(t), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("limits")})
	_, err := c.UpdateFunctionConfiguration(ctx(t), &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("limits"), Timeout: aws.Int32(1000)})
	if apiErrorCode(err) != "ValidationException" {
		t.Fatalf("timeout 1000: %v", err)
	}
	after, _ := c.GetFunctionConfiguration(ctx(t), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("limits")})
	if aws.ToString(before.RevisionId) != aws.ToString(after.RevisionId) || aws.ToInt32(after.Timeout) != 3 {
		t.Fatalf("a refused update changed the function")
	}
	_, err = c.CreateFunction(ctx(t), &lambda.CreateFunctionInput{
		FunctionName: aws.String("limits"), Runtime: types.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Role: aws.String(testRole), Code: &types.FunctionCode{ZipFile: good},
	})
	if apiErrorCode(err) != "ResourceConflictException" {
		t.Fatalf("duplicate create: %v", err)
	}

	// Invoke limits.
	_, err = c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("limits"), Payload: []byte("not json")})
	if apiErrorCode(err) != "InvalidRequestContentException" {
		t.Fatalf("payload that is not JSON: %v", err)
	}
	big := append(append([]byte(`"`), bytes.Repeat([]byte("x"), 6291456)...), '"')
	_, err = c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("limits"), Payload: big})
	if code := apiErrorCode(err); code != "RequestTooLargeException" {
		t.Fatalf("oversized request: %v (code %q)", err, code)
	}
	res, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("limits"), Payload: []byte(`{"action":"big","n":6291556}`)})
	if err != nil {
		t.Fatalf("oversized response: %v", err)
	}
	if typ := functionErrorType(t, res); typ != "Function.ResponseSizeTooLarge" {
		t.Fatalf("oversized response: error type %q", typ)
	}
	res = invokeRaw(t, c, "limits", `{"action":"big","n":6291000}`)
	if res.FunctionError != nil || len(res.Payload) != 6291002 {
		t.Fatalf("a response under the limit was refused: %v %.300s", aws.ToString(res.FunctionError), res.Payload)
	}
	_, err = c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("nope")})
	if apiErrorCode(err) != "ResourceNotFoundException" {
		t.Fatalf("unknown function: %v", err)
	}
	_, err = c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("limits"), Qualifier: aws.String("9")})
	if apiErrorCode(err) != "ResourceNotFoundException" {
		t.Fatalf("unknown version: %v", err)
	}

	// The raw wire shape of an error, as SDKs parse it.
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("server unhealthy after bad input: %v", err)
	}
	resp.Body.Close()
}
