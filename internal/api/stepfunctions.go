package api

import (
	"net/http"
	"strings"

	"github.com/updraft/updraft/internal/sfn"
)

// isStepFunctions reports whether r is a Step Functions API request.
func isStepFunctions(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("X-Amz-Target"), sfn.TargetPrefix)
}

// stepFunctions serves POST / with a Step Functions X-Amz-Target: the
// sfn package decodes, authorises (through s.authorize, as states:*
// actions) and answers in its own error shape.
func (s *Server) stepFunctions(w http.ResponseWriter, r *http.Request) {
	if s.sfn == nil {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"__type":"ServiceUnavailable","message":"Workflows are not available on this server."}`))
		return
	}
	s.sfn.ServeHTTP(w, r)
}
