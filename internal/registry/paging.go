package registry

import (
	"encoding/base64"

	"github.com/updraft/updraft/internal/lambdaerr"
)

// maxPageItems is the most items any List call returns per page: Lambda
// caps ListFunctions at 50 whatever MaxItems says, and updraft uses the
// same cap everywhere.
const maxPageItems = 50

// pageSize turns MaxItems into a page size: unset or too large means 50.
func pageSize(maxItems int) int {
	if maxItems <= 0 || maxItems > maxPageItems {
		return maxPageItems
	}
	return maxItems
}

// encodeMarker makes a NextMarker from the sort key of the last item
// returned; clients must treat it as opaque.
func encodeMarker(key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(key))
}

// decodeMarker returns the sort key a Marker stands for ("" for none).
func decodeMarker(marker string) (string, error) {
	if marker == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(marker)
	if err != nil || len(b) == 0 {
		return "", lambdaerr.InvalidParameterValue("Invalid Marker: %s", marker)
	}
	return string(b), nil
}
