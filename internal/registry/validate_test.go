package registry

import (
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
)

func TestCreateFunctionValidation(t *testing.T) {
	st := newStore(t)
	r := newRegistry(t, st)
	bigEnv := map[string]string{"BIG": strings.Repeat("x", 4100)}
	tests := []struct {
		name     string
		edit     func(*lambdaapi.CreateFunctionRequest)
		wantType string
		wantMsg  string // exact message when set
	}{
		{name: "a name with a space", edit: func(q *lambdaapi.CreateFunctionRequest) { q.FunctionName = "bad name" }, wantType: lambdaerr.TypeValidation},
		{name: "a name of 65 characters", edit: func(q *lambdaapi.CreateFunctionRequest) { q.FunctionName = strings.Repeat("n", 65) }, wantType: lambdaerr.TypeInvalidParameterValue},
		{name: "a name with a dot", edit: func(q *lambdaapi.CreateFunctionRequest) { q.FunctionName = "a.b" }, wantType: lambdaerr.TypeValidation},
		{name: "a missing name", edit: func(q *lambdaapi.CreateFunctionRequest) { q.FunctionName = "" }, wantType: lambdaerr.TypeValidation},
		{name: "a qualified name", edit: func(q *lambdaapi.CreateFunctionRequest) { q.FunctionName = "fn:1" }, wantType: lambdaerr.TypeInvalidParameterValue},
		{name: "an ARN of another account", edit: func(q *lambdaapi.CreateFunctionRequest) {
			q.FunctionName = "arn:aws:lambda:us-east-1:123456789012:function:fn"
		}, wantType: lambdaerr.TypeAccessDenied, wantMsg: "Cross-account pass role is not allowed."},
		{name: "an ARN of another region", edit: func(q *lambdaapi.CreateFunctionRequest) {
			q.FunctionName = "arn:aws:lambda:ap-southeast-1:000000000000:function:fn"
		}, wantType: lambdaerr.TypeResourceNotFound, wantMsg: "Functions from 'ap-southeast-1' are not reachable in this region ('us-east-1')"},
		{name: "a handler of 129 characters", edit: func(q *lambdaapi.CreateFunctionRequest) { q.Handler = strings.Repeat("h", 129) }, wantType: lambdaerr.TypeValidation},
		{name: "a handler with a space", edit: func(q *lambdaapi.CreateFunctionRequest) { q.Handler = "app handler" }, wantType: lambdaerr.TypeValidation},
		{name: "a missing handler", edit: func(q *lambdaapi.CreateFunctionRequest) { q.Handler = "" }, wantType: lambdaerr.TypeInvalidParameterValue,
			wantMsg: "Runtime and Handler are mandatory parameters for functions created with deployment packages."},
		{name: "a missing runtime", edit: func(q *lambdaapi.CreateFunctionRequest) { q.Runtime = "" }, wantType: lambdaerr.TypeInvalidParameterValue},
		{name: "an unsupported runtime", edit: func(q *lambdaapi.CreateFunctionRequest) { q.Runtime = "java21" }, wantType: lambdaerr.TypeInvalidParameterValue},
		{name: "a runtime that only looks supported", edit: func(q *lambdaapi.CreateFunctionRequest) { q.Runtime = "python2.7" }, wantType: lambdaerr.TypeInvalidParameterValue},
		{name: "a role that is not an IAM role ARN", edit: func(q *lambdaapi.CreateFunctionRequest) { q.Role = "my-role" }, wantType: lambdaerr.TypeValidation},
		{name: "a missing role", edit: func(q *lambdaapi.CreateFunctionRequest) { q.Role = "" }, wantType: lambdaerr.TypeValidation},
		{name: "a timeout of 0", edit: func(q *lambdaapi.CreateFunctionRequest) { q.Timeout = ptr(0) }, wantType: lambdaerr.TypeValidation},
		{name: "a timeout of 1000", edit: func(q *lambdaapi.CreateFunctionRequest) { q.Timeout = ptr(1000) }, wantType: lambdaerr.TypeValidation,
			wantMsg: "1 validation error detected: Value '1000' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900"},
		{name: "a memory size of 127", edit: func(q *lambdaapi.CreateFunctionRequest) { q.MemorySize = ptr(127) }, wantType: lambdaerr.TypeValidation},
		{name: "a memory size of 10241", edit: func(q *lambdaapi.CreateFunctionRequest) { q.MemorySize = ptr(10241) }, wantType: lambdaerr.TypeValidation},
		{name: "two violations at once", edit: func(q *lambdaapi.CreateFunctionRequest) { q.Timeout, q.MemorySize = ptr(0), ptr(1) }, wantType: lambdaerr.TypeValidation,
			wantMsg: "2 validation errors detected: Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1; Value '1' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128"},
		{name: "ephemeral storage of 511", edit: func(q *lambdaapi.CreateFunctionRequest) { q.EphemeralStorage = &lambdaapi.EphemeralStorage{Size: 511} }, wantType: lambdaerr.TypeValidation},
		{name: "ephemeral storage of 10241", edit: func(q *lambdaapi.CreateFunctionRequest) {
			q.EphemeralStorage = &lambdaapi.EphemeralStorage{Size: 10241}
		}, wantType: lambdaerr.TypeValidation},
		{name: "an environment key starting with a digit", edit: func(q *lambdaapi.CreateFunctionRequest) {
			q.Environment = &lambdaapi.Environment{Variables: map[string]string{"1A": "x"}}
		}, wantType: lambdaerr.TypeValidation},
		{name: "an environment key of one character", edit: func(q *lambdaapi.CreateFunctionRequest) {
			q.Environment = &lambdaapi.Environment{Variables: map[string]string{"A": "x"}}
		}, wantType: lambdaerr.TypeValidation},
		{name: "a reserved environment key", edit: func(q *lambdaapi.CreateFunctionRequest) {
			q.Environment = &lambdaapi.Environment{Variables: map[string]string{"AWS_REGION": "x", "OK_KEY": "y"}}
		}, wantType: lambdaerr.TypeInvalidParameterValue,
			wantMsg: "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: AWS_REGION"},
		{name: "an environment over 4 KB", edit: func(q *lambdaapi.CreateFunctionRequest) {
			q.Environment = &lambdaapi.Environment{Variables: bigEnv}
		}, wantType: lambdaerr.TypeInvalidParameterValue},
		{name: "six layers", edit: func(q *lambdaapi.CreateFunctionRequest) {
			for i := range 6 {
				q.Layers = append(q.Layers, "arn:aws:lambda:us-east-1:000000000000:layer:l:"+string(rune('1'+i)))
			}
		}, wantType: lambdaerr.TypeInvalidParameterValue},
		{name: "a layer that is not a layer ARN", edit: func(q *lambdaapi.CreateFunctionRequest) { q.Layers = []string{"my-layer"} }, wantType: lambdaerr.TypeValidation},
		{name: "two architectures", edit: func(q *lambdaapi.CreateFunctionRequest) { q.Architectures = []string{"x86_64", "arm64"} }, wantType: lambdaerr.TypeValidation},
		{name: "an unknown architecture", edit: func(q *lambdaapi.CreateFunctionRequest) { q.Architectures = []string{"mips"} }, wantType: lambdaerr.TypeValidation},
		{name: "a description of 257 characters", edit: func(q *lambdaapi.CreateFunctionRequest) { q.Description = strings.Repeat("d", 257) }, wantType: lambdaerr.TypeValidation},
		{name: "an unknown tracing mode", edit: func(q *lambdaapi.CreateFunctionRequest) { q.TracingConfig = &lambdaapi.TracingConfig{Mode: "Loud"} }, wantType: lambdaerr.TypeValidation},
		{name: "an image package", edit: func(q *lambdaapi.CreateFunctionRequest) { q.PackageType = "Image" }, wantType: lambdaerr.TypeInvalidParameterValue},
		{name: "no code", edit: func(q *lambdaapi.CreateFunctionRequest) { q.Code = nil }, wantType: lambdaerr.TypeInvalidParameterValue},
		{name: "an empty zip file", edit: func(q *lambdaapi.CreateFunctionRequest) { q.Code = &lambdaapi.FunctionCode{} }, wantType: lambdaerr.TypeInvalidParameterValue},
		{name: "code from S3", edit: func(q *lambdaapi.CreateFunctionRequest) {
			q.Code = &lambdaapi.FunctionCode{S3Bucket: "b", S3Key: "k"}
		}, wantType: lambdaerr.TypeInvalidParameterValue},
		{name: "a container image", edit: func(q *lambdaapi.CreateFunctionRequest) {
			q.Code = &lambdaapi.FunctionCode{ImageURI: "123.dkr.ecr.us-east-1.amazonaws.com/x:latest"}
		}, wantType: lambdaerr.TypeInvalidParameterValue},
		{name: "code that is not a zip", edit: func(q *lambdaapi.CreateFunctionRequest) {
			q.Code = &lambdaapi.FunctionCode{ZipFile: []byte("print('hello')")}
		}, wantType: lambdaerr.TypeInvalidParameterValue, wantMsg: "Could not unzip uploaded file. Please check your file, then try to upload again."},
		{name: "a zip over 50 MB", edit: func(q *lambdaapi.CreateFunctionRequest) {
			q.Code = &lambdaapi.FunctionCode{ZipFile: make([]byte, MaxZipBytes+1)}
		}, wantType: lambdaerr.TypeRequestTooLarge},
		{name: "a zip with a path leading out", edit: func(q *lambdaapi.CreateFunctionRequest) {
			q.Code = &lambdaapi.FunctionCode{ZipFile: makeZip(t, zentry{name: "../evil", body: "x"})}
		}, wantType: lambdaerr.TypeInvalidParameterValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := createReq(t, "valid-fn")
			tc.edit(req)
			_, err := r.CreateFunction(t.Context(), req)
			e := wantType(t, err, tc.wantType)
			if tc.wantMsg != "" && e.Message != tc.wantMsg {
				t.Fatalf("message %q, want %q", e.Message, tc.wantMsg)
			}
			list, err := r.ListFunctions(t.Context(), "", 0, true)
			if err != nil {
				t.Fatal(err)
			}
			if len(list.Functions) != 0 {
				t.Fatalf("a refused create left %d functions", len(list.Functions))
			}
			keys, err := r.listKeys(t.Context(), ">")
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != 0 {
				t.Fatalf("a refused create left keys %v", keys)
			}
		})
	}
}

func TestSupportedRuntimes(t *testing.T) {
	st := newStore(t)
	r := newRegistry(t, st)
	for i, rt := range []string{"provided.al2", "provided.al2023", "python3.9", "python3.12", "python3.13", "nodejs18.x", "nodejs20.x", "nodejs22.x"} {
		t.Run(rt, func(t *testing.T) {
			req := createReq(t, "rt-"+string(rune('a'+i)))
			req.Runtime = rt
			fc, err := r.CreateFunction(t.Context(), req)
			if err != nil {
				t.Fatalf("CreateFunction with %s: %v", rt, err)
			}
			if fc.Runtime != rt {
				t.Fatalf("Runtime = %q", fc.Runtime)
			}
		})
	}
}

func TestRefusedRuntimes(t *testing.T) {
	st := newStore(t)
	r := newRegistry(t, st)
	mustCreate(t, r, "rt-upd")
	const enum = "[nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2]"
	tests := []struct {
		name, runtime, wantMsg string
	}{
		{"a name AWS does not know gets AWS's enum message", "non-existent-runtime",
			"Value non-existent-runtime at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: " + enum + " or be a valid ARN"},
		{"runtime names are case-sensitive", "PYTHON3.9",
			"Value PYTHON3.9 at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: " + enum + " or be a valid ARN"},
		{"a deprecated runtime gets AWS's deprecation message", "nodejs8.10",
			"The runtime parameter of nodejs8.10 is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions."},
		{"provided is deprecated on AWS", "provided",
			"The runtime parameter of provided is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions."},
		{"a runtime AWS accepts but this host cannot run says so", "java21",
			"The runtime parameter of java21 is not supported by this server, which runs provided.al2023, provided.al2, python3.x and nodejsNN.x functions. We recommend you use a supported runtime while creating or updating functions."},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := createReq(t, "rt-bad-"+string(rune('a'+i)))
			req.Runtime = tc.runtime
			_, err := r.CreateFunction(t.Context(), req)
			if e := wantType(t, err, lambdaerr.TypeInvalidParameterValue); e.Message != tc.wantMsg {
				t.Fatalf("CreateFunction message %q,\nwant %q", e.Message, tc.wantMsg)
			}
			_, err = r.UpdateFunctionConfiguration(t.Context(), "rt-upd", &lambdaapi.UpdateFunctionConfigurationRequest{Runtime: &tc.runtime})
			if e := wantType(t, err, lambdaerr.TypeInvalidParameterValue); e.Message != tc.wantMsg {
				t.Fatalf("UpdateFunctionConfiguration message %q,\nwant %q", e.Message, tc.wantMsg)
			}
		})
	}
}

func TestUpdateFunctionConfigurationValidation(t *testing.T) {
	st := newStore(t)
	r := newRegistry(t, st)
	before := mustCreate(t, r, "cfg")
	tests := []struct {
		name     string
		req      lambdaapi.UpdateFunctionConfigurationRequest
		wantType string
	}{
		{name: "a timeout of 901", req: lambdaapi.UpdateFunctionConfigurationRequest{Timeout: ptr(901)}, wantType: lambdaerr.TypeValidation},
		{name: "a memory size of 64", req: lambdaapi.UpdateFunctionConfigurationRequest{MemorySize: ptr(64)}, wantType: lambdaerr.TypeValidation},
		{name: "an unsupported runtime", req: lambdaapi.UpdateFunctionConfigurationRequest{Runtime: ptr("ruby3.3")}, wantType: lambdaerr.TypeInvalidParameterValue},
		{name: "a bad role", req: lambdaapi.UpdateFunctionConfigurationRequest{Role: ptr("arn:aws:iam::1:role/x")}, wantType: lambdaerr.TypeValidation},
		{name: "an empty handler", req: lambdaapi.UpdateFunctionConfigurationRequest{Handler: ptr("")}, wantType: lambdaerr.TypeInvalidParameterValue},
		{name: "a reserved environment key", req: lambdaapi.UpdateFunctionConfigurationRequest{
			Environment: &lambdaapi.Environment{Variables: map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "x"}}}, wantType: lambdaerr.TypeInvalidParameterValue},
		{name: "a stale revision", req: lambdaapi.UpdateFunctionConfigurationRequest{Timeout: ptr(5), RevisionID: "stale"}, wantType: lambdaerr.TypePreconditionFailed},
		{name: "ephemeral storage of 20000", req: lambdaapi.UpdateFunctionConfigurationRequest{EphemeralStorage: &lambdaapi.EphemeralStorage{Size: 20000}}, wantType: lambdaerr.TypeValidation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.UpdateFunctionConfiguration(t.Context(), "cfg", &tc.req)
			wantType(t, err, tc.wantType)
			after, err := r.GetFunctionConfiguration(t.Context(), "cfg", "")
			if err != nil {
				t.Fatal(err)
			}
			if after.RevisionID != before.RevisionID || after.Timeout != before.Timeout || after.Runtime != before.Runtime {
				t.Fatalf("a refused update changed the function: %+v", after)
			}
		})
	}
}

func TestUnknownFunctionMessages(t *testing.T) {
	st := newStore(t)
	r := newRegistry(t, st)
	mustCreate(t, r, "known")
	tests := []struct {
		name, fn, qual, wantMsg string
	}{
		{name: "an unknown function", fn: "nope", wantMsg: "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope"},
		{name: "an unknown version", fn: "known", qual: "9", wantMsg: "Function not found: arn:aws:lambda:us-east-1:000000000000:function:known:9"},
		{name: "an unknown alias", fn: "known:blue", wantMsg: "Function not found: arn:aws:lambda:us-east-1:000000000000:function:known:blue"},
		{name: "another account's function", fn: "123456789012:function:known", wantMsg: "Function not found: arn:aws:lambda:us-east-1:123456789012:function:known"},
		{name: "an unknown function asked for with a qualifier names it", fn: "nope", qual: "$latest", wantMsg: "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope:$latest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.GetFunctionConfiguration(t.Context(), tc.fn, tc.qual)
			e := wantType(t, err, lambdaerr.TypeResourceNotFound)
			if e.Message != tc.wantMsg {
				t.Fatalf("message %q, want %q", e.Message, tc.wantMsg)
			}
			_, err = r.Resolve(tc.fn, tc.qual)
			e = wantType(t, err, lambdaerr.TypeResourceNotFound)
			if e.Message != tc.wantMsg {
				t.Fatalf("Resolve message %q, want %q", e.Message, tc.wantMsg)
			}
		})
	}
	// Invoke names $LATEST for an unknown function invoked without a
	// qualifier; DeleteFunction never names the qualifier.
	_, err := r.ResolveInvoke("nope", "")
	if e := wantType(t, err, lambdaerr.TypeResourceNotFound); e.Message != "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope:$LATEST" {
		t.Fatalf("ResolveInvoke message %q", e.Message)
	}
	err = r.DeleteFunction(t.Context(), "nope", "$latest")
	if e := wantType(t, err, lambdaerr.TypeResourceNotFound); e.Message != "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope" {
		t.Fatalf("DeleteFunction message %q", e.Message)
	}
	_, err = r.PutFunctionConcurrency(t.Context(), "nope", -1)
	if e := wantType(t, err, lambdaerr.TypeResourceNotFound); e.Message != "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope:$LATEST" {
		t.Fatalf("PutFunctionConcurrency message %q", e.Message)
	}
	_, err = r.GetAlias(t.Context(), "known", "blue")
	if e := wantType(t, err, lambdaerr.TypeResourceNotFound); e.Message != "Cannot find alias arn: arn:aws:lambda:us-east-1:000000000000:function:known:blue" {
		t.Fatalf("GetAlias message %q", e.Message)
	}
	_, err = r.UpdateAlias(t.Context(), "known", "blue", &lambdaapi.UpdateAliasRequest{FunctionVersion: "$LATEST"})
	if e := wantType(t, err, lambdaerr.TypeResourceNotFound); e.Message != "Alias not found: arn:aws:lambda:us-east-1:000000000000:function:known:blue" {
		t.Fatalf("UpdateAlias message %q", e.Message)
	}
	if err := r.DeleteAlias(t.Context(), "known", "blue"); err != nil {
		t.Fatalf("DeleteAlias of a missing alias: %v, want no error (Lambda answers 204)", err)
	}
}
