package sfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/sfn/asl"
)

// Machine types.
const (
	TypeStandard = "STANDARD"
	TypeExpress  = "EXPRESS"
)

// maxDefinitionBytes is Step Functions' limit on a definition (1 MB).
const maxDefinitionBytes = 1 << 20

func machineKVKey(name string) string { return "sm." + machineKey(name) }

// check parses a definition and adds what updraft cannot run to asl's
// diagnostics.
func check(definition string) (*asl.Definition, []asl.Diagnostic) {
	def, err := asl.Parse([]byte(definition))
	if err != nil {
		var de *asl.DefinitionError
		if errors.As(err, &de) {
			return nil, de.Diagnostics
		}
		return nil, []asl.Diagnostic{{Code: asl.CodeSchema, Message: err.Error()}}
	}
	var diags []asl.Diagnostic
	var walk func(d *asl.Definition, at string)
	walk = func(d *asl.Definition, at string) {
		names := make([]string, 0, len(d.States))
		for n := range d.States {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			st := d.States[n]
			sat := at + "/States/" + n
			if st.Type == asl.TypeTask && !supportedResource(st.Resource) {
				diags = append(diags, asl.Diagnostic{Code: asl.CodeSchema, Location: sat + "/Resource",
					Message: fmt.Sprintf("The resource provided %s is not recognized. The value is not a valid resource ARN, or the resource is not available in this region.", st.Resource)})
			}
			for i, b := range st.Branches {
				walk(b, fmt.Sprintf("%s/Branches[%d]", sat, i))
			}
			if st.Processor != nil {
				walk(st.Processor, sat+"/ItemProcessor")
			}
		}
	}
	walk(def, "")
	if len(diags) > 0 {
		return nil, diags
	}
	return def, nil
}

// invalidDefinition is the API error of a definition's diagnostics.
func invalidDefinition(diags []asl.Diagnostic) *Error {
	return apiErr("InvalidDefinition", "%s", (&asl.DefinitionError{Diagnostics: diags}).Error())
}

type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func (s *Service) loadMachine(ctx context.Context, name string) (*machine, uint64, error) {
	e, err := s.kv.Get(ctx, machineKVKey(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, errMachineNotFound(s.machineARN(name))
	}
	if err != nil {
		return nil, 0, fmt.Errorf("sfn: read state machine %s: %w", name, err)
	}
	var m machine
	if err := json.Unmarshal(e.Value(), &m); err != nil {
		return nil, 0, fmt.Errorf("sfn: decode state machine %s: %w", name, err)
	}
	return &m, e.Revision(), nil
}

func (s *Service) createStateMachine(r *http.Request, body []byte) (any, error) {
	var in struct {
		Name       string          `json:"name"`
		Definition string          `json:"definition"`
		RoleARN    string          `json:"roleArn"`
		Type       string          `json:"type"`
		Logging    json.RawMessage `json:"loggingConfiguration"`
		Tracing    json.RawMessage `json:"tracingConfiguration"`
		Tags       []tag           `json:"tags"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if !validName(in.Name) {
		return nil, apiErr("InvalidName", "Invalid Name: '%s'", in.Name)
	}
	if err := checkRole(in.RoleARN); err != nil {
		return nil, err
	}
	switch in.Type {
	case "":
		in.Type = TypeStandard
	case TypeStandard, TypeExpress:
	default:
		return nil, errValidation("1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]", in.Type)
	}
	if len(in.Definition) > maxDefinitionBytes {
		return nil, errValidation("1 validation error detected: Value at 'definition' failed to satisfy constraint: Member must have length less than or equal to %d", maxDefinitionBytes)
	}
	if _, diags := check(in.Definition); diags != nil {
		return nil, invalidDefinition(diags)
	}
	now := s.now()
	m := machine{ARN: s.machineARN(in.Name), Name: in.Name, Definition: in.Definition, RoleARN: in.RoleARN, Type: in.Type,
		Created: now, RevisionID: uuid.NewString(), Logging: in.Logging, Tracing: in.Tracing, Tags: map[string]string{}}
	for _, t := range in.Tags {
		m.Tags[t.Key] = t.Value
	}
	b, _ := json.Marshal(m)
	if _, err := s.kv.Create(r.Context(), machineKVKey(in.Name), b); err != nil {
		if !errors.Is(err, jetstream.ErrKeyExists) && !isConflict(err) {
			return nil, fmt.Errorf("sfn: store state machine %s: %w", in.Name, err)
		}
		// Idempotent for the same definition and role (CreateStateMachine).
		old, _, lerr := s.loadMachine(r.Context(), in.Name)
		if lerr != nil {
			return nil, lerr
		}
		if old.Definition != in.Definition || old.RoleARN != in.RoleARN || old.Type != in.Type {
			return nil, apiErr("StateMachineAlreadyExists", "State Machine Already Exists: '%s'", old.ARN)
		}
		m = *old
	}
	return map[string]any{"stateMachineArn": m.ARN, "creationDate": epoch(m.Created)}, nil
}

// checkRole validates a roleArn's form.
func checkRole(role string) error {
	if !strings.HasPrefix(role, "arn:") || !strings.Contains(role, ":role/") {
		return apiErr("InvalidArn", "Invalid Arn: 'Role ARN is not valid: %s'", role)
	}
	return nil
}

func (s *Service) describeStateMachine(r *http.Request, body []byte) (any, error) {
	var in struct {
		ARN string `json:"stateMachineArn"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	name, aerr := machineName(in.ARN)
	if aerr != nil {
		return nil, aerr
	}
	m, _, err := s.loadMachine(r.Context(), name)
	if err != nil {
		return nil, err
	}
	return describeMachine(m), nil
}

func describeMachine(m *machine) map[string]any {
	out := map[string]any{
		"stateMachineArn": m.ARN, "name": m.Name, "status": "ACTIVE", "definition": m.Definition,
		"roleArn": m.RoleARN, "type": m.Type, "creationDate": epoch(m.Created), "revisionId": m.RevisionID,
		"loggingConfiguration": map[string]any{"level": "OFF", "includeExecutionData": false},
		"tracingConfiguration": map[string]any{"enabled": false},
	}
	if len(m.Logging) > 0 {
		out["loggingConfiguration"] = m.Logging
	}
	if len(m.Tracing) > 0 {
		out["tracingConfiguration"] = m.Tracing
	}
	return out
}

func (s *Service) updateStateMachine(r *http.Request, body []byte) (any, error) {
	var in struct {
		ARN        string          `json:"stateMachineArn"`
		Definition *string         `json:"definition"`
		RoleARN    *string         `json:"roleArn"`
		Logging    json.RawMessage `json:"loggingConfiguration"`
		Tracing    json.RawMessage `json:"tracingConfiguration"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	name, aerr := machineName(in.ARN)
	if aerr != nil {
		return nil, aerr
	}
	if in.Definition == nil && in.RoleARN == nil && in.Logging == nil && in.Tracing == nil {
		return nil, apiErr("MissingRequiredParameter", "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified")
	}
	if in.Definition != nil {
		if _, diags := check(*in.Definition); diags != nil {
			return nil, invalidDefinition(diags)
		}
	}
	if in.RoleARN != nil {
		if err := checkRole(*in.RoleARN); err != nil {
			return nil, err
		}
	}
	for range maxCommitAttempts {
		m, rev, err := s.loadMachine(r.Context(), name)
		if err != nil {
			return nil, err
		}
		if in.Definition != nil {
			m.Definition = *in.Definition
		}
		if in.RoleARN != nil {
			m.RoleARN = *in.RoleARN
		}
		if in.Logging != nil {
			m.Logging = in.Logging
		}
		if in.Tracing != nil {
			m.Tracing = in.Tracing
		}
		m.Updated, m.RevisionID = s.now(), uuid.NewString()
		b, _ := json.Marshal(m)
		if _, err := s.kv.Update(r.Context(), machineKVKey(name), b, rev); err != nil {
			if isConflict(err) {
				continue
			}
			return nil, fmt.Errorf("sfn: update state machine %s: %w", name, err)
		}
		return map[string]any{"updateDate": epoch(m.Updated), "revisionId": m.RevisionID}, nil
	}
	return nil, fmt.Errorf("sfn: update state machine %s: too many concurrent changes", name)
}

func (s *Service) deleteStateMachine(r *http.Request, body []byte) (any, error) {
	var in struct {
		ARN string `json:"stateMachineArn"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	name, aerr := machineName(in.ARN)
	if aerr != nil {
		return nil, aerr
	}
	// Deleting an unknown state machine succeeds (DeleteStateMachine is
	// idempotent); running executions finish.
	if err := s.kv.Delete(r.Context(), machineKVKey(name)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("sfn: delete state machine %s: %w", name, err)
	}
	return map[string]any{}, nil
}

// page reads maxResults and nextToken (an offset) of a List call.
func page(maxResults int, nextToken string, n int) (from, to int, next string, err error) {
	if maxResults < 0 || maxResults > 1000 {
		return 0, 0, "", errValidation("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000", maxResults)
	}
	if maxResults == 0 {
		maxResults = 100
	}
	if nextToken != "" {
		from, err = strconv.Atoi(nextToken)
		if err != nil || from < 0 {
			return 0, 0, "", apiErr("InvalidToken", "Invalid Token: '%s'", nextToken)
		}
	}
	from = min(from, n)
	to = min(from+maxResults, n)
	if to < n {
		next = strconv.Itoa(to)
	}
	return from, to, next, nil
}

func (s *Service) listStateMachines(r *http.Request, body []byte) (any, error) {
	var in struct {
		MaxResults int    `json:"maxResults"`
		NextToken  string `json:"nextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	keys, err := s.keys(r, "sm.*")
	if err != nil {
		return nil, err
	}
	var ms []*machine
	for _, k := range keys {
		e, err := s.kv.Get(r.Context(), k)
		if err != nil {
			continue
		}
		var m machine
		if json.Unmarshal(e.Value(), &m) == nil {
			ms = append(ms, &m)
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
	from, to, next, err := page(in.MaxResults, in.NextToken, len(ms))
	if err != nil {
		return nil, err
	}
	items := []map[string]any{}
	for _, m := range ms[from:to] {
		items = append(items, map[string]any{"stateMachineArn": m.ARN, "name": m.Name, "type": m.Type, "creationDate": epoch(m.Created)})
	}
	out := map[string]any{"stateMachines": items}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

// keys lists the bucket's keys matching filter; none is no error.
func (s *Service) keys(r *http.Request, filter string) ([]string, error) {
	lister, err := s.kv.ListKeysFiltered(r.Context(), filter)
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("sfn: list keys: %w", err)
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	return keys, nil
}

func (s *Service) validateDefinition(r *http.Request, body []byte) (any, error) {
	var in struct {
		Definition *string `json:"definition"`
		MaxResults int     `json:"maxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Definition == nil {
		return nil, errValidation("1 validation error detected: Value null at 'definition' failed to satisfy constraint: Member must not be null")
	}
	_, diags := check(*in.Definition)
	limit := in.MaxResults
	if limit <= 0 {
		limit = 100
	}
	out := []map[string]any{}
	for i, d := range diags {
		if i == limit {
			break
		}
		out = append(out, map[string]any{"severity": "ERROR", "code": d.Code, "message": d.Message, "location": d.Location})
	}
	result := "OK"
	if len(diags) > 0 {
		result = "FAIL"
	}
	return map[string]any{"result": result, "diagnostics": out, "truncated": len(diags) > limit}, nil
}

// taggable finds the state machine a tagging call names.
func (s *Service) tagging(r *http.Request, arn string, change func(m *machine)) (*machine, error) {
	name, aerr := machineName(arn)
	if aerr != nil {
		return nil, apiErr("ResourceNotFound", "Resource not found: '%s'", arn)
	}
	for range maxCommitAttempts {
		m, rev, err := s.loadMachine(r.Context(), name)
		if err != nil {
			return nil, apiErr("ResourceNotFound", "Resource not found: '%s'", arn)
		}
		if change == nil {
			return m, nil
		}
		if m.Tags == nil {
			m.Tags = map[string]string{}
		}
		change(m)
		b, _ := json.Marshal(m)
		if _, err := s.kv.Update(r.Context(), machineKVKey(name), b, rev); err != nil {
			if isConflict(err) {
				continue
			}
			return nil, fmt.Errorf("sfn: tag %s: %w", name, err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("sfn: tag %s: too many concurrent changes", name)
}

func (s *Service) tagResource(r *http.Request, body []byte) (any, error) {
	var in struct {
		ARN  string `json:"resourceArn"`
		Tags []tag  `json:"tags"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	_, err := s.tagging(r, in.ARN, func(m *machine) {
		for _, t := range in.Tags {
			m.Tags[t.Key] = t.Value
		}
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) untagResource(r *http.Request, body []byte) (any, error) {
	var in struct {
		ARN  string   `json:"resourceArn"`
		Keys []string `json:"tagKeys"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	_, err := s.tagging(r, in.ARN, func(m *machine) {
		for _, k := range in.Keys {
			delete(m.Tags, k)
		}
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) listTags(r *http.Request, body []byte) (any, error) {
	var in struct {
		ARN string `json:"resourceArn"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	m, err := s.tagging(r, in.ARN, nil)
	if err != nil {
		return nil, err
	}
	tags := []tag{}
	for k, v := range m.Tags {
		tags = append(tags, tag{Key: k, Value: v})
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	return map[string]any{"tags": tags}, nil
}
