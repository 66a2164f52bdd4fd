package awsquery

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/google/uuid"
)

// Members is a list in the query protocol's XML: <Name><member>…</member></Name>.
// Unlike a `xml:"Name>member"` slice it writes <Name></Name> when empty,
// as AWS does, so clients see an empty list rather than none.
type Members[T any] struct {
	Member []T `xml:"member"`
}

// Action serves one operation: it returns the operation's result (a
// struct whose fields are the members of <ActionResult>, or nil for an
// operation without one) or an error.
type Action func(ctx context.Context, r *Request) (result any, err error)

// Service serves one query-protocol service: it parses the request,
// dispatches on Action and writes the answer or the error document.
type Service struct {
	// Namespace is the xmlns of every answer
	// ("https://iam.amazonaws.com/doc/2010-05-08/").
	Namespace string
	// Version is the API version requests must name ("2010-05-08").
	Version string
	// Actions maps an action name to its implementation.
	Actions map[string]Action
	// Logger gets internal errors (never nil).
	Logger *slog.Logger
}

// ServeHTTP implements http.Handler.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := uuid.NewString()
	req, err := Parse(r)
	if err != nil {
		s.writeError(w, r, reqID, "", err)
		return
	}
	act := s.Actions[req.Action]
	if act == nil || req.Version != s.Version {
		s.writeError(w, r, reqID, req.Action, Errorf(http.StatusBadRequest, "InvalidAction",
			"Could not find operation %s for version %s", req.Action, req.Version))
		return
	}
	result, err := act(r.Context(), req)
	if err != nil {
		s.writeError(w, r, reqID, req.Action, err)
		return
	}
	body, err := Marshal(s.Namespace, req.Action, reqID, result)
	if err != nil {
		s.writeError(w, r, reqID, req.Action, err)
		return
	}
	writeXML(w, http.StatusOK, reqID, body)
}

// Marshal renders the success document of action.
func Marshal(namespace, action, requestID string, result any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`<` + action + `Response xmlns="` + namespace + `">`)
	if result != nil {
		enc := xml.NewEncoder(&b)
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}}); err != nil {
			return nil, err
		}
		if err := enc.Close(); err != nil {
			return nil, err
		}
	}
	b.WriteString(`<ResponseMetadata><RequestId>` + requestID + `</RequestId></ResponseMetadata></` + action + `Response>`)
	return b.Bytes(), nil
}

// MarshalError renders the error document of e.
func MarshalError(namespace, requestID string, e *Error) []byte {
	var b bytes.Buffer
	b.WriteString(`<ErrorResponse xmlns="` + namespace + `"><Error><Type>` + e.Type() + `</Type><Code>`)
	_ = xml.EscapeText(&b, []byte(e.Code))
	b.WriteString(`</Code><Message>`)
	_ = xml.EscapeText(&b, []byte(e.Message))
	b.WriteString(`</Message></Error><RequestId>` + requestID + `</RequestId></ErrorResponse>`)
	return b.Bytes()
}

// writeError renders err; an error that is not an *Error is logged with
// an error id and answered as ServiceFailure 500 without its text.
func (s *Service) writeError(w http.ResponseWriter, r *http.Request, reqID, action string, err error) {
	e, ok := As(err)
	if !ok {
		var id [6]byte
		_, _ = rand.Read(id[:])
		eid := hex.EncodeToString(id[:])
		s.Logger.Error("internal error", "error_id", eid, "action", action, "err", err)
		e = Errorf(http.StatusInternalServerError, "ServiceFailure", "An internal error occurred (error id %s).", eid)
	} else if e.Status >= 500 {
		s.Logger.Warn("service error", "action", action, "err", err)
	}
	writeXML(w, e.Status, reqID, MarshalError(s.Namespace, reqID, e))
}

func writeXML(w http.ResponseWriter, status int, reqID string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Amzn-RequestId", reqID)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
