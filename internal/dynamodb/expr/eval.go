package expr

import (
	"bytes"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/updraft/updraft/internal/dynamodb/attr"
)

// Get reads a document path of an item; false when it is absent.
func Get(item attr.Item, p Path) (attr.Value, bool) {
	v, ok := item[p[0].Name]
	if !ok {
		return attr.Value{}, false
	}
	for _, e := range p[1:] {
		switch {
		case e.IsIndex && v.T == attr.L:
			if e.Index >= len(v.List) {
				return attr.Value{}, false
			}
			v = v.List[e.Index]
		case !e.IsIndex && v.T == attr.M:
			x, ok := v.Map[e.Name]
			if !ok {
				return attr.Value{}, false
			}
			v = x
		default:
			return attr.Value{}, false
		}
	}
	return v, true
}

// Eval evaluates a condition against an item (nil for none).
func Eval(c Cond, item attr.Item) bool {
	switch c := c.(type) {
	case *And:
		return Eval(c.L, item) && Eval(c.R, item)
	case *Or:
		return Eval(c.L, item) || Eval(c.R, item)
	case *Not:
		return !Eval(c.C, item)
	case *Compare:
		a, okA := operandValue(c.L, item)
		b, okB := operandValue(c.R, item)
		if !okA || !okB {
			return c.Op == "<>" && okA != okB
		}
		switch c.Op {
		case "=":
			return attr.Equal(a, b)
		case "<>":
			return !attr.Equal(a, b)
		}
		n, ok := attr.Compare(a, b)
		return ok && cmpOp(c.Op, n)
	case *Between:
		x, ok1 := operandValue(c.X, item)
		lo, ok2 := operandValue(c.Lo, item)
		hi, ok3 := operandValue(c.Hi, item)
		if !ok1 || !ok2 || !ok3 {
			return false
		}
		a, okA := attr.Compare(x, lo)
		b, okB := attr.Compare(x, hi)
		return okA && okB && a >= 0 && b <= 0
	case *In:
		x, ok := operandValue(c.X, item)
		if !ok {
			return false
		}
		for _, o := range c.List {
			if y, ok := operandValue(o, item); ok && attr.Equal(x, y) {
				return true
			}
		}
		return false
	case *Func:
		return evalFunc(c, item)
	}
	return false
}

func evalFunc(f *Func, item attr.Item) bool {
	switch f.Name {
	case "attribute_exists":
		_, ok := Get(item, f.Args[0].(*PathOp).Path)
		return ok
	case "attribute_not_exists":
		_, ok := Get(item, f.Args[0].(*PathOp).Path)
		return !ok
	case "attribute_type":
		v, ok := Get(item, f.Args[0].(*PathOp).Path)
		t, ok2 := operandValue(f.Args[1], item)
		return ok && ok2 && string(v.T) == t.S
	case "begins_with":
		v, ok := operandValue(f.Args[0], item)
		p, ok2 := operandValue(f.Args[1], item)
		return ok && ok2 && beginsWith(v, p)
	case "contains":
		v, ok := operandValue(f.Args[0], item)
		x, ok2 := operandValue(f.Args[1], item)
		if !ok || !ok2 {
			return false
		}
		switch v.T {
		case attr.S:
			return x.T == attr.S && strings.Contains(v.S, x.S)
		case attr.B:
			return x.T == attr.B && bytes.Contains(v.B, x.B)
		case attr.SS:
			return x.T == attr.S && slices.Contains(v.Strs, x.S)
		case attr.NS:
			if x.T != attr.N {
				return false
			}
			return slices.ContainsFunc(v.Nums(), func(n attr.Number) bool { return n.Cmp(x.Num) == 0 })
		case attr.BS:
			return x.T == attr.B && slices.ContainsFunc(v.Bins, func(b []byte) bool { return bytes.Equal(b, x.B) })
		case attr.L:
			return slices.ContainsFunc(v.List, func(e attr.Value) bool { return attr.Equal(e, x) })
		}
	}
	return false
}

// operandValue evaluates a condition operand; false when it names an
// absent attribute or size() of a value without one.
func operandValue(o Operand, item attr.Item) (attr.Value, bool) {
	switch o := o.(type) {
	case *ValueOp:
		return o.Value, true
	case *PathOp:
		return Get(item, o.Path)
	case *SizeOp:
		v, ok := Get(item, o.Path)
		if !ok {
			return attr.Value{}, false
		}
		var n int
		switch v.T {
		case attr.S:
			n = utf8.RuneCountInString(v.S)
		case attr.B:
			n = len(v.B)
		case attr.SS, attr.NS:
			n = len(v.Strs)
		case attr.BS:
			n = len(v.Bins)
		case attr.M:
			n = len(v.Map)
		case attr.L:
			n = len(v.List)
		default:
			return attr.Value{}, false
		}
		return attr.MustNum(itoa(n)), true
	}
	return attr.Value{}, false
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// Runtime errors of updates, in DynamoDB's words.
var (
	errMissing  = &Error{Msg: "The provided expression refers to an attribute that does not exist in the item"}
	errDataType = &Error{Msg: "An operand in the update expression has an incorrect data type"}
	errBadPath  = &Error{Msg: "The document path provided in the update expression is invalid for update"}
)

// Apply runs an update on a copy of item (nil when absent) and returns
// the new item.
func (u *Update) Apply(item attr.Item) (attr.Item, error) {
	old := item
	out := item.Clone()
	if out == nil {
		out = attr.Item{}
	}
	// Every value is computed from the item as it was.
	vals := make([]attr.Value, len(u.Actions))
	for i, a := range u.Actions {
		if a.Kind != "SET" {
			continue
		}
		v, err := setOperandValue(a.Value, old)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	var removes []Path
	for i, a := range u.Actions {
		switch a.Kind {
		case "SET":
			if err := set(out, a.Path, vals[i]); err != nil {
				return nil, err
			}
		case "REMOVE":
			removes = append(removes, a.Path)
		case "ADD":
			if err := add(out, a.Path, a.Value.(*ValueOp).Value); err != nil {
				return nil, err
			}
		case "DELETE":
			if err := del(out, a.Path, a.Value.(*ValueOp).Value); err != nil {
				return nil, err
			}
		}
	}
	// List elements go highest index first, so that every index names
	// the element it named in the item as it was.
	sort.SliceStable(removes, func(i, j int) bool {
		a, b := removes[i], removes[j]
		la, lb := a[len(a)-1], b[len(b)-1]
		return la.IsIndex && lb.IsIndex && la.Index > lb.Index
	})
	for _, p := range removes {
		remove(out, p)
	}
	return out, nil
}

func setOperandValue(o Operand, item attr.Item) (attr.Value, error) {
	switch o := o.(type) {
	case *ValueOp:
		return o.Value, nil
	case *PathOp:
		v, ok := Get(item, o.Path)
		if !ok {
			return attr.Value{}, errMissing
		}
		return v, nil
	case *IfNotExists:
		if v, ok := Get(item, o.Path); ok {
			return v, nil
		}
		return setOperandValue(o.Default, item)
	case *ListAppend:
		a, err := setOperandValue(o.A, item)
		if err != nil {
			return attr.Value{}, err
		}
		b, err := setOperandValue(o.B, item)
		if err != nil {
			return attr.Value{}, err
		}
		if a.T != attr.L || b.T != attr.L {
			return attr.Value{}, errDataType
		}
		l := make([]attr.Value, 0, len(a.List)+len(b.List))
		l = append(append(l, a.List...), b.List...)
		return attr.Value{T: attr.L, List: l}, nil
	case *Arith:
		a, err := setOperandValue(o.A, item)
		if err != nil {
			return attr.Value{}, err
		}
		b, err := setOperandValue(o.B, item)
		if err != nil {
			return attr.Value{}, err
		}
		if a.T != attr.N || b.T != attr.N {
			return attr.Value{}, errDataType
		}
		y := b.Num
		if o.Op == '-' {
			y = y.Negate()
		}
		n, err := a.Num.Add(y)
		if err != nil {
			return attr.Value{}, &Error{Msg: err.Error()}
		}
		return attr.Num(n), nil
	}
	return attr.Value{}, errDataType
}

// container walks to the parent of the path's last element, which must
// exist; the function f replaces the element (nil: remove it).
func update(item attr.Item, p Path, f func(cur attr.Value, ok bool) (attr.Value, bool, error)) error {
	if len(p) == 1 {
		cur, ok := item[p[0].Name]
		v, keep, err := f(cur, ok)
		if err != nil {
			return err
		}
		if keep {
			item[p[0].Name] = v
		} else {
			delete(item, p[0].Name)
		}
		return nil
	}
	top, ok := item[p[0].Name]
	if !ok {
		return errBadPath
	}
	nv, err := updateIn(top, p[1:], f)
	if err != nil {
		return err
	}
	item[p[0].Name] = nv
	return nil
}

func updateIn(v attr.Value, p Path, f func(attr.Value, bool) (attr.Value, bool, error)) (attr.Value, error) {
	e := p[0]
	switch {
	case e.IsIndex && v.T == attr.L:
		if len(p) == 1 {
			var cur attr.Value
			ok := e.Index < len(v.List)
			if ok {
				cur = v.List[e.Index]
			}
			nv, keep, err := f(cur, ok)
			if err != nil {
				return v, err
			}
			switch {
			case keep && ok:
				v.List[e.Index] = nv
			case keep:
				v.List = append(v.List, nv)
			case ok:
				v.List = append(v.List[:e.Index:e.Index], v.List[e.Index+1:]...)
			}
			return v, nil
		}
		if e.Index >= len(v.List) {
			return v, errBadPath
		}
		nv, err := updateIn(v.List[e.Index], p[1:], f)
		if err != nil {
			return v, err
		}
		v.List[e.Index] = nv
		return v, nil
	case !e.IsIndex && v.T == attr.M:
		if len(p) == 1 {
			cur, ok := v.Map[e.Name]
			nv, keep, err := f(cur, ok)
			if err != nil {
				return v, err
			}
			if keep {
				v.Map[e.Name] = nv
			} else {
				delete(v.Map, e.Name)
			}
			return v, nil
		}
		x, ok := v.Map[e.Name]
		if !ok {
			return v, errBadPath
		}
		nv, err := updateIn(x, p[1:], f)
		if err != nil {
			return v, err
		}
		v.Map[e.Name] = nv
		return v, nil
	}
	return v, errBadPath
}

func set(item attr.Item, p Path, v attr.Value) error {
	return update(item, p, func(attr.Value, bool) (attr.Value, bool, error) { return v, true, nil })
}

func remove(item attr.Item, p Path) {
	_ = update(item, p, func(cur attr.Value, ok bool) (attr.Value, bool, error) { return cur, false, nil })
}

func add(item attr.Item, p Path, v attr.Value) error {
	return update(item, p, func(cur attr.Value, ok bool) (attr.Value, bool, error) {
		if !ok {
			return v, true, nil
		}
		if cur.T != v.T {
			return cur, true, errDataType
		}
		switch v.T {
		case attr.N:
			n, err := cur.Num.Add(v.Num)
			if err != nil {
				return cur, true, &Error{Msg: err.Error()}
			}
			return attr.Num(n), true, nil
		case attr.SS:
			s := append(slices.Clone(cur.Strs), v.Strs...)
			sort.Strings(s)
			return attr.Value{T: attr.SS, Strs: slices.Compact(s)}, true, nil
		case attr.NS:
			return attr.NumSet(append(cur.Nums(), v.Nums()...)), true, nil
		case attr.BS:
			b := append(slices.Clone(cur.Bins), v.Bins...)
			slices.SortFunc(b, bytes.Compare)
			return attr.Value{T: attr.BS, Bins: slices.CompactFunc(b, bytes.Equal)}, true, nil
		}
		return cur, true, errDataType
	})
}

func del(item attr.Item, p Path, v attr.Value) error {
	return update(item, p, func(cur attr.Value, ok bool) (attr.Value, bool, error) {
		if !ok {
			return cur, false, nil
		}
		if cur.T != v.T {
			return cur, true, errDataType
		}
		switch v.T {
		case attr.SS, attr.NS:
			var keep []string
			for _, s := range cur.Strs {
				if !slices.Contains(v.Strs, s) {
					keep = append(keep, s)
				}
			}
			cur.Strs = keep
			return cur, len(keep) > 0, nil
		case attr.BS:
			var keep [][]byte
			for _, b := range cur.Bins {
				if !slices.ContainsFunc(v.Bins, func(x []byte) bool { return bytes.Equal(x, b) }) {
					keep = append(keep, b)
				}
			}
			cur.Bins = keep
			return cur, len(keep) > 0, nil
		}
		return cur, true, errDataType
	})
}

// Project keeps only the given paths of an item; nil paths keep all.
func Project(item attr.Item, paths []Path) attr.Item {
	if paths == nil || item == nil {
		return item
	}
	root := &node{}
	for _, p := range paths {
		v, ok := Get(item, p)
		if !ok {
			continue
		}
		n := root
		for _, e := range p {
			n = n.child(e)
		}
		n.val, n.leaf = v, true
	}
	out := attr.Item{}
	for _, c := range root.kids {
		out[c.elem.Name] = c.value()
	}
	return out
}

type node struct {
	elem Elem
	kids []*node
	val  attr.Value
	leaf bool
}

func (n *node) child(e Elem) *node {
	for _, k := range n.kids {
		if k.elem == e {
			return k
		}
	}
	k := &node{elem: e}
	n.kids = append(n.kids, k)
	return k
}

// value builds the projected value: the whole value at a leaf, else a
// map or a list (elements in index order) of the projected children.
func (n *node) value() attr.Value {
	if n.leaf {
		return n.val
	}
	if len(n.kids) > 0 && n.kids[0].elem.IsIndex {
		kids := slices.Clone(n.kids)
		sort.Slice(kids, func(i, j int) bool { return kids[i].elem.Index < kids[j].elem.Index })
		l := make([]attr.Value, len(kids))
		for i, k := range kids {
			l[i] = k.value()
		}
		return attr.Value{T: attr.L, List: l}
	}
	m := make(map[string]attr.Value, len(n.kids))
	for _, k := range n.kids {
		m[k.elem.Name] = k.value()
	}
	return attr.Value{T: attr.M, Map: m}
}
