package e2e

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/testutil"
)

var maxMemoryRE = regexp.MustCompile(`REPORT RequestId: \S+\t.*Max Memory Used: (\d+) MB`)

// reportMaxMemory invokes name with payload, asking for the log tail, and
// returns REPORT's Max Memory Used in MB.
func reportMaxMemory(t *testing.T, c *lambda.Client, name, payload string) int {
	t.Helper()
	res, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(payload), LogType: types.LogTypeTail})
	if err != nil {
		t.Fatalf("invoke %s: %v", name, err)
	}
	if res.FunctionError != nil {
		t.Fatalf("invoke %s: function error %s: %s", name, *res.FunctionError, res.Payload)
	}
	tail := pyTail(t, res)
	m := maxMemoryRE.FindStringSubmatch(tail)
	if m == nil {
		t.Fatalf("no REPORT line with Max Memory Used in the tail:\n%s", tail)
	}
	mb, _ := strconv.Atoi(m[1])
	t.Logf("%s %s: Max Memory Used: %d MB", name, payload, mb)
	return mb
}

// TestMaxMemoryUsedIsResidentPeak checks that REPORT's Max Memory Used is
// what the runtime holds resident at its peak, not only the pages first
// charged to the environment: a Go hello world holds several MB, and a
// Python function that builds a 60 MB object reports at least that, on
// that invocation and the warm ones after it.
func TestMaxMemoryUsedIsResidentPeak(t *testing.T) {
	srv := testutil.StartServer(t, testutil.Options{})
	c := srv.Lambda()

	t.Run("go hello", func(t *testing.T) {
		createTestFunction(t, c, "mem-go", fnOpts{})
		for i := range 2 {
			if mb := reportMaxMemory(t, c, "mem-go", `{}`); mb <= 4 {
				t.Errorf("invoke %d: Max Memory Used = %d MB, want more than 4 MB (a Go runtime's resident set)", i, mb)
			}
		}
	})

	t.Run("python 60 MB", func(t *testing.T) {
		pyRequire(t)
		zip := testutil.ZipFiles(t, map[string]testutil.ZipEntry{"mem.py": {Data: []byte(
			"def handler(event, context):\n" +
				"    if event.get('alloc'):\n" +
				"        b = b'x' * (60 << 20)\n" +
				"        return len(b)\n" +
				"    return 0\n")}})
		if _, err := c.CreateFunction(ctx(t), &lambda.CreateFunctionInput{
			FunctionName: aws.String("mem-py"), Runtime: types.RuntimePython312, Handler: aws.String("mem.handler"),
			Role: aws.String(testRole), Timeout: aws.Int32(10), MemorySize: aws.Int32(256),
			Code: &types.FunctionCode{ZipFile: zip},
		}); err != nil {
			t.Fatalf("create: %v", err)
		}
		before := reportMaxMemory(t, c, "mem-py", `{}`)
		if before <= 4 {
			t.Errorf("hello: Max Memory Used = %d MB, want more than 4 MB (a Python interpreter's resident set)", before)
		}
		if mb := reportMaxMemory(t, c, "mem-py", `{"alloc":true}`); mb < 60 {
			t.Errorf("after allocating 60 MB: Max Memory Used = %d MB, want at least 60", mb)
		}
		// The figure is the environment's peak so far, as on Lambda.
		if mb := reportMaxMemory(t, c, "mem-py", `{}`); mb < 60 {
			t.Errorf("next warm invoke: Max Memory Used = %d MB, want the peak (at least 60)", mb)
		}
	})
}
