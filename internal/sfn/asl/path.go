package asl

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Path is a parsed JSONPath: "$" (the state's input) or "$$" (the
// context object) followed by member names, indices, wildcards, slices,
// unions and recursive descent, the subset Step Functions documents
// (Paths, in the Amazon States Language specification).
type Path struct {
	// Text is the path as written.
	Text string
	// Context is true for a path on the context object ($$).
	Context bool
	segs    []segment
}

// segment is one step of a path.
type segment struct {
	kind    segKind
	name    string // segName, segDeep
	indices []int  // segIndex (a union if more than one)
	start   *int   // segSlice
	end     *int   // segSlice
	step    int    // segSlice, 0 means 1
}

type segKind int

const (
	segName segKind = iota
	segIndex
	segWild
	segSlice
	segDeep // ..name
)

// errBadPath is the cause of every path parse error.
var errBadPath = errors.New("invalid JSONPath")

// ParsePath parses a JSONPath starting with "$" or "$$".
func ParsePath(s string) (*Path, error) {
	if !strings.HasPrefix(s, "$") {
		return nil, fmt.Errorf("%w %q: it does not start with '$'", errBadPath, s)
	}
	p := &Path{Text: s}
	i := 1
	if strings.HasPrefix(s, "$$") {
		p.Context = true
		i = 2
	}
	for i < len(s) {
		switch {
		case strings.HasPrefix(s[i:], ".."):
			j := i + 2
			k := scanName(s, j)
			if k == j {
				return nil, fmt.Errorf("%w %q: a name must follow '..'", errBadPath, s)
			}
			p.segs = append(p.segs, segment{kind: segDeep, name: s[j:k]})
			i = k
		case s[i] == '.':
			j := i + 1
			if j < len(s) && s[j] == '*' {
				p.segs = append(p.segs, segment{kind: segWild})
				i = j + 1
				continue
			}
			k := scanName(s, j)
			if k == j {
				return nil, fmt.Errorf("%w %q: a name must follow '.' at offset %d", errBadPath, s, i)
			}
			p.segs = append(p.segs, segment{kind: segName, name: s[j:k]})
			i = k
		case s[i] == '[':
			seg, n, err := parseBracket(s[i:])
			if err != nil {
				return nil, fmt.Errorf("%w %q: %v", errBadPath, s, err)
			}
			p.segs = append(p.segs, seg)
			i += n
		default:
			return nil, fmt.Errorf("%w %q: unexpected %q at offset %d", errBadPath, s, s[i], i)
		}
	}
	return p, nil
}

// scanName returns the end of a member name starting at j.
func scanName(s string, j int) int {
	k := j
	for k < len(s) && s[k] != '.' && s[k] != '[' {
		if s[k] == ' ' || s[k] == ']' || s[k] == '\'' || s[k] == '"' || s[k] == '(' || s[k] == ')' || s[k] == ',' {
			break
		}
		k++
	}
	return k
}

// parseBracket parses "[...]" at the start of s and returns the segment
// and its length.
func parseBracket(s string) (segment, int, error) {
	if len(s) > 1 && (s[1] == '\'' || s[1] == '"') {
		q := s[1]
		var b strings.Builder
		for i := 2; i < len(s); i++ {
			switch {
			case s[i] == '\\' && i+1 < len(s):
				i++
				b.WriteByte(s[i])
			case s[i] == q:
				if i+1 >= len(s) || s[i+1] != ']' {
					return segment{}, 0, errors.New("expected ']' after a quoted name")
				}
				return segment{kind: segName, name: b.String()}, i + 2, nil
			default:
				b.WriteByte(s[i])
			}
		}
		return segment{}, 0, errors.New("unterminated quoted name")
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return segment{}, 0, errors.New("unterminated '['")
	}
	body := strings.TrimSpace(s[1:end])
	switch {
	case body == "*":
		return segment{kind: segWild}, end + 1, nil
	case body == "":
		return segment{}, 0, errors.New("empty '[]'")
	case strings.HasPrefix(body, "?"):
		return segment{}, 0, errors.New("filter expressions are not supported")
	case strings.Contains(body, ":"):
		parts := strings.Split(body, ":")
		if len(parts) > 3 {
			return segment{}, 0, fmt.Errorf("bad slice %q", body)
		}
		seg := segment{kind: segSlice}
		for k, part := range parts {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			n, err := strconv.Atoi(part)
			if err != nil {
				return segment{}, 0, fmt.Errorf("bad slice %q", body)
			}
			switch k {
			case 0:
				seg.start = &n
			case 1:
				seg.end = &n
			case 2:
				if n <= 0 {
					return segment{}, 0, fmt.Errorf("bad slice step %q", body)
				}
				seg.step = n
			}
		}
		return seg, end + 1, nil
	}
	seg := segment{kind: segIndex}
	for _, part := range strings.Split(body, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil {
			return segment{}, 0, fmt.Errorf("bad index %q", body)
		}
		seg.indices = append(seg.indices, n)
	}
	return seg, end + 1, nil
}

// Definite reports whether the path names at most one value (no
// wildcard, slice, union or recursive descent), so that its result is
// that value rather than a list.
func (p *Path) Definite() bool {
	for _, s := range p.segs {
		if s.kind != segName && !(s.kind == segIndex && len(s.indices) == 1) {
			return false
		}
	}
	return true
}

// IsReference reports whether the path is a Reference Path: names and
// single indices only, as ResultPath and Choice Variables require.
func (p *Path) IsReference() bool { return p.Definite() }

// canonical writes the path as Step Functions does in its error
// messages: $['a']['b'][0].
func (p *Path) canonical() string {
	var b strings.Builder
	if p.Context {
		b.WriteString("$$")
	} else {
		b.WriteString("$")
	}
	for _, s := range p.segs {
		switch s.kind {
		case segName:
			fmt.Fprintf(&b, "['%s']", s.name)
		case segIndex:
			b.WriteByte('[')
			for i, n := range s.indices {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strconv.Itoa(n))
			}
			b.WriteByte(']')
		case segWild:
			b.WriteString("[*]")
		case segSlice:
			b.WriteString("[slice]")
		case segDeep:
			fmt.Fprintf(&b, "..['%s']", s.name)
		}
	}
	return b.String()
}

// Select evaluates the path on root. A definite path returns its one
// value, or ok false when nothing is there; any other path returns the
// list of what it matched (possibly empty) and ok true.
func (p *Path) Select(root any) (any, bool) {
	cur := []any{root}
	for _, s := range p.segs {
		var next []any
		for _, v := range cur {
			next = s.apply(v, next)
		}
		cur = next
	}
	if p.Definite() {
		if len(cur) == 0 {
			return nil, false
		}
		return cur[0], true
	}
	if cur == nil {
		cur = []any{}
	}
	return cur, true
}

// apply appends what one segment selects from v to out.
func (s segment) apply(v any, out []any) []any {
	switch s.kind {
	case segName:
		if m, ok := v.(map[string]any); ok {
			if e, ok := m[s.name]; ok {
				out = append(out, e)
			}
		}
	case segIndex:
		if a, ok := v.([]any); ok {
			for _, i := range s.indices {
				if i < 0 {
					i += len(a)
				}
				if i >= 0 && i < len(a) {
					out = append(out, a[i])
				}
			}
		}
	case segWild:
		switch t := v.(type) {
		case []any:
			out = append(out, t...)
		case map[string]any:
			for _, k := range sortedKeys(t) {
				out = append(out, t[k])
			}
		}
	case segSlice:
		a, ok := v.([]any)
		if !ok {
			return out
		}
		start, end, step := 0, len(a), s.step
		if step == 0 {
			step = 1
		}
		if s.start != nil {
			start = clampIndex(*s.start, len(a))
		}
		if s.end != nil {
			end = clampIndex(*s.end, len(a))
		}
		for i := start; i < end; i += step {
			out = append(out, a[i])
		}
	case segDeep:
		out = deepScan(v, s.name, out)
	}
	return out
}

func clampIndex(i, n int) int {
	if i < 0 {
		i += n
	}
	return max(0, min(i, n))
}

// deepScan appends every member called name at any depth under v.
func deepScan(v any, name string, out []any) []any {
	switch t := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(t) {
			if k == name {
				out = append(out, t[k])
			}
			out = deepScan(t[k], name, out)
		}
	case []any:
		for _, e := range t {
			out = deepScan(e, name, out)
		}
	}
	return out
}

// Assign returns a copy of root with value placed at the reference path
// p, creating objects on the way, as ResultPath does. It fails when the
// path runs through something that is not an object (or an array, for
// an index in range).
func (p *Path) Assign(root, value any) (any, error) {
	if len(p.segs) == 0 {
		return value, nil
	}
	out := deepCopy(root)
	if out == nil {
		out = map[string]any{}
	}
	cur := out
	for i, s := range p.segs {
		last := i == len(p.segs)-1
		switch s.kind {
		case segName:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("unable to apply ResultPath %q to input %s", p.Text, mustEncode(root))
			}
			if last {
				m[s.name] = value
				return out, nil
			}
			next, ok := m[s.name]
			if !ok || next == nil {
				next = map[string]any{}
				m[s.name] = next
			}
			cur = next
		case segIndex:
			a, ok := cur.([]any)
			if !ok || len(s.indices) != 1 || s.indices[0] < 0 || s.indices[0] >= len(a) {
				return nil, fmt.Errorf("unable to apply ResultPath %q to input %s", p.Text, mustEncode(root))
			}
			if last {
				a[s.indices[0]] = value
				return out, nil
			}
			cur = a[s.indices[0]]
		default:
			return nil, fmt.Errorf("ResultPath %q is not a reference path", p.Text)
		}
	}
	return out, nil
}
