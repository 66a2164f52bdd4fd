package api

import (
	"context"
	"net/http"

	"github.com/updraft/updraft/internal/fnpolicy"
	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
)

// PolicyService keeps the resource-based policies of functions
// (internal/fnpolicy); see fnpolicy.Service for the semantics.
type PolicyService interface {
	AddPermission(ctx context.Context, name, qualifier string, req *fnpolicy.AddPermissionRequest) (*fnpolicy.AddPermissionResponse, error)
	RemovePermission(ctx context.Context, name, qualifier, sid, revisionID string) error
	GetPolicy(ctx context.Context, name, qualifier string) (*fnpolicy.GetPolicyResponse, error)
	// Forget deletes the policies of a deleted function, version or alias.
	Forget(ctx context.Context, name, qualifier string) error
}

// policyRoutes registers AddPermission (201), RemovePermission (204) and
// GetPolicy.
func (s *Server) policyRoutes(h route) {
	h("POST /2015-03-31/functions/{name}/policy", s.addPermission)
	h("GET /2015-03-31/functions/{name}/policy", s.getPolicy)
	h("DELETE /2015-03-31/functions/{name}/policy/{sid}", s.removePermission)
}

// policies returns the policy service or the error that says there is
// none.
func (s *Server) policies() (PolicyService, error) {
	if s.deps.Policies == nil {
		return nil, lambdaerr.ServiceUnavailable("Function policies are not available on this server.")
	}
	return s.deps.Policies, nil
}

func (s *Server) addPermission(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.policies()
	if err != nil {
		return err
	}
	var req fnpolicy.AddPermissionRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	out, err := svc.AddPermission(r.Context(), r.PathValue("name"), r.URL.Query().Get("Qualifier"), &req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.policies()
	if err != nil {
		return err
	}
	out, err := svc.GetPolicy(r.Context(), r.PathValue("name"), r.URL.Query().Get("Qualifier"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) removePermission(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.policies()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := svc.RemovePermission(r.Context(), r.PathValue("name"), q.Get("Qualifier"), r.PathValue("sid"), q.Get("RevisionId")); err != nil {
		return err
	}
	w.Header().Set(lambdaapi.HeaderRequestID, newRequestID())
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// forgetPolicies drops the policies of a function, version or alias just
// deleted. A failure is logged, not returned: the deletion succeeded, and
// a policy left behind only applies if the name is used again.
func (s *Server) forgetPolicies(r *http.Request, name, qualifier string) {
	if s.deps.Policies == nil {
		return
	}
	if err := s.deps.Policies.Forget(r.Context(), name, qualifier); err != nil {
		s.logger.Warn("delete function policies", "function", name, "qualifier", qualifier, "err", err)
	}
}
