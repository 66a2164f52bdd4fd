package esm

import (
	"slices"
	"testing"
)

func TestParseBatchItemFailures(t *testing.T) {
	ids := map[string]bool{"a": true, "b": true, "c": true}
	for _, tc := range []struct {
		name    string
		payload string
		failed  []string
		ok      bool
	}{
		{"empty response", "", nil, true},
		{"null response", "null", nil, true},
		{"whitespace", " \n", nil, true},
		{"empty object", "{}", nil, true},
		{"null list", `{"batchItemFailures":null}`, nil, true},
		{"empty list", `{"batchItemFailures":[]}`, nil, true},
		{"one failure", `{"batchItemFailures":[{"itemIdentifier":"b"}]}`, []string{"b"}, true},
		{"two failures, one repeated", `{"batchItemFailures":[{"itemIdentifier":"c"},{"itemIdentifier":"a"},{"itemIdentifier":"c"}]}`, []string{"c", "a"}, true},
		{"other members ignored", `{"batchItemFailures":[{"itemIdentifier":"a","why":1}],"x":2}`, []string{"a"}, true},
		{"unknown id", `{"batchItemFailures":[{"itemIdentifier":"z"}]}`, nil, false},
		{"empty id", `{"batchItemFailures":[{"itemIdentifier":""}]}`, nil, false},
		{"null id", `{"batchItemFailures":[{"itemIdentifier":null}]}`, nil, false},
		{"bad key name", `{"batchItemFailures":[{"itemId":"a"}]}`, nil, false},
		{"null item", `{"batchItemFailures":[null]}`, nil, false},
		{"id not a string", `{"batchItemFailures":[{"itemIdentifier":7}]}`, nil, false},
		{"list not a list", `{"batchItemFailures":"a"}`, nil, false},
		{"not JSON", `{"batchItemFailures":`, nil, false},
		{"a string", `"ok"`, nil, false},
		{"an array", `[]`, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			failed, ok := ParseBatchItemFailures([]byte(tc.payload), ids)
			if ok != tc.ok || !slices.Equal(failed, tc.failed) {
				t.Errorf("ParseBatchItemFailures(%s) = %q, %v; want %q, %v", tc.payload, failed, ok, tc.failed, tc.ok)
			}
		})
	}
}

// FuzzParseBatchItemFailures: function output is outside input; the
// parser must not panic and may only name messages of the batch, once.
func FuzzParseBatchItemFailures(f *testing.F) {
	for _, s := range []string{"", "null", `{"batchItemFailures":[{"itemIdentifier":"a"}]}`, `{"batchItemFailures":[null]}`, `[1]`, `{"batchItemFailures":[{"itemIdentifier":"b"},{"itemIdentifier":"b"}]}`} {
		f.Add([]byte(s))
	}
	ids := map[string]bool{"a": true, "b": true}
	f.Fuzz(func(t *testing.T, payload []byte) {
		failed, ok := ParseBatchItemFailures(payload, ids)
		if !ok && failed != nil {
			t.Fatalf("invalid response with failures %q", failed)
		}
		seen := map[string]bool{}
		for _, id := range failed {
			if !ids[id] || seen[id] {
				t.Fatalf("failures %q name an id outside the batch or twice", failed)
			}
			seen[id] = true
		}
	})
}
