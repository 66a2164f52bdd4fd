package iam

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/updraft/updraft/internal/awsquery"
)

// IAM's query protocol ("IAM API Reference": Making query requests).
const (
	// APIVersion is the Version of every IAM request.
	APIVersion = "2010-05-08"
	// Namespace is the xmlns of every IAM answer.
	Namespace = "https://iam.amazonaws.com/doc/2010-05-08/"
)

// NewHandler returns IAM's API over s: POST / with a form body naming
// Action and Version=2010-05-08, answered in XML. The caller's
// [Principal] must be in the request context ([WithPrincipal]); actions
// that default to the caller's own user (CreateAccessKey and friends
// without UserName) use it. Authorisation is the router's business: the
// handler does whatever it is asked.
func NewHandler(s *Store, logger *slog.Logger) http.Handler {
	h := &apiHandler{s: s}
	return &awsquery.Service{
		Namespace: Namespace,
		Version:   APIVersion,
		Logger:    logger.With("component", "iam-api"),
		Actions: map[string]awsquery.Action{
			"CreateUser": h.createUser, "GetUser": h.getUser, "DeleteUser": h.deleteUser, "ListUsers": h.listUsers,
			"CreateAccessKey": h.createAccessKey, "ListAccessKeys": h.listAccessKeys,
			"UpdateAccessKey": h.updateAccessKey, "DeleteAccessKey": h.deleteAccessKey,
			"CreateRole": h.createRole, "GetRole": h.getRole, "DeleteRole": h.deleteRole, "ListRoles": h.listRoles,
			"UpdateAssumeRolePolicy": h.updateAssumeRolePolicy,
			"PutUserPolicy":          h.putInline(EntityUser), "GetUserPolicy": h.getInline(EntityUser),
			"DeleteUserPolicy": h.deleteInline(EntityUser), "ListUserPolicies": h.listInline(EntityUser),
			"PutRolePolicy": h.putInline(EntityRole), "GetRolePolicy": h.getInline(EntityRole),
			"DeleteRolePolicy": h.deleteInline(EntityRole), "ListRolePolicies": h.listInline(EntityRole),
			"AttachUserPolicy": h.attach(EntityUser), "DetachUserPolicy": h.detach(EntityUser),
			"ListAttachedUserPolicies": h.listAttached(EntityUser),
			"AttachRolePolicy":         h.attach(EntityRole), "DetachRolePolicy": h.detach(EntityRole),
			"ListAttachedRolePolicies": h.listAttached(EntityRole),
			"CreatePolicy":             h.createPolicy, "GetPolicy": h.getPolicy, "DeletePolicy": h.deletePolicy,
			"ListPolicies": h.listPolicies, "CreatePolicyVersion": h.createPolicyVersion,
			"GetPolicyVersion": h.getPolicyVersion, "DeletePolicyVersion": h.deletePolicyVersion,
			"ListPolicyVersions": h.listPolicyVersions, "SetDefaultPolicyVersion": h.setDefaultPolicyVersion,
		},
	}
}

type apiHandler struct{ s *Store }

// Wire shapes (botocore iam 2010-05-08 service model). Lists are
// awsquery.Members; optional members are pointers or omitempty.
type (
	userXML struct {
		Path       string                 `xml:"Path,omitempty"`
		UserName   string                 `xml:"UserName,omitempty"`
		UserID     string                 `xml:"UserId"`
		ARN        string                 `xml:"Arn"`
		CreateDate time.Time              `xml:"CreateDate"`
		Tags       *awsquery.Members[Tag] `xml:"Tags,omitempty"`
	}
	accessKeyXML struct {
		UserName        string          `xml:"UserName"`
		AccessKeyID     string          `xml:"AccessKeyId"`
		Status          AccessKeyStatus `xml:"Status"`
		SecretAccessKey string          `xml:"SecretAccessKey,omitempty"`
		CreateDate      time.Time       `xml:"CreateDate"`
	}
	roleXML struct {
		Path                     string                 `xml:"Path"`
		RoleName                 string                 `xml:"RoleName"`
		RoleID                   string                 `xml:"RoleId"`
		ARN                      string                 `xml:"Arn"`
		CreateDate               time.Time              `xml:"CreateDate"`
		AssumeRolePolicyDocument string                 `xml:"AssumeRolePolicyDocument"`
		Description              string                 `xml:"Description,omitempty"`
		MaxSessionDuration       int                    `xml:"MaxSessionDuration"`
		Tags                     *awsquery.Members[Tag] `xml:"Tags,omitempty"`
	}
	policyXML struct {
		PolicyName                    string                 `xml:"PolicyName"`
		PolicyID                      string                 `xml:"PolicyId"`
		ARN                           string                 `xml:"Arn"`
		Path                          string                 `xml:"Path"`
		DefaultVersionID              string                 `xml:"DefaultVersionId"`
		AttachmentCount               int                    `xml:"AttachmentCount"`
		PermissionsBoundaryUsageCount int                    `xml:"PermissionsBoundaryUsageCount"`
		IsAttachable                  bool                   `xml:"IsAttachable"`
		Description                   string                 `xml:"Description,omitempty"`
		CreateDate                    time.Time              `xml:"CreateDate"`
		UpdateDate                    time.Time              `xml:"UpdateDate"`
		Tags                          *awsquery.Members[Tag] `xml:"Tags,omitempty"`
	}
	policyVersionXML struct {
		Document         string    `xml:"Document,omitempty"`
		VersionID        string    `xml:"VersionId"`
		IsDefaultVersion bool      `xml:"IsDefaultVersion"`
		CreateDate       time.Time `xml:"CreateDate"`
	}
	attachedXML struct {
		PolicyName string `xml:"PolicyName"`
		PolicyARN  string `xml:"PolicyArn"`
	}
	// page is the paging tail of every List result.
	page struct {
		IsTruncated bool   `xml:"IsTruncated"`
		Marker      string `xml:"Marker,omitempty"`
	}
)

func toKeyXML(k AccessKey) accessKeyXML {
	return accessKeyXML{UserName: k.UserName, AccessKeyID: k.AccessKeyID, Status: k.Status, SecretAccessKey: k.SecretAccessKey, CreateDate: k.CreateDate}
}

func tagsXML(tags []Tag) *awsquery.Members[Tag] {
	if len(tags) == 0 {
		return nil
	}
	return &awsquery.Members[Tag]{Member: tags}
}

func toUserXML(u User, withTags bool) userXML {
	x := userXML{Path: u.Path, UserName: u.UserName, UserID: u.UserID, ARN: u.ARN, CreateDate: u.CreateDate}
	if withTags {
		x.Tags = tagsXML(u.Tags)
	}
	return x
}

func toRoleXML(r Role, withTags bool) roleXML {
	x := roleXML{Path: r.Path, RoleName: r.RoleName, RoleID: r.RoleID, ARN: r.ARN, CreateDate: r.CreateDate,
		AssumeRolePolicyDocument: encodeDoc(r.AssumeRolePolicyDocument), Description: r.Description, MaxSessionDuration: r.MaxSessionDuration}
	if withTags {
		x.Tags = tagsXML(r.Tags)
	}
	return x
}

func toPolicyXML(p ManagedPolicy, withDescription bool) policyXML {
	x := policyXML{PolicyName: p.PolicyName, PolicyID: p.PolicyID, ARN: p.ARN, Path: p.Path, DefaultVersionID: p.DefaultVersionID,
		AttachmentCount: p.AttachmentCount, IsAttachable: true, CreateDate: p.CreateDate, UpdateDate: p.UpdateDate}
	if withDescription {
		x.Description = p.Description
		x.Tags = tagsXML(p.Tags)
	}
	return x
}

func toVersionXML(v PolicyVersion, withDoc bool) policyVersionXML {
	x := policyVersionXML{VersionID: v.VersionID, IsDefaultVersion: v.IsDefaultVersion, CreateDate: v.CreateDate}
	if withDoc {
		x.Document = encodeDoc(v.Document)
	}
	return x
}

// encodeDoc URL-encodes a policy document as IAM returns them (RFC 3986:
// every byte but the unreserved ones as %XX, so a space is %20, which
// the CLI's unquote reads back).
func encodeDoc(doc string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(doc) * 2)
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// paginate cuts items by the request's Marker and MaxItems (1 to 1000,
// default 100), as IAM's List actions do. The marker is opaque to
// clients: the base64 of the next item's index.
func paginate[T any](r *awsquery.Request, items []T) ([]T, page, error) {
	maxItems, err := r.Int("MaxItems", 100)
	if err != nil {
		return nil, page{}, err
	}
	if maxItems < 1 || maxItems > 1000 {
		return nil, page{}, awsquery.Validation("Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", maxItems)
	}
	start := 0
	if m := r.Get("Marker"); m != "" {
		b, err := base64.RawURLEncoding.DecodeString(m)
		n, aerr := strconv.Atoi(string(b))
		if err != nil || aerr != nil || n < 0 || n > len(items) {
			return nil, page{}, awsquery.Validation("Value '%s' at 'marker' failed to satisfy constraint: Member must be a marker this service returned", m)
		}
		start = n
	}
	end := min(start+maxItems, len(items))
	p := page{}
	if end < len(items) {
		p.IsTruncated = true
		p.Marker = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	return items[start:end], p, nil
}

// callerUser returns the UserName parameter or, when absent, the
// caller's own user name (what IAM does for key actions).
func callerUser(ctx context.Context, r *awsquery.Request) (string, error) {
	if name := r.Get("UserName"); name != "" {
		return name, nil
	}
	if p, ok := PrincipalFrom(ctx); ok && p.Type == PrincipalUser {
		return p.Name, nil
	}
	return "", awsquery.Validation("Must specify userName when calling with non-User credentials")
}

func mapList[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

func (h *apiHandler) createUser(ctx context.Context, r *awsquery.Request) (any, error) {
	name, err := r.Required("UserName")
	if err != nil {
		return nil, err
	}
	tags, err := r.Tags("Tags")
	if err != nil {
		return nil, err
	}
	u, err := h.s.CreateUser(ctx, name, r.Get("Path"), tags)
	if err != nil {
		return nil, err
	}
	return &struct {
		User userXML `xml:"User"`
	}{toUserXML(u, true)}, nil
}

func (h *apiHandler) getUser(ctx context.Context, r *awsquery.Request) (any, error) {
	name := r.Get("UserName")
	if name == "" {
		p, ok := PrincipalFrom(ctx)
		switch {
		case ok && p.Type == PrincipalUser:
			name = p.Name
		case ok && p.Type == PrincipalRoot:
			return &struct {
				User userXML `xml:"User"`
			}{userXML{UserID: p.UserID, ARN: p.ARN}}, nil
		default:
			return nil, awsquery.Validation("Must specify userName when calling with non-User credentials")
		}
	}
	u, err := h.s.GetUser(name)
	if err != nil {
		return nil, err
	}
	return &struct {
		User userXML `xml:"User"`
	}{toUserXML(u, true)}, nil
}

func (h *apiHandler) deleteUser(ctx context.Context, r *awsquery.Request) (any, error) {
	name, err := r.Required("UserName")
	if err != nil {
		return nil, err
	}
	return nil, h.s.DeleteUser(ctx, name)
}

func (h *apiHandler) listUsers(_ context.Context, r *awsquery.Request) (any, error) {
	users, p, err := paginate(r, h.s.ListUsers(pathPrefix(r)))
	if err != nil {
		return nil, err
	}
	return &struct {
		Users awsquery.Members[userXML] `xml:"Users"`
		page
	}{awsquery.Members[userXML]{Member: mapList(users, func(u User) userXML { return toUserXML(u, false) })}, p}, nil
}

func pathPrefix(r *awsquery.Request) string {
	if p := r.Get("PathPrefix"); p != "" {
		return p
	}
	return "/"
}

func (h *apiHandler) createAccessKey(ctx context.Context, r *awsquery.Request) (any, error) {
	name, err := callerUser(ctx, r)
	if err != nil {
		return nil, err
	}
	k, err := h.s.CreateAccessKey(ctx, name)
	if err != nil {
		return nil, err
	}
	return &struct {
		AccessKey accessKeyXML `xml:"AccessKey"`
	}{toKeyXML(k)}, nil
}

func (h *apiHandler) listAccessKeys(ctx context.Context, r *awsquery.Request) (any, error) {
	name, err := callerUser(ctx, r)
	if err != nil {
		return nil, err
	}
	keys, err := h.s.ListAccessKeys(name)
	if err != nil {
		return nil, err
	}
	keys, p, err := paginate(r, keys)
	if err != nil {
		return nil, err
	}
	return &struct {
		AccessKeyMetadata awsquery.Members[accessKeyXML] `xml:"AccessKeyMetadata"`
		page
	}{awsquery.Members[accessKeyXML]{Member: mapList(keys, toKeyXML)}, p}, nil
}

func (h *apiHandler) updateAccessKey(ctx context.Context, r *awsquery.Request) (any, error) {
	name, err := callerUser(ctx, r)
	if err != nil {
		return nil, err
	}
	id, err := r.Required("AccessKeyId")
	if err != nil {
		return nil, err
	}
	status, err := r.Required("Status")
	if err != nil {
		return nil, err
	}
	if status != string(KeyActive) && status != string(KeyInactive) {
		return nil, awsquery.Validation("Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", status)
	}
	return nil, h.s.UpdateAccessKey(ctx, name, id, AccessKeyStatus(status))
}

func (h *apiHandler) deleteAccessKey(ctx context.Context, r *awsquery.Request) (any, error) {
	name, err := callerUser(ctx, r)
	if err != nil {
		return nil, err
	}
	id, err := r.Required("AccessKeyId")
	if err != nil {
		return nil, err
	}
	return nil, h.s.DeleteAccessKey(ctx, name, id)
}
