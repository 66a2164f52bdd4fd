package fnpolicy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/registry"
)

// Client-visible texts of Lambda's policy operations.
func errNoPolicy() error {
	return lambdaerr.ResourceNotFound("The resource you requested does not exist.")
}

func errNoPolicyToRemove() error {
	return lambdaerr.ResourceNotFound("No policy is associated with the given resource.")
}

func errNoStatement(sid string) error {
	return lambdaerr.ResourceNotFound("Statement %s is not found in resource policy.", sid)
}

func errDuplicateSid(sid string) error {
	return lambdaerr.ResourceConflict("The statement id (%s) provided already exists. Please provide a new statement id, or remove the existing statement.", sid)
}

func errStaleRevision() error {
	return lambdaerr.PreconditionFailed("The RevisionId provided does not match the latest RevisionId for the Lambda function or alias. Call the GetFunction or the GetAlias API to retrieve the latest RevisionId for your resource.")
}

// target resolves a FunctionName and Qualifier to the bare function
// name, the qualifier the policy is kept under ("" for the function
// itself and $LATEST), the ARN the statement's Resource names and
// whether $LATEST was named. Errors are the registry's: malformed names,
// conflicting qualifiers, unknown functions, versions and aliases.
func (s *Service) target(name, qualifier string) (fn, qual, arn string, latest bool, err error) {
	t, err := s.fns.Resolve(name, qualifier)
	if err != nil {
		return "", "", "", false, err
	}
	ref, err := registry.ParseFunctionName(name)
	if err != nil {
		return "", "", "", false, err
	}
	qual = ref.Qualifier
	if qual == "" {
		qual = qualifier
	}
	arn = t.InvokedARN
	if qual == registry.VersionLatest {
		qual, arn, latest = "", t.Version.FunctionARN, true
	}
	return ref.Name, qual, arn, latest, nil
}

// AddPermission adds a statement to the policy of a function, version or
// alias (Lambda API reference, "AddPermission") and returns it. The
// statement is validated as a resource policy before it is stored;
// RevisionId, when given, must be the policy's current one (GetPolicy).
func (s *Service) AddPermission(ctx context.Context, name, qualifier string, req *AddPermissionRequest) (*AddPermissionResponse, error) {
	if qualifier == "" {
		qualifier = req.Qualifier
	}
	if err := validateRequest(req); err != nil {
		return nil, err
	}
	fn, qual, arn, latest, err := s.target(name, qualifier)
	if err != nil {
		return nil, err
	}
	if latest {
		return nil, lambdaerr.InvalidParameterValue("We currently do not support adding policies for $LATEST.")
	}
	_, raw, err := buildStatement(req, arn)
	if err != nil {
		return nil, err
	}
	key := policyKey(fn, qual)
	for attempt := range maxCASAttempts {
		if err := casBackoff(ctx, attempt); err != nil {
			return nil, err
		}
		rec, rev, err := s.read(ctx, key)
		if err != nil {
			return nil, err
		}
		if rec == nil {
			rec = &record{}
		}
		if req.RevisionId != "" && req.RevisionId != rec.RevisionID {
			return nil, errStaleRevision()
		}
		if slices.ContainsFunc(rec.Statements, func(r json.RawMessage) bool { return sidOf(r) == *req.StatementId }) {
			return nil, errDuplicateSid(*req.StatementId)
		}
		next := &record{RevisionID: uuid.NewString(), Statements: append(slices.Clip(rec.Statements), raw)}
		if err := checkDocument(next.Statements); err != nil {
			return nil, err
		}
		err = s.write(ctx, key, next, rev)
		if errors.Is(err, errConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		s.logger.Info("permission added", "function", fn, "qualifier", qual, "sid", *req.StatementId)
		return &AddPermissionResponse{Statement: string(raw)}, nil
	}
	return nil, errBusy(arn)
}

// RemovePermission removes statement sid from the policy of a function,
// version or alias (Lambda API reference, "RemovePermission"); the
// policy goes with its last statement.
func (s *Service) RemovePermission(ctx context.Context, name, qualifier, sid, revisionID string) error {
	if err := validateStatementID(sid); err != nil {
		return err
	}
	fn, qual, arn, _, err := s.target(name, qualifier)
	if err != nil {
		return err
	}
	key := policyKey(fn, qual)
	for attempt := range maxCASAttempts {
		if err := casBackoff(ctx, attempt); err != nil {
			return err
		}
		rec, rev, err := s.read(ctx, key)
		if err != nil {
			return err
		}
		if rec == nil {
			return errNoPolicyToRemove()
		}
		if revisionID != "" && revisionID != rec.RevisionID {
			return errStaleRevision()
		}
		i := slices.IndexFunc(rec.Statements, func(r json.RawMessage) bool { return sidOf(r) == sid })
		if i < 0 {
			return errNoStatement(sid)
		}
		if len(rec.Statements) == 1 {
			err = s.remove(ctx, key, rev)
		} else {
			next := &record{RevisionID: uuid.NewString(), Statements: slices.Delete(slices.Clone(rec.Statements), i, i+1)}
			err = s.write(ctx, key, next, rev)
		}
		if errors.Is(err, errConflict) {
			continue
		}
		if err != nil {
			return err
		}
		s.logger.Info("permission removed", "function", fn, "qualifier", qual, "sid", sid)
		return nil
	}
	return errBusy(arn)
}

// GetPolicy returns the policy of a function, version or alias (Lambda
// API reference, "GetPolicy"), from memory: this node's own writes are
// already there.
func (s *Service) GetPolicy(ctx context.Context, name, qualifier string) (*GetPolicyResponse, error) {
	fn, qual, _, _, err := s.target(name, qualifier)
	if err != nil {
		return nil, err
	}
	e := s.lookup(fn, qual)
	if e == nil {
		return nil, errNoPolicy()
	}
	return &GetPolicyResponse{Policy: e.doc, RevisionId: e.rec.RevisionID}, nil
}

// Forget deletes the policies that go with a deleted function (qualifier
// "": the function's own and every version's and alias's) or a deleted
// version or alias. The API calls it after a successful DeleteFunction or
// DeleteAlias; it does not check that the function is gone.
func (s *Service) Forget(ctx context.Context, name, qualifier string) error {
	ref, err := registry.ParseFunctionName(name)
	if err != nil {
		return err
	}
	qual := ref.Qualifier
	if qual == "" {
		qual = qualifier
	}
	var keys []string
	if qual != "" && qual != registry.VersionLatest {
		keys = []string{policyKey(ref.Name, qual)}
	} else {
		kl, err := s.kv.ListKeysFiltered(ctx, policyKey(ref.Name, ""), policyKey(ref.Name, ">"))
		if err != nil {
			return fmt.Errorf("fnpolicy: list policies of %s: %w", ref.Name, err)
		}
		for k := range kl.Keys() {
			keys = append(keys, k)
		}
	}
	for _, key := range keys {
		if err := s.forgetKey(ctx, key); err != nil {
			return err
		}
	}
	return nil
}

// forgetKey deletes key whatever its revision.
func (s *Service) forgetKey(ctx context.Context, key string) error {
	for attempt := range maxCASAttempts {
		if err := casBackoff(ctx, attempt); err != nil {
			return err
		}
		rec, rev, err := s.read(ctx, key)
		if err != nil || rec == nil {
			return err
		}
		if err := s.remove(ctx, key, rev); !errors.Is(err, errConflict) {
			return err
		}
	}
	return fmt.Errorf("fnpolicy: delete %s: %w", key, errConflict)
}

func errBusy(arn string) error {
	return lambdaerr.ResourceConflict("The operation cannot be performed at this time. An update is in progress for resource: %s", arn)
}

// sidOf reads a stored statement's Sid.
func sidOf(raw json.RawMessage) string {
	var st struct{ Sid string }
	_ = json.Unmarshal(raw, &st)
	return st.Sid
}
