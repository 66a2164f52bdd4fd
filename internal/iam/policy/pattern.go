package policy

import (
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of one piece of a compiled pattern.
type tokKind uint8

const (
	tokLit   tokKind = iota // literal text (lower-cased when the pattern folds case)
	tokStar                 // *: any run of characters, including none
	tokQmark                // ?: exactly one character
	tokVar                  // ${key} or ${key, 'default'}: the request's value, literally
)

// token is one piece of a compiled pattern.
type token struct {
	kind tokKind
	text string // tokLit: the text; tokVar: the condition key
	def  string // tokVar: the default value
	// hasDef says the variable carries a default, used when the key is
	// absent from the request.
	hasDef bool
}

// pattern is a compiled wildcard string: an action ("lambda:Invoke*"), one
// segment of a resource ARN, or a condition value. Compiling once at Parse
// keeps matching free of allocation.
type pattern struct {
	toks []token
	// exact is set when the pattern is plain text (no wildcard, no
	// variable): matching is then one comparison.
	exact bool
	text  string // the literal text when exact
	// fold says the pattern compares ASCII letters case-insensitively (its
	// literals are stored lower-cased).
	fold bool
}

// compileOpts says how a pattern string is read.
type compileOpts struct {
	wildcards bool // * and ? are wildcards (StringLike, ArnLike, Action, Resource)
	vars      bool // ${...} is a policy variable (Version 2012-10-17 only)
	fold      bool // compare case-insensitively (actions)
}

// compilePattern compiles s. Policy variables follow "IAM policy elements:
// Variables and tags": ${key} takes the request's value for key, ${key,
// 'default'} falls back to default when key is absent, and ${*}, ${?} and
// ${$} stand for the literal characters *, ? and $. A "${" without a
// closing brace is literal text.
func compilePattern(s string, o compileOpts) pattern {
	p := pattern{fold: o.fold}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t := lit.String()
			if o.fold {
				t = strings.ToLower(t)
			}
			p.toks = append(p.toks, token{kind: tokLit, text: t})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case o.wildcards && c == '*':
			flush()
			// Consecutive stars are one star.
			if n := len(p.toks); n == 0 || p.toks[n-1].kind != tokStar {
				p.toks = append(p.toks, token{kind: tokStar})
			}
			i++
			continue
		case o.wildcards && c == '?':
			flush()
			p.toks = append(p.toks, token{kind: tokQmark})
			i++
			continue
		case o.vars && c == '$' && strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				break
			}
			body := s[i+2 : i+end]
			i += end + 1
			switch body {
			case "*", "?", "$":
				lit.WriteString(body)
				continue
			}
			flush()
			key, def, hasDef := parseVariable(body)
			p.toks = append(p.toks, token{kind: tokVar, text: key, def: def, hasDef: hasDef})
			continue
		}
		lit.WriteByte(c)
		i++
	}
	flush()
	switch {
	case len(p.toks) == 0:
		p.exact = true
	case len(p.toks) == 1 && p.toks[0].kind == tokLit:
		p.exact, p.text = true, p.toks[0].text
	}
	return p
}

// parseVariable splits the body of ${key, 'default'}.
func parseVariable(body string) (key, def string, hasDef bool) {
	key, rest, ok := strings.Cut(body, ",")
	key = strings.TrimSpace(key)
	if !ok {
		return key, "", false
	}
	rest = strings.TrimSpace(rest)
	if len(rest) >= 2 && rest[0] == '\'' && rest[len(rest)-1] == '\'' {
		return key, rest[1 : len(rest)-1], true
	}
	return key, rest, true
}

// hasVars reports whether the pattern refers to a policy variable.
func (p *pattern) hasVars() bool {
	for _, t := range p.toks {
		if t.kind == tokVar {
			return true
		}
	}
	return false
}

// match reports whether s matches the pattern. Variables are resolved
// through req (nil: a variable never resolves); a variable whose key is
// absent and has no default makes the pattern match nothing, as IAM treats
// an element with an unresolvable variable as not matching.
func (p *pattern) match(s string, req *Request) bool {
	if p.exact {
		if p.fold {
			return equalFoldASCII(s, p.text)
		}
		return s == p.text
	}
	ti, si := 0, 0
	starTi, starSi := -1, 0
	for {
		if ti < len(p.toks) {
			t := &p.toks[ti]
			switch t.kind {
			case tokStar:
				starTi, starSi = ti, si
				ti++
				continue
			case tokQmark:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					ti++
					continue
				}
			case tokLit:
				if hasPrefix(s[si:], t.text, p.fold) {
					si += len(t.text)
					ti++
					continue
				}
			case tokVar:
				v, ok := req.variable(t.text)
				if !ok {
					if !t.hasDef {
						return false
					}
					v = t.def
				}
				if hasPrefix(s[si:], v, p.fold) {
					si += len(v)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		// Mismatch: let the last star swallow one more character.
		if starTi < 0 || starSi >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starSi:])
		starSi += n
		si, ti = starSi, starTi+1
	}
}

// hasPrefix reports whether s starts with prefix; with fold, ASCII letters
// compare case-insensitively.
func hasPrefix(s, prefix string, fold bool) bool {
	if len(s) < len(prefix) {
		return false
	}
	if !fold {
		return s[:len(prefix)] == prefix
	}
	return equalFoldASCII(s[:len(prefix)], prefix)
}

// equalFoldASCII reports whether s and t are equal ignoring the case of
// ASCII letters. Action names are ASCII; unlike strings.EqualFold this
// never needs to decode UTF-8.
func equalFoldASCII(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c, d := s[i], t[i]
		if c == d {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

// arnPattern is a compiled Resource or NotResource entry, or an ArnLike
// value. "Amazon Resource Names (ARNs)" and "IAM JSON policy elements:
// Resource": wildcards may appear in any of the colon-separated segments
// and each segment is matched on its own, so a * in the region segment
// never swallows the account; the last segment of the pattern takes the
// rest of the ARN, colons and slashes included
// ("arn:aws:lambda:*:*:function:my-fn*" matches the version-qualified
// "arn:aws:lambda:us-east-1:123456789012:function:my-fn:3").
type arnPattern struct {
	any  bool // "*": every resource
	segs []pattern
}

func compileARN(s string, vars bool) arnPattern {
	if s == "*" {
		return arnPattern{any: true}
	}
	parts := strings.SplitN(s, ":", 6)
	a := arnPattern{segs: make([]pattern, len(parts))}
	for i, part := range parts {
		a.segs[i] = compilePattern(part, compileOpts{wildcards: true, vars: vars})
	}
	return a
}

func (a *arnPattern) match(s string, req *Request) bool {
	if a.any {
		return true
	}
	for i := range a.segs {
		seg := s
		if i < len(a.segs)-1 {
			j := strings.IndexByte(s, ':')
			if j < 0 {
				return false
			}
			seg, s = s[:j], s[j+1:]
		}
		if !a.segs[i].match(seg, req) {
			return false
		}
	}
	return true
}
