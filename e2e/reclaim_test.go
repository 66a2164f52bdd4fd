package e2e

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/testutil"
)

// reclaimGrace is the --code-prune-grace of these tests.
const reclaimGrace = "2s"

// reclaimWait bounds how long a removal may take: the environment's
// eviction, a sweep, and for zips the grace plus a pass.
const reclaimWait = 30 * time.Second

// testfnZip is the test function with extra files beside its bootstrap,
// so that each call with other extras gives other code.
func testfnZip(t *testing.T, extra map[string][]byte) []byte {
	t.Helper()
	bin, err := os.ReadFile(testutil.BuildBinary(t, "./internal/testutil/testfn", ""))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]testutil.ZipEntry{"bootstrap": {Data: bin, Mode: 0o755}}
	for name, data := range extra {
		files[name] = testutil.ZipEntry{Data: data}
	}
	return testutil.ZipFiles(t, files)
}

// hexSHA turns Lambda's base64 CodeSha256 into the hex name updraft
// stores and unpacks the zip under.
func hexSHA(t *testing.T, b64 *string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(b64))
	if err != nil || len(raw) != 32 {
		t.Fatalf("CodeSha256 %q: %v", aws.ToString(b64), err)
	}
	return hex.EncodeToString(raw)
}

// metricFloat reads one sample of srv's /metrics as a number (-1 when
// absent).
func metricFloat(t *testing.T, srv *testutil.Server, series string) float64 {
	t.Helper()
	v := metricValue(t, srv, series)
	if v == "" {
		return -1
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		t.Fatalf("%s = %q: %v", series, v, err)
	}
	return f
}

// duBytes is the total size of the regular files under dir.
func duBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("size of %s: %v", dir, err)
	}
	return total
}

func waitGone(t *testing.T, path string) {
	t.Helper()
	testutil.WaitFor(t, reclaimWait, func() error {
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s still exists (%v)", path, err)
		}
		return nil
	})
}

// waitPruned waits for the server to say it pruned the zip sha.
func waitPruned(t *testing.T, srv *testutil.Server, sha string) {
	t.Helper()
	testutil.WaitFor(t, reclaimWait, func() error {
		if !pruned(srv, sha) {
			return fmt.Errorf("zip %s not pruned yet", sha)
		}
		return nil
	})
}

func pruned(srv *testutil.Server, sha string) bool {
	for _, line := range strings.Split(srv.Output.String(), "\n") {
		if strings.Contains(line, "code zip pruned") && strings.Contains(line, sha) {
			return true
		}
	}
	return false
}

// TestDeletedFunctionsStorageIsReclaimed deploys a function whose small
// zip unpacks to over 50 MB, with a layer, invokes it and deletes it and
// the layer version: its unpacked code and /opt leave the disk, its zips
// leave the store after the grace, and the metrics follow.
func TestDeletedFunctionsStorageIsReclaimed(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{Args: []string{"--code-prune-grace", reclaimGrace}})
	c := srv.Lambda()
	const big = 50 << 20
	zip := testfnZip(t, map[string][]byte{"zeros.bin": make([]byte, big)})
	t.Logf("zip of %d bytes unpacks to over %d", len(zip), big)
	layer, err := c.PublishLayerVersion(ctx(t), &lambda.PublishLayerVersionInput{
		LayerName: aws.String("zeros"),
		Content:   &types.LayerVersionContentInput{ZipFile: testutil.ZipFiles(t, map[string]testutil.ZipEntry{"data/zeros.bin": {Data: make([]byte, 10<<20)}})},
	})
	if err != nil {
		t.Fatalf("publish layer: %v", err)
	}
	in := &lambda.CreateFunctionInput{
		FunctionName: aws.String("big"),
		Runtime:      types.RuntimeProvidedal2023,
		Handler:      aws.String("bootstrap"),
		Role:         aws.String(testRole),
		Code:         &types.FunctionCode{ZipFile: zip},
		Layers:       []string{aws.ToString(layer.LayerVersionArn)},
	}
	fn, err := c.CreateFunction(ctx(t), in)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	invokeJSON(t, c, "big", map[string]string{"action": "echo"}, nil)

	codeSHA, layerSHA := hexSHA(t, fn.CodeSha256), hexSHA(t, layer.Content.CodeSha256)
	codeDir := filepath.Join(srv.DataDir, "code", codeSHA)
	layerDir := filepath.Join(srv.DataDir, "code", layerSHA)
	optDirs, _ := filepath.Glob(filepath.Join(srv.DataDir, "code", "opt", "*"))
	if len(optDirs) != 1 {
		t.Fatalf("merged layer dirs %v, want one", optDirs)
	}
	if n := duBytes(t, codeDir); n < big {
		t.Fatalf("unpacked code holds %d bytes, want over %d", n, big)
	}
	testutil.WaitFor(t, reclaimWait, func() error {
		if v := metricFloat(t, srv, `updraft_code_bytes{where="unpacked"}`); v < big+2*(10<<20) {
			return fmt.Errorf("updraft_code_bytes{where=unpacked} = %v, want the code, the layer and /opt", v)
		}
		if v := metricFloat(t, srv, `updraft_code_objects{where="store"}`); v != 2 {
			return fmt.Errorf("updraft_code_objects{where=store} = %v, want 2 zips", v)
		}
		return nil
	})

	// Delete while an invocation runs: its environment keeps the files
	// until it is gone.
	running := make(chan error, 1)
	go func() {
		res, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("big"), Payload: []byte(`{"action":"sleep","n":1500}`)})
		if err == nil && (res.FunctionError != nil || string(res.Payload) != `"slept"`) {
			err = fmt.Errorf("function error %v: %s", aws.ToString(res.FunctionError), res.Payload)
		}
		running <- err
	}()
	testutil.WaitFor(t, reclaimWait, func() error {
		if v := metricFloat(t, srv, `lambda_concurrent_executions{function="big"}`); v != 1 {
			return fmt.Errorf("concurrent executions %v", v)
		}
		return nil
	})
	if _, err := c.DeleteFunction(ctx(t), &lambda.DeleteFunctionInput{FunctionName: aws.String("big")}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	time.Sleep(500 * time.Millisecond) // several sweeps (every 500 ms with a 2 s grace), each kicked by the delete
	for _, d := range []string{codeDir, optDirs[0]} {
		if _, err := os.Stat(d); err != nil {
			t.Fatalf("%s went while an invocation ran from it: %v", d, err)
		}
	}
	if err := <-running; err != nil {
		t.Fatalf("the invocation running during the delete: %v", err)
	}
	waitGone(t, codeDir)
	waitGone(t, optDirs[0])
	waitGone(t, layerDir)
	waitPruned(t, srv, codeSHA)
	if pruned(srv, layerSHA) {
		t.Fatal("the layer's zip was pruned while its layer version exists")
	}
	if _, err := c.DeleteLayerVersion(ctx(t), &lambda.DeleteLayerVersionInput{LayerName: aws.String("zeros"), VersionNumber: aws.Int64(layer.Version)}); err != nil {
		t.Fatalf("delete layer version: %v", err)
	}
	waitPruned(t, srv, layerSHA)
	testutil.WaitFor(t, reclaimWait, func() error {
		for series, want := range map[string]float64{
			`updraft_code_bytes{where="unpacked"}`:   0,
			`updraft_code_objects{where="unpacked"}`: 0,
			`updraft_code_bytes{where="store"}`:      0,
			`updraft_code_objects{where="store"}`:    0,
		} {
			if v := metricFloat(t, srv, series); v != want {
				return fmt.Errorf("%s = %v, want %v", series, v, want)
			}
		}
		if v := metricFloat(t, srv, `updraft_code_reclaimed_bytes_total{where="unpacked"}`); v < big+2*(10<<20) {
			return fmt.Errorf("reclaimed unpacked bytes = %v", v)
		}
		return nil
	})
}

// TestSharedCodeSurvivesDeletingOneFunction deletes one of two functions
// deployed from the same zip: the zip and its unpacked directory stay,
// past the grace, for the other, which still runs.
func TestSharedCodeSurvivesDeletingOneFunction(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{Args: []string{"--code-prune-grace", reclaimGrace}})
	c := srv.Lambda()
	shared := testfnZip(t, map[string][]byte{"twin.txt": []byte("twin")})
	a := createTestFunction(t, c, "twin-a", fnOpts{zip: shared})
	createTestFunction(t, c, "twin-b", fnOpts{zip: shared})
	witness := createTestFunction(t, c, "witness", fnOpts{zip: testfnZip(t, map[string][]byte{"witness.txt": []byte("witness")})})
	invokeJSON(t, c, "twin-a", map[string]string{"action": "echo"}, nil)
	sha := hexSHA(t, a.CodeSha256)
	dir := filepath.Join(srv.DataDir, "code", sha)
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("unpacked code: %v", err)
	}

	for _, name := range []string{"twin-a", "witness"} {
		if _, err := c.DeleteFunction(ctx(t), &lambda.DeleteFunctionInput{FunctionName: aws.String(name)}); err != nil {
			t.Fatalf("delete %s: %v", name, err)
		}
	}
	// The witness's zip going proves that the grace passed and the pruner
	// ran; the twins' zip is still referenced by twin-b.
	waitPruned(t, srv, hexSHA(t, witness.CodeSha256))
	if pruned(srv, sha) {
		t.Fatal("the zip twin-b still uses was pruned")
	}
	if v := metricFloat(t, srv, `updraft_code_objects{where="store"}`); v != 1 {
		t.Fatalf("updraft_code_objects{where=store} = %v, want the twins' zip alone", v)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("twin-b's unpacked code was removed: %v", err)
	}
	var got map[string]any
	invokeJSON(t, c, "twin-b", map[string]any{"action": "echo", "echo": "still here"}, &got)
	if fmt.Sprint(got["echo"]) != "still here" {
		t.Fatalf("twin-b answered %v", got)
	}
}

// TestTwoNodesReclaimTheirOwnCode runs a function on two nodes sharing
// one store and deletes it on one: each node removes its own unpacked
// copy, and the shared zip is pruned once, by one of them.
func TestTwoNodesReclaimTheirOwnCode(t *testing.T) {
	t.Parallel()
	a := testutil.StartServer(t, testutil.Options{Args: []string{"--nats-listen", "127.0.0.1:0", "--code-prune-grace", reclaimGrace}})
	b := testutil.StartServer(t, testutil.Options{Args: append(joinArgs(t, a), "--code-prune-grace", reclaimGrace)})
	fn := createTestFunction(t, a.Lambda(), "roaming", fnOpts{zip: testfnZip(t, map[string][]byte{"roaming.txt": []byte("two nodes")})})
	sha := hexSHA(t, fn.CodeSha256)
	testutil.WaitFor(t, 10*time.Second, func() error {
		_, err := b.Lambda().GetFunction(ctx(t), getFunctionInput("roaming"))
		return err
	})
	for _, srv := range []*testutil.Server{a, b} {
		invokeJSON(t, srv.Lambda(), "roaming", map[string]string{"action": "echo"}, nil)
		if _, err := os.Stat(filepath.Join(srv.DataDir, "code", sha)); err != nil {
			t.Fatalf("unpacked code on %s: %v", srv.URL, err)
		}
	}
	if _, err := b.Lambda().DeleteFunction(ctx(t), &lambda.DeleteFunctionInput{FunctionName: aws.String("roaming")}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	for _, srv := range []*testutil.Server{a, b} {
		waitGone(t, filepath.Join(srv.DataDir, "code", sha))
	}
	testutil.WaitFor(t, reclaimWait, func() error {
		if !pruned(a, sha) && !pruned(b, sha) {
			return fmt.Errorf("zip %s not pruned yet", sha)
		}
		return nil
	})
	// Both nodes keep pruning every 500 ms; give the other a few passes.
	time.Sleep(2 * time.Second)
	if pruned(a, sha) && pruned(b, sha) {
		t.Fatalf("both nodes say they pruned %s", sha)
	}
}
