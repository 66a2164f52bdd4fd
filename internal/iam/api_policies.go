package iam

import (
	"context"

	"github.com/updraft/updraft/internal/awsquery"
)

func (h *apiHandler) createRole(ctx context.Context, r *awsquery.Request) (any, error) {
	name, err := r.Required("RoleName")
	if err != nil {
		return nil, err
	}
	doc, err := r.Required("AssumeRolePolicyDocument")
	if err != nil {
		return nil, err
	}
	maxSession, err := r.Int("MaxSessionDuration", 0)
	if err != nil {
		return nil, err
	}
	if r.Has("MaxSessionDuration") {
		if err := checkMaxSession(maxSession); err != nil {
			return nil, err
		}
	}
	tags, err := r.Tags("Tags")
	if err != nil {
		return nil, err
	}
	role, err := h.s.CreateRole(ctx, RoleInput{RoleName: name, Path: r.Get("Path"), AssumeRolePolicyDocument: doc,
		Description: r.Get("Description"), MaxSessionDuration: maxSession, Tags: tags})
	if err != nil {
		return nil, err
	}
	return &struct {
		Role roleXML `xml:"Role"`
	}{toRoleXML(role, true)}, nil
}

func (h *apiHandler) getRole(_ context.Context, r *awsquery.Request) (any, error) {
	name, err := r.Required("RoleName")
	if err != nil {
		return nil, err
	}
	role, err := h.s.GetRole(name)
	if err != nil {
		return nil, err
	}
	return &struct {
		Role roleXML `xml:"Role"`
	}{toRoleXML(role, true)}, nil
}

func (h *apiHandler) deleteRole(ctx context.Context, r *awsquery.Request) (any, error) {
	name, err := r.Required("RoleName")
	if err != nil {
		return nil, err
	}
	return nil, h.s.DeleteRole(ctx, name)
}

func (h *apiHandler) listRoles(_ context.Context, r *awsquery.Request) (any, error) {
	roles, p, err := paginate(r, h.s.ListRoles(pathPrefix(r)))
	if err != nil {
		return nil, err
	}
	return &struct {
		Roles awsquery.Members[roleXML] `xml:"Roles"`
		page
	}{awsquery.Members[roleXML]{Member: mapList(roles, func(r Role) roleXML { return toRoleXML(r, false) })}, p}, nil
}

func (h *apiHandler) updateAssumeRolePolicy(ctx context.Context, r *awsquery.Request) (any, error) {
	name, err := r.Required("RoleName")
	if err != nil {
		return nil, err
	}
	doc, err := r.Required("PolicyDocument")
	if err != nil {
		return nil, err
	}
	return nil, h.s.UpdateAssumeRolePolicy(ctx, name, doc)
}

// entityParam is the request parameter naming the user or role.
func entityParam(kind Entity) string {
	if kind == EntityRole {
		return "RoleName"
	}
	return "UserName"
}

func (h *apiHandler) putInline(kind Entity) awsquery.Action {
	return func(ctx context.Context, r *awsquery.Request) (any, error) {
		entity, err := r.Required(entityParam(kind))
		if err != nil {
			return nil, err
		}
		name, err := r.Required("PolicyName")
		if err != nil {
			return nil, err
		}
		doc, err := r.Required("PolicyDocument")
		if err != nil {
			return nil, err
		}
		return nil, h.s.PutInlinePolicy(ctx, kind, entity, name, doc)
	}
}

func (h *apiHandler) getInline(kind Entity) awsquery.Action {
	return func(_ context.Context, r *awsquery.Request) (any, error) {
		entity, err := r.Required(entityParam(kind))
		if err != nil {
			return nil, err
		}
		name, err := r.Required("PolicyName")
		if err != nil {
			return nil, err
		}
		canonical, doc, err := h.s.GetInlinePolicy(kind, entity, name)
		if err != nil {
			return nil, err
		}
		if kind == EntityRole {
			return &struct {
				RoleName       string `xml:"RoleName"`
				PolicyName     string `xml:"PolicyName"`
				PolicyDocument string `xml:"PolicyDocument"`
			}{canonical, name, encodeDoc(doc)}, nil
		}
		return &struct {
			UserName       string `xml:"UserName"`
			PolicyName     string `xml:"PolicyName"`
			PolicyDocument string `xml:"PolicyDocument"`
		}{canonical, name, encodeDoc(doc)}, nil
	}
}

func (h *apiHandler) deleteInline(kind Entity) awsquery.Action {
	return func(ctx context.Context, r *awsquery.Request) (any, error) {
		entity, err := r.Required(entityParam(kind))
		if err != nil {
			return nil, err
		}
		name, err := r.Required("PolicyName")
		if err != nil {
			return nil, err
		}
		return nil, h.s.DeleteInlinePolicy(ctx, kind, entity, name)
	}
}

func (h *apiHandler) listInline(kind Entity) awsquery.Action {
	return func(_ context.Context, r *awsquery.Request) (any, error) {
		entity, err := r.Required(entityParam(kind))
		if err != nil {
			return nil, err
		}
		names, err := h.s.ListInlinePolicies(kind, entity)
		if err != nil {
			return nil, err
		}
		names, p, err := paginate(r, names)
		if err != nil {
			return nil, err
		}
		return &struct {
			PolicyNames awsquery.Members[string] `xml:"PolicyNames"`
			page
		}{awsquery.Members[string]{Member: names}, p}, nil
	}
}

func (h *apiHandler) attach(kind Entity) awsquery.Action {
	return func(ctx context.Context, r *awsquery.Request) (any, error) {
		entity, err := r.Required(entityParam(kind))
		if err != nil {
			return nil, err
		}
		arn, err := r.Required("PolicyArn")
		if err != nil {
			return nil, err
		}
		return nil, h.s.AttachPolicy(ctx, kind, entity, arn)
	}
}

func (h *apiHandler) detach(kind Entity) awsquery.Action {
	return func(ctx context.Context, r *awsquery.Request) (any, error) {
		entity, err := r.Required(entityParam(kind))
		if err != nil {
			return nil, err
		}
		arn, err := r.Required("PolicyArn")
		if err != nil {
			return nil, err
		}
		return nil, h.s.DetachPolicy(ctx, kind, entity, arn)
	}
}

func (h *apiHandler) listAttached(kind Entity) awsquery.Action {
	return func(_ context.Context, r *awsquery.Request) (any, error) {
		entity, err := r.Required(entityParam(kind))
		if err != nil {
			return nil, err
		}
		list, err := h.s.ListAttachedPolicies(kind, entity, pathPrefix(r))
		if err != nil {
			return nil, err
		}
		list, p, err := paginate(r, list)
		if err != nil {
			return nil, err
		}
		return &struct {
			AttachedPolicies awsquery.Members[attachedXML] `xml:"AttachedPolicies"`
			page
		}{awsquery.Members[attachedXML]{Member: mapList(list, func(a AttachedPolicy) attachedXML { return attachedXML(a) })}, p}, nil
	}
}

func (h *apiHandler) createPolicy(ctx context.Context, r *awsquery.Request) (any, error) {
	name, err := r.Required("PolicyName")
	if err != nil {
		return nil, err
	}
	doc, err := r.Required("PolicyDocument")
	if err != nil {
		return nil, err
	}
	tags, err := r.Tags("Tags")
	if err != nil {
		return nil, err
	}
	p, err := h.s.CreatePolicy(ctx, name, r.Get("Path"), r.Get("Description"), doc, tags)
	if err != nil {
		return nil, err
	}
	x := toPolicyXML(p, false) // CreatePolicy does not echo the description
	x.Tags = tagsXML(p.Tags)
	return &struct {
		Policy policyXML `xml:"Policy"`
	}{x}, nil
}

func (h *apiHandler) getPolicy(_ context.Context, r *awsquery.Request) (any, error) {
	arn, err := r.Required("PolicyArn")
	if err != nil {
		return nil, err
	}
	p, err := h.s.GetPolicy(arn)
	if err != nil {
		return nil, err
	}
	return &struct {
		Policy policyXML `xml:"Policy"`
	}{toPolicyXML(p, true)}, nil
}

func (h *apiHandler) deletePolicy(ctx context.Context, r *awsquery.Request) (any, error) {
	arn, err := r.Required("PolicyArn")
	if err != nil {
		return nil, err
	}
	return nil, h.s.DeletePolicy(ctx, arn)
}

func (h *apiHandler) listPolicies(_ context.Context, r *awsquery.Request) (any, error) {
	onlyAttached, err := r.Bool("OnlyAttached", false)
	if err != nil {
		return nil, err
	}
	all, err := h.s.ListPolicies(r.Get("Scope"), onlyAttached, pathPrefix(r))
	if err != nil {
		return nil, err
	}
	list, p, err := paginate(r, all)
	if err != nil {
		return nil, err
	}
	return &struct {
		Policies awsquery.Members[policyXML] `xml:"Policies"`
		page
	}{awsquery.Members[policyXML]{Member: mapList(list, func(m ManagedPolicy) policyXML { return toPolicyXML(m, false) })}, p}, nil
}

func (h *apiHandler) createPolicyVersion(ctx context.Context, r *awsquery.Request) (any, error) {
	arn, err := r.Required("PolicyArn")
	if err != nil {
		return nil, err
	}
	doc, err := r.Required("PolicyDocument")
	if err != nil {
		return nil, err
	}
	setDefault, err := r.Bool("SetAsDefault", false)
	if err != nil {
		return nil, err
	}
	v, err := h.s.CreatePolicyVersion(ctx, arn, doc, setDefault)
	if err != nil {
		return nil, err
	}
	return &struct {
		PolicyVersion policyVersionXML `xml:"PolicyVersion"`
	}{toVersionXML(v, false)}, nil
}

func (h *apiHandler) getPolicyVersion(_ context.Context, r *awsquery.Request) (any, error) {
	arn, err := r.Required("PolicyArn")
	if err != nil {
		return nil, err
	}
	vid, err := r.Required("VersionId")
	if err != nil {
		return nil, err
	}
	v, err := h.s.GetPolicyVersion(arn, vid)
	if err != nil {
		return nil, err
	}
	return &struct {
		PolicyVersion policyVersionXML `xml:"PolicyVersion"`
	}{toVersionXML(v, true)}, nil
}

func (h *apiHandler) deletePolicyVersion(ctx context.Context, r *awsquery.Request) (any, error) {
	arn, err := r.Required("PolicyArn")
	if err != nil {
		return nil, err
	}
	vid, err := r.Required("VersionId")
	if err != nil {
		return nil, err
	}
	return nil, h.s.DeletePolicyVersion(ctx, arn, vid)
}

func (h *apiHandler) listPolicyVersions(_ context.Context, r *awsquery.Request) (any, error) {
	arn, err := r.Required("PolicyArn")
	if err != nil {
		return nil, err
	}
	vs, err := h.s.ListPolicyVersions(arn)
	if err != nil {
		return nil, err
	}
	vs, p, err := paginate(r, vs)
	if err != nil {
		return nil, err
	}
	return &struct {
		Versions awsquery.Members[policyVersionXML] `xml:"Versions"`
		page
	}{awsquery.Members[policyVersionXML]{Member: mapList(vs, func(v PolicyVersion) policyVersionXML { return toVersionXML(v, false) })}, p}, nil
}

func (h *apiHandler) setDefaultPolicyVersion(ctx context.Context, r *awsquery.Request) (any, error) {
	arn, err := r.Required("PolicyArn")
	if err != nil {
		return nil, err
	}
	vid, err := r.Required("VersionId")
	if err != nil {
		return nil, err
	}
	return nil, h.s.SetDefaultPolicyVersion(ctx, arn, vid)
}
