package api

import (
	"net/http"

	"github.com/updraft/updraft/internal/lambdaapi"
)

func (s *Server) createAlias(w http.ResponseWriter, r *http.Request) error {
	var req lambdaapi.CreateAliasRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	out, err := s.deps.Registry.CreateAlias(r.Context(), r.PathValue("name"), &req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) getAlias(w http.ResponseWriter, r *http.Request) error {
	out, err := s.deps.Registry.GetAlias(r.Context(), r.PathValue("name"), r.PathValue("alias"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) updateAlias(w http.ResponseWriter, r *http.Request) error {
	var req lambdaapi.UpdateAliasRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	out, err := s.deps.Registry.UpdateAlias(r.Context(), r.PathValue("name"), r.PathValue("alias"), &req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) deleteAlias(w http.ResponseWriter, r *http.Request) error {
	if err := s.deps.Registry.DeleteAlias(r.Context(), r.PathValue("name"), r.PathValue("alias")); err != nil {
		return err
	}
	s.forgetPolicies(r, r.PathValue("name"), r.PathValue("alias"))
	w.Header().Set(lambdaapi.HeaderRequestID, newRequestID())
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listAliases(w http.ResponseWriter, r *http.Request) error {
	n, err := maxItems(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	out, err := s.deps.Registry.ListAliases(r.Context(), r.PathValue("name"), q.Get("FunctionVersion"), q.Get("Marker"), n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
