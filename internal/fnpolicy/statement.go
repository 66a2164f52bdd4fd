package fnpolicy

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/updraft/updraft/internal/iam/policy"
	"github.com/updraft/updraft/internal/lambdaerr"
)

// AddPermissionRequest is AddPermission's body (Lambda API reference,
// "AddPermission"). StatementId, Action and Principal are required; an
// empty optional member counts as absent. Qualifier normally travels in
// the query string; the body's is used when the query has none.
type AddPermissionRequest struct {
	StatementId           *string `json:"StatementId"`
	Action                *string `json:"Action"`
	Principal             *string `json:"Principal"`
	SourceArn             string  `json:"SourceArn,omitempty"`
	SourceAccount         string  `json:"SourceAccount,omitempty"`
	EventSourceToken      string  `json:"EventSourceToken,omitempty"`
	Qualifier             string  `json:"Qualifier,omitempty"`
	RevisionId            string  `json:"RevisionId,omitempty"`
	PrincipalOrgID        string  `json:"PrincipalOrgID,omitempty"`
	FunctionUrlAuthType   string  `json:"FunctionUrlAuthType,omitempty"`
	InvokedViaFunctionUrl *bool   `json:"InvokedViaFunctionUrl,omitempty"`
}

// AddPermissionResponse is AddPermission's answer (201): the statement
// added, as a JSON string.
type AddPermissionResponse struct {
	Statement string `json:"Statement"`
}

// GetPolicyResponse is GetPolicy's answer: the whole policy as a JSON
// string and its revision.
type GetPolicyResponse struct {
	Policy     string `json:"Policy"`
	RevisionId string `json:"RevisionId"`
}

// Patterns and limits of Lambda's API model (botocore
// lambda/2015-03-31/service-2.json) for AddPermission and
// RemovePermission members.
const (
	statementIDPattern           = `([a-zA-Z0-9-_]+)`
	namespacedStatementIDPattern = `([a-zA-Z0-9-_.]+)`
	actionPattern                = `(lambda:[*]|lambda:[a-zA-Z]+|[*])`
	principalPattern             = `[^\s]+`
	sourceArnPattern             = `arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)`
	sourceAccountPattern         = `\d{12}`
	eventSourceTokenPattern      = `[a-zA-Z0-9._\-]+`
	principalOrgIDPattern        = `o-[a-z0-9]{10,32}`
	maxStatementIDLen            = 100
	maxEventSourceTokenLen       = 256
)

var (
	statementIDRE           = regexp.MustCompile(`^` + statementIDPattern + `$`)
	namespacedStatementIDRE = regexp.MustCompile(`^` + namespacedStatementIDPattern + `$`)
	actionRE                = regexp.MustCompile(`^` + actionPattern + `$`)
	principalRE             = regexp.MustCompile(`^` + principalPattern + `$`)
	sourceArnRE             = regexp.MustCompile(`^` + sourceArnPattern + `$`)
	sourceAccountRE         = regexp.MustCompile(`^` + sourceAccountPattern + `$`)
	eventSourceTokenRE      = regexp.MustCompile(`^` + eventSourceTokenPattern + `$`)
	principalOrgIDRE        = regexp.MustCompile(`^` + principalOrgIDPattern + `$`)
	accountIDRE             = regexp.MustCompile(`^\d{12}$`)
)

// MaxPolicyBytes is Lambda's quota on a function's resource-based policy
// ("Lambda quotas": function resource-based policy, 20 KB).
const MaxPolicyBytes = 20 << 10

// Statement is one statement of a function policy, with its members in
// the order Lambda writes them.
type Statement struct {
	Sid       string     `json:"Sid"`
	Effect    string     `json:"Effect"`
	Principal any        `json:"Principal"` // "*" or principalMap
	Action    string     `json:"Action"`
	Resource  string     `json:"Resource"`
	Condition *Condition `json:"Condition,omitempty"`
}

// principalMap is a Principal naming an AWS account or identity, or a
// service.
type principalMap struct {
	AWS     string `json:"AWS,omitempty"`
	Service string `json:"Service,omitempty"`
}

// Condition is the Condition block AddPermission builds, operators in
// the order Lambda writes them (StringEquals before ArnLike, as in the
// API reference's example).
type Condition struct {
	StringEquals map[string]string `json:"StringEquals,omitempty"`
	ArnLike      map[string]string `json:"ArnLike,omitempty"`
	Bool         map[string]string `json:"Bool,omitempty"`
}

// document is a whole function policy as GetPolicy shows it.
type document struct {
	Version   string            `json:"Version"`
	ID        string            `json:"Id"`
	Statement []json.RawMessage `json:"Statement"`
}

// encodeDocument renders the policy of statements as GetPolicy's Policy
// string.
func encodeDocument(statements []json.RawMessage) (string, error) {
	b, err := marshal(document{Version: policy.Version2012, ID: "default", Statement: statements})
	if err != nil {
		return "", fmt.Errorf("fnpolicy: encode policy: %w", err)
	}
	return string(b), nil
}

// marshal encodes v without HTML escaping: a SourceArn with "&" stays
// readable, as Lambda writes it.
func marshal(v any) ([]byte, error) {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(sb.String(), "\n")), nil
}

// validationErrors collects ValidationException texts in Lambda's form:
// "N validation errors detected: A; B".
type validationErrors []string

func (v *validationErrors) pattern(value *string, member, pattern string, re *regexp.Regexp, minLen, maxLen int) {
	switch {
	case value == nil:
		*v = append(*v, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", member))
	case minLen > 0 && len(*value) < minLen:
		*v = append(*v, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", *value, member, minLen))
	case maxLen > 0 && len(*value) > maxLen:
		*v = append(*v, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", *value, member, maxLen))
	case !re.MatchString(*value):
		*v = append(*v, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", *value, member, pattern))
	}
}

func (v *validationErrors) optional(value, member, pattern string, re *regexp.Regexp, maxLen int) {
	if value != "" {
		v.pattern(&value, member, pattern, re, 0, maxLen)
	}
}

func (v validationErrors) err() error {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return lambdaerr.Validation("1 validation error detected: %s", v[0])
	}
	return lambdaerr.Validation("%d validation errors detected: %s", len(v), strings.Join(v, "; "))
}

// validateRequest checks req against the API model's constraints.
func validateRequest(req *AddPermissionRequest) error {
	var v validationErrors
	v.pattern(req.StatementId, "statementId", statementIDPattern, statementIDRE, 1, maxStatementIDLen)
	v.pattern(req.Action, "action", actionPattern, actionRE, 0, 0)
	v.pattern(req.Principal, "principal", principalPattern, principalRE, 0, 0)
	v.optional(req.SourceArn, "sourceArn", sourceArnPattern, sourceArnRE, 0)
	v.optional(req.SourceAccount, "sourceAccount", sourceAccountPattern, sourceAccountRE, 12)
	v.optional(req.EventSourceToken, "eventSourceToken", eventSourceTokenPattern, eventSourceTokenRE, maxEventSourceTokenLen)
	v.optional(req.PrincipalOrgID, "principalOrgID", principalOrgIDPattern, principalOrgIDRE, 34)
	if t := req.FunctionUrlAuthType; t != "" && t != "NONE" && t != "AWS_IAM" {
		v = append(v, fmt.Sprintf("Value '%s' at 'functionUrlAuthType' failed to satisfy constraint: Member must satisfy enum value set: [NONE, AWS_IAM]", t))
	}
	return v.err()
}

// validateStatementID checks RemovePermission's StatementId, whose
// pattern also allows dots.
func validateStatementID(sid string) error {
	var v validationErrors
	v.pattern(&sid, "statementId", namespacedStatementIDPattern, namespacedStatementIDRE, 1, maxStatementIDLen)
	return v.err()
}

// errBadPrincipal is Lambda's answer to a Principal that is neither "*",
// an account id, an IAM ARN nor a service.
func errBadPrincipal() error {
	return lambdaerr.InvalidParameterValue("The provided principal was invalid. Please check the principal and try again.")
}

// principalOf turns AddPermission's Principal into the statement's: "*"
// stays "*", an account id becomes its root ARN, an IAM or STS ARN is an
// AWS principal, and a DNS-like name (s3.amazonaws.com) a service.
func principalOf(p string) (any, error) {
	switch {
	case p == "*":
		return "*", nil
	case accountIDRE.MatchString(p):
		return principalMap{AWS: "arn:aws:iam::" + p + ":root"}, nil
	case strings.HasPrefix(p, "arn:"):
		return principalMap{AWS: p}, nil
	case strings.Contains(p, ".") && !strings.ContainsAny(p, ":*/"):
		return principalMap{Service: p}, nil
	}
	return nil, errBadPrincipal()
}

// buildStatement validates req and builds the statement it adds to the
// policy of the function or qualifier whose ARN is resource. The result
// is checked with the IAM policy language's parser as a resource policy.
func buildStatement(req *AddPermissionRequest, resource string) (*Statement, []byte, error) {
	if err := validateRequest(req); err != nil {
		return nil, nil, err
	}
	principal, err := principalOf(*req.Principal)
	if err != nil {
		return nil, nil, err
	}
	st := &Statement{
		Sid:       *req.StatementId,
		Effect:    "Allow",
		Principal: principal,
		Action:    *req.Action,
		Resource:  resource,
	}
	var c Condition
	eq := func(k, v string) {
		if c.StringEquals == nil {
			c.StringEquals = map[string]string{}
		}
		c.StringEquals[k] = v
	}
	if req.SourceAccount != "" {
		eq("AWS:SourceAccount", req.SourceAccount)
	}
	if req.PrincipalOrgID != "" {
		eq("aws:PrincipalOrgID", req.PrincipalOrgID)
	}
	if req.EventSourceToken != "" {
		eq("lambda:EventSourceToken", req.EventSourceToken)
	}
	if req.FunctionUrlAuthType != "" {
		eq("lambda:FunctionUrlAuthType", req.FunctionUrlAuthType)
	}
	if req.SourceArn != "" {
		c.ArnLike = map[string]string{"AWS:SourceArn": req.SourceArn}
	}
	if req.InvokedViaFunctionUrl != nil && *req.InvokedViaFunctionUrl {
		c.Bool = map[string]string{"lambda:InvokedViaFunctionUrl": "true"}
	}
	if c.StringEquals != nil || c.ArnLike != nil || c.Bool != nil {
		st.Condition = &c
	}
	raw, err := marshal(st)
	if err != nil {
		return nil, nil, fmt.Errorf("fnpolicy: encode statement: %w", err)
	}
	if err := checkDocument([]json.RawMessage{raw}); err != nil {
		return nil, nil, err
	}
	return st, raw, nil
}

// checkDocument parses the policy of statements as a resource policy and
// turns a refusal into Lambda's InvalidParameterValueException.
func checkDocument(statements []json.RawMessage) error {
	doc, err := encodeDocument(statements)
	if err != nil {
		return err
	}
	if len(doc) > MaxPolicyBytes {
		return lambdaerr.PolicyLengthExceeded("The final policy size (%d) is bigger than the limit (%d).", len(doc), MaxPolicyBytes)
	}
	_, err = policy.Parse(policy.Resource, doc)
	if err == nil {
		return nil
	}
	var me *policy.MalformedError
	if !errors.As(err, &me) {
		return fmt.Errorf("fnpolicy: check policy: %w", err)
	}
	if strings.HasPrefix(me.Message, "Invalid principal") {
		return errBadPrincipal()
	}
	return lambdaerr.InvalidParameterValue("%s", me.Message)
}
