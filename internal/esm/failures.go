package esm

import (
	"bytes"
	"encoding/json"
)

// ParseBatchItemFailures reads a function's partial batch response,
// {"batchItemFailures":[{"itemIdentifier":"<messageId>"}, ...]}, for a
// batch whose message ids are ids. It returns the ids to retry and
// whether the response was valid. Following Lambda ("Handling errors for
// an SQS event source", AWS Lambda Developer Guide), an empty or null
// response, a missing or null list and an empty list mean every message
// succeeded (ok, no failures); anything that is not a JSON object, a
// list item whose itemIdentifier is missing, null, empty or not a
// message of the batch, means the whole batch failed (not ok). The
// payload comes from function code: any bytes are safe.
func ParseBatchItemFailures(payload []byte, ids map[string]bool) (failed []string, ok bool) {
	payload = bytes.TrimSpace(payload)
	if len(payload) == 0 || string(payload) == "null" {
		return nil, true
	}
	if payload[0] != '{' {
		return nil, false
	}
	var resp struct {
		BatchItemFailures []*struct {
			ItemIdentifier *string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	if err := json.Unmarshal(payload, &resp); err != nil {
		return nil, false
	}
	seen := make(map[string]bool, len(resp.BatchItemFailures))
	for _, f := range resp.BatchItemFailures {
		if f == nil || f.ItemIdentifier == nil || *f.ItemIdentifier == "" || !ids[*f.ItemIdentifier] {
			return nil, false
		}
		if id := *f.ItemIdentifier; !seen[id] {
			seen[id] = true
			failed = append(failed, id)
		}
	}
	return failed, true
}
