package asl

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math/big"
	mrand "math/rand/v2"
	"strings"
	"unicode"
)

// Intrinsic is a parsed intrinsic function call such as
// States.Format('{} items', $.count).
type Intrinsic struct {
	// Name is the function's name without "States.".
	Name string
	args []intrinsicArg
}

// intrinsicArg is one argument: a literal, a path or a nested call.
type intrinsicArg struct {
	literal any
	path    *Path
	call    *Intrinsic
}

// intrinsicArity gives each function's minimum and maximum argument
// count (-1: any number), from the Step Functions developer guide,
// "Intrinsic functions".
var intrinsicArity = map[string][2]int{
	"Format":         {1, -1},
	"StringToJson":   {1, 1},
	"JsonToString":   {1, 1},
	"Array":          {0, -1},
	"ArrayPartition": {2, 2},
	"ArrayContains":  {2, 2},
	"ArrayRange":     {3, 3},
	"ArrayGetItem":   {2, 2},
	"ArrayLength":    {1, 1},
	"ArrayUnique":    {1, 1},
	"Base64Encode":   {1, 1},
	"Base64Decode":   {1, 1},
	"Hash":           {2, 2},
	"JsonMerge":      {3, 3},
	"MathRandom":     {2, 3},
	"MathAdd":        {2, 2},
	"StringSplit":    {2, 2},
	"UUID":           {0, 0},
}

// IsIntrinsic reports whether s looks like an intrinsic function call.
func IsIntrinsic(s string) bool { return strings.HasPrefix(strings.TrimSpace(s), "States.") }

// ParseIntrinsic parses an intrinsic function call.
func ParseIntrinsic(s string) (*Intrinsic, error) {
	p := &intrinsicParser{s: s}
	call, err := p.call()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("intrinsic function %q: unexpected text after the call at offset %d", s, p.i)
	}
	return call, nil
}

type intrinsicParser struct {
	s string
	i int
}

func (p *intrinsicParser) space() {
	for p.i < len(p.s) && unicode.IsSpace(rune(p.s[p.i])) {
		p.i++
	}
}

func (p *intrinsicParser) call() (*Intrinsic, error) {
	p.space()
	if !strings.HasPrefix(p.s[p.i:], "States.") {
		return nil, fmt.Errorf("intrinsic function %q: a call must start with 'States.'", p.s)
	}
	p.i += len("States.")
	j := p.i
	for p.i < len(p.s) && (unicode.IsLetter(rune(p.s[p.i])) || unicode.IsDigit(rune(p.s[p.i]))) {
		p.i++
	}
	name := p.s[j:p.i]
	arity, ok := intrinsicArity[name]
	if !ok {
		return nil, fmt.Errorf("intrinsic function %q: unknown function States.%s", p.s, name)
	}
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != '(' {
		return nil, fmt.Errorf("intrinsic function %q: expected '(' after States.%s", p.s, name)
	}
	p.i++
	call := &Intrinsic{Name: name}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ')' {
		p.i++
	} else {
		for {
			arg, err := p.arg()
			if err != nil {
				return nil, err
			}
			call.args = append(call.args, arg)
			p.space()
			if p.i >= len(p.s) {
				return nil, fmt.Errorf("intrinsic function %q: missing ')'", p.s)
			}
			if p.s[p.i] == ')' {
				p.i++
				break
			}
			if p.s[p.i] != ',' {
				return nil, fmt.Errorf("intrinsic function %q: expected ',' or ')' at offset %d", p.s, p.i)
			}
			p.i++
		}
	}
	if n := len(call.args); n < arity[0] || (arity[1] >= 0 && n > arity[1]) {
		return nil, fmt.Errorf("intrinsic function %q: States.%s takes %s, not %d", p.s, name, arityText(arity), n)
	}
	return call, nil
}

func arityText(a [2]int) string {
	switch {
	case a[1] < 0:
		return fmt.Sprintf("at least %d arguments", a[0])
	case a[0] == a[1]:
		return fmt.Sprintf("%d arguments", a[0])
	}
	return fmt.Sprintf("%d to %d arguments", a[0], a[1])
}

func (p *intrinsicParser) arg() (intrinsicArg, error) {
	p.space()
	if p.i >= len(p.s) {
		return intrinsicArg{}, fmt.Errorf("intrinsic function %q: missing argument", p.s)
	}
	rest := p.s[p.i:]
	switch {
	case rest[0] == '\'':
		var b strings.Builder
		for k := p.i + 1; k < len(p.s); k++ {
			c := p.s[k]
			if c == '\\' && k+1 < len(p.s) {
				k++
				if p.s[k] == '{' || p.s[k] == '}' {
					// Kept for States.Format, whose template reads \{ and \} as braces.
					b.WriteByte('\\')
				}
				b.WriteByte(p.s[k])
				continue
			}
			if c == '\'' {
				p.i = k + 1
				return intrinsicArg{literal: b.String()}, nil
			}
			b.WriteByte(c)
		}
		return intrinsicArg{}, fmt.Errorf("intrinsic function %q: unterminated string", p.s)
	case strings.HasPrefix(rest, "States."):
		c, err := p.call()
		return intrinsicArg{call: c}, err
	case rest[0] == '$':
		depth, k := 0, p.i
		for ; k < len(p.s); k++ {
			c := p.s[k]
			if c == '[' {
				depth++
			} else if c == ']' {
				depth--
			} else if depth == 0 && (c == ',' || c == ')') {
				break
			}
		}
		text := strings.TrimSpace(p.s[p.i:k])
		path, err := ParsePath(text)
		if err != nil {
			return intrinsicArg{}, fmt.Errorf("intrinsic function %q: %w", p.s, err)
		}
		p.i = k
		return intrinsicArg{path: path}, nil
	}
	k := p.i
	for k < len(p.s) && p.s[k] != ',' && p.s[k] != ')' && !unicode.IsSpace(rune(p.s[k])) {
		k++
	}
	tok := p.s[p.i:k]
	switch tok {
	case "true":
		p.i = k
		return intrinsicArg{literal: true}, nil
	case "false":
		p.i = k
		return intrinsicArg{literal: false}, nil
	case "null":
		p.i = k
		return intrinsicArg{literal: nil}, nil
	}
	var n json.Number
	if err := json.Unmarshal([]byte(tok), &n); err != nil || tok == "" {
		return intrinsicArg{}, fmt.Errorf("intrinsic function %q: bad argument %q", p.s, tok)
	}
	p.i = k
	return intrinsicArg{literal: n}, nil
}

// errIntrinsic marks an intrinsic function's failure at run time
// (States.IntrinsicFailure).
var errIntrinsic = errors.New("intrinsic failure")

// Eval evaluates the call with input for $ and ctx for $$.
func (c *Intrinsic) Eval(input, ctx any) (any, error) {
	args := make([]any, len(c.args))
	for i, a := range c.args {
		switch {
		case a.call != nil:
			v, err := a.call.Eval(input, ctx)
			if err != nil {
				return nil, err
			}
			args[i] = v
		case a.path != nil:
			root := input
			if a.path.Context {
				root = ctx
			}
			v, ok := a.path.Select(root)
			if !ok {
				return nil, fmt.Errorf("%w: States.%s: no results for path %s", errIntrinsic, c.Name, a.path.canonical())
			}
			args[i] = v
		default:
			args[i] = a.literal
		}
	}
	v, err := callIntrinsic(c.Name, args)
	if err != nil {
		return nil, fmt.Errorf("%w: States.%s: %v", errIntrinsic, c.Name, err)
	}
	return v, nil
}

// callIntrinsic runs one function on evaluated arguments.
func callIntrinsic(name string, args []any) (any, error) {
	switch name {
	case "Format":
		return format(args)
	case "StringToJson":
		s, ok := args[0].(string)
		if !ok {
			return nil, errors.New("the argument must be a string")
		}
		return Decode([]byte(s))
	case "JsonToString":
		return Encode(args[0])
	case "Array":
		return append([]any{}, args...), nil
	case "ArrayPartition":
		a, ok := args[0].([]any)
		n, ok2 := integer(args[1])
		if !ok || !ok2 || n <= 0 {
			return nil, errors.New("the arguments must be an array and a positive integer")
		}
		out := []any{}
		for i := 0; i < len(a); i += int(n) {
			out = append(out, append([]any{}, a[i:min(len(a), i+int(n))]...))
		}
		return out, nil
	case "ArrayContains":
		a, ok := args[0].([]any)
		if !ok {
			return nil, errors.New("the first argument must be an array")
		}
		for _, e := range a {
			if jsonEqual(e, args[1]) {
				return true, nil
			}
		}
		return false, nil
	case "ArrayRange":
		start, ok1 := integer(args[0])
		end, ok2 := integer(args[1])
		step, ok3 := integer(args[2])
		if !ok1 || !ok2 || !ok3 || step == 0 {
			return nil, errors.New("the arguments must be integers and the step not 0")
		}
		out := []any{}
		for i := start; (step > 0 && i <= end) || (step < 0 && i >= end); i += step {
			if len(out) == 1000 {
				return nil, errors.New("the range has more than 1000 items")
			}
			out = append(out, num(i))
		}
		return out, nil
	case "ArrayGetItem":
		a, ok := args[0].([]any)
		i, ok2 := integer(args[1])
		if !ok || !ok2 {
			return nil, errors.New("the arguments must be an array and an integer")
		}
		if i < 0 || int(i) >= len(a) {
			return nil, fmt.Errorf("index %d is out of range for an array of %d items", i, len(a))
		}
		return a[i], nil
	case "ArrayLength":
		a, ok := args[0].([]any)
		if !ok {
			return nil, errors.New("the argument must be an array")
		}
		return num(int64(len(a))), nil
	case "ArrayUnique":
		a, ok := args[0].([]any)
		if !ok {
			return nil, errors.New("the argument must be an array")
		}
		out := []any{}
	next:
		for _, e := range a {
			for _, u := range out {
				if jsonEqual(e, u) {
					continue next
				}
			}
			out = append(out, e)
		}
		return out, nil
	case "Base64Encode":
		s, ok := args[0].(string)
		if !ok {
			return nil, errors.New("the argument must be a string")
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "Base64Decode":
		s, ok := args[0].(string)
		if !ok {
			return nil, errors.New("the argument must be a string")
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, errors.New("the argument is not valid base64")
		}
		return string(b), nil
	case "Hash":
		return hashOf(args[0], args[1])
	case "JsonMerge":
		a, ok1 := args[0].(map[string]any)
		b, ok2 := args[1].(map[string]any)
		deep, ok3 := args[2].(bool)
		if !ok1 || !ok2 || !ok3 {
			return nil, errors.New("the arguments must be two objects and a boolean")
		}
		if deep {
			return nil, errors.New("deep merging is not supported: the third argument must be false")
		}
		out := make(map[string]any, len(a)+len(b))
		for k, v := range a {
			out[k] = v
		}
		for k, v := range b {
			out[k] = v
		}
		return out, nil
	case "MathRandom":
		lo, ok1 := integer(args[0])
		hi, ok2 := integer(args[1])
		if !ok1 || !ok2 || hi <= lo {
			return nil, errors.New("the arguments must be integers with start below end")
		}
		if len(args) == 3 {
			seed, ok := integer(args[2])
			if !ok {
				return nil, errors.New("the seed must be an integer")
			}
			r := mrand.New(mrand.NewPCG(uint64(seed), 0))
			return num(lo + r.Int64N(hi-lo)), nil
		}
		n, err := rand.Int(rand.Reader, big.NewInt(hi-lo))
		if err != nil {
			return nil, err
		}
		return num(lo + n.Int64()), nil
	case "MathAdd":
		a, ok1 := integer(args[0])
		b, ok2 := integer(args[1])
		if !ok1 || !ok2 {
			return nil, errors.New("the arguments must be integers")
		}
		return num(a + b), nil
	case "StringSplit":
		s, ok1 := args[0].(string)
		sep, ok2 := args[1].(string)
		if !ok1 || !ok2 {
			return nil, errors.New("the arguments must be strings")
		}
		out := []any{}
		for _, part := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(sep, r) }) {
			out = append(out, part)
		}
		return out, nil
	case "UUID":
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		h := hex.EncodeToString(b[:])
		return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
	}
	return nil, fmt.Errorf("unknown function")
}

// format fills the template's {} with the arguments: strings as they
// are, anything else as JSON. \{ and \} in the template are braces.
func format(args []any) (any, error) {
	tmpl, ok := args[0].(string)
	if !ok {
		return nil, errors.New("the template must be a string")
	}
	var b strings.Builder
	next := 1
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		switch {
		case c == '\\' && i+1 < len(tmpl):
			i++
			b.WriteByte(tmpl[i])
		case c == '{' && i+1 < len(tmpl) && tmpl[i+1] == '}':
			if next >= len(args) {
				return nil, errors.New("the template has more {} than arguments")
			}
			if s, ok := args[next].(string); ok {
				b.WriteString(s)
			} else {
				b.WriteString(mustEncode(args[next]))
			}
			next++
			i++
		default:
			b.WriteByte(c)
		}
	}
	if next != len(args) {
		return nil, errors.New("the template has fewer {} than arguments")
	}
	return b.String(), nil
}

// hashOf is States.Hash: the hex digest of a string (anything else is
// hashed as its JSON) with MD5, SHA-1, SHA-256, SHA-384 or SHA-512.
func hashOf(data, alg any) (any, error) {
	s, ok := data.(string)
	if !ok {
		s = mustEncode(data)
	}
	name, _ := alg.(string)
	var h hash.Hash
	switch name {
	case "MD5":
		h = md5.New()
	case "SHA-1":
		h = sha1.New()
	case "SHA-256":
		h = sha256.New()
	case "SHA-384":
		h = sha512.New384()
	case "SHA-512":
		h = sha512.New()
	default:
		return nil, fmt.Errorf("the algorithm %q is not one of MD5, SHA-1, SHA-256, SHA-384, SHA-512", name)
	}
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil)), nil
}
