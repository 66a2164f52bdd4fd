package expr

import (
	"strings"

	"github.com/updraft/updraft/internal/dynamodb/attr"
)

// ParseUpdate parses an UpdateExpression.
func ParseUpdate(src string, p *Params) (*Update, error) {
	ps := newParser("UpdateExpression", src, p)
	u := &Update{}
	err := ps.run(func() {
		seen := map[string]bool{}
		for {
			t := ps.peek()
			if t.kind != tIdent {
				ps.syntax()
			}
			kw := strings.ToUpper(t.text)
			switch kw {
			case "SET", "REMOVE", "ADD", "DELETE":
			default:
				ps.syntax()
			}
			ps.next()
			if seen[kw] {
				ps.fail(eSection, "The %q section can only be used once in an update expression;", kw)
			}
			seen[kw] = true
			for {
				u.Actions = append(u.Actions, ps.action(kw))
				if !ps.isPunct(",") {
					break
				}
				ps.next()
			}
			if ps.peek().kind == tEOF {
				break
			}
		}
		paths := make([]Path, len(u.Actions))
		for i, a := range u.Actions {
			paths[i] = a.Path
		}
		ps.checkOverlaps(paths)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

var typeWords = map[attr.Type]string{attr.S: "STRING", attr.N: "NUMBER", attr.B: "BINARY", attr.NULL: "NULL", attr.BOOL: "BOOLEAN", attr.L: "LIST", attr.M: "MAP"}

func (ps *parser) action(kw string) Action {
	a := Action{Kind: kw, Path: ps.path()}
	switch kw {
	case "SET":
		ps.expect("=")
		a.Value = ps.setValue()
	case "ADD", "DELETE":
		if ps.peek().kind != tValue {
			ps.syntax()
		}
		v := ps.value()
		a.Value = v
		t := v.Value.T
		if w, bad := typeWords[t]; bad && !(kw == "ADD" && t == attr.N) {
			ps.fail(eOperand, "Incorrect operand type for operator or function; operator: %s, operand type: %s", kw, w)
		}
	}
	return a
}

// setValue is operand, operand + operand or operand - operand.
func (ps *parser) setValue() Operand {
	x := ps.setOperand()
	if ps.isPunct("+") || ps.isPunct("-") {
		op := ps.next().text[0]
		y := ps.setOperand()
		for _, o := range []Operand{x, y} {
			if t := typeOf(o); t != "" && t != attr.N {
				ps.operandType(string(op), t)
			}
		}
		return &Arith{Op: op, A: x, B: y}
	}
	return x
}

func (ps *parser) setOperand() Operand {
	t := ps.peek()
	switch t.kind {
	case tValue:
		return ps.value()
	case tName:
		return &PathOp{Path: ps.path()}
	case tIdent:
		if n := ps.peekAt(1); n.kind == tPunct && n.text == "(" {
			ps.next()
			args := ps.args(ps.setOperand)
			switch t.text {
			case "if_not_exists":
				if !ps.arity(t.text, args, 2) {
					return &ValueOp{}
				}
				p, ok := args[0].(*PathOp)
				if !ok {
					ps.fail(eFunction, "Operator or function requires a document path; operator or function: if_not_exists")
					return &ValueOp{}
				}
				return &IfNotExists{Path: p.Path, Default: args[1]}
			case "list_append":
				if !ps.arity(t.text, args, 2) {
					return &ValueOp{}
				}
				for _, a := range args {
					if ty := typeOf(a); ty != "" && ty != attr.L {
						ps.operandType("list_append", ty)
					}
				}
				return &ListAppend{A: args[0], B: args[1]}
			}
			ps.fail(eUnknownFunc, "Invalid function name; function: %s", t.text)
			return &ValueOp{}
		}
		return &PathOp{Path: ps.path()}
	case tPunct:
		if t.text == "(" {
			ps.next()
			v := ps.setValue()
			ps.expect(")")
			return v
		}
	}
	ps.syntax()
	return nil
}
