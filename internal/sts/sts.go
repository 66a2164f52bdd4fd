// Package sts serves AWS STS's query API over the identities of
// internal/iam: GetCallerIdentity, which describes the caller's
// iam.Principal from the request context, and AssumeRole, which hands
// out temporary credentials of a role (iam.Store.IssueSession) once an
// injected check says the caller may assume it. The check is where the
// trust policy and the caller's identity policies are evaluated; this
// package knows no policy language.
package sts

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/updraft/updraft/internal/awsquery"
	"github.com/updraft/updraft/internal/iam"
)

// STS's query protocol ("AWS STS API Reference").
const (
	// APIVersion is the Version of every STS request.
	APIVersion = "2011-06-15"
	// Namespace is the xmlns of every STS answer.
	Namespace = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// Identities is what STS needs of the identity store (*iam.Store).
type Identities interface {
	Role(arnOrName string) (iam.Role, bool)
	IssueSession(role iam.Role, sessionName string, ttl time.Duration, opts ...iam.SessionOption) (iam.Credentials, error)
	SessionPrincipal(role iam.Role, sessionName string) iam.Principal
}

// Deps are the handler's collaborators.
type Deps struct {
	// Identities issues sessions (required).
	Identities Identities
	// MayAssume reports whether caller may assume role: the role's trust
	// policy admits the caller and the caller's policies allow
	// sts:AssumeRole on it. Required; a false answer is AccessDenied.
	MayAssume func(caller iam.Principal, role iam.Role) bool
	// Logger is required.
	Logger *slog.Logger
}

// NewHandler returns STS's API: POST / with a form body naming Action
// and Version=2011-06-15. The caller's iam.Principal must be in the
// request context (iam.WithPrincipal).
func NewHandler(deps Deps) (http.Handler, error) {
	if deps.Identities == nil || deps.MayAssume == nil || deps.Logger == nil {
		return nil, errors.New("sts: identities, MayAssume and logger are required")
	}
	h := &handler{deps: deps}
	return &awsquery.Service{
		Namespace: Namespace,
		Version:   APIVersion,
		Logger:    deps.Logger.With("component", "sts"),
		Actions: map[string]awsquery.Action{
			"GetCallerIdentity": h.getCallerIdentity,
			"AssumeRole":        h.assumeRole,
		},
	}, nil
}

type handler struct{ deps Deps }

func caller(ctx context.Context) (iam.Principal, error) {
	p, ok := iam.PrincipalFrom(ctx)
	if !ok {
		return iam.Principal{}, errors.New("sts: no principal in the request context")
	}
	return p, nil
}

func (h *handler) getCallerIdentity(ctx context.Context, _ *awsquery.Request) (any, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	return &struct {
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
		ARN     string `xml:"Arn"`
	}{p.UserID, p.Account, p.ARN}, nil
}

// sessionNamePattern is roleSessionNameType's (2 to 64 characters).
var sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// STS's DurationSeconds bounds (the role's MaxSessionDuration caps it
// further).
const (
	minDuration     = 900
	maxDuration     = 43200
	defaultDuration = 3600
)

func (h *handler) assumeRole(ctx context.Context, r *awsquery.Request) (any, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	roleARN, err := r.Required("RoleArn")
	if err != nil {
		return nil, err
	}
	name, err := r.Required("RoleSessionName")
	if err != nil {
		return nil, err
	}
	if !sessionNamePattern.MatchString(name) {
		return nil, awsquery.Validation(`Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`, name)
	}
	if len(roleARN) < 20 || len(roleARN) > 2048 {
		return nil, awsquery.Validation("Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20", roleARN)
	}
	secs, err := r.Int("DurationSeconds", defaultDuration)
	if err != nil {
		return nil, err
	}
	if secs < minDuration {
		return nil, awsquery.Validation("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to %d", secs, minDuration)
	}
	if secs > maxDuration {
		return nil, awsquery.Validation("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to %d", secs, maxDuration)
	}
	// An unknown role is refused exactly like a forbidden one, as STS
	// does, so that callers cannot probe for role names.
	role, ok := h.deps.Identities.Role(roleARN)
	if !ok || !h.deps.MayAssume(p, role) {
		return nil, awsquery.Errorf(http.StatusForbidden, "AccessDenied",
			"User: %s is not authorized to perform: sts:AssumeRole on resource: %s", p.ARN, roleARN)
	}
	if secs > role.MaxSessionDuration {
		return nil, awsquery.Errorf(http.StatusBadRequest, "ValidationError",
			"The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	creds, err := h.deps.Identities.IssueSession(role, name, time.Duration(secs)*time.Second)
	if err != nil {
		return nil, err
	}
	sp := h.deps.Identities.SessionPrincipal(role, name)
	type credentialsXML struct {
		AccessKeyID     string    `xml:"AccessKeyId"`
		SecretAccessKey string    `xml:"SecretAccessKey"`
		SessionToken    string    `xml:"SessionToken"`
		Expiration      time.Time `xml:"Expiration"`
	}
	type assumedRoleUserXML struct {
		AssumedRoleID string `xml:"AssumedRoleId"`
		ARN           string `xml:"Arn"`
	}
	return &struct {
		Credentials     credentialsXML     `xml:"Credentials"`
		AssumedRoleUser assumedRoleUserXML `xml:"AssumedRoleUser"`
	}{
		credentialsXML{creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, creds.Expiration.UTC()},
		assumedRoleUserXML{sp.UserID, sp.ARN},
	}, nil
}
