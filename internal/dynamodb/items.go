package dynamodb

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/updraft/updraft/internal/dynamodb/attr"
	"github.com/updraft/updraft/internal/dynamodb/expr"
)

// maxAttempts bounds the read-evaluate-write retries of one conditional
// write that keeps losing races.
const maxAttempts = 50

// exprParams are the expression parameters every item operation takes.
type exprParams struct {
	ExpressionAttributeNames  map[string]string          `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues map[string]json.RawMessage `json:"ExpressionAttributeValues"`
}

// params validates the names and values as DynamoDB does.
func (e *exprParams) params(anyExpr bool) (*expr.Params, error) {
	if e.ExpressionAttributeNames != nil && !anyExpr {
		return nil, validation("ExpressionAttributeNames can only be specified when using expressions")
	}
	if e.ExpressionAttributeValues != nil && !anyExpr {
		return nil, validation("ExpressionAttributeValues can only be specified when using expressions: UpdateExpression, ConditionExpression, FilterExpression and KeyConditionExpression are all null")
	}
	if e.ExpressionAttributeNames != nil && len(e.ExpressionAttributeNames) == 0 {
		return nil, validation("ExpressionAttributeNames must not be empty")
	}
	if e.ExpressionAttributeValues != nil && len(e.ExpressionAttributeValues) == 0 {
		return nil, validation("ExpressionAttributeValues must not be empty")
	}
	p := &expr.Params{Names: e.ExpressionAttributeNames, Values: map[string]attr.Value{}}
	for k := range e.ExpressionAttributeNames {
		if !validRef(k, '#') {
			return nil, validation("ExpressionAttributeNames contains invalid key: Syntax error; key: %q", k)
		}
	}
	for k, raw := range e.ExpressionAttributeValues {
		if !validRef(k, ':') {
			return nil, validation("ExpressionAttributeValues contains invalid key: Syntax error; key: %q", k)
		}
		var v attr.Value
		if err := json.Unmarshal(raw, &v); err != nil {
			var ae *attr.Error
			if errors.As(err, &ae) {
				return nil, validation("ExpressionAttributeValues contains invalid value: %s for key %s", ae.Msg, k)
			}
			return nil, serialization("Could not parse ExpressionAttributeValues: " + err.Error())
		}
		p.Values[k] = v
	}
	return p, nil
}

func validRef(k string, c byte) bool {
	if len(k) < 2 || k[0] != c {
		return false
	}
	for i := 1; i < len(k); i++ {
		b := k[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_') {
			return false
		}
	}
	return true
}

// exprErr turns an expression error into a ValidationException.
func exprErr(err error) error {
	var e *expr.Error
	if errors.As(err, &e) {
		return validation("%s", e.Msg)
	}
	return err
}

// parsed holds a write's parsed expressions.
type parsed struct {
	cond   expr.Cond
	update *expr.Update
	proj   []expr.Path
}

func parseExprs(ep *exprParams, cond, update, proj *string) (*parsed, error) {
	p, err := ep.params(cond != nil || update != nil || proj != nil)
	if err != nil {
		return nil, err
	}
	var out parsed
	if update != nil {
		if out.update, err = expr.ParseUpdate(*update, p); err != nil {
			return nil, exprErr(err)
		}
	}
	if cond != nil {
		if out.cond, err = expr.ParseCondition("ConditionExpression", *cond, p); err != nil {
			return nil, exprErr(err)
		}
	}
	if proj != nil {
		if out.proj, err = expr.ParseProjection(*proj, p); err != nil {
			return nil, exprErr(err)
		}
	}
	if err := p.CheckUnused(); err != nil {
		return nil, exprErr(err)
	}
	return &out, nil
}

type putItemInput struct {
	exprParams
	TableName                           string    `json:"TableName"`
	Item                                attr.Item `json:"Item"`
	ConditionExpression                 *string   `json:"ConditionExpression"`
	ReturnValues                        string    `json:"ReturnValues"`
	ReturnValuesOnConditionCheckFailure string    `json:"ReturnValuesOnConditionCheckFailure"`
}

func checkReturnValues(rv string, allowed ...string) error {
	if rv == "" || rv == "NONE" {
		return nil
	}
	for _, a := range allowed {
		if rv == a {
			return nil
		}
	}
	return validation("ReturnValues can only be %s", strings.Join(append([]string{"NONE"}, allowed...), " or "))
}

func (s *Service) putItem(ctx context.Context, in *putItemInput) (any, error) {
	t, err := s.mustTable(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	if err := checkReturnValues(in.ReturnValues, "ALL_OLD"); err != nil {
		return nil, err
	}
	px, err := parseExprs(&in.exprParams, in.ConditionExpression, nil, nil)
	if err != nil {
		return nil, err
	}
	if err := validateItem(t, in.Item); err != nil {
		return nil, err
	}
	old, _, err := s.writeItem(ctx, t, keyOfItem(t, in.Item), px.cond, in.ReturnValuesOnConditionCheckFailure,
		func(attr.Item) (attr.Item, error) { return in.Item, nil })
	if err != nil {
		return nil, err
	}
	if in.ReturnValues == "ALL_OLD" && old != nil {
		return map[string]any{"Attributes": old}, nil
	}
	return struct{}{}, nil
}

// writeItem reads an item, checks the condition against it, computes its
// new value (nil: delete) and writes it only if nobody wrote it since;
// a lost race starts over, so of two racing conditional writes exactly
// one succeeds. It returns the old and new item.
func (s *Service) writeItem(ctx context.Context, t *Table, key attr.Item, cond expr.Cond, onFail string,
	mutate func(old attr.Item) (attr.Item, error)) (attr.Item, attr.Item, error) {
	return s.writeItemBy(ctx, t, key, cond, onFail, false, mutate)
}

// writeItemBy is writeItem; byTTL marks the TTL sweeper's deletions in
// the stream record.
func (s *Service) writeItemBy(ctx context.Context, t *Table, key attr.Item, cond expr.Cond, onFail string, byTTL bool,
	mutate func(old attr.Item) (attr.Item, error)) (attr.Item, attr.Item, error) {
	k := encodeKey(t, key)
	for range maxAttempts {
		st, err := s.read(ctx, k)
		if err != nil {
			return nil, nil, err
		}
		if cond != nil && !expr.Eval(cond, st.item) {
			e := conditionFailed(nil)
			if onFail == "ALL_OLD" {
				e.Item = st.item
			}
			return nil, nil, e
		}
		nu, err := mutate(st.item)
		if err != nil {
			return nil, nil, err
		}
		if nu == nil && st.item == nil {
			return nil, nil, nil
		}
		err = s.commit(ctx, []write{{key: k, value: nu, rev: st.rev}})
		if errors.Is(err, errConflict) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		s.emitLogged(ctx, t, st.item, nu, byTTL)
		return st.item, nu, nil
	}
	return nil, nil, &apiError{Type: "TransactionConflictException", Message: "Transaction is ongoing for the item", Status: 400}
}

type keyInput struct {
	exprParams
	TableName                           string    `json:"TableName"`
	Key                                 attr.Item `json:"Key"`
	ConditionExpression                 *string   `json:"ConditionExpression"`
	ProjectionExpression                *string   `json:"ProjectionExpression"`
	UpdateExpression                    *string   `json:"UpdateExpression"`
	ReturnValues                        string    `json:"ReturnValues"`
	ReturnValuesOnConditionCheckFailure string    `json:"ReturnValuesOnConditionCheckFailure"`
	ConsistentRead                      bool      `json:"ConsistentRead"`
	AttributesToGet                     []string  `json:"AttributesToGet"`
}

func (s *Service) getItem(ctx context.Context, in *keyInput) (any, error) {
	t, err := s.mustTable(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	px, err := parseExprs(&in.exprParams, nil, nil, in.ProjectionExpression)
	if err != nil {
		return nil, err
	}
	if err := validateKey(t, in.Key); err != nil {
		return nil, err
	}
	st, err := s.read(ctx, encodeKey(t, in.Key))
	if err != nil {
		return nil, err
	}
	if st.item == nil {
		return struct{}{}, nil
	}
	return map[string]any{"Item": expr.Project(st.item, px.proj)}, nil
}

func (s *Service) deleteItem(ctx context.Context, in *keyInput) (any, error) {
	t, err := s.mustTable(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	if err := checkReturnValues(in.ReturnValues, "ALL_OLD"); err != nil {
		return nil, err
	}
	px, err := parseExprs(&in.exprParams, in.ConditionExpression, nil, nil)
	if err != nil {
		return nil, err
	}
	if err := validateKey(t, in.Key); err != nil {
		return nil, err
	}
	old, _, err := s.writeItem(ctx, t, in.Key, px.cond, in.ReturnValuesOnConditionCheckFailure,
		func(attr.Item) (attr.Item, error) { return nil, nil })
	if err != nil {
		return nil, err
	}
	if in.ReturnValues == "ALL_OLD" && old != nil {
		return map[string]any{"Attributes": old}, nil
	}
	return struct{}{}, nil
}

// applyUpdate computes an UpdateItem's new item.
func applyUpdate(t *Table, key attr.Item, u *expr.Update, old attr.Item) (attr.Item, error) {
	base := old
	if base == nil {
		base = key.Clone()
	}
	if u == nil {
		return base, nil
	}
	nu, err := u.Apply(base)
	if err != nil {
		return nil, exprErr(err)
	}
	if err := validateItem(t, nu); err != nil {
		return nil, err
	}
	return nu, nil
}

func (s *Service) updateItem(ctx context.Context, in *keyInput) (any, error) {
	t, err := s.mustTable(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	if err := checkReturnValues(in.ReturnValues, "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"); err != nil {
		return nil, err
	}
	px, err := parseExprs(&in.exprParams, in.ConditionExpression, in.UpdateExpression, nil)
	if err != nil {
		return nil, err
	}
	if err := validateKey(t, in.Key); err != nil {
		return nil, err
	}
	if err := checkKeyUpdates(t, px.update); err != nil {
		return nil, err
	}
	old, nu, err := s.writeItem(ctx, t, in.Key, px.cond, in.ReturnValuesOnConditionCheckFailure,
		func(old attr.Item) (attr.Item, error) { return applyUpdate(t, in.Key, px.update, old) })
	if err != nil {
		return nil, err
	}
	var out attr.Item
	switch in.ReturnValues {
	case "ALL_OLD":
		out = old
	case "ALL_NEW":
		out = nu
	case "UPDATED_OLD", "UPDATED_NEW":
		src := nu
		if in.ReturnValues == "UPDATED_OLD" {
			src = old
		}
		out = attr.Item{}
		if px.update != nil {
			for _, a := range px.update.Actions {
				if v, ok := expr.Get(src, a.Path); ok {
					out = mergePath(out, a.Path, v)
				}
			}
		}
	}
	if len(out) == 0 {
		return struct{}{}, nil
	}
	return map[string]any{"Attributes": out}, nil
}

// mergePath adds one projected path to a result item.
func mergePath(out attr.Item, p expr.Path, v attr.Value) attr.Item {
	paths := []expr.Path{p}
	one := expr.Project(attr.Item{p.Top(): wrap(p[1:], v)}, paths)
	for k, x := range one {
		out[k] = x
	}
	return out
}

func wrap(rest expr.Path, v attr.Value) attr.Value {
	if len(rest) == 0 {
		return v
	}
	inner := wrap(rest[1:], v)
	if rest[0].IsIndex {
		return attr.Value{T: attr.L, List: []attr.Value{inner}}
	}
	return attr.Value{T: attr.M, Map: map[string]attr.Value{rest[0].Name: inner}}
}

// checkKeyUpdates refuses updates of key attributes.
func checkKeyUpdates(t *Table, u *expr.Update) error {
	if u == nil {
		return nil
	}
	for _, a := range u.Actions {
		top := a.Path.Top()
		if top == t.hashKey() || top == t.rangeKey() {
			if len(a.Path) > 1 {
				return validation("Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: Key: %s", top)
			}
			return validation("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", top)
		}
	}
	return nil
}
