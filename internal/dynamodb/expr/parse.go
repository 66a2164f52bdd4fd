package expr

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/updraft/updraft/internal/dynamodb/attr"
)

// Error is a ValidationException message.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Params are a request's ExpressionAttributeNames and
// ExpressionAttributeValues, and which of them its expressions used.
type Params struct {
	Names  map[string]string
	Values map[string]attr.Value

	usedNames, usedValues map[string]bool
}

// CheckUnused reports names or values no expression of the request used,
// as DynamoDB does once every expression has been parsed.
func (p *Params) CheckUnused() error {
	if un := unused(p.Names, p.usedNames); un != "" {
		return &Error{Msg: "Value provided in ExpressionAttributeNames unused in expressions: keys: {" + un + "}"}
	}
	var vals []string
	for k := range p.Values {
		if !p.usedValues[k] {
			vals = append(vals, k)
		}
	}
	if len(vals) > 0 {
		sort.Strings(vals)
		return &Error{Msg: "Value provided in ExpressionAttributeValues unused in expressions: keys: {" + strings.Join(vals, ", ") + "}"}
	}
	return nil
}

func unused(m map[string]string, used map[string]bool) string {
	var out []string
	for k := range m {
		if !used[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// Error categories, in the order DynamoDB reports them when an
// expression has several problems.
const (
	eParens = iota
	eUnknownFunc
	eMisused
	eReserved
	eSection
	eNameVal
	eOverlap
	eConflict
	eOperand
	eDistinct
	eFunction
	nCategories
)

// syntaxError stops parsing at once.
type syntaxError struct{ msg string }

type parser struct {
	kind string // "ConditionExpression", "UpdateExpression", ...
	src  string
	toks []token
	pos  int
	p    *Params
	errs [nCategories]string
}

func newParser(kind, src string, p *Params) *parser {
	if p.usedNames == nil {
		p.usedNames = map[string]bool{}
		p.usedValues = map[string]bool{}
	}
	return &parser{kind: kind, src: src, toks: lex(src), p: p}
}

func (ps *parser) fail(cat int, format string, args ...any) {
	if ps.errs[cat] == "" {
		ps.errs[cat] = fmt.Sprintf(format, args...)
	}
}

func (ps *parser) peek() token { return ps.toks[ps.pos] }
func (ps *parser) peekAt(n int) token {
	if ps.pos+n < len(ps.toks) {
		return ps.toks[ps.pos+n]
	}
	return ps.toks[len(ps.toks)-1]
}
func (ps *parser) next() token {
	t := ps.toks[ps.pos]
	if t.kind != tEOF {
		ps.pos++
	}
	return t
}

// syntax raises DynamoDB's syntax error at the current token: the token
// and the text from the previous token to it.
func (ps *parser) syntax() {
	t := ps.peek()
	start := t.start
	if ps.pos > 0 {
		start = ps.toks[ps.pos-1].start
	}
	near := ps.src[start:t.end]
	panic(syntaxError{fmt.Sprintf("Syntax error; token: %q, near: %q", t.text, near)})
}

func (ps *parser) isPunct(s string) bool {
	t := ps.peek()
	return t.kind == tPunct && t.text == s
}

func (ps *parser) expect(s string) {
	if !ps.isPunct(s) {
		ps.syntax()
	}
	ps.next()
}

func (ps *parser) isKeyword(k string) bool {
	t := ps.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, k)
}

// run parses with f and turns the first error into DynamoDB's message.
func (ps *parser) run(f func()) (err error) {
	if strings.TrimSpace(ps.src) == "" {
		return &Error{Msg: "Invalid " + ps.kind + ": The expression can not be empty;"}
	}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(syntaxError)
			if !ok {
				panic(r)
			}
			err = &Error{Msg: "Invalid " + ps.kind + ": " + se.msg}
		}
	}()
	f()
	if ps.peek().kind != tEOF {
		ps.syntax()
	}
	for _, e := range ps.errs {
		if e != "" {
			return &Error{Msg: "Invalid " + ps.kind + ": " + e}
		}
	}
	return nil
}

// path reads a document path.
func (ps *parser) path() Path {
	var p Path
	p = append(p, Elem{Name: ps.pathName()})
	for {
		switch {
		case ps.isPunct("."):
			ps.next()
			p = append(p, Elem{Name: ps.pathName()})
		case ps.isPunct("["):
			ps.next()
			t := ps.peek()
			if t.kind != tNumber {
				ps.syntax()
			}
			ps.next()
			n, err := strconv.Atoi(t.text)
			if err != nil {
				n = 1 << 30
			}
			ps.expect("]")
			p = append(p, Elem{Index: n, IsIndex: true})
		default:
			return p
		}
	}
}

func (ps *parser) pathName() string {
	t := ps.peek()
	switch t.kind {
	case tIdent:
		ps.next()
		if reserved[strings.ToUpper(t.text)] {
			ps.fail(eReserved, "Attribute name is a reserved keyword; reserved keyword: %s", t.text)
		}
		return t.text
	case tName:
		ps.next()
		v, ok := ps.p.Names[t.text]
		if !ok {
			ps.fail(eNameVal, "An expression attribute name used in the document path is not defined; attribute name: %s", t.text)
		}
		ps.p.usedNames[t.text] = true
		return v
	}
	ps.syntax()
	return ""
}

// value reads a :value reference.
func (ps *parser) value() *ValueOp {
	t := ps.next()
	v, ok := ps.p.Values[t.text]
	if !ok {
		ps.fail(eNameVal, "An expression attribute value used in expression is not defined; attribute value: %s", t.text)
	}
	ps.p.usedValues[t.text] = true
	return &ValueOp{Name: t.text, Value: v}
}

// args reads "(a, b, ...)" of a function call; each argument is read by
// one.
func (ps *parser) args(one func() Operand) []Operand {
	ps.expect("(")
	var out []Operand
	out = append(out, one())
	for ps.isPunct(",") {
		ps.next()
		out = append(out, one())
	}
	ps.expect(")")
	return out
}

// typeOf is the type of an operand when it is known before evaluation.
func typeOf(o Operand) attr.Type {
	switch o := o.(type) {
	case *ValueOp:
		return o.Value.T
	case *SizeOp, *Arith:
		return attr.N
	case *ListAppend:
		return attr.L
	}
	return ""
}

func isPath(o Operand) bool {
	_, ok := o.(*PathOp)
	return ok
}

func (ps *parser) arity(name string, args []Operand, n int) bool {
	if len(args) != n {
		ps.fail(eFunction, "Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", name, len(args))
		return false
	}
	return true
}

func (ps *parser) operandType(name string, t attr.Type) {
	ps.fail(eFunction, "Incorrect operand type for operator or function; operator or function: %s, operand type: %s", name, t)
}

// checkOverlaps applies DynamoDB's rule that no two paths of one
// expression may overlap (one a prefix of the other) or conflict (one
// indexes a list where the other names a map key).
func (ps *parser) checkOverlaps(paths []Path) {
	for i := 0; i < len(paths); i++ {
		for j := i + 1; j < len(paths); j++ {
			a, b := paths[i], paths[j]
			n := min(len(a), len(b))
			k := 0
			for ; k < n; k++ {
				if a[k] != b[k] {
					break
				}
			}
			if k == n {
				ps.fail(eOverlap, "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", a, b)
				return
			}
			if a[k].IsIndex != b[k].IsIndex {
				ps.fail(eConflict, "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", a, b)
				return
			}
		}
	}
}
