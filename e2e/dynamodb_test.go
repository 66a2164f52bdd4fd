package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/updraft/updraft/internal/testutil"
)

// TestDynamoDBWithAWSCLI drives the DynamoDB-compatible tables with
// `aws dynamodb`, adding only --endpoint-url.
func TestDynamoDBWithAWSCLI(t *testing.T) {
	requireAWSCLI(t)
	srv := testutil.StartServer(t, testutil.Options{Args: []string{"--table-ttl-interval", "1s"}})
	ddb := func(wantFail bool, args ...string) (string, string) {
		t.Helper()
		return awsCLI(t, srv, wantFail, append([]string{"dynamodb"}, args...)...)
	}
	jsonOf := func(s string) map[string]any {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("%v: %s", err, s)
		}
		return m
	}

	out, _ := ddb(false, "create-table", "--table-name", "Jobs",
		"--attribute-definitions", "AttributeName=pk,AttributeType=S", "AttributeName=sk,AttributeType=N", "AttributeName=status,AttributeType=S",
		"--key-schema", "AttributeName=pk,KeyType=HASH", "AttributeName=sk,KeyType=RANGE",
		"--global-secondary-indexes", `[{"IndexName":"by-status","KeySchema":[{"AttributeName":"status","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"Projection":{"ProjectionType":"ALL"}}]`,
		"--billing-mode", "PAY_PER_REQUEST")
	if !strings.Contains(out, `"TableStatus": "CREATING"`) || !strings.Contains(out, "arn:aws:dynamodb:") {
		t.Fatalf("create-table: %s", out)
	}
	ddb(false, "wait", "table-exists", "--table-name", "Jobs")
	_, errOut := ddb(true, "create-table", "--table-name", "Jobs", "--attribute-definitions", "AttributeName=pk,AttributeType=S",
		"--key-schema", "AttributeName=pk,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST")
	if !strings.Contains(errOut, "ResourceInUseException") {
		t.Fatalf("duplicate create-table: %s", errOut)
	}
	out, _ = ddb(false, "list-tables")
	if !strings.Contains(out, `"Jobs"`) {
		t.Fatalf("list-tables: %s", out)
	}

	db := dynamoClient(srv)
	// Each subtest works on keys (or a table) of its own, so they run in
	// parallel; the table is deleted once all are done.
	t.Cleanup(func() {
		ddb(false, "delete-table", "--table-name", "Jobs")
		_, errOut := ddb(true, "describe-table", "--table-name", "Jobs")
		if !strings.Contains(errOut, "ResourceNotFoundException") {
			t.Errorf("describe-table after delete: %s", errOut)
		}
	})
	t.Run("put get update with conditions", func(t *testing.T) {
		t.Parallel()
		ddb(false, "put-item", "--table-name", "Jobs", "--item", `{"pk":{"S":"a"},"sk":{"N":"1"},"status":{"S":"new"},"n":{"N":"12345678901234567890123456789012345678"}}`,
			"--condition-expression", "attribute_not_exists(pk)")
		_, errOut := ddb(true, "put-item", "--table-name", "Jobs", "--item", `{"pk":{"S":"a"},"sk":{"N":"1"}}`,
			"--condition-expression", "attribute_not_exists(pk)")
		if !strings.Contains(errOut, "ConditionalCheckFailedException") {
			t.Fatalf("failed condition: %s", errOut)
		}
		out, _ := ddb(false, "update-item", "--table-name", "Jobs", "--key", `{"pk":{"S":"a"},"sk":{"N":"1"}}`,
			"--update-expression", "SET #s = :done, tags = list_append(if_not_exists(tags, :empty), :t) ADD n :one",
			"--condition-expression", "#s = :new", "--expression-attribute-names", `{"#s":"status"}`,
			"--expression-attribute-values", `{":done":{"S":"done"},":new":{"S":"new"},":empty":{"L":[]},":t":{"L":[{"S":"x"}]},":one":{"N":"-1"}}`,
			"--return-values", "ALL_NEW")
		attrs := jsonOf(out)["Attributes"].(map[string]any)
		if fmt.Sprint(attrs["n"]) != "map[N:12345678901234567890123456789012345677]" || fmt.Sprint(attrs["status"]) != "map[S:done]" {
			t.Fatalf("update-item: %s", out)
		}
		_, errOut = ddb(true, "update-item", "--table-name", "Jobs", "--key", `{"pk":{"S":"a"},"sk":{"N":"1"}}`,
			"--update-expression", "SET #s = :x", "--condition-expression", "#s = :x",
			"--expression-attribute-names", `{"#s":"status"}`, "--expression-attribute-values", `{":x":{"S":"new"}}`,
			"--return-values-on-condition-check-failure", "ALL_OLD")
		if !strings.Contains(errOut, "ConditionalCheckFailedException") {
			t.Fatalf("failed update condition: %s", errOut)
		}
		_, errOut = ddb(true, "update-item", "--table-name", "Jobs", "--key", `{"pk":{"S":"a"},"sk":{"N":"1"}}`,
			"--update-expression", "SET status = :x", "--expression-attribute-values", `{":x":{"S":"new"}}`)
		if !strings.Contains(errOut, "Attribute name is a reserved keyword; reserved keyword: status") {
			t.Fatalf("reserved word: %s", errOut)
		}
		out, _ = ddb(false, "get-item", "--table-name", "Jobs", "--key", `{"pk":{"S":"a"},"sk":{"N":"1"}}`, "--consistent-read",
			"--projection-expression", "tags, #s", "--expression-attribute-names", `{"#s":"status"}`)
		if got := jsonOf(out)["Item"]; fmt.Sprint(got) != "map[status:map[S:done] tags:map[L:[map[S:x]]]]" {
			t.Fatalf("get-item: %s", out)
		}
	})

	t.Run("query on a GSI", func(t *testing.T) {
		t.Parallel()
		var puts []string
		for i := 2; i <= 6; i++ {
			st := "new"
			if i%2 == 0 {
				st = "done"
			}
			puts = append(puts, fmt.Sprintf(`{"PutRequest":{"Item":{"pk":{"S":"q%d"},"sk":{"N":"%d"},"status":{"S":"%s"}}}}`, i, i, st))
		}
		out, _ := ddb(false, "batch-write-item", "--request-items", `{"Jobs":[`+strings.Join(puts, ",")+`]}`)
		if !strings.Contains(out, `"UnprocessedItems": {}`) {
			t.Fatalf("batch-write-item: %s", out)
		}
		out, _ = ddb(false, "query", "--table-name", "Jobs", "--index-name", "by-status",
			"--key-condition-expression", "#s = :d AND sk > :one", "--expression-attribute-names", `{"#s":"status"}`,
			"--expression-attribute-values", `{":d":{"S":"done"},":one":{"N":"1"}}`, "--no-scan-index-forward")
		var res struct {
			Count int
			Items []map[string]map[string]string
		}
		_ = json.Unmarshal([]byte(out), &res)
		var sks []string
		for _, it := range res.Items {
			sks = append(sks, it["sk"]["N"])
		}
		if res.Count != 3 || strings.Join(sks, ",") != "6,4,2" {
			t.Fatalf("query: %s", out)
		}
	})

	t.Run("transaction with a failing condition writes nothing", func(t *testing.T) {
		t.Parallel()
		_, errOut := ddb(true, "transact-write-items", "--transact-items", `[
			{"Put":{"TableName":"Jobs","Item":{"pk":{"S":"tx"},"sk":{"N":"1"}}}},
			{"Update":{"TableName":"Jobs","Key":{"pk":{"S":"tx2"},"sk":{"N":"1"}},"UpdateExpression":"SET v = :v","ExpressionAttributeValues":{":v":{"S":"x"}}}},
			{"ConditionCheck":{"TableName":"Jobs","Key":{"pk":{"S":"tx3"},"sk":{"N":"1"}},"ConditionExpression":"attribute_exists(pk)"}}]`)
		if !strings.Contains(errOut, "TransactionCanceledException") || !strings.Contains(errOut, "[None, None, ConditionalCheckFailed]") {
			t.Fatalf("transact-write-items: %s", errOut)
		}
		out, _ := ddb(false, "get-item", "--table-name", "Jobs", "--key", `{"pk":{"S":"tx"},"sk":{"N":"1"}}`)
		if strings.TrimSpace(out) != "" && strings.Contains(out, "Item") {
			t.Fatalf("a cancelled transaction wrote: %s", out)
		}
		ddb(false, "transact-write-items", "--transact-items", `[
			{"Put":{"TableName":"Jobs","Item":{"pk":{"S":"tx"},"sk":{"N":"1"}}}},
			{"Update":{"TableName":"Jobs","Key":{"pk":{"S":"tx2"},"sk":{"N":"1"}},"UpdateExpression":"SET v = :v","ExpressionAttributeValues":{":v":{"S":"x"}}}}]`)
		out, _ = ddb(false, "transact-get-items", "--transact-items", `[{"Get":{"TableName":"Jobs","Key":{"pk":{"S":"tx"},"sk":{"N":"1"}}}},{"Get":{"TableName":"Jobs","Key":{"pk":{"S":"tx2"},"sk":{"N":"1"}},"ProjectionExpression":"v"}}]`)
		if !strings.Contains(out, `"tx"`) || !strings.Contains(out, `"x"`) {
			t.Fatalf("transact-get-items: %s", out)
		}
	})

	t.Run("scan with segments", func(t *testing.T) {
		t.Parallel()
		sdkTable(t, db, "Scanned")
		for i := range 20 {
			sdkPut(t, db, "Scanned", map[string]string{"pk": fmt.Sprintf("s%d", i)})
		}
		seen := map[string]int{}
		for seg := 0; seg < 3; seg++ {
			out, _ := ddb(false, "scan", "--table-name", "Scanned", "--segment", fmt.Sprint(seg), "--total-segments", "3")
			var res struct {
				Items []map[string]map[string]string
			}
			_ = json.Unmarshal([]byte(out), &res)
			for _, it := range res.Items {
				seen[it["pk"]["S"]]++
			}
		}
		if len(seen) != 20 {
			t.Fatalf("segments saw %d of 20 items: %v", len(seen), seen)
		}
		for k, n := range seen {
			if n != 1 {
				t.Fatalf("%s seen %d times", k, n)
			}
		}
	})

	t.Run("conditional write race has one winner", func(t *testing.T) {
		t.Parallel()
		for round := range 2 {
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins := 0
			for c := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := runAWS(srv, "dynamodb", "put-item", "--table-name", "Jobs",
						"--item", fmt.Sprintf(`{"pk":{"S":"race%d"},"sk":{"N":"0"},"client":{"N":"%d"}}`, round, c),
						"--condition-expression", "attribute_not_exists(pk)")
					if err == nil {
						mu.Lock()
						wins++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if wins != 1 {
				t.Fatalf("round %d: %d winners", round, wins)
			}
		}
	})

	t.Run("IAM policies authorise dynamodb actions on the table", func(t *testing.T) {
		t.Parallel()
		root := cliKey{id: srv.AccessKeyID, secret: srv.SecretAccessKey}
		reader := createUserKey(t, srv, root, "reader")
		mustCLI(t, srv, root, true, "iam", "put-user-policy", "--user-name", "reader", "--policy-name", "read-jobs",
			"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:Query"],"Resource":"arn:aws:dynamodb:*:*:table/Jobs*"}]}`)
		mustCLI(t, srv, reader, true, "dynamodb", "get-item", "--table-name", "Jobs", "--key", `{"pk":{"S":"none"},"sk":{"N":"0"}}`)
		denied := mustCLI(t, srv, reader, false, "dynamodb", "put-item", "--table-name", "Jobs", "--item", `{"pk":{"S":"iam"},"sk":{"N":"0"}}`)
		want := "User: arn:aws:iam::000000000000:user/reader is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/Jobs"
		if !strings.Contains(denied, "AccessDeniedException") || !strings.Contains(denied, want) {
			t.Fatalf("put-item as reader: %s\nwant AccessDeniedException: %s", denied, want)
		}
	})

	t.Run("TTL expiry", func(t *testing.T) {
		t.Parallel()
		sdkTable(t, db, "Expiring")
		ddb(false, "update-time-to-live", "--table-name", "Expiring", "--time-to-live-specification", "Enabled=true,AttributeName=expires")
		out, _ := ddb(false, "describe-time-to-live", "--table-name", "Expiring")
		if !strings.Contains(out, "ENABLED") {
			t.Fatalf("describe-time-to-live: %s", out)
		}
		past := time.Now().Add(-time.Minute).Unix()
		ddb(false, "put-item", "--table-name", "Expiring", "--item", fmt.Sprintf(`{"pk":{"S":"old"},"expires":{"N":"%d"}}`, past))
		sdkPut(t, db, "Expiring", map[string]string{"pk": "fresh", "expires": fmt.Sprint(past + 3600)})
		testutil.WaitFor(t, 20*time.Second, func() error {
			if sdkGet(t, db, "Expiring", "old") != nil {
				return fmt.Errorf("the expired item is still there")
			}
			return nil
		})
		out, _ = ddb(false, "get-item", "--table-name", "Expiring", "--key", `{"pk":{"S":"fresh"}}`)
		if !strings.Contains(out, "fresh") {
			t.Fatalf("an unexpired item went: %s", out)
		}
	})
}

// runAWS runs the aws CLI from any goroutine and reports whether it
// succeeded.
func runAWS(srv *testutil.Server, args ...string) error {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(c, "aws", append([]string{"--endpoint-url", srv.URL, "--region", "us-east-1", "--output", "json"}, args...)...)
	cmd.Env = srv.AWSEnv()
	return cmd.Run()
}

// sdkTable creates a PAY_PER_REQUEST table keyed by the string pk with
// aws-sdk-go-v2 (quicker than the CLI for set-up).
func sdkTable(t *testing.T, db *dynamodb.Client, name string) {
	t.Helper()
	if _, err := db.CreateTable(ctx(t), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
}

// sdkPut puts an item of string attributes ("expires" as a number).
func sdkPut(t *testing.T, db *dynamodb.Client, table string, attrs map[string]string) {
	t.Helper()
	item := map[string]ddbtypes.AttributeValue{}
	for k, v := range attrs {
		item[k] = &ddbtypes.AttributeValueMemberS{Value: v}
		if k == "expires" {
			item[k] = &ddbtypes.AttributeValueMemberN{Value: v}
		}
	}
	if _, err := db.PutItem(ctx(t), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatal(err)
	}
}

// sdkGet reads an item by pk; nil when absent.
func sdkGet(t *testing.T, db *dynamodb.Client, table, pk string) map[string]ddbtypes.AttributeValue {
	t.Helper()
	out, err := db.GetItem(ctx(t), &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: pk}}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}
