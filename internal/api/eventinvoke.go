package api

import (
	"net/http"
	"strconv"

	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
)

// maxEventInvokeListItems is the model's bound on MaxItems of
// ListFunctionEventInvokeConfigs.
const maxEventInvokeListItems = 50

// eventInvokeConfigRoutes registers the FunctionEventInvokeConfig operations.
// Update is POST on the same path as Put, as the SDK models send it.
func (s *Server) eventInvokeConfigRoutes(h route) {
	const path = "/2019-09-25/functions/{name}/event-invoke-config"
	h("PUT "+path, s.putEventInvokeConfig)
	h("POST "+path, s.updateEventInvokeConfig)
	h("GET "+path, s.getEventInvokeConfig)
	h("DELETE "+path, s.deleteEventInvokeConfig)
	h("GET "+path+"/list", s.listEventInvokeConfigs)
}

func (s *Server) putEventInvokeConfig(w http.ResponseWriter, r *http.Request) error {
	var req lambdaapi.EventInvokeConfigRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	out, err := s.deps.Registry.PutFunctionEventInvokeConfig(r.Context(), r.PathValue("name"), r.URL.Query().Get("Qualifier"), &req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) updateEventInvokeConfig(w http.ResponseWriter, r *http.Request) error {
	var req lambdaapi.EventInvokeConfigRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	out, err := s.deps.Registry.UpdateFunctionEventInvokeConfig(r.Context(), r.PathValue("name"), r.URL.Query().Get("Qualifier"), &req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getEventInvokeConfig(w http.ResponseWriter, r *http.Request) error {
	out, err := s.deps.Registry.GetFunctionEventInvokeConfig(r.Context(), r.PathValue("name"), r.URL.Query().Get("Qualifier"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) deleteEventInvokeConfig(w http.ResponseWriter, r *http.Request) error {
	if err := s.deps.Registry.DeleteFunctionEventInvokeConfig(r.Context(), r.PathValue("name"), r.URL.Query().Get("Qualifier")); err != nil {
		return err
	}
	w.Header().Set(lambdaapi.HeaderRequestID, newRequestID())
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listEventInvokeConfigs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	n := 0
	if v := q.Get("MaxItems"); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		switch {
		case err != nil:
			return lambdaerr.Validation("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must be an integer", v)
		case n < 1:
			return lambdaerr.Validation("1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1", n)
		case n > maxEventInvokeListItems:
			return lambdaerr.Validation("1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to %d", n, maxEventInvokeListItems)
		}
	}
	out, err := s.deps.Registry.ListFunctionEventInvokeConfigs(r.Context(), r.PathValue("name"), q.Get("Marker"), n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
