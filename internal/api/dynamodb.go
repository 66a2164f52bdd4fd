package api

import (
	"errors"
	"net/http"

	"github.com/updraft/updraft/internal/authz"
	"github.com/updraft/updraft/internal/dynamodb"
)

// isDynamoDB reports whether r is a DynamoDB API request.
func isDynamoDB(r *http.Request) bool {
	return dynamodb.IsTarget(r.Header.Get("X-Amz-Target"))
}

// dynamodb routes POST / with a DynamoDB X-Amz-Target to the tables
// service, which authorises each action (dynamodb:PutItem, ...) on its
// table through s.authorize.
func (s *Server) dynamodb(w http.ResponseWriter, r *http.Request) {
	if s.deps.Tables == nil {
		writeAmzJSON(w, http.StatusServiceUnavailable, map[string]string{"__type": "com.amazonaws.dynamodb.v20120810#ServiceUnavailable", "message": "Tables are not available on this server."})
		return
	}
	h := dynamodb.Handler{Service: s.deps.Tables, Authorize: func(r *http.Request, action, resource string) error {
		err := s.authorize(r, action, resource, nil)
		var d *authz.Denied
		if errors.As(err, &d) {
			return &dynamodb.AccessDenied{Message: d.Message}
		}
		return err
	}}
	h.ServeHTTP(w, r)
}
