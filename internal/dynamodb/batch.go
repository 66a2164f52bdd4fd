package dynamodb

import (
	"context"
	"errors"
	"strings"

	"github.com/updraft/updraft/internal/dynamodb/attr"
	"github.com/updraft/updraft/internal/dynamodb/expr"
)

type batchGetInput struct {
	RequestItems map[string]struct {
		exprParams
		Keys                 []attr.Item `json:"Keys"`
		ProjectionExpression *string     `json:"ProjectionExpression"`
		ConsistentRead       bool        `json:"ConsistentRead"`
	} `json:"RequestItems"`
}

func (s *Service) batchGetItem(ctx context.Context, in *batchGetInput) (any, error) {
	n := 0
	for _, r := range in.RequestItems {
		n += len(r.Keys)
	}
	if n > MaxBatchGet {
		return nil, validation("Too many items requested for the BatchGetItem call")
	}
	if len(in.RequestItems) == 0 {
		return nil, validation("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	resp := map[string][]attr.Item{}
	for name, r := range in.RequestItems {
		t, err := s.mustTable(ctx, name)
		if err != nil {
			return nil, err
		}
		px, err := parseExprs(&r.exprParams, nil, nil, r.ProjectionExpression)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		items := []attr.Item{}
		for _, k := range r.Keys {
			if err := validateKey(t, k); err != nil {
				return nil, err
			}
			ek := encodeKey(t, k)
			if seen[ek] {
				return nil, validation("Provided list of item keys contains duplicates")
			}
			seen[ek] = true
			st, err := s.read(ctx, ek)
			if err != nil {
				return nil, err
			}
			if st.item != nil {
				items = append(items, expr.Project(st.item, px.proj))
			}
		}
		resp[name] = items
	}
	return map[string]any{"Responses": resp, "UnprocessedKeys": map[string]any{}}, nil
}

type batchWriteInput struct {
	RequestItems map[string][]struct {
		PutRequest *struct {
			Item attr.Item `json:"Item"`
		} `json:"PutRequest"`
		DeleteRequest *struct {
			Key attr.Item `json:"Key"`
		} `json:"DeleteRequest"`
	} `json:"RequestItems"`
}

func (s *Service) batchWriteItem(ctx context.Context, in *batchWriteInput) (any, error) {
	n := 0
	for _, r := range in.RequestItems {
		n += len(r)
	}
	if n > MaxBatchWrite {
		return nil, validation("1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]")
	}
	if n == 0 {
		return nil, validation("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	type op struct {
		t    *Table
		key  attr.Item
		item attr.Item
	}
	var ops []op
	seen := map[string]bool{}
	for name, reqs := range in.RequestItems {
		t, err := s.mustTable(ctx, name)
		if err != nil {
			return nil, err
		}
		for _, r := range reqs {
			var o op
			switch {
			case r.PutRequest != nil && r.DeleteRequest == nil:
				if err := validateItem(t, r.PutRequest.Item); err != nil {
					return nil, err
				}
				o = op{t, keyOfItem(t, r.PutRequest.Item), r.PutRequest.Item}
			case r.DeleteRequest != nil && r.PutRequest == nil:
				if err := validateKey(t, r.DeleteRequest.Key); err != nil {
					return nil, err
				}
				o = op{t: t, key: r.DeleteRequest.Key}
			default:
				return nil, validation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
			}
			ek := encodeKey(t, o.key)
			if seen[ek] {
				return nil, validation("Provided list of item keys contains duplicates")
			}
			seen[ek] = true
			ops = append(ops, o)
		}
	}
	for _, o := range ops {
		item := o.item
		if _, _, err := s.writeItem(ctx, o.t, o.key, nil, "", func(attr.Item) (attr.Item, error) { return item, nil }); err != nil {
			return nil, err
		}
	}
	return map[string]any{"UnprocessedItems": map[string]any{}}, nil
}

type transactWriteInput struct {
	TransactItems []struct {
		ConditionCheck *txOp `json:"ConditionCheck"`
		Put            *txOp `json:"Put"`
		Delete         *txOp `json:"Delete"`
		Update         *txOp `json:"Update"`
	} `json:"TransactItems"`
	ClientRequestToken string `json:"ClientRequestToken"`
}

type txOp struct {
	exprParams
	TableName                           string    `json:"TableName"`
	Key                                 attr.Item `json:"Key"`
	Item                                attr.Item `json:"Item"`
	ConditionExpression                 *string   `json:"ConditionExpression"`
	UpdateExpression                    *string   `json:"UpdateExpression"`
	ReturnValuesOnConditionCheckFailure string    `json:"ReturnValuesOnConditionCheckFailure"`
}

// txItem is a checked transaction action.
type txItem struct {
	kind string
	t    *Table
	key  attr.Item
	op   *txOp
	px   *parsed
	ek   string
}

func (s *Service) transactWriteItems(ctx context.Context, in *transactWriteInput) (any, error) {
	if len(in.TransactItems) == 0 || len(in.TransactItems) > MaxTransactItems {
		return nil, validation("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100, Member must have length greater than or equal to 1")
	}
	var txs []txItem
	seen := map[string]bool{}
	for _, ti := range in.TransactItems {
		var x txItem
		n := 0
		for kind, o := range map[string]*txOp{"ConditionCheck": ti.ConditionCheck, "Put": ti.Put, "Delete": ti.Delete, "Update": ti.Update} {
			if o != nil {
				x.kind, x.op = kind, o
				n++
			}
		}
		if n != 1 {
			return nil, validation("TransactItems can only contain one of Check, Put, Update or Delete")
		}
		t, err := s.mustTable(ctx, x.op.TableName)
		if err != nil {
			return nil, err
		}
		x.t = t
		if x.kind == "ConditionCheck" && x.op.ConditionExpression == nil {
			return nil, validation("1 validation error detected: Value null at 'transactItems.1.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null")
		}
		if x.px, err = parseExprs(&x.op.exprParams, x.op.ConditionExpression, x.op.UpdateExpression, nil); err != nil {
			return nil, err
		}
		if x.kind == "Put" {
			if err := validateItem(t, x.op.Item); err != nil {
				return nil, err
			}
			x.key = keyOfItem(t, x.op.Item)
		} else {
			if err := validateKey(t, x.op.Key); err != nil {
				return nil, err
			}
			x.key = x.op.Key
		}
		if x.kind == "Update" {
			if x.op.UpdateExpression == nil {
				return nil, validation("1 validation error detected: Value null at 'transactItems.1.member.update.updateExpression' failed to satisfy constraint: Member must not be null")
			}
			if err := checkKeyUpdates(t, x.px.update); err != nil {
				return nil, err
			}
		}
		x.ek = encodeKey(t, x.key)
		if seen[x.ek] {
			return nil, validation("Transaction request cannot include multiple operations on one item")
		}
		seen[x.ek] = true
		txs = append(txs, x)
	}
	for range maxAttempts {
		reasons := make([]cancelReason, len(txs))
		failed := false
		var ws []write
		var olds []attr.Item
		var wt []*Table
		for i, x := range txs {
			st, err := s.read(ctx, x.ek)
			if err != nil {
				return nil, err
			}
			reasons[i] = cancelReason{Code: "None"}
			if x.px.cond != nil && !expr.Eval(x.px.cond, st.item) {
				reasons[i] = cancelReason{Code: "ConditionalCheckFailed", Message: "The conditional request failed"}
				if x.op.ReturnValuesOnConditionCheckFailure == "ALL_OLD" {
					reasons[i].Item = st.item
				}
				failed = true
				continue
			}
			switch x.kind {
			case "ConditionCheck":
				// Unchanged, but the commit checks it is still at st.rev.
				if st.item != nil {
					ws = append(ws, write{key: x.ek, value: st.item, rev: st.rev})
					olds, wt = append(olds, nil), append(wt, nil) // no change, no record
				}
			case "Put":
				ws = append(ws, write{key: x.ek, value: x.op.Item, rev: st.rev})
				olds, wt = append(olds, st.item), append(wt, x.t)
			case "Delete":
				if st.item != nil {
					ws = append(ws, write{key: x.ek, rev: st.rev})
					olds, wt = append(olds, st.item), append(wt, x.t)
				}
			case "Update":
				nu, err := applyUpdate(x.t, x.key, x.px.update, st.item)
				if err != nil {
					var ae *apiError
					if errors.As(err, &ae) && ae.Type == "ValidationException" {
						reasons[i] = cancelReason{Code: "ValidationError", Message: ae.Message}
						failed = true
						continue
					}
					return nil, err
				}
				ws = append(ws, write{key: x.ek, value: nu, rev: st.rev})
				olds, wt = append(olds, st.item), append(wt, x.t)
			}
		}
		if failed {
			codes := make([]string, len(reasons))
			for i, r := range reasons {
				codes[i] = r.Code
			}
			return nil, &apiError{Type: "TransactionCanceledException", Status: 400, Reasons: reasons,
				Message: "Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]"}
		}
		err := s.commit(ctx, ws)
		if errors.Is(err, errConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for i, w := range ws {
			if wt[i] != nil {
				s.emitLogged(ctx, wt[i], olds[i], w.value, false)
			}
		}
		return struct{}{}, nil
	}
	return nil, &apiError{Type: "TransactionConflictException", Message: "Transaction is ongoing for the item", Status: 400}
}

type transactGetInput struct {
	TransactItems []struct {
		Get *struct {
			exprParams
			TableName            string    `json:"TableName"`
			Key                  attr.Item `json:"Key"`
			ProjectionExpression *string   `json:"ProjectionExpression"`
		} `json:"Get"`
	} `json:"TransactItems"`
}

func (s *Service) transactGetItems(ctx context.Context, in *transactGetInput) (any, error) {
	if len(in.TransactItems) == 0 || len(in.TransactItems) > MaxTransactItems {
		return nil, validation("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100, Member must have length greater than or equal to 1")
	}
	out := make([]map[string]any, len(in.TransactItems))
	for i, ti := range in.TransactItems {
		g := ti.Get
		if g == nil {
			return nil, validation("1 validation error detected: Value null at 'transactItems.%d.member.get' failed to satisfy constraint: Member must not be null", i+1)
		}
		t, err := s.mustTable(ctx, g.TableName)
		if err != nil {
			return nil, err
		}
		px, err := parseExprs(&g.exprParams, nil, nil, g.ProjectionExpression)
		if err != nil {
			return nil, err
		}
		if err := validateKey(t, g.Key); err != nil {
			return nil, err
		}
		st, err := s.read(ctx, encodeKey(t, g.Key))
		if err != nil {
			return nil, err
		}
		out[i] = map[string]any{}
		if st.item != nil {
			out[i]["Item"] = expr.Project(st.item, px.proj)
		}
	}
	return map[string]any{"Responses": out}, nil
}
