package dynamodb

import (
	"log/slog"
	"time"

	"fmt"
	"github.com/updraft/updraft/internal/testutil"
	"github.com/updraft/updraft/internal/testutil/storetest"
	"net/http"
	"sync"
	"testing"
)

// Clients on two nodes (two services on one store) race.
func TestConditionalRaceHasOneWinner(t *testing.T) {
	logger := testutil.Logger(t, slog.LevelInfo)
	st := storetest.Open(t, t.TempDir(), logger)
	nodes := []*Handler{handlerOn(t, st, logger), handlerOn(t, st, logger)}
	h := nodes[0]
	must(t, h, "CreateTable", `{"TableName":"racer","KeySchema":[{"AttributeName":"p","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"p","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}`)
	for round := range 5 {
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, fails := 0, 0
		for c := range 16 {
			wg.Go(func() {
				code, m := call(t, nodes[c%2], "PutItem", fmt.Sprintf(`{"TableName":"racer","Item":{"p":{"S":"k%d"},"c":{"N":"%d"}},"ConditionExpression":"attribute_not_exists(p)"}`, round, c))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case code == 200:
					wins++
				case errType(m) == "ConditionalCheckFailedException":
					fails++
				default:
					t.Errorf("unexpected answer %d %v", code, m)
				}
			})
		}
		wg.Wait()
		if wins != 1 || fails != 15 {
			t.Fatalf("round %d: %d winners, %d refused", round, wins, fails)
		}
	}
	// Counters: 16 concurrent increments all land.
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			must(t, nodes[i%2], "UpdateItem", `{"TableName":"racer","Key":{"p":{"S":"ctr"}},"UpdateExpression":"ADD n :one","ExpressionAttributeValues":{":one":{"N":"1"}}}`)
		})
	}
	wg.Wait()
	m := must(t, h, "GetItem", `{"TableName":"racer","Key":{"p":{"S":"ctr"}},"ConsistentRead":true}`)
	if got := fmt.Sprint(m["Item"]); got != "map[n:map[N:16] p:map[S:ctr]]" {
		t.Fatalf("counter: %s", got)
	}
}

func TestTransactionAcrossTablesIsAtomic(t *testing.T) {
	h := newHandler(t)
	for _, n := range []string{"tta", "ttb"} {
		must(t, h, "CreateTable", `{"TableName":"`+n+`","KeySchema":[{"AttributeName":"p","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"p","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}`)
	}
	must(t, h, "PutItem", `{"TableName":"ttb","Item":{"p":{"S":"x"},"v":{"N":"1"}}}`)
	code, m := call(t, h, "TransactWriteItems", `{"TransactItems":[
		{"Put":{"TableName":"tta","Item":{"p":{"S":"new"}}}},
		{"Update":{"TableName":"ttb","Key":{"p":{"S":"x"}},"UpdateExpression":"SET v = :two","ConditionExpression":"v = :zero","ExpressionAttributeValues":{":two":{"N":"2"},":zero":{"N":"0"}},"ReturnValuesOnConditionCheckFailure":"ALL_OLD"}}]}`)
	reasons, _ := m["CancellationReasons"].([]any)
	if code != 400 || errType(m) != "TransactionCanceledException" || len(reasons) != 2 ||
		fmt.Sprint(reasons[0]) != "map[Code:None]" || fmt.Sprint(reasons[1]) != "map[Code:ConditionalCheckFailed Item:map[p:map[S:x] v:map[N:1]] Message:The conditional request failed]" {
		t.Fatalf("cancelled: %d %v", code, m)
	}
	if m := must(t, h, "GetItem", `{"TableName":"tta","Key":{"p":{"S":"new"}}}`); m["Item"] != nil {
		t.Fatal("a cancelled transaction wrote")
	}
	must(t, h, "TransactWriteItems", `{"TransactItems":[
		{"Put":{"TableName":"tta","Item":{"p":{"S":"new"}}}},
		{"Update":{"TableName":"ttb","Key":{"p":{"S":"x"}},"UpdateExpression":"SET v = :two","ConditionExpression":"v = :one","ExpressionAttributeValues":{":two":{"N":"2"},":one":{"N":"1"}}}}]}`)
	m = must(t, h, "TransactGetItems", `{"TransactItems":[{"Get":{"TableName":"tta","Key":{"p":{"S":"new"}}}},{"Get":{"TableName":"ttb","Key":{"p":{"S":"x"}}}}]}`)
	if got := fmt.Sprint(m["Responses"]); got != "[map[Item:map[p:map[S:new]]] map[Item:map[p:map[S:x] v:map[N:2]]]]" {
		t.Fatalf("after commit: %s", got)
	}
}

func TestQueryPagesInOrder(t *testing.T) {
	h := newHandler(t)
	must(t, h, "CreateTable", `{"TableName":"qqq","KeySchema":[{"AttributeName":"p","KeyType":"HASH"},{"AttributeName":"c","KeyType":"RANGE"}],"AttributeDefinitions":[{"AttributeName":"p","AttributeType":"S"},{"AttributeName":"c","AttributeType":"N"}],"BillingMode":"PAY_PER_REQUEST"}`)
	for i := 25; i >= 1; i-- {
		must(t, h, "PutItem", fmt.Sprintf(`{"TableName":"qqq","Item":{"p":{"S":"a"},"c":{"N":"%d"}}}`, i))
	}
	must(t, h, "PutItem", `{"TableName":"qqq","Item":{"p":{"S":"b"},"c":{"N":"1"}}}`)
	for _, fwd := range []bool{true, false} {
		var got []string
		start := ""
		for pages := 0; pages < 20; pages++ {
			body := fmt.Sprintf(`{"TableName":"qqq","KeyConditionExpression":"p = :a AND c > :n","ExpressionAttributeValues":{":a":{"S":"a"},":n":{"N":"3"}},"Limit":4,"ScanIndexForward":%v%s}`, fwd, start)
			m := must(t, h, "Query", body)
			for _, it := range m["Items"].([]any) {
				got = append(got, fmt.Sprint(it.(map[string]any)["c"].(map[string]any)["N"]))
			}
			lek, ok := m["LastEvaluatedKey"].(map[string]any)
			if !ok {
				break
			}
			start = fmt.Sprintf(`,"ExclusiveStartKey":{"p":{"S":"a"},"c":{"N":"%s"}}`, lek["c"].(map[string]any)["N"])
		}
		want := ""
		for i := 4; i <= 25; i++ {
			j := i
			if !fwd {
				j = 29 - i
			}
			want += fmt.Sprint(j) + " "
		}
		if fmt.Sprint(got) != "["+want[:len(want)-1]+"]" {
			t.Fatalf("forward=%v: %v", fwd, got)
		}
	}
}

func TestScanStopsAtOneMegabyte(t *testing.T) {
	h := newHandler(t)
	must(t, h, "CreateTable", `{"TableName":"big","KeySchema":[{"AttributeName":"p","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"p","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}`)
	blob := make([]byte, 300*1024)
	for i := range blob {
		blob[i] = 'x'
	}
	for i := range 5 {
		must(t, h, "PutItem", fmt.Sprintf(`{"TableName":"big","Item":{"p":{"S":"k%d"},"v":{"S":"%s"}}}`, i, blob))
	}
	seen := 0
	start := ""
	for pages := 1; ; pages++ {
		m := must(t, h, "Scan", `{"TableName":"big","Select":"COUNT"`+start+`}`)
		n := int(m["Count"].(float64))
		seen += n
		lek, ok := m["LastEvaluatedKey"].(map[string]any)
		if !ok {
			if pages != 2 || seen != 5 {
				t.Fatalf("%d pages, %d items", pages, seen)
			}
			return
		}
		if n != 4 {
			t.Fatalf("page %d: %d items of 300 KB, want 4 (the one that reaches 1 MB is the last)", pages, n)
		}
		start = fmt.Sprintf(`,"ExclusiveStartKey":{"p":{"S":"%s"}}`, lek["p"].(map[string]any)["S"])
	}
}

// The IAM checks a request makes: the operation on each table, and for a
// transaction each item's own action (AWS authorises TransactWriteItems
// as PutItem, UpdateItem, DeleteItem and ConditionCheckItem).
func TestGrants(t *testing.T) {
	h := newHandler(t)
	must(t, h, "CreateTable", `{"TableName":"aaa","KeySchema":[{"AttributeName":"p","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"p","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}`)
	var got []string
	h.Authorize = func(_ *http.Request, action, resource string) error {
		got = append(got, action+" "+resource)
		if action == "dynamodb:DeleteItem" {
			return &AccessDenied{Message: "User: u is not authorized to perform: " + action}
		}
		return nil
	}
	arn := "arn:aws:dynamodb:us-east-1:000000000000:table/aaa"
	for _, c := range []struct {
		op, body string
		want     []string
		denied   bool
	}{
		{"GetItem", `{"TableName":"aaa","Key":{"p":{"S":"x"}}}`, []string{"dynamodb:GetItem " + arn}, false},
		{"ListTables", `{}`, []string{"dynamodb:ListTables *"}, false},
		{"TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"aaa","Item":{"p":{"S":"x"}}}},{"ConditionCheck":{"TableName":"aaa","Key":{"p":{"S":"y"}},"ConditionExpression":"attribute_not_exists(p)"}}]}`,
			[]string{"dynamodb:PutItem " + arn, "dynamodb:ConditionCheckItem " + arn}, false},
		{"TransactGetItems", `{"TransactItems":[{"Get":{"TableName":"aaa","Key":{"p":{"S":"x"}}}}]}`, []string{"dynamodb:GetItem " + arn}, false},
		{"DeleteItem", `{"TableName":"aaa","Key":{"p":{"S":"x"}}}`, []string{"dynamodb:DeleteItem " + arn}, true},
	} {
		got = nil
		code, m := call(t, h, c.op, c.body)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: checked %v, want %v", c.op, got, c.want)
		}
		if c.denied != (code == 400 && errType(m) == "AccessDeniedException") {
			t.Errorf("%s: %d %v", c.op, code, m)
		}
	}
}

// A GSI added by UpdateTable on one node covers the items already there,
// and a Query on it works on another node whose index was built before.
func TestGSIAddedLater(t *testing.T) {
	logger := testutil.Logger(t, slog.LevelInfo)
	st := storetest.Open(t, t.TempDir(), logger)
	h, other := handlerOn(t, st, logger), handlerOn(t, st, logger)
	must(t, h, "CreateTable", `{"TableName":"later","KeySchema":[{"AttributeName":"p","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"p","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}`)
	for i := range 4 {
		must(t, h, "PutItem", fmt.Sprintf(`{"TableName":"later","Item":{"p":{"S":"k%d"},"g":{"S":"g%d"}}}`, i, i%2))
	}
	must(t, other, "Scan", `{"TableName":"later"}`) // builds the other node's index
	must(t, h, "UpdateTable", `{"TableName":"later","AttributeDefinitions":[{"AttributeName":"g","AttributeType":"S"}],"GlobalSecondaryIndexUpdates":[{"Create":{"IndexName":"byg","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"KEYS_ONLY"}}}]}`)
	// The other node's table cache follows within a watcher delivery.
	testutil.WaitFor(t, 5*time.Second, func() error {
		code, m := call(t, other, "Query", `{"TableName":"later","IndexName":"byg","KeyConditionExpression":"g = :g","ExpressionAttributeValues":{":g":{"S":"g1"}}}`)
		if got := fmt.Sprint(m["Items"]); code != 200 || got != "[map[g:map[S:g1] p:map[S:k1]] map[g:map[S:g1] p:map[S:k3]]]" {
			return fmt.Errorf("query on the new index from the other node: %d %v", code, m)
		}
		return nil
	})
	code, m := call(t, h, "Query", `{"TableName":"later","IndexName":"byg","ConsistentRead":true,"KeyConditionExpression":"g = :g","ExpressionAttributeValues":{":g":{"S":"g1"}}}`)
	if code != 400 || m["message"] != "Consistent reads are not supported on global secondary indexes" {
		t.Fatalf("consistent read on a GSI: %d %v", code, m)
	}
}

// The longest keys DynamoDB allows (2048-byte hash, 1024-byte range) are
// stored and read back, and stay distinct.
func TestLongestKeys(t *testing.T) {
	h := newHandler(t)
	must(t, h, "CreateTable", `{"TableName":"long","KeySchema":[{"AttributeName":"p","KeyType":"HASH"},{"AttributeName":"c","KeyType":"RANGE"}],"AttributeDefinitions":[{"AttributeName":"p","AttributeType":"S"},{"AttributeName":"c","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}`)
	p, c := repeat('p', 2048), repeat('c', 1023)
	for _, last := range []string{"a", "b"} {
		must(t, h, "PutItem", `{"TableName":"long","Item":{"p":{"S":"`+p+`"},"c":{"S":"`+c+last+`"},"v":{"S":"`+last+`"}}}`)
	}
	m := must(t, h, "GetItem", `{"TableName":"long","Key":{"p":{"S":"`+p+`"},"c":{"S":"`+c+`b"}},"ProjectionExpression":"v"}`)
	if got := fmt.Sprint(m["Item"]); got != "map[v:map[S:b]]" {
		t.Fatalf("GetItem: %s", got)
	}
	m = must(t, h, "Query", `{"TableName":"long","KeyConditionExpression":"p = :p","ExpressionAttributeValues":{":p":{"S":"`+p+`"}},"Select":"COUNT"}`)
	if m["Count"].(float64) != 2 {
		t.Fatalf("Query: %v", m["Count"])
	}
}
