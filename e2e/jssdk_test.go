package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/testutil"
)

// jsSDKDir returns a directory holding the AWS SDK for JavaScript v3
// clients of testdata/jssdk/package.json, installing them from the npm
// registry on first use into the user's cache
// (~/.cache/updraft-jssdk/<digest of package.json>; .ci/run installs them
// there beforehand). It skips the test, saying why, when node or npm is
// missing or the registry cannot be reached.
func jsSDKDir(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	pkg, err := os.ReadFile("testdata/jssdk/package.json")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(pkg)
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Skipf("no cache directory for the JavaScript SDK: %v", err)
	}
	dir := filepath.Join(cache, "updraft-jssdk", hex.EncodeToString(sum[:])[:16])
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@aws-sdk", "client-sqs", "package.json")); err != nil {
		if _, err := exec.LookPath("npm"); err != nil {
			t.Skip("npm is not installed, so the AWS SDK for JavaScript v3 cannot be installed")
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "package.json"), pkg, 0o644); err != nil {
			t.Fatal(err)
		}
		c, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(c, "npm", "install", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("npm could not install the AWS SDK for JavaScript v3 (is the npm registry reachable?): %v\n%s", err, out)
		}
	}
	script, err := os.ReadFile("testdata/jssdk/sdk.mjs")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sdk.mjs"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestJavaScriptSDK runs testdata/jssdk/sdk.mjs, the AWS SDK for
// JavaScript v3 as a Node program uses it, against a plain-HTTP server:
// its Kinesis client speaks HTTP/2 (h2c) for every call; it writes and
// reads a stream, subscribes to a shard, sends, receives and deletes a
// queue message (checking the MD5 digests as it does), and writes and
// reads a table item.
func TestJavaScriptSDK(t *testing.T) {
	dir := jsSDKDir(t)
	srv := testutil.StartServer(t, testutil.Options{})
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(c, "node", filepath.Join(dir, "sdk.mjs"), "--subscribe")
	cmd.Env = append(srv.AWSEnv(), "AWS_ENDPOINT_URL="+srv.URL)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node sdk.mjs: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	var got struct {
		Put        []string
		Records    []struct{ Data, Seq, Key string }
		Millis     *int64 `json:"millisBehindLatest"`
		Subscribed []string
		Queue      struct{ SentID, ID, Body, Lang, Count string }
		Table      struct{ ID, N string }
	}
	if err := json.Unmarshal([]byte(stdout.String()), &got); err != nil {
		t.Fatalf("output %q: %v", stdout.String(), err)
	}
	if len(got.Records) != 2 || got.Records[0].Data != "one" || got.Records[1].Data != "two" || got.Records[0].Seq != got.Put[0] ||
		got.Records[0].Key != "k" || got.Millis == nil || *got.Millis != 0 {
		t.Errorf("Kinesis read back %+v", got)
	}
	if strings.Join(got.Subscribed, ",") != "one,two" {
		t.Errorf("SubscribeToShard delivered %q, want one,two; output %s", got.Subscribed, stdout.String())
	}
	if got.Queue.ID != got.Queue.SentID || got.Queue.Body != "hello from node" || got.Queue.Lang != "js" || got.Queue.Count != "1" {
		t.Errorf("SQS read back %+v", got.Queue)
	}
	if got.Table.ID != "a" || got.Table.N != "42" {
		t.Errorf("DynamoDB read back %+v", got.Table)
	}
}
