package cli

import (
	"encoding/json"
	"fmt"
	"io"
)

// printWire prints an SDK output value as indented JSON in Lambda's wire
// shape. The SDK's Go structs carry nil pointers for every absent member
// and metadata nobody asked for; re-reading them into the matching
// lambdaapi type (whose JSON names are Lambda's, with omitempty where
// Lambda omits) prints what `aws lambda ...` prints. wire must be a
// pointer to that type.
func printWire(w io.Writer, sdkValue, wire any) error {
	data, err := json.Marshal(sdkValue)
	if err != nil {
		return fmt.Errorf("print result: %w", err)
	}
	if err := json.Unmarshal(data, wire); err != nil {
		return fmt.Errorf("print result: %w", err)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(wire); err != nil {
		return fmt.Errorf("print result: %w", err)
	}
	return nil
}
