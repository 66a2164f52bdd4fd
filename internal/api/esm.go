package api

import (
	"net/http"
	"strconv"

	"github.com/updraft/updraft/internal/esm"
	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
)

// esmRoutes registers the event source mapping operations. Create,
// Update and Delete answer 202, as Lambda does; List and Create accept
// the trailing slash the docs show.
func (s *Server) esmRoutes(h route) {
	const path = "/2015-03-31/event-source-mappings"
	h("POST "+path, s.createEventSourceMapping)
	h("POST "+path+"/{$}", s.createEventSourceMapping)
	h("GET "+path, s.listEventSourceMappings)
	h("GET "+path+"/{$}", s.listEventSourceMappings)
	h("GET "+path+"/{uuid}", s.getEventSourceMapping)
	h("PUT "+path+"/{uuid}", s.updateEventSourceMapping)
	h("DELETE "+path+"/{uuid}", s.deleteEventSourceMapping)
}

// mappings returns the event source mapping service or the error that
// says there is none.
func (s *Server) mappings() (*esm.Service, error) {
	if s.deps.ESM == nil {
		return nil, lambdaerr.ServiceUnavailable("Event source mappings are not available on this server.")
	}
	return s.deps.ESM, nil
}

func (s *Server) createEventSourceMapping(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.mappings()
	if err != nil {
		return err
	}
	var req lambdaapi.CreateEventSourceMappingRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	out, err := svc.Create(r.Context(), &req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, out)
	return nil
}

func (s *Server) getEventSourceMapping(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.mappings()
	if err != nil {
		return err
	}
	out, err := svc.Get(r.Context(), r.PathValue("uuid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) updateEventSourceMapping(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.mappings()
	if err != nil {
		return err
	}
	var req lambdaapi.UpdateEventSourceMappingRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	out, err := svc.Update(r.Context(), r.PathValue("uuid"), &req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, out)
	return nil
}

func (s *Server) deleteEventSourceMapping(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.mappings()
	if err != nil {
		return err
	}
	out, err := svc.Delete(r.Context(), r.PathValue("uuid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, out)
	return nil
}

func (s *Server) listEventSourceMappings(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.mappings()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := esm.ListFilter{FunctionName: q.Get("FunctionName"), EventSourceArn: q.Get("EventSourceArn"), Marker: q.Get("Marker")}
	if v := q.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return lambdaerr.Validation("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must be an integer", sanitize(v))
		}
		if n < 1 {
			return lambdaerr.Validation("1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1", n)
		}
		f.MaxItems = n
	}
	out, err := svc.List(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
