package api

import (
	"net/http"
	"strconv"

	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
)

// getLogs streams a function's log records as NDJSON.
func (s *Server) getLogs(w http.ResponseWriter, r *http.Request) error {
	if s.deps.Logs == nil {
		return lambdaerr.ServiceUnavailable("Function logs are not available on this server.")
	}
	name := r.PathValue("name")
	if _, err := s.deps.Registry.GetFunctionConfiguration(r.Context(), name, ""); err != nil {
		return err
	}
	q := r.URL.Query()
	lq := LogQuery{Since: q.Get("since"), Follow: q.Get("follow") == "true" || q.Get("follow") == "1"}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return lambdaerr.InvalidParameterValue("limit must be a number from 1 to 10000.")
		}
		lq.Limit = n
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set(lambdaapi.HeaderRequestID, newRequestID())
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	if err := s.deps.Logs.WriteLogs(r.Context(), flushWriter{w}, name, lq); err != nil && r.Context().Err() == nil {
		s.logger.Warn("log stream ended", "function", name, "err", err)
	}
	return nil
}

// flushWriter flushes after each write so followers see lines at once.
type flushWriter struct{ w http.ResponseWriter }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if fl, ok := f.w.(http.Flusher); ok {
		fl.Flush()
	}
	return n, err
}
