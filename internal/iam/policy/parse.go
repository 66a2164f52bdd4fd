package policy

import (
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Parse validates doc as a policy of the given kind and compiles it. A
// document IAM would refuse gives a *[MalformedError] carrying IAM's
// message; the checks run in the order IAM applies them, so the first
// problem reported is the one IAM reports. Parse does not apply size
// quotas (see [Quota]) or the CreatePolicy version rule (see
// [Policy.RequireVersion2012]).
func Parse(kind Kind, doc string) (*Policy, error) {
	p, raws, err := parseSyntax(kind, doc)
	if err != nil {
		return nil, err
	}
	if err := validate(kind, p, raws); err != nil {
		return nil, err
	}
	if err := compile(p); err != nil {
		return nil, err
	}
	return p, nil
}

// RequireVersion2012 returns IAM's error for a managed policy document
// (CreatePolicy, CreatePolicyVersion) whose Version is absent or
// 2008-10-17: "Policy document must be version 2012-10-17 or greater."
func (p *Policy) RequireVersion2012() error {
	if p.Version != Version2012 {
		return malformed(MsgVersion)
	}
	return nil
}

// rawStatement keeps what the syntax pass learnt about a statement that
// later passes need: which elements were present.
type rawStatement struct {
	has map[string]bool
	// effect is the Effect as written (any case).
	effect string
	// principal is the raw Principal/NotPrincipal value.
	principal any
}

var topElements = []string{"Version", "Id", "Statement"}

var statementElements = []string{"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource",
	"Principal", "NotPrincipal", "Condition"}

// parseSyntax decodes doc and checks its shape: everything IAM answers
// with "Syntax errors in policy.".
func parseSyntax(kind Kind, doc string) (*Policy, []rawStatement, error) {
	syntax := malformed(MsgSyntax)
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var top any
	if err := dec.Decode(&top); err != nil {
		return nil, nil, syntax
	}
	if _, err := dec.Token(); err == nil {
		return nil, nil, syntax // trailing data after the document
	}
	obj, ok := top.(map[string]any)
	if !ok {
		return nil, nil, syntax
	}
	for k := range obj {
		if !slices.Contains(topElements, k) {
			return nil, nil, syntax
		}
	}
	p := &Policy{Kind: kind}
	if v, ok := obj["Version"]; ok {
		s, ok := v.(string)
		if !ok || (s != Version2012 && s != Version2008) {
			return nil, nil, syntax
		}
		p.Version = s
	}
	if v, ok := obj["Id"]; ok {
		s, ok := v.(string)
		if !ok {
			return nil, nil, syntax
		}
		p.ID = s
	}
	var stmts []any
	switch v := obj["Statement"].(type) {
	case map[string]any:
		stmts = []any{v}
	case []any:
		stmts = v
	default:
		return nil, nil, syntax
	}
	if len(stmts) == 0 {
		return nil, nil, syntax
	}
	raws := make([]rawStatement, len(stmts))
	p.Statements = make([]Statement, len(stmts))
	for i, sv := range stmts {
		so, ok := sv.(map[string]any)
		if !ok {
			return nil, nil, syntax
		}
		if err := parseStatement(so, &p.Statements[i], &raws[i]); err != nil {
			return nil, nil, err
		}
	}
	return p, raws, nil
}

func parseStatement(so map[string]any, st *Statement, raw *rawStatement) error {
	syntax := malformed(MsgSyntax)
	raw.has = make(map[string]bool, len(so))
	for k := range so {
		if !slices.Contains(statementElements, k) {
			return syntax
		}
		raw.has[k] = true
	}
	if (raw.has["Action"] && raw.has["NotAction"]) || (raw.has["Resource"] && raw.has["NotResource"]) ||
		(raw.has["Principal"] && raw.has["NotPrincipal"]) {
		return syntax
	}
	eff, ok := so["Effect"].(string)
	if !ok || (!strings.EqualFold(eff, "Allow") && !strings.EqualFold(eff, "Deny")) {
		return syntax
	}
	raw.effect = eff
	st.Effect = EffectAllow
	if strings.EqualFold(eff, "Deny") {
		st.Effect = EffectDeny
	}
	if v, ok := so["Sid"]; ok {
		s, ok := v.(string)
		if !ok {
			return syntax
		}
		st.Sid = s
	}
	var err error
	lists := []struct {
		name string
		dst  *[]string
	}{{"Action", &st.Action}, {"NotAction", &st.NotAction}, {"Resource", &st.Resource}, {"NotResource", &st.NotResource}}
	for _, l := range lists {
		v, ok := so[l.name]
		if !ok {
			continue
		}
		if *l.dst, err = stringOrList(v); err != nil {
			return syntax
		}
	}
	if v, ok := so["Condition"]; ok {
		if st.Condition, err = parseConditionBlock(v); err != nil {
			return err
		}
	}
	for _, name := range []string{"Principal", "NotPrincipal"} {
		if v, ok := so[name]; ok {
			raw.principal = v
			ps, err := parsePrincipal(v)
			if err != nil {
				return err
			}
			if name == "Principal" {
				st.Principal = ps
			} else {
				st.NotPrincipal = ps
			}
		}
	}
	return nil
}

// stringOrList reads an element that is a string or a list of strings;
// null list entries are skipped, as IAM does.
func stringOrList(v any) ([]string, error) {
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			switch e := e.(type) {
			case nil:
			case string:
				out = append(out, e)
			default:
				return nil, errSyntax
			}
		}
		return out, nil
	}
	return nil, errSyntax
}

var errSyntax = errors.New("syntax")

// parseConditionBlock reads {operator: {key: value | [values]}}. Values
// may be strings, booleans or numbers (kept as their JSON text). An
// unknown operator is a syntax error unless its block is empty.
func parseConditionBlock(v any) (map[string]map[string][]string, error) {
	syntax := malformed(MsgSyntax)
	ops, ok := v.(map[string]any)
	if !ok {
		return nil, syntax
	}
	out := make(map[string]map[string][]string, len(ops))
	for opName, body := range ops {
		keys, ok := body.(map[string]any)
		if !ok {
			return nil, syntax
		}
		if _, _, _, known := parseOperator(opName); !known && len(keys) > 0 {
			return nil, syntax
		}
		m := make(map[string][]string, len(keys))
		for key, kv := range keys {
			switch kv := kv.(type) {
			case []any:
				vals := make([]string, 0, len(kv))
				for _, e := range kv {
					s, ok := scalarText(e)
					if !ok {
						return nil, syntax
					}
					vals = append(vals, s)
				}
				m[key] = vals
			default:
				s, ok := scalarText(kv)
				if !ok {
					return nil, syntax
				}
				m[key] = []string{s}
			}
		}
		out[opName] = m
	}
	return out, nil
}

func scalarText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case bool:
		if v {
			return "true", true
		}
		return "false", true
	case json.Number:
		return v.String(), true
	}
	return "", false
}

// parsePrincipal reads "*" or {"AWS"|"Service"|"Federated"|"CanonicalUser": string | [strings]}.
func parsePrincipal(v any) (*PrincipalSpec, error) {
	switch v := v.(type) {
	case string:
		if v == "*" {
			return &PrincipalSpec{Any: true}, nil
		}
		return nil, malformedf("Invalid principal in policy: %q", v)
	case map[string]any:
		ps := &PrincipalSpec{}
		for k, ids := range v {
			list, err := stringOrList(ids)
			if err != nil {
				return nil, malformed(MsgSyntax)
			}
			switch k {
			case "AWS":
				ps.AWS = list
			case "Service":
				ps.Service = list
			case "Federated":
				ps.Federated = list
			case "CanonicalUser":
				ps.CanonicalUser = list
			default:
				return nil, malformedf("Invalid principal in policy: %q", k)
			}
		}
		return ps, nil
	}
	return nil, malformed(MsgSyntax)
}

var partitions = []string{"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}

var iamResourcePrefixes = []string{"user/", "federated-user/", "role/", "group/", "instance-profile/", "mfa/",
	"server-certificate/", "policy/", "sms-mfa/", "saml-provider/", "oidc-provider/", "report/", "access-report/"}

var vendorRE = regexp.MustCompile(`^[a-zA-Z0-9\-.]+$`)

// trustActions are the actions a trust policy may allow.
var trustActions = []string{"sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity",
	"sts:TagSession", "sts:SetSourceIdentity", "sts:SetContext"}

// validate applies IAM's semantic checks in IAM's order: legacy parsing
// (Effect case, Date values, resource shape), SID uniqueness, actions
// present, resource format, action vendors, then the rules of the kind.
func validate(kind Kind, p *Policy, raws []rawStatement) error {
	// Principals first: they are what distinguishes the kinds.
	for i := range p.Statements {
		st := &p.Statements[i]
		hasP := st.Principal != nil || st.NotPrincipal != nil
		switch kind {
		case Identity:
			if hasP {
				return malformed(MsgPrincipalNotAllowed)
			}
		case Resource:
			if !hasP {
				return malformed(MsgMissingPrincipal)
			}
		case Trust:
			if !hasP {
				return malformed(MsgNoPrincipal)
			}
		}
		for _, ps := range []*PrincipalSpec{st.Principal, st.NotPrincipal} {
			if ps == nil {
				continue
			}
			if err := validatePrincipal(ps); err != nil {
				return err
			}
		}
	}
	// Legacy parsing: Effect must be exactly "Allow" or "Deny"; Date
	// condition values must read as dates.
	for i := range p.Statements {
		if raws[i].effect != "Allow" && raws[i].effect != "Deny" {
			return malformed(MsgLegacy)
		}
		for opName, keys := range p.Statements[i].Condition {
			op, _, _, ok := parseOperator(opName)
			if !ok || op < opDateEquals || op > opDateGreaterThanEquals {
				continue
			}
			for _, vals := range keys {
				for _, v := range vals {
					if _, ok := parseDate(v); !ok {
						return malformed(MsgLegacy)
					}
				}
			}
		}
	}
	// Resource formats: the first format error is kept for later; a
	// resource IAM's legacy parser cannot read fails now.
	resourceErr := ""
	for i := range p.Statements {
		st := &p.Statements[i]
		for _, list := range [][]string{st.Resource, st.NotResource} {
			for _, r := range list {
				if msg := resourceFormat(r); msg != "" {
					if resourceErr == "" {
						resourceErr = msg
					}
					continue
				}
				if resourceErr == "" && !legacyResourceOK(r) {
					return malformed(MsgLegacy)
				}
			}
		}
	}
	sids := map[string]bool{}
	for i := range p.Statements {
		if sid := p.Statements[i].Sid; sid != "" {
			if sids[sid] {
				return malformed(MsgSidUnique)
			}
			sids[sid] = true
		}
	}
	for i := range p.Statements {
		st := &p.Statements[i]
		if len(st.Action) == 0 && len(st.NotAction) == 0 {
			return malformed(MsgNoActions)
		}
	}
	if resourceErr != "" {
		return malformed(resourceErr)
	}
	for i := range p.Statements {
		st := &p.Statements[i]
		for _, list := range [][]string{st.Action, st.NotAction} {
			for _, a := range list {
				if err := checkVendor(a); err != nil {
					return err
				}
			}
		}
		for _, keys := range st.Condition {
			for key := range keys {
				if !strings.Contains(key, ":") {
					return malformed(MsgVendor)
				}
			}
		}
	}
	switch kind {
	case Identity, Resource:
		for i := range p.Statements {
			st := &p.Statements[i]
			if len(st.Resource) == 0 && len(st.NotResource) == 0 {
				return malformed(MsgNoResources)
			}
		}
	case Trust:
		for i := range p.Statements {
			st := &p.Statements[i]
			if st.NotAction != nil {
				return malformed(MsgTrustActions)
			}
			for _, a := range st.Action {
				if !slices.ContainsFunc(trustActions, func(t string) bool { return strings.EqualFold(t, a) }) {
					return malformed(MsgTrustActions)
				}
			}
			if st.Resource != nil || st.NotResource != nil {
				return malformed(MsgTrustResource)
			}
		}
	}
	return nil
}

// checkVendor checks an action's "vendor:" prefix.
func checkVendor(a string) error {
	if a == "*" {
		return nil
	}
	parts := strings.Split(a, ":")
	switch {
	case len(parts) == 1:
		return malformed(MsgVendor)
	case len(parts) > 2:
		return malformed(MsgOneColon)
	}
	if !vendorRE.MatchString(parts[0]) {
		return malformedf("Vendor %s is not valid", parts[0])
	}
	return nil
}

// resourceFormat returns IAM's message for a resource that is not "*" or
// an ARN of a known partition, or "" when it is well-formed.
func resourceFormat(r string) string {
	if r == "*" {
		return ""
	}
	_, rest, ok := strings.Cut(r, ":")
	if !ok {
		return `Resource ` + r + ` must be in ARN format or "*".`
	}
	partition, rest, hasRest := strings.Cut(rest, ":")
	if partition != "*" && !slices.Contains(partitions, partition) {
		f := strings.Split(rest, ":")
		get := func(i int) string {
			if i < len(f) && (f[i] != "" || len(f) > 1) {
				return f[i]
			}
			return "*"
		}
		last := "*"
		if len(f) > 3 {
			last = strings.Join(f[3:], ":")
		}
		return `Partition "` + partition + `" is not valid for resource "arn:` + partition + ":" +
			get(0) + ":" + get(1) + ":" + get(2) + ":" + last + `".`
	}
	if !hasRest {
		return MsgResourceVendor
	}
	service, rest, _ := strings.Cut(rest, ":")
	if strings.ContainsAny(service, "*?") {
		return MsgResourceVendor
	}
	region, rest, _ := strings.Cut(rest, ":")
	_, resource, _ := strings.Cut(rest, ":")
	switch service {
	case "iam":
		if region != "" {
			return "IAM resource " + r + " cannot contain region information."
		}
		if resource != "*" && !strings.HasPrefix(resource, "*") &&
			!slices.ContainsFunc(iamResourcePrefixes, func(pre string) bool { return strings.HasPrefix(resource, pre) }) {
			return `IAM resource path must either be "*" or start with ` + strings.Join(iamResourcePrefixes, ", ") + "."
		}
	case "s3":
		if region != "" && !strings.HasPrefix(resource, "accesspoint/") {
			return "Resource " + r + " can not contain region information."
		}
	}
	return ""
}

// legacyResourceOK is IAM's legacy parser's view of a resource: an ARN
// with fewer than six fields may not contain an empty field, and the
// service field may not be empty.
func legacyResourceOK(r string) bool {
	if r == "*" {
		return true
	}
	if strings.Count(r, ":") < 5 && strings.Contains(r, "::") {
		return false
	}
	f := strings.Split(r, ":")
	return len(f) < 3 || f[2] != ""
}

var sessionARN = regexp.MustCompile(`^arn:[a-z\-]+:sts::\d{12}:assumed-role/[\w+=,.@\-]+/[\w+=,.@\-]+$`)
var iamARN = regexp.MustCompile(`^arn:[a-z\-]+:iam::\d{12}:(root|(user|role|federated-user)/[\w+=,.@\-/]+)$`)
var uniqueID = regexp.MustCompile(`^(AIDA|AROA)[A-Z0-9]{8,}$`)

// validatePrincipal checks each identifier as IAM does when it accepts a
// trust or resource policy: `Invalid principal in policy: "AWS":"x"`.
func validatePrincipal(ps *PrincipalSpec) error {
	if ps.Any {
		return nil
	}
	if len(ps.AWS)+len(ps.Service)+len(ps.Federated)+len(ps.CanonicalUser) == 0 {
		return malformed(MsgNoPrincipal)
	}
	for _, v := range ps.AWS {
		if v == "*" || isAccountID(v) || iamARN.MatchString(v) || sessionARN.MatchString(v) || uniqueID.MatchString(v) {
			continue
		}
		return malformedf("Invalid principal in policy: \"AWS\":%q", v)
	}
	for _, v := range ps.Service {
		if v == "" || strings.ContainsAny(v, " *") {
			return malformedf("Invalid principal in policy: \"SERVICE\":%q", v)
		}
	}
	for _, v := range ps.Federated {
		if v == "" {
			return malformedf("Invalid principal in policy: \"FEDERATED\":%q", v)
		}
	}
	return nil
}

// compile builds the matchers of every statement.
func compile(p *Policy) error {
	vars := p.Version == Version2012
	for i := range p.Statements {
		st := &p.Statements[i]
		acts := st.Action
		if st.NotAction != nil {
			acts, st.notAction = st.NotAction, true
		}
		for _, a := range acts {
			st.actions = append(st.actions, compilePattern(a, compileOpts{wildcards: true, fold: true}))
		}
		res := st.Resource
		if st.NotResource != nil {
			res, st.notResource = st.NotResource, true
		}
		st.hasResource = res != nil
		for _, r := range res {
			st.resources = append(st.resources, compileARN(r, vars))
		}
		ps := st.Principal
		if st.NotPrincipal != nil {
			ps, st.notPrincipal = st.NotPrincipal, true
		}
		if ps != nil {
			st.hasPrincipal = true
			st.principals = compilePrincipal(ps)
		}
		ops := make([]string, 0, len(st.Condition))
		for op := range st.Condition {
			ops = append(ops, op)
		}
		sort.Strings(ops)
		for _, opName := range ops {
			op, set, ifExists, ok := parseOperator(opName)
			if !ok {
				continue // an unknown operator with an empty block
			}
			keys := make([]string, 0, len(st.Condition[opName]))
			for k := range st.Condition[opName] {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				c, err := compileCondition(op, set, ifExists, k, st.Condition[opName][k], vars)
				if err != nil {
					return malformed(MsgLegacy)
				}
				st.conds = append(st.conds, c)
			}
		}
	}
	return nil
}
