package api

import (
	"io"
	"net/http"
	"strconv"

	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
)

func (s *Server) createFunction(w http.ResponseWriter, r *http.Request) error {
	var req lambdaapi.CreateFunctionRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := s.authorizeDenied(r, "lambda:CreateFunction", s.functionARN(req.FunctionName, "")); err != nil {
		return err
	}
	if err := s.checkRole(r, req.Role); err != nil {
		return err
	}
	out, err := s.deps.Registry.CreateFunction(r.Context(), &req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// maxItems parses MaxItems (1–10000) with Lambda's message.
func maxItems(r *http.Request) (int, error) {
	v := r.URL.Query().Get("MaxItems")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 10000 {
		return 0, lambdaerr.InvalidParameterValue("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000", v)
	}
	return n, nil
}

func (s *Server) listFunctions(w http.ResponseWriter, r *http.Request) error {
	n, err := maxItems(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	all := false
	switch q.Get("FunctionVersion") {
	case "":
	case "ALL":
		all = true
	default:
		// A ValidationException, as Lambda answers (recorded:
		// test_list_functions, list_functions_invalid_functionversion).
		return lambdaerr.Validation("1 validation error detected: Value '%s' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]", q.Get("FunctionVersion"))
	}
	out, err := s.deps.Registry.ListFunctions(r.Context(), q.Get("Marker"), n, all)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getFunction(w http.ResponseWriter, r *http.Request) error {
	out, err := s.deps.Registry.GetFunction(r.Context(), r.PathValue("name"), r.URL.Query().Get("Qualifier"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getFunctionConfiguration(w http.ResponseWriter, r *http.Request) error {
	out, err := s.deps.Registry.GetFunctionConfiguration(r.Context(), r.PathValue("name"), r.URL.Query().Get("Qualifier"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) deleteFunction(w http.ResponseWriter, r *http.Request) error {
	if err := s.deps.Registry.DeleteFunction(r.Context(), r.PathValue("name"), r.URL.Query().Get("Qualifier")); err != nil {
		return err
	}
	s.forgetPolicies(r, r.PathValue("name"), r.URL.Query().Get("Qualifier"))
	w.Header().Set(lambdaapi.HeaderRequestID, newRequestID())
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) updateFunctionConfiguration(w http.ResponseWriter, r *http.Request) error {
	var req lambdaapi.UpdateFunctionConfigurationRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Role != nil {
		if err := s.checkRole(r, *req.Role); err != nil {
			return err
		}
	}
	out, err := s.deps.Registry.UpdateFunctionConfiguration(r.Context(), r.PathValue("name"), &req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) updateFunctionCode(w http.ResponseWriter, r *http.Request) error {
	var req lambdaapi.UpdateFunctionCodeRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	out, err := s.deps.Registry.UpdateFunctionCode(r.Context(), r.PathValue("name"), &req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) publishVersion(w http.ResponseWriter, r *http.Request) error {
	var req lambdaapi.PublishVersionRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	out, err := s.deps.Registry.PublishVersion(r.Context(), r.PathValue("name"), &req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) listVersions(w http.ResponseWriter, r *http.Request) error {
	n, err := maxItems(r)
	if err != nil {
		return err
	}
	out, err := s.deps.Registry.ListVersionsByFunction(r.Context(), r.PathValue("name"), r.URL.Query().Get("Marker"), n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) putConcurrency(w http.ResponseWriter, r *http.Request) error {
	var req lambdaapi.PutFunctionConcurrencyRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.ReservedConcurrentExecutions == nil {
		return lambdaerr.InvalidParameterValue("1 validation error detected: Value null at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must not be null")
	}
	n, err := s.deps.Registry.PutFunctionConcurrency(r.Context(), r.PathValue("name"), *req.ReservedConcurrentExecutions)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, lambdaapi.Concurrency{ReservedConcurrentExecutions: &n})
	return nil
}

func (s *Server) getConcurrency(w http.ResponseWriter, r *http.Request) error {
	n, err := s.deps.Registry.GetFunctionConcurrency(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, lambdaapi.Concurrency{ReservedConcurrentExecutions: n})
	return nil
}

func (s *Server) deleteConcurrency(w http.ResponseWriter, r *http.Request) error {
	if err := s.deps.Registry.DeleteFunctionConcurrency(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.Header().Set(lambdaapi.HeaderRequestID, newRequestID())
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// getCode serves a deployment package: GetFunction's Code.Location.
func (s *Server) getCode(w http.ResponseWriter, r *http.Request) error {
	rc, err := s.deps.Registry.CodeZip(r.Context(), r.PathValue("sha"))
	if err != nil {
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/zip")
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, rc)
	return nil
}
