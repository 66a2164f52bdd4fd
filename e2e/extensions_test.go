package e2e

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/testutil"
)

// TestExternalExtensionInALayer deploys the extfn extension as a layer
// (/opt/extensions/extfn) next to testfn and checks Lambda's extension
// lifecycle: the extension gets INVOKE and works on after the caller got
// its answer (it sleeps 300 ms, then writes a marker into /tmp), that work
// has finished before the next invocation runs in the environment (which
// reads the marker), and the extension gets SHUTDOWN (spindown) when an
// update evicts the environment, which shows in the function's logs.
func TestExternalExtensionInALayer(t *testing.T) {
	srv := testutil.StartServer(t, testutil.Options{})
	c := srv.Lambda()

	extBin, err := os.ReadFile(testutil.BuildBinary(t, "./internal/testutil/extfn", ""))
	if err != nil {
		t.Fatal(err)
	}
	layer, err := c.PublishLayerVersion(ctx(t), &lambda.PublishLayerVersionInput{
		LayerName: aws.String("extfn"),
		Content:   &types.LayerVersionContentInput{ZipFile: testutil.ZipFiles(t, map[string]testutil.ZipEntry{"extensions/extfn": {Data: extBin, Mode: 0o755}})},
	})
	if err != nil {
		t.Fatalf("PublishLayerVersion: %v", err)
	}
	_, err = c.CreateFunction(ctx(t), &lambda.CreateFunctionInput{
		FunctionName: aws.String("with-ext"),
		Runtime:      types.RuntimeProvidedal2023,
		Handler:      aws.String("bootstrap"),
		Role:         aws.String(testRole),
		Code:         &types.FunctionCode{ZipFile: testFunctionZip(t)},
		Layers:       []string{aws.ToString(layer.LayerVersionArn)},
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}

	var first struct {
		RequestID string `json:"requestId"`
	}
	invokeJSON(t, c, "with-ext", map[string]string{"action": "echo"}, &first)
	answered := time.Now()
	if busy := poolHealth(t, srv).Busy; busy != 1 {
		t.Errorf("busy environments right after the answer = %d, want 1 (the extension is still working)", busy)
	}
	testutil.WaitFor(t, 10*time.Second, func() error {
		if p := poolHealth(t, srv); p.Idle != 1 || p.Busy != 0 {
			return fmt.Errorf("idle %d, busy %d", p.Idle, p.Busy)
		}
		return nil
	})

	var marker string
	invokeJSON(t, c, "with-ext", map[string]string{"action": "read-tmp"}, &marker)
	var reqID string
	var nanos int64
	if _, err := fmt.Sscanf(marker, "ext-done %s %d", &reqID, &nanos); err != nil || reqID != first.RequestID {
		t.Fatalf("the next invocation read %q from /tmp, want the extension's finished marker for %s", marker, first.RequestID)
	}
	if written := time.Unix(0, nanos); !written.After(answered) {
		t.Errorf("the marker was written at %v, before the caller's answer at %v", written, answered)
	}

	// An update evicts the environment: the extension gets SHUTDOWN.
	if _, err := c.UpdateFunctionConfiguration(ctx(t), &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String("with-ext"),
		Environment:  &types.Environment{Variables: map[string]string{"CHANGED": "1"}},
	}); err != nil {
		t.Fatalf("update: %v", err)
	}
	testutil.WaitFor(t, 20*time.Second, func() error {
		out, errOut, err := updraftCLI(t, srv, "logs", "with-ext")
		if err != nil {
			return fmt.Errorf("%v: %s", err, errOut)
		}
		for _, want := range []string{"EXT done " + first.RequestID, "SHUTDOWN spindown"} {
			if !strings.Contains(out, want) {
				return errors.New("logs lack " + want + ":\n" + out)
			}
		}
		return nil
	})
}
