package expr

import (
	"strings"

	"github.com/updraft/updraft/internal/dynamodb/attr"
)

// MaxInOperands is the most operands IN takes.
const MaxInOperands = 100

// validTypes are attribute_type's type names.
var validTypes = map[string]bool{"S": true, "N": true, "B": true, "SS": true, "NS": true, "BS": true, "M": true, "L": true, "NULL": true, "BOOL": true}

// ParseCondition parses a condition of kind "ConditionExpression",
// "FilterExpression" or "KeyConditionExpression".
func ParseCondition(kind, src string, p *Params) (Cond, error) {
	ps := newParser(kind, src, p)
	var c Cond
	if err := ps.run(func() { c = ps.or() }); err != nil {
		return nil, err
	}
	return c, nil
}

func (ps *parser) or() Cond {
	c := ps.and()
	for ps.isKeyword("OR") {
		ps.next()
		c = &Or{L: c, R: ps.and()}
	}
	return c
}

func (ps *parser) and() Cond {
	c := ps.not()
	for ps.isKeyword("AND") {
		ps.next()
		c = &And{L: c, R: ps.not()}
	}
	return c
}

func (ps *parser) not() Cond {
	if ps.isKeyword("NOT") {
		ps.next()
		return &Not{C: ps.not()}
	}
	return ps.primary()
}

var boolFuncs = map[string]bool{"attribute_exists": true, "attribute_not_exists": true, "attribute_type": true, "begins_with": true, "contains": true}

func (ps *parser) primary() Cond {
	if ps.isPunct("(") {
		ps.next()
		if ps.isPunct("(") && ps.doubleParens() {
			ps.fail(eParens, "The expression has redundant parentheses;")
		}
		c := ps.or()
		ps.expect(")")
		return c
	}
	t := ps.peek()
	if t.kind == tIdent && ps.peekAt(1).kind == tPunct && ps.peekAt(1).text == "(" {
		name := t.text
		if !boolFuncs[name] {
			// size(...) compared, or a function DynamoDB does not have.
			start := ps.pos
			ps.next()
			ps.args(ps.condOperand)
			if ps.comparisonFollows() {
				ps.pos = start
				return ps.comparison(ps.condOperand())
			}
			if name == "size" {
				ps.fail(eMisused, "The function is not allowed to be used this way in an expression; function: %s", name)
			} else {
				ps.fail(eUnknownFunc, "Invalid function name; function: %s", name)
			}
			return &Func{Name: name}
		}
		ps.next()
		args := ps.args(ps.condOperand)
		ps.checkBoolFunc(name, args)
		if !ps.comparisonFollows() {
			return &Func{Name: name, Args: args}
		}
		ps.fail(eMisused, "The function is not allowed to be used this way in an expression; function: %s", name)
		return ps.comparison(&ValueOp{})
	}
	return ps.comparison(ps.condOperand())
}

// comparisonFollows reports whether a comparison operator, BETWEEN or
// IN is next.
func (ps *parser) comparisonFollows() bool {
	t := ps.peek()
	return t.kind == tPunct && (t.text == "=" || t.text == "<>" || t.text == "<" || t.text == "<=" || t.text == ">" || t.text == ">=") ||
		ps.isKeyword("BETWEEN") || ps.isKeyword("IN")
}

// comparison reads what follows the first operand x of a comparison.
func (ps *parser) comparison(x Operand) Cond {
	t := ps.peek()
	switch {
	case t.kind == tPunct && (t.text == "=" || t.text == "<>" || t.text == "<" || t.text == "<=" || t.text == ">" || t.text == ">="):
		ps.next()
		y := ps.condOperand()
		ps.distinct(t.text, x, y)
		return &Compare{Op: t.text, L: x, R: y}
	case ps.isKeyword("BETWEEN"):
		ps.next()
		lo := ps.condOperand()
		if !ps.isKeyword("AND") {
			ps.syntax()
		}
		ps.next()
		hi := ps.condOperand()
		ps.distinct("BETWEEN", x, lo, hi)
		ps.checkBetween(lo, hi)
		return &Between{X: x, Lo: lo, Hi: hi}
	case ps.isKeyword("IN"):
		ps.next()
		list := ps.args(ps.condOperand)
		if len(list) > MaxInOperands {
			ps.fail(eFunction, "The IN operator is provided with too many operands; number of operands: %d", len(list))
		}
		ps.distinct("IN", append([]Operand{x}, list...)...)
		return &In{X: x, List: list}
	}
	ps.syntax()
	return nil
}

// doubleParens reports whether the "(" at the current token closes just
// before the ")" that closes the enclosing one: "((x))".
func (ps *parser) doubleParens() bool {
	depth := 0
	for i := ps.pos; i < len(ps.toks); i++ {
		t := ps.toks[i]
		if t.kind != tPunct {
			continue
		}
		switch t.text {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				n := ps.toks[i+1]
				return n.kind == tPunct && n.text == ")"
			}
		}
	}
	return false
}

// condOperand reads an operand of a condition: a path, a value or
// size(path). Other functions are misused here.
func (ps *parser) condOperand() Operand {
	t := ps.peek()
	switch t.kind {
	case tValue:
		return ps.value()
	case tIdent:
		if n := ps.peekAt(1); n.kind == tPunct && n.text == "(" {
			ps.next()
			args := ps.args(ps.condOperand)
			if t.text != "size" {
				if boolFuncs[t.text] {
					ps.fail(eMisused, "The function is not allowed to be used this way in an expression; function: %s", t.text)
				} else {
					ps.fail(eUnknownFunc, "Invalid function name; function: %s", t.text)
				}
				return &ValueOp{}
			}
			if !ps.arity("size", args, 1) {
				return &SizeOp{}
			}
			switch a := args[0].(type) {
			case *PathOp:
				return &SizeOp{Path: a.Path}
			case *ValueOp:
				if a.Value.T == attr.N || a.Value.T == attr.BOOL || a.Value.T == attr.NULL {
					ps.operandType("size", a.Value.T)
				} else {
					ps.fail(eFunction, "Operator or function requires a document path; operator or function: size")
				}
			}
			return &SizeOp{}
		}
		return &PathOp{Path: ps.path()}
	case tName:
		return &PathOp{Path: ps.path()}
	}
	ps.syntax()
	return nil
}

func (ps *parser) checkBoolFunc(name string, args []Operand) {
	switch name {
	case "attribute_exists", "attribute_not_exists":
		if ps.arity(name, args, 1) && !isPath(args[0]) {
			ps.fail(eFunction, "Operator or function requires a document path; operator or function: %s", name)
		}
	case "attribute_type":
		if !ps.arity(name, args, 2) {
			return
		}
		if !isPath(args[0]) {
			ps.fail(eFunction, "Operator or function requires a document path; operator or function: %s", name)
			return
		}
		v, ok := args[1].(*ValueOp)
		if !ok || v.Value.T != attr.S {
			t := string(typeOf(args[1]))
			if t == "" {
				t = "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}"
			}
			ps.fail(eFunction, "Incorrect operand type for operator or function; operator or function: %s, operand type: %s", name, t)
			return
		}
		if v.Value.T == attr.S && !validTypes[v.Value.S] && ps.errs[eNameVal] == "" {
			ps.fail(eFunction, "Invalid attribute type name found; type: %s, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}", v.Value.S)
		}
	case "begins_with":
		if !ps.arity(name, args, 2) {
			return
		}
		for _, a := range args {
			if t := typeOf(a); t != "" && t != attr.S && t != attr.B {
				ps.operandType(name, t)
				return
			}
		}
		ps.distinct(name, args...)
	case "contains":
		if ps.arity(name, args, 2) {
			ps.distinct(name, args...)
		}
	}
}

// distinct applies "The first operand must be distinct from the
// remaining operands".
func (ps *parser) distinct(op string, args ...Operand) {
	a, ok := args[0].(*PathOp)
	if !ok {
		return
	}
	for _, o := range args[1:] {
		if b, ok := o.(*PathOp); ok && samePath(a.Path, b.Path) {
			ps.fail(eDistinct, "The first operand must be distinct from the remaining operands for this operator or function; operator: %s, first operand: %s", op, a.Path)
			return
		}
	}
}

func samePath(a, b Path) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (ps *parser) checkBetween(lo, hi Operand) {
	x, ok1 := lo.(*ValueOp)
	y, ok2 := hi.(*ValueOp)
	if !ok1 || !ok2 || x.Value.T == "" || y.Value.T == "" {
		return
	}
	if x.Value.T != y.Value.T {
		ps.fail(eFunction, "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: %s, upper bound operand: AttributeValue: %s", x.Value.Describe(), y.Value.Describe())
		return
	}
	if c, ok := attr.Compare(x.Value, y.Value); ok && c > 0 {
		ps.fail(eFunction, "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: %s, upper bound operand: AttributeValue: %s", x.Value.Describe(), y.Value.Describe())
	}
}

// ParseProjection parses a ProjectionExpression into its paths.
func ParseProjection(src string, p *Params) ([]Path, error) {
	ps := newParser("ProjectionExpression", src, p)
	var paths []Path
	err := ps.run(func() {
		paths = append(paths, ps.path())
		for ps.isPunct(",") {
			ps.next()
			paths = append(paths, ps.path())
		}
		ps.checkOverlaps(paths)
	})
	if err != nil {
		return nil, err
	}
	return paths, nil
}

// KeyCondition is a Query's key condition, split by key.
type KeyCondition struct {
	Hash     attr.Value
	HashName string
	// Range is nil when the range key is unconstrained. Op is =, <, <=,
	// >, >=, BETWEEN or begins_with; Values holds one operand (two for
	// BETWEEN).
	Range *RangeCond
}

// RangeCond is the condition on the range key.
type RangeCond struct {
	Name   string
	Op     string
	Values []attr.Value
}

// Matches reports whether v satisfies the range condition.
func (r *RangeCond) Matches(v attr.Value) bool {
	if r == nil {
		return true
	}
	a := r.Values[0]
	switch r.Op {
	case "begins_with":
		return beginsWith(v, a)
	case "BETWEEN":
		c1, ok1 := attr.Compare(v, a)
		c2, ok2 := attr.Compare(v, r.Values[1])
		return ok1 && ok2 && c1 >= 0 && c2 <= 0
	}
	c, ok := attr.Compare(v, a)
	return ok && cmpOp(r.Op, c)
}

// SplitKeyCondition checks a parsed KeyConditionExpression against a key
// schema as DynamoDB does and returns its parts. types gives each key's
// declared type.
func SplitKeyCondition(c Cond, hash, rng string, types map[string]attr.Type) (*KeyCondition, error) {
	conds := map[string]Cond{}
	var walk func(c Cond) error
	walk = func(c Cond) error {
		var name string
		switch c := c.(type) {
		case *And:
			if err := walk(c.L); err != nil {
				return err
			}
			return walk(c.R)
		case *Or:
			return &Error{Msg: "Invalid operator used in KeyConditionExpression: OR"}
		case *Not:
			return &Error{Msg: "Invalid operator used in KeyConditionExpression: NOT"}
		case *In:
			return &Error{Msg: "Invalid operator used in KeyConditionExpression: IN"}
		case *Compare:
			if c.Op == "<>" {
				return &Error{Msg: "Invalid operator used in KeyConditionExpression: <>"}
			}
			var err error
			if name, err = keyOperands(c.L, c.R); err != nil {
				return err
			}
		case *Between:
			if !isPath(c.X) {
				return &Error{Msg: "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand"}
			}
			var err error
			if name, err = keyOperands(c.X, c.Lo, c.Hi); err != nil {
				return err
			}
		case *Func:
			if c.Name != "begins_with" {
				return &Error{Msg: "Invalid operator used in KeyConditionExpression: " + c.Name}
			}
			if !isPath(c.Args[0]) {
				return &Error{Msg: "Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand"}
			}
			var err error
			if name, err = keyOperands(c.Args...); err != nil {
				return err
			}
		}
		if _, dup := conds[name]; dup {
			return &Error{Msg: "KeyConditionExpressions must only contain one condition per key"}
		}
		conds[name] = c
		return nil
	}
	if err := walk(c); err != nil {
		return nil, err
	}
	for name := range conds {
		if name != hash && name != rng {
			return nil, &Error{Msg: "Query condition missed key schema element: " + hash}
		}
	}
	hc, ok := conds[hash]
	if !ok {
		return nil, &Error{Msg: "Query condition missed key schema element: " + hash}
	}
	out := &KeyCondition{HashName: hash}
	cmp, ok := hc.(*Compare)
	if !ok || cmp.Op != "=" {
		return nil, &Error{Msg: "Query key condition not supported"}
	}
	hv := otherValue(cmp.L, cmp.R)
	if hv.T != types[hash] {
		return nil, &Error{Msg: "One or more parameter values were invalid: Condition parameter type does not match schema type"}
	}
	out.Hash = hv
	if rc, ok := conds[rng]; ok && rng != "" {
		r := &RangeCond{Name: rng}
		switch rc := rc.(type) {
		case *Compare:
			r.Op = rc.Op
			if _, lpath := rc.L.(*PathOp); !lpath {
				r.Op = flip[rc.Op]
			}
			r.Values = []attr.Value{otherValue(rc.L, rc.R)}
		case *Between:
			r.Op = "BETWEEN"
			r.Values = []attr.Value{rc.Lo.(*ValueOp).Value, rc.Hi.(*ValueOp).Value}
		case *Func:
			r.Op = "begins_with"
			r.Values = []attr.Value{rc.Args[1].(*ValueOp).Value}
			if types[rng] == attr.N {
				return nil, &Error{Msg: "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"}
			}
		}
		for _, v := range r.Values {
			if v.T != types[rng] {
				return nil, &Error{Msg: "One or more parameter values were invalid: Condition parameter type does not match schema type"}
			}
		}
		out.Range = r
	}
	return out, nil
}

var flip = map[string]string{"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

// keyOperands checks that exactly one operand names a top-level
// attribute and the others are values; it returns the name.
func keyOperands(ops ...Operand) (string, error) {
	name := ""
	for _, o := range ops {
		switch o := o.(type) {
		case *PathOp:
			if name != "" {
				return "", &Error{Msg: "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"}
			}
			if len(o.Path) > 1 {
				return "", &Error{Msg: "KeyConditionExpressions cannot have conditions on nested attributes"}
			}
			name = o.Path[0].Name
		case *SizeOp:
			return "", &Error{Msg: "KeyConditionExpressions cannot contain nested operations"}
		}
	}
	if name == "" {
		return "", &Error{Msg: "Invalid condition in KeyConditionExpression: No key attribute specified"}
	}
	return name, nil
}

func otherValue(a, b Operand) attr.Value {
	if v, ok := a.(*ValueOp); ok {
		return v.Value
	}
	return b.(*ValueOp).Value
}

// beginsWith is begins_with on S or B values.
func beginsWith(v, prefix attr.Value) bool {
	switch {
	case v.T == attr.S && prefix.T == attr.S:
		return strings.HasPrefix(v.S, prefix.S)
	case v.T == attr.B && prefix.T == attr.B:
		return strings.HasPrefix(string(v.B), string(prefix.B))
	}
	return false
}

func cmpOp(op string, c int) bool {
	switch op {
	case "=":
		return c == 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

// TopNames lists the top-level attributes a condition reads.
func TopNames(c Cond) []string {
	var out []string
	op := func(o Operand) {
		switch o := o.(type) {
		case *PathOp:
			out = append(out, o.Path.Top())
		case *SizeOp:
			if len(o.Path) > 0 {
				out = append(out, o.Path.Top())
			}
		}
	}
	var walk func(Cond)
	walk = func(c Cond) {
		switch c := c.(type) {
		case *And:
			walk(c.L)
			walk(c.R)
		case *Or:
			walk(c.L)
			walk(c.R)
		case *Not:
			walk(c.C)
		case *Compare:
			op(c.L)
			op(c.R)
		case *Between:
			op(c.X)
			op(c.Lo)
			op(c.Hi)
		case *In:
			op(c.X)
			for _, o := range c.List {
				op(o)
			}
		case *Func:
			for _, o := range c.Args {
				op(o)
			}
		}
	}
	walk(c)
	return out
}
