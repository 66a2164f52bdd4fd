package attr

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Type is one of DynamoDB's ten data types, by its JSON tag.
type Type string

// The data types.
const (
	S    Type = "S"
	N    Type = "N"
	B    Type = "B"
	SS   Type = "SS"
	NS   Type = "NS"
	BS   Type = "BS"
	M    Type = "M"
	L    Type = "L"
	NULL Type = "NULL"
	BOOL Type = "BOOL"
)

// Value is one AttributeValue. Exactly one member is meaningful, named by
// T: S (S), N (Num), B (B), SS and NS (Strs; NS in canonical form), BS
// (Bins), M (Map), L (List), BOOL (Bool), NULL (none).
type Value struct {
	T    Type
	S    string
	Num  Number
	B    []byte
	Strs []string
	Bins [][]byte
	Map  map[string]Value
	List []Value
	Bool bool
}

// Item is a set of named attributes.
type Item map[string]Value

// Str returns a string value.
func Str(s string) Value { return Value{T: S, S: s} }

// Num returns a number value.
func Num(n Number) Value { return Value{T: N, Num: n} }

// MustNum parses a number value; for literals in code and tests.
func MustNum(s string) Value {
	n, err := ParseNumber(s)
	if err != nil {
		panic(err)
	}
	return Num(n)
}

// Error is a bad AttributeValue, with DynamoDB's message.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func invalid(format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...)}
}

// MaxDepth is how deeply documents may nest (DynamoDB: 32 levels).
const MaxDepth = 32

// UnmarshalJSON reads DynamoDB JSON ({"S": "x"}, {"N": "1"}, ...) and
// validates it as DynamoDB does.
func (v *Value) UnmarshalJSON(b []byte) error {
	return v.decode(b, 0)
}

func (v *Value) decode(b []byte, depth int) error {
	if depth > MaxDepth {
		return invalid("Nesting Levels have exceeded supported limits: Nesting levels of %d or more are not supported.", MaxDepth)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("attribute value: %w", err)
	}
	var set []string
	for k, r := range raw {
		if string(r) == "null" {
			continue
		}
		set = append(set, k)
	}
	if len(set) == 0 {
		return invalid("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
	}
	if len(set) > 1 {
		return invalid("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
	}
	t := set[0]
	r := raw[t]
	*v = Value{T: Type(t)}
	switch Type(t) {
	case S:
		return json.Unmarshal(r, &v.S)
	case N:
		var s string
		if err := json.Unmarshal(r, &s); err != nil {
			return err
		}
		n, err := ParseNumber(s)
		if err != nil {
			return &Error{Msg: err.Error()}
		}
		v.Num = n
	case B:
		return json.Unmarshal(r, &v.B)
	case BOOL:
		return json.Unmarshal(r, &v.Bool)
	case NULL:
		var t bool
		if err := json.Unmarshal(r, &t); err != nil {
			return err
		}
		if !t {
			return invalid("One or more parameter values were invalid: Null attribute value types must have the value of true")
		}
	case SS:
		if err := json.Unmarshal(r, &v.Strs); err != nil {
			return err
		}
		if len(v.Strs) == 0 {
			return invalid("One or more parameter values were invalid: An string set  may not be empty")
		}
		if dup(v.Strs) {
			return invalid("One or more parameter values were invalid: Input collection [%s] contains duplicates.", strings.Join(v.Strs, ", "))
		}
		sort.Strings(v.Strs)
	case NS:
		var in []string
		if err := json.Unmarshal(r, &in); err != nil {
			return err
		}
		if len(in) == 0 {
			return invalid("One or more parameter values were invalid: An number set  may not be empty")
		}
		nums := make([]Number, len(in))
		for i, s := range in {
			n, err := ParseNumber(s)
			if err != nil {
				return &Error{Msg: err.Error()}
			}
			nums[i] = n
		}
		slices.SortFunc(nums, Number.Cmp)
		for i := 1; i < len(nums); i++ {
			if nums[i].Cmp(nums[i-1]) == 0 {
				return invalid("One or more parameter values were invalid: Input collection [%s] contains duplicates.", strings.Join(in, ", "))
			}
		}
		v.Strs = make([]string, len(nums))
		for i, n := range nums {
			v.Strs[i] = n.String()
		}
	case BS:
		if err := json.Unmarshal(r, &v.Bins); err != nil {
			return err
		}
		if len(v.Bins) == 0 {
			return invalid("One or more parameter values were invalid: Binary sets should not be empty")
		}
		slices.SortFunc(v.Bins, bytes.Compare)
		for i := 1; i < len(v.Bins); i++ {
			if bytes.Equal(v.Bins[i], v.Bins[i-1]) {
				return invalid("One or more parameter values were invalid: Input collection contains duplicates.")
			}
		}
	case M:
		var m map[string]json.RawMessage
		if err := json.Unmarshal(r, &m); err != nil {
			return err
		}
		v.Map = make(map[string]Value, len(m))
		for k, e := range m {
			var x Value
			if err := x.decode(e, depth+1); err != nil {
				return err
			}
			v.Map[k] = x
		}
	case L:
		var l []json.RawMessage
		if err := json.Unmarshal(r, &l); err != nil {
			return err
		}
		v.List = make([]Value, len(l))
		for i, e := range l {
			if err := v.List[i].decode(e, depth+1); err != nil {
				return err
			}
		}
	default:
		return invalid("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
	}
	return nil
}

func dup(s []string) bool {
	seen := make(map[string]bool, len(s))
	for _, x := range s {
		if seen[x] {
			return true
		}
		seen[x] = true
	}
	return false
}

// MarshalJSON writes DynamoDB JSON.
func (v Value) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	v.encode(&buf)
	return buf.Bytes(), nil
}

func (v Value) encode(buf *bytes.Buffer) {
	buf.WriteString(`{"`)
	buf.WriteString(string(v.T))
	buf.WriteString(`":`)
	switch v.T {
	case S:
		writeString(buf, v.S)
	case N:
		writeString(buf, v.Num.String())
	case B:
		writeString(buf, base64.StdEncoding.EncodeToString(v.B))
	case BOOL:
		if v.Bool {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	case NULL:
		buf.WriteString("true")
	case SS, NS:
		buf.WriteByte('[')
		for i, s := range v.Strs {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, s)
		}
		buf.WriteByte(']')
	case BS:
		buf.WriteByte('[')
		for i, s := range v.Bins {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, base64.StdEncoding.EncodeToString(s))
		}
		buf.WriteByte(']')
	case M:
		buf.WriteByte('{')
		keys := make([]string, 0, len(v.Map))
		for k := range v.Map {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, k)
			buf.WriteByte(':')
			v.Map[k].encode(buf)
		}
		buf.WriteByte('}')
	case L:
		buf.WriteByte('[')
		for i, e := range v.List {
			if i > 0 {
				buf.WriteByte(',')
			}
			e.encode(buf)
		}
		buf.WriteByte(']')
	default:
		buf.WriteString("null")
	}
	buf.WriteByte('}')
}

func writeString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s)
	buf.Write(b)
}

// Nums returns the members of a number set.
func (v Value) Nums() []Number {
	out := make([]Number, len(v.Strs))
	for i, s := range v.Strs {
		out[i], _ = parseDecimal(s)
	}
	return out
}

// NumSet builds a number set from numbers (sorted, canonical).
func NumSet(nums []Number) Value {
	slices.SortFunc(nums, Number.Cmp)
	nums = slices.CompactFunc(nums, func(a, b Number) bool { return a.Cmp(b) == 0 })
	s := make([]string, len(nums))
	for i, n := range nums {
		s[i] = n.String()
	}
	return Value{T: NS, Strs: s}
}

// Equal reports whether a and b are the same value (sets compare as sets).
func Equal(a, b Value) bool {
	if a.T != b.T {
		return false
	}
	switch a.T {
	case S:
		return a.S == b.S
	case N:
		return a.Num.Cmp(b.Num) == 0
	case B:
		return bytes.Equal(a.B, b.B)
	case BOOL:
		return a.Bool == b.Bool
	case NULL:
		return true
	case SS, NS:
		return slices.Equal(a.Strs, b.Strs)
	case BS:
		return slices.EqualFunc(a.Bins, b.Bins, bytes.Equal)
	case M:
		if len(a.Map) != len(b.Map) {
			return false
		}
		for k, x := range a.Map {
			y, ok := b.Map[k]
			if !ok || !Equal(x, y) {
				return false
			}
		}
		return true
	case L:
		return slices.EqualFunc(a.List, b.List, Equal)
	}
	return false
}

// Compare orders two scalars of the same type (S, N or B): -1, 0, +1,
// and false when they cannot be ordered.
func Compare(a, b Value) (int, bool) {
	if a.T != b.T {
		return 0, false
	}
	switch a.T {
	case S:
		return strings.Compare(a.S, b.S), true
	case N:
		return a.Num.Cmp(b.Num), true
	case B:
		return bytes.Compare(a.B, b.B), true
	}
	return 0, false
}

// Size is the value's size as DynamoDB counts it towards the 400 KB item
// limit: strings and binaries by length, numbers by significant digits,
// one byte for BOOL and NULL, 3 bytes of overhead per list or map plus
// one per element.
func (v Value) Size() int {
	switch v.T {
	case S:
		return len(v.S)
	case N:
		return numSize(v.Num)
	case B:
		return len(v.B)
	case BOOL, NULL:
		return 1
	case SS:
		n := 0
		for _, s := range v.Strs {
			n += len(s)
		}
		return n
	case NS:
		n := 0
		for _, x := range v.Nums() {
			n += numSize(x)
		}
		return n
	case BS:
		n := 0
		for _, b := range v.Bins {
			n += len(b)
		}
		return n
	case M:
		n := 3
		for k, x := range v.Map {
			n += len(k) + x.Size() + 1
		}
		return n
	case L:
		n := 3
		for _, x := range v.List {
			n += x.Size() + 1
		}
		return n
	}
	return 0
}

func numSize(n Number) int { return (len(n.Digits)+1)/2 + 1 }

// Size of an item: the lengths of its names plus its values.
func (it Item) Size() int {
	n := 0
	for k, v := range it {
		n += len(k) + v.Size()
	}
	return n
}

// Clone copies an item deeply enough that updates to the copy leave the
// original alone.
func (it Item) Clone() Item {
	if it == nil {
		return nil
	}
	out := make(Item, len(it))
	for k, v := range it {
		out[k] = v.Clone()
	}
	return out
}

// Clone copies a value's maps and lists.
func (v Value) Clone() Value {
	switch v.T {
	case M:
		m := make(map[string]Value, len(v.Map))
		for k, x := range v.Map {
			m[k] = x.Clone()
		}
		v.Map = m
	case L:
		l := make([]Value, len(v.List))
		for i, x := range v.List {
			l[i] = x.Clone()
		}
		v.List = l
	case SS, NS:
		v.Strs = slices.Clone(v.Strs)
	case BS:
		v.Bins = slices.Clone(v.Bins)
	}
	return v
}

// Describe renders a value as DynamoDB's messages do: "{N:2}", "{S:a}".
func (v Value) Describe() string {
	switch v.T {
	case S:
		return "{S:" + v.S + "}"
	case N:
		return "{N:" + v.Num.String() + "}"
	case B:
		return "{B:" + base64.StdEncoding.EncodeToString(v.B) + "}"
	}
	b, _ := v.MarshalJSON()
	return string(b)
}

// ErrNotScalar is returned for key values that are not S, N or B.
var ErrNotScalar = errors.New("not a scalar")
