package expr

import (
	"strconv"
	"strings"

	"github.com/updraft/updraft/internal/dynamodb/attr"
)

// Elem is one step of a document path: a map key or a list index.
type Elem struct {
	Name    string
	Index   int
	IsIndex bool
}

// Path is a document path (a.b[2].c), names already substituted.
type Path []Elem

// String renders a path as DynamoDB's messages do: [a, b, [2]].
func (p Path) String() string {
	parts := make([]string, len(p))
	for i, e := range p {
		if e.IsIndex {
			parts[i] = "[" + strconv.Itoa(e.Index) + "]"
		} else {
			parts[i] = e.Name
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// Top is the top-level attribute a path starts with.
func (p Path) Top() string { return p[0].Name }

// Operand is a value in an expression: a *PathOp, *ValueOp, *SizeOp, or
// in SET actions *IfNotExists, *ListAppend or *Arith.
type Operand interface{ operand() }

// PathOp reads a document path of the item.
type PathOp struct{ Path Path }

// ValueOp is an ExpressionAttributeValues entry.
type ValueOp struct {
	Name  string
	Value attr.Value
}

// SizeOp is size(path).
type SizeOp struct{ Path Path }

// IfNotExists is if_not_exists(path, operand).
type IfNotExists struct {
	Path    Path
	Default Operand
}

// ListAppend is list_append(a, b).
type ListAppend struct{ A, B Operand }

// Arith is a + b or a - b.
type Arith struct {
	Op   byte
	A, B Operand
}

func (*PathOp) operand()      {}
func (*ValueOp) operand()     {}
func (*SizeOp) operand()      {}
func (*IfNotExists) operand() {}
func (*ListAppend) operand()  {}
func (*Arith) operand()       {}

// Cond is a condition: *And, *Or, *Not, *Compare, *Between, *In, *Func.
type Cond interface{ cond() }

// And is a AND b.
type And struct{ L, R Cond }

// Or is a OR b.
type Or struct{ L, R Cond }

// Not is NOT c.
type Not struct{ C Cond }

// Compare is a comparison: =, <>, <, <=, >, >=.
type Compare struct {
	Op   string
	L, R Operand
}

// Between is x BETWEEN lo AND hi.
type Between struct{ X, Lo, Hi Operand }

// In is x IN (a, b, ...).
type In struct {
	X    Operand
	List []Operand
}

// Func is a boolean function: attribute_exists, attribute_not_exists,
// attribute_type, begins_with or contains.
type Func struct {
	Name string
	Args []Operand
}

func (*And) cond()     {}
func (*Or) cond()      {}
func (*Not) cond()     {}
func (*Compare) cond() {}
func (*Between) cond() {}
func (*In) cond()      {}
func (*Func) cond()    {}

// Action is one action of an update expression.
type Action struct {
	// Kind is SET, REMOVE, ADD or DELETE.
	Kind  string
	Path  Path
	Value Operand // nil for REMOVE
}

// Update is a parsed UpdateExpression.
type Update struct{ Actions []Action }
