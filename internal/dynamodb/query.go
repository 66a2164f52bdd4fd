package dynamodb

import (
	"context"
	"hash/fnv"
	"sort"

	"github.com/updraft/updraft/internal/dynamodb/attr"
	"github.com/updraft/updraft/internal/dynamodb/expr"
)

// MaxPageBytes is how much item data one Query or Scan page reads before
// it stops with a LastEvaluatedKey (DynamoDB: 1 MB).
const MaxPageBytes = 1 << 20

type readInput struct {
	exprParams
	TableName              string    `json:"TableName"`
	IndexName              string    `json:"IndexName"`
	KeyConditionExpression *string   `json:"KeyConditionExpression"`
	FilterExpression       *string   `json:"FilterExpression"`
	ProjectionExpression   *string   `json:"ProjectionExpression"`
	ScanIndexForward       *bool     `json:"ScanIndexForward"`
	Limit                  *int      `json:"Limit"`
	ExclusiveStartKey      attr.Item `json:"ExclusiveStartKey"`
	Select                 string    `json:"Select"`
	ConsistentRead         bool      `json:"ConsistentRead"`
	Segment                *int      `json:"Segment"`
	TotalSegments          *int      `json:"TotalSegments"`
}

// view is the key schema a read goes by: the table's or an index's.
type view struct {
	hash, rng string
	proj      *Projection
	isGSI     bool
}

func (s *Service) viewOf(t *Table, name string, consistent bool) (view, error) {
	if name == "" {
		return view{hash: t.hashKey(), rng: t.rangeKey()}, nil
	}
	ix, ok := t.index(name)
	if !ok {
		return view{}, validation("The table does not have the specified index: %s", name)
	}
	v := view{hash: keyOf(ix.KeySchema, "HASH"), rng: keyOf(ix.KeySchema, "RANGE"), proj: &ix.Projection}
	for _, g := range t.GSIs {
		if g.IndexName == name {
			v.isGSI = true
		}
	}
	if v.isGSI && consistent {
		return view{}, validation("Consistent reads are not supported on global secondary indexes")
	}
	return v, nil
}

// row is one candidate item of a read.
type row struct {
	key  string
	item attr.Item
}

// order sorts rows by the view's range key, then the table's key.
func order(rows []row, v view, t *Table) {
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i].item, rows[j].item
		if v.rng != "" {
			if c, ok := attr.Compare(a[v.rng], b[v.rng]); ok && c != 0 {
				return c < 0
			}
		}
		return rows[i].key < rows[j].key
	})
}

func (s *Service) query(ctx context.Context, in *readInput) (any, error) {
	return s.queryOrScan(ctx, in, true)
}

func (s *Service) scan(ctx context.Context, in *readInput) (any, error) {
	return s.queryOrScan(ctx, in, false)
}

// queryOrScan is Query (isQuery) or Scan.
func (s *Service) queryOrScan(ctx context.Context, in *readInput, isQuery bool) (any, error) {
	t, err := s.mustTable(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	v, err := s.viewOf(t, in.IndexName, in.ConsistentRead)
	if err != nil {
		return nil, err
	}
	if in.Limit != nil && *in.Limit < 1 {
		return nil, validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", *in.Limit)
	}
	if !isQuery {
		if err := checkSegments(in); err != nil {
			return nil, err
		}
	}
	if isQuery && in.KeyConditionExpression == nil {
		return nil, validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
	}
	p, err := in.params(in.KeyConditionExpression != nil || in.FilterExpression != nil || in.ProjectionExpression != nil)
	if err != nil {
		return nil, err
	}
	var kc *expr.KeyCondition
	if isQuery {
		c, err := expr.ParseCondition("KeyConditionExpression", *in.KeyConditionExpression, p)
		if err != nil {
			return nil, exprErr(err)
		}
		if kc, err = expr.SplitKeyCondition(c, v.hash, v.rng, t.types()); err != nil {
			return nil, exprErr(err)
		}
	}
	var filter expr.Cond
	if in.FilterExpression != nil {
		if filter, err = expr.ParseCondition("FilterExpression", *in.FilterExpression, p); err != nil {
			return nil, exprErr(err)
		}
	}
	if filter != nil && isQuery {
		for _, n := range expr.TopNames(filter) {
			if n == v.hash || (n == v.rng && v.rng != "") {
				return nil, validation("Filter Expression can only contain non-primary key attributes: Primary key attribute: %s", n)
			}
		}
	}
	var proj []expr.Path
	if in.ProjectionExpression != nil {
		if proj, err = expr.ParseProjection(*in.ProjectionExpression, p); err != nil {
			return nil, exprErr(err)
		}
	}
	if err := p.CheckUnused(); err != nil {
		return nil, exprErr(err)
	}
	switch in.Select {
	case "", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "COUNT":
	case "SPECIFIC_ATTRIBUTES":
		if proj == nil {
			return nil, validation("1 validation error detected: Value 'SPECIFIC_ATTRIBUTES' requires ProjectionExpression or AttributesToGet")
		}
	default:
		return nil, validation("1 validation error detected: Value '%s' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]", in.Select)
	}
	if in.Select != "" && in.Select != "SPECIFIC_ATTRIBUTES" && proj != nil {
		return nil, validation("Cannot specify the ProjectionExpression when choosing to get %s", in.Select)
	}
	ix, err := s.index(ctx, t)
	if err != nil {
		return nil, err
	}
	// Candidates, under the index lock; items are never changed in place.
	var rows []row
	ix.mu.Lock()
	if isQuery {
		for k := range ix.parts[in.IndexName][hashString(kc.Hash)] {
			rows = append(rows, row{k, ix.items[k]})
		}
	} else if in.IndexName == "" {
		for k, it := range ix.items {
			rows = append(rows, row{k, it})
		}
	} else {
		for _, set := range ix.parts[in.IndexName] {
			for k := range set {
				rows = append(rows, row{k, ix.items[k]})
			}
		}
	}
	ix.mu.Unlock()
	if isQuery {
		order(rows, v, t)
		if in.ScanIndexForward != nil && !*in.ScanIndexForward {
			for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
				rows[i], rows[j] = rows[j], rows[i]
			}
		}
	} else {
		sort.Slice(rows, func(i, j int) bool {
			hi, hj := hashString(rows[i].item[v.hash]), hashString(rows[j].item[v.hash])
			if hi != hj {
				return hi < hj
			}
			if v.rng != "" {
				if c, ok := attr.Compare(rows[i].item[v.rng], rows[j].item[v.rng]); ok && c != 0 {
					return c < 0
				}
			}
			return rows[i].key < rows[j].key
		})
	}
	start := 0
	if in.ExclusiveStartKey != nil {
		if err := validateKey(t, keyOfItem(t, in.ExclusiveStartKey)); err != nil {
			return nil, validation("The provided starting key is invalid: %s", err.Message)
		}
		sk := encodeKey(t, in.ExclusiveStartKey)
		start = len(rows)
		for i, r := range rows {
			if r.key == sk {
				start = i + 1
				break
			}
		}
		if start == len(rows) {
			// The start item is gone: resume after where it would be.
			start = resumeAfter(rows, in.ExclusiveStartKey, v, t, isQuery, in.ScanIndexForward)
		}
	}
	items := []attr.Item{}
	scanned := 0
	var last attr.Item
	read := 0 // bytes of items read, for the 1 MB page limit
	for _, r := range rows[start:] {
		if in.Limit != nil && scanned == *in.Limit {
			break
		}
		if read >= MaxPageBytes {
			break
		}
		if !isQuery && in.TotalSegments != nil && segmentOf(r.item[t.hashKey()], *in.TotalSegments) != *in.Segment {
			continue
		}
		if kc != nil && !kc.Range.Matches(r.item[v.rng]) {
			continue
		}
		scanned++
		read += r.item.Size()
		if (in.Limit != nil && scanned == *in.Limit) || read >= MaxPageBytes {
			last = lastKey(t, v, r.item)
		}
		if filter != nil && !expr.Eval(filter, r.item) {
			continue
		}
		it := r.item
		if v.proj != nil && (in.Select == "" || in.Select == "ALL_PROJECTED_ATTRIBUTES") {
			it = projectIndex(t, v, it)
		}
		items = append(items, expr.Project(it, proj))
	}
	out := map[string]any{"Count": len(items), "ScannedCount": scanned}
	if in.Select != "COUNT" {
		out["Items"] = items
	}
	if last != nil {
		out["LastEvaluatedKey"] = last
	}
	return out, nil
}

// resumeAfter finds where a read resumes when its ExclusiveStartKey item
// no longer exists: after every row that sorts before or at it.
func resumeAfter(rows []row, start attr.Item, v view, t *Table, isQuery bool, fwd *bool) int {
	probe := row{key: encodeKey(t, start), item: start}
	less := func(a, b row) bool {
		if !isQuery {
			ha, hb := hashString(a.item[v.hash]), hashString(b.item[v.hash])
			if ha != hb {
				return ha < hb
			}
		}
		if v.rng != "" {
			if c, ok := attr.Compare(a.item[v.rng], b.item[v.rng]); ok && c != 0 {
				return c < 0
			}
		}
		return a.key < b.key
	}
	reverse := isQuery && fwd != nil && !*fwd
	for i, r := range rows {
		if (!reverse && less(probe, r)) || (reverse && less(r, probe)) {
			return i
		}
	}
	return len(rows)
}

// lastKey is LastEvaluatedKey: the table's key, plus the index's.
func lastKey(t *Table, v view, it attr.Item) attr.Item {
	k := keyOfItem(t, it)
	for _, n := range []string{v.hash, v.rng} {
		if n != "" {
			k[n] = it[n]
		}
	}
	return k
}

// projectIndex keeps what an index projects.
func projectIndex(t *Table, v view, it attr.Item) attr.Item {
	if v.proj.ProjectionType == "ALL" {
		return it
	}
	out := attr.Item{}
	keep := []string{t.hashKey(), t.rangeKey(), v.hash, v.rng}
	if v.proj.ProjectionType == "INCLUDE" {
		keep = append(keep, v.proj.NonKeyAttributes...)
	}
	for _, n := range keep {
		if x, ok := it[n]; ok && n != "" {
			out[n] = x
		}
	}
	return out
}

func segmentOf(hash attr.Value, total int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(hashString(hash)))
	return int(h.Sum32() % uint32(total))
}

func checkSegments(in *readInput) error {
	switch {
	case in.TotalSegments == nil && in.Segment == nil:
		return nil
	case in.TotalSegments == nil:
		return validation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
	case in.Segment == nil:
		return validation("The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
	case *in.TotalSegments < 1 || *in.TotalSegments > 1000000:
		return validation("1 validation error detected: Value '%d' at 'totalSegments' failed to satisfy constraint: Member must have value less than or equal to 1000000", *in.TotalSegments)
	case *in.Segment < 0:
		return validation("1 validation error detected: Value '%d' at 'segment' failed to satisfy constraint: Member must have value greater than or equal to 0", *in.Segment)
	case *in.Segment >= *in.TotalSegments:
		return validation("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: %d is not less than TotalSegments: %d", *in.Segment, *in.TotalSegments)
	}
	return nil
}
