package expr

import (
	"strings"
)

// tokKind classifies a token.
type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tName  // #name
	tValue // :value
	tNumber
	tPunct
	tBad
)

// token is one lexeme with its place in the source.
type token struct {
	kind       tokKind
	text       string
	start, end int
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isWord(c byte) bool   { return isLetter(c) || isDigit(c) || c == '_' }

// lex splits src into tokens; an unknown character becomes a tBad
// token, which the parser reports as a syntax error where it meets it.
func lex(src string) []token {
	var out []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case isLetter(c):
			j := i + 1
			for j < len(src) && isWord(src[j]) {
				j++
			}
			out = append(out, token{tIdent, src[i:j], i, j})
			i = j
			continue
		case isDigit(c):
			j := i + 1
			for j < len(src) && isDigit(src[j]) {
				j++
			}
			out = append(out, token{tNumber, src[i:j], i, j})
			i = j
			continue
		case c == '#' || c == ':':
			j := i + 1
			for j < len(src) && isWord(src[j]) {
				j++
			}
			k := tName
			if c == ':' {
				k = tValue
			}
			if j == i+1 {
				k = tBad
			}
			out = append(out, token{k, src[i:j], i, j})
			i = j
			continue
		}
		for _, p := range []string{"<>", "<=", ">=", "=", "<", ">", "(", ")", "[", "]", ",", ".", "+", "-"} {
			if strings.HasPrefix(src[i:], p) {
				out = append(out, token{tPunct, p, i, i + len(p)})
				i += len(p)
				goto next
			}
		}
		{
			// One (possibly multi-byte) character.
			j := i + 1
			for j < len(src) && src[j]&0xC0 == 0x80 {
				j++
			}
			out = append(out, token{tBad, src[i:j], i, j})
			i = j
		}
	next:
	}
	out = append(out, token{tEOF, "<EOF>", len(src), len(src)})
	return out
}
