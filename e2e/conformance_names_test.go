package e2e

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// Lambda's FunctionName and Qualifier patterns as its validation messages
// quote them (recorded; botocore's model has the same constraints).
const (
	lookupNamePattern = `(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?`
	createNamePattern = `(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`
	qualifierPattern  = `\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+`
	fnNotFound        = "Function not found: arn:<partition>:lambda:<region>:111111111111:function:"
	qualMismatch      = "The derived qualifier from the function name does not match the specified qualifier."
)

// nameOp is an operation taking a FunctionName (and a Qualifier).
type nameOp struct {
	key  string // LocalStack's parameter id
	call func(e *confEnv, name, qual string) outcome
}

var nameOps = []nameOp{
	{"get_function", func(e *confEnv, name, qual string) outcome {
		return e.sdk(e.l.GetFunction(e.ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name), Qualifier: optional(qual)}))
	}},
	{"delete_function", func(e *confEnv, name, qual string) outcome {
		return e.sdk(e.l.DeleteFunction(e.ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name), Qualifier: optional(qual)}))
	}},
	{"invoke", func(e *confEnv, name, qual string) outcome {
		return e.sdk(e.l.Invoke(e.ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Qualifier: optional(qual)}))
	}},
	{"create_function", func(e *confEnv, name, qual string) outcome {
		if qual != "" {
			name += ":" + qual
		}
		return e.sdk(e.l.CreateFunction(e.ctx, e.createInput(name)))
	}},
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func patternErr(value, member, pattern string) string {
	return "Value '" + value + "' at '" + member + "' failed to satisfy constraint: Member must satisfy regular expression pattern: " + pattern
}

func lengthErr(value, member string, max int) string {
	return "Value '" + value + "' at '" + member + "' failed to satisfy constraint: Member must have length less than or equal to " + itoa(max)
}

// nameScenarios replays LocalStack's test_function_name_and_qualifier_validation
// (recorded against AWS) for GetFunction, DeleteFunction, Invoke and
// CreateFunction, and the other-region and other-account ARN cases.
func nameScenarios() []scenario {
	const acct, region = "000000000000", "us-east-1"
	a65, a129 := strings.Repeat("a", 65), strings.Repeat("a", 129)
	long170 := "arn:aws:lambda:invalid-region:" + acct + ":function:my-function" + strings.Repeat("a", 170)
	type c struct {
		id, name, qual string
		want           map[string]want // by op key; an op not listed is not replayed
	}
	v := func(errs ...string) want { return want{Status: 400, Code: "ValidationException", Errors: errs} }
	nf := func(msg string) want {
		return want{Status: 404, Code: "ResourceNotFoundException", Msg: fnNotFound + msg}
	}
	iv := func(msg string) want { return want{Status: 400, Code: "InvalidParameterValueException", Msg: msg} }
	lookupPat := func(val string) want { return v(patternErr(norm(val), "functionName", lookupNamePattern)) }
	allPat := func(val string) map[string]want {
		return map[string]want{"get_function": lookupPat(val), "delete_function": lookupPat(val), "invoke": lookupPat(val),
			"create_function": v(patternErr(norm(val), "functionName", createNamePattern))}
	}
	cases := []c{
		{"invalid_characters_in_function_name", "my-function!", "", allPat("my-function!")},
		{"function_name_is_single_invalid", "*", "", allPat("*")},
		{"invalid_characters_in_qualifier", "my-function", "invalid!", map[string]want{
			"get_function": v(patternErr("invalid!", "qualifier", qualifierPattern)), "delete_function": v(patternErr("invalid!", "qualifier", qualifierPattern)),
			"invoke": v(patternErr("invalid!", "qualifier", qualifierPattern)), "create_function": v(patternErr("my-function:invalid!", "functionName", createNamePattern))}},
		{"qualifier_too_long", "my-function", a129, map[string]want{
			"get_function": v(lengthErr(a129, "qualifier", 128)), "delete_function": v(lengthErr(a129, "qualifier", 128)),
			"invoke": v(lengthErr(a129, "qualifier", 128)), "create_function": v(lengthErr("my-function:"+a129, "functionName", 140))}},
		{"invalid_account_id_in_partial_arn", "invalid-account:function:my-function", "", allPat("invalid-account:function:my-function")},
		{"invalid_region_in_arn", "arn:aws:lambda:invalid-region:" + acct + ":function:my-function", "", allPat("arn:aws:lambda:invalid-region:" + acct + ":function:my-function")},
		{"non_lambda_arn", "arn:aws:ec2:" + region + ":" + acct + ":instance:i-1234567890abcdef0", "", allPat("arn:aws:ec2:" + region + ":" + acct + ":instance:i-1234567890abcdef0")},
		{"function_name_too_long", a65, "", map[string]want{
			"get_function": nf(a65), "delete_function": nf(a65), "invoke": nf(a65 + ":$LATEST"),
			// Recorded as InvalidParameterValueException, not ValidationException.
			"create_function": {Status: 400, Code: "InvalidParameterValueException", Errors: []string{lengthErr(a65, "functionName", 64)}}}},
		{"function_name_too_long_and_invalid_region", long170, "", map[string]want{
			"get_function": lookupPat(long170), "invoke": lookupPat(long170)}},
		{"full_arn_with_multiple_qualifiers", "arn:aws:lambda:" + region + ":" + acct + ":function:my-function:1:2", "", allPat("arn:aws:lambda:" + region + ":" + acct + ":function:my-function:1:2")},
		{"incomplete_arn", "arn:aws:lambda:" + region + ":" + acct + ":function", "", map[string]want{
			"get_function": nf("function"), "delete_function": nf("function"), "invoke": nf("function:$LATEST")}},
		{"partial_arn_with_extra_qualifier", "function:my-function:$LATEST:extra", "", allPat("function:my-function:$LATEST:extra")},
		{"latest_version_with_additional_qualifier", "arn:aws:lambda:" + region + ":" + acct + ":function:my-function:$LATEST", "1", map[string]want{
			"get_function": iv(qualMismatch), "delete_function": iv(qualMismatch), "invoke": iv(qualMismatch),
			"create_function": v(patternErr(norm("arn:aws:lambda:"+region+":"+acct+":function:my-function:$LATEST:1"), "functionName", createNamePattern))}},
		{"lowercase_latest_qualifier", "arn:aws:lambda:" + region + ":" + acct + ":function:my-function", "$latest", map[string]want{
			"get_function": nf("my-function:$latest"), "delete_function": nf("my-function"), "invoke": nf("my-function:$latest"),
			"create_function": v(patternErr(norm("arn:aws:lambda:"+region+":"+acct+":function:my-function:$latest"), "functionName", createNamePattern))}},
		{"missing_region_in_arn", "arn:aws:lambda::" + acct + ":function:my-function", "", allPat("arn:aws:lambda::" + acct + ":function:my-function")},
		{"missing_account_id_in_arn", "arn:aws:lambda:" + region + "::function:my-function", "", allPat("arn:aws:lambda:" + region + "::function:my-function")},
		{"misspelled_latest_in_arn", "arn:aws:lambda:" + region + ":" + acct + ":function:my-function:$LATES", "", allPat("arn:aws:lambda:" + region + ":" + acct + ":function:my-function:$LATES")},
	}
	var out []scenario
	for _, tc := range cases {
		for _, op := range nameOps {
			w, ok := tc.want[op.key]
			if !ok {
				continue
			}
			tc, op := tc, op
			out = append(out, scenario{
				name:   "name/" + tc.id + "/" + op.key,
				source: srcAPI + "TestLambdaFunction::test_function_name_and_qualifier_validation[" + tc.id + "-" + op.key + "]",
				run:    func(e *confEnv) outcome { return op.call(e, tc.name, tc.qual) },
				want:   w,
			})
		}
	}
	// Functions of another region (test_get_function_wrong_region) and
	// another account (test_function_arns).
	wrongRegion := "arn:aws:lambda:eu-central-1:" + acct + ":function:" + confFn
	wr := want{Status: 404, Code: "ResourceNotFoundException", Msg: "Functions from 'eu-central-1' are not reachable in this region ('<region>')"}
	for _, op := range []struct {
		key  string
		call func(e *confEnv) outcome
	}{
		{"get_function", func(e *confEnv) outcome { return nameOps[0].call(e, wrongRegion, "") }},
		{"delete_function", func(e *confEnv) outcome { return nameOps[1].call(e, wrongRegion, "") }},
		{"invoke", func(e *confEnv) outcome { return nameOps[2].call(e, wrongRegion, "") }},
		{"get_function_configuration", func(e *confEnv) outcome {
			return e.sdk(e.l.GetFunctionConfiguration(e.ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(wrongRegion)}))
		}},
		{"get_function_event_invoke_config", func(e *confEnv) outcome {
			return e.sdk(e.l.GetFunctionEventInvokeConfig(e.ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String(wrongRegion)}))
		}},
		{"get_function_concurrency", func(e *confEnv) outcome {
			return e.sdk(e.l.GetFunctionConcurrency(e.ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(wrongRegion)}))
		}},
	} {
		out = append(out, scenario{
			name:   "name/wrong_region/" + op.key,
			source: srcAPI + "TestLambdaFunction::test_get_function_wrong_region[" + op.key + "]",
			run:    op.call,
			want:   wr,
		})
	}
	out = append(out, scenario{
		name:   "name/other_account_arn/create_function",
		source: srcAPI + "TestLambdaFunction::test_function_arns (function_arn_other_account_exc)",
		run: func(e *confEnv) outcome {
			return e.sdk(e.l.CreateFunction(e.ctx, e.createInput("arn:aws:lambda:us-east-1:123456789012:function:other-acct-fn")))
		},
		want: want{Status: 403, Code: "AccessDeniedException", Msg: "Cross-account pass role is not allowed."},
	})
	return out
}
