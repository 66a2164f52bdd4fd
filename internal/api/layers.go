package api

import (
	"net/http"
	"strconv"

	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
)

// maxLayerListItems is the model's bound on MaxItems of ListLayers and
// ListLayerVersions.
const maxLayerListItems = 50

// layerRoutes registers the layer operations (API version 2018-10-31).
// ListLayers and GetLayerVersionByArn share GET /layers: the SDKs send
// find=LayerVersion for the latter.
func (s *Server) layerRoutes(h route) {
	const base = "/2018-10-31/layers"
	h("GET "+base, s.listLayersOrFind)
	h("GET "+base+"/{$}", s.listLayersOrFind)
	h("POST "+base+"/{layer}/versions", s.publishLayerVersion)
	h("GET "+base+"/{layer}/versions", s.listLayerVersions)
	h("GET "+base+"/{layer}/versions/{version}", s.getLayerVersion)
	h("DELETE "+base+"/{layer}/versions/{version}", s.deleteLayerVersion)
}

func (s *Server) publishLayerVersion(w http.ResponseWriter, r *http.Request) error {
	var req lambdaapi.PublishLayerVersionRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	out, err := s.deps.Registry.PublishLayerVersion(r.Context(), r.PathValue("layer"), &req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// layerVersionNumber parses the VersionNumber path member (a long).
func layerVersionNumber(r *http.Request) (int64, error) {
	v := r.PathValue("version")
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, lambdaerr.Validation("1 validation error detected: Value '%s' at 'versionNumber' failed to satisfy constraint: Member must be a number", v)
	}
	return n, nil
}

func (s *Server) getLayerVersion(w http.ResponseWriter, r *http.Request) error {
	n, err := layerVersionNumber(r)
	if err != nil {
		return err
	}
	out, err := s.deps.Registry.GetLayerVersion(r.Context(), r.PathValue("layer"), n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) deleteLayerVersion(w http.ResponseWriter, r *http.Request) error {
	n, err := layerVersionNumber(r)
	if err != nil {
		return err
	}
	if err := s.deps.Registry.DeleteLayerVersion(r.Context(), r.PathValue("layer"), n); err != nil {
		return err
	}
	w.Header().Set(lambdaapi.HeaderRequestID, newRequestID())
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listLayersOrFind serves ListLayers, or GetLayerVersionByArn when the
// query has find=LayerVersion.
func (s *Server) listLayersOrFind(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Has("find") {
		if f := q.Get("find"); f != "LayerVersion" {
			return lambdaerr.Validation("1 validation error detected: Value '%s' at 'find' failed to satisfy constraint: Member must satisfy enum value set: [LayerVersion]", f)
		}
		out, err := s.deps.Registry.GetLayerVersionByArn(r.Context(), q.Get("Arn"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	n, err := layerMaxItems(r)
	if err != nil {
		return err
	}
	out, err := s.deps.Registry.ListLayers(r.Context(), q.Get("CompatibleRuntime"), q.Get("CompatibleArchitecture"), q.Get("Marker"), n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) listLayerVersions(w http.ResponseWriter, r *http.Request) error {
	n, err := layerMaxItems(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	out, err := s.deps.Registry.ListLayerVersions(r.Context(), r.PathValue("layer"), q.Get("CompatibleRuntime"), q.Get("CompatibleArchitecture"), q.Get("Marker"), n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// layerMaxItems parses MaxItems (1–50) of the layer List operations.
func layerMaxItems(r *http.Request) (int, error) {
	v := r.URL.Query().Get("MaxItems")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		return 0, lambdaerr.Validation("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must be an integer", v)
	case n < 1:
		return 0, lambdaerr.Validation("1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1", n)
	case n > maxLayerListItems:
		return 0, lambdaerr.Validation("1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to %d", n, maxLayerListItems)
	}
	return n, nil
}
