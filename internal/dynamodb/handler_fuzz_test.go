package dynamodb

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
)

// FuzzHandler sends fuzzed bodies to every DynamoDB and DynamoDB Streams
// operation over a real service: the answer is a success or a client
// error in DynamoDB's shape, never a 5xx.
func FuzzHandler(f *testing.F) {
	var names []string
	for n := range ops {
		names = append(names, n)
	}
	for n := range streamOps {
		names = append(names, "Streams."+n)
	}
	sort.Strings(names)
	index := func(op string) uint8 {
		for i, n := range names {
			if n == op {
				return uint8(i)
			}
		}
		f.Fatalf("no op %s", op)
		return 0
	}
	// One scenario of each operation seeds the corpus (all of them would
	// make gathering the baseline coverage take most of a short run).
	seeded := map[string]bool{}
	for _, sc := range scenarios {
		if !seeded[sc.op] {
			seeded[sc.op] = true
			f.Add(index(sc.op), []byte(sc.body))
		}
	}
	f.Add(index("PutItem"), []byte(`{"TableName":"fzz","Item":{"p":{"S":"a"},"n":{"N":"1"}},"ConditionExpression":"attribute_not_exists(p)"}`))
	f.Add(index("Query"), []byte(`{"TableName":"fzz","IndexName":"g","KeyConditionExpression":"g = :g","ExpressionAttributeValues":{":g":{"S":"x"}}}`))
	f.Add(index("Streams.GetRecords"), []byte(`{"ShardIterator":"eyJhIjoiYXJuIn0","Limit":5}`))
	h := newHandler(f)
	must(f, h, "CreateTable", `{"TableName":"fzz","KeySchema":[{"AttributeName":"p","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"p","AttributeType":"S"},{"AttributeName":"g","AttributeType":"S"}],"GlobalSecondaryIndexes":[{"IndexName":"g","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"KEYS_ONLY"}}],"BillingMode":"PAY_PER_REQUEST","StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_IMAGE"}}`)
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		name := names[int(op)%len(names)]
		prefix := TargetPrefix
		if n, ok := strings.CutPrefix(name, "Streams."); ok {
			prefix, name = StreamsTargetPrefix, n
		}
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		r.Header.Set("X-Amz-Target", prefix+name)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %s: %d %s", name, body, w.Code, w.Body)
		}
		var m map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatalf("%s: answer is not JSON: %s", name, w.Body)
		}
		if w.Code != 200 && !strings.HasPrefix(errType2(m), errPrefix) {
			t.Fatalf("%s: error without a DynamoDB type: %s", name, w.Body)
		}
	})
}

func errType2(m map[string]any) string { s, _ := m["__type"].(string); return s }
