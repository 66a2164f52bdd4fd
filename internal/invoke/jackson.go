package invoke

import (
	"fmt"
	"unicode"

	"github.com/updraft/updraft/internal/lambdaerr"
)

// Lambda parses an invoke payload with Jackson (Java) and quotes its
// error, so scripts and searches meet the same text here. jacksonError
// reproduces what Jackson's UTF-8 parser (jackson-core's
// UTF8StreamJsonParser, 2.17) reports for a payload whose first value
// cannot start: a byte that cannot begin a value, an unrecognized token
// (a literal such as "nul" or a word), or an invalid UTF-8 byte read while
// naming that token, each with Jackson's location. Errors further into
// the document are not described (ok is false) and get a generic message.
//
// Recorded answers it matches (LocalStack's test_lambda snapshot,
// test_lambda_invoke_payload_encoding_error): "n\x87r..." is "Invalid
// UTF-8 start byte 0x87 ... column: 3" and "\x99\xeb,..." is "Unexpected
// character ((CTRL-CHAR, code 153)): expected a valid value ... column: 1".

// jacksonValueList is Jackson's list of what a value may be.
const jacksonValueList = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"

// jacksonMaxErrorToken is Jackson's default longest token quoted in an
// error (ErrorReportConfiguration.DEFAULT_MAX_ERROR_TOKEN_LENGTH).
const jacksonMaxErrorToken = 256

// jacksonScan is the state of the first-token scan: the input, the
// position after the last byte read, and the current row and its start.
type jacksonScan struct {
	b        []byte
	ptr      int
	row      int
	rowStart int
}

// errAt formats a Jackson error at a 1-based column.
func (s *jacksonScan) errAt(msg string, col int) string {
	return fmt.Sprintf("%s\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: %d, column: %d]", msg, s.row, col)
}

// here is Jackson's currentLocation column; minusOne its
// _currentLocationMinusOne.
func (s *jacksonScan) here() int     { return s.ptr - s.rowStart + 1 }
func (s *jacksonScan) minusOne() int { return s.ptr - s.rowStart }

// jacksonError returns Jackson's message for payload if the problem is at
// its first value's first token, and ok false otherwise.
func jacksonError(payload []byte) (msg string, ok bool) {
	// Jackson guesses UTF-16/32 from zero bytes at the start and then uses
	// another parser; only UTF-8 input is described here.
	for i := 0; i < len(payload) && i < 4; i++ {
		if payload[i] == 0 {
			return "", false
		}
	}
	s := &jacksonScan{b: payload, row: 1}
	for s.ptr < len(s.b) {
		c := int(s.b[s.ptr])
		s.ptr++
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			continue
		case c == '\n':
			s.row++
			s.rowStart = s.ptr
			continue
		case c < ' ':
			return s.errAt("Illegal character ("+jacksonCharDesc(c)+"): only regular white space (\\r, \\n, \\t) is allowed between tokens", s.here()), true
		}
		return s.value(c)
	}
	return "", false
}

// value describes an error at a value starting with byte c (already read).
func (s *jacksonScan) value(c int) (string, bool) {
	switch c {
	case '"', '[', '{', ']', '}', '-', '+', '.', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "", false // strings, structures and numbers: not described
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	case ',':
		return s.errAt("Unexpected character ("+jacksonCharDesc(c)+"): expected a value", s.minusOne()), true
	case 'N':
		return s.literal("NaN")
	case 'I':
		return s.literal("Infinity")
	}
	if javaIdentifierStart(rune(c)) {
		return s.invalidToken(string(rune(c)))
	}
	return s.errAt("Unexpected character ("+jacksonCharDesc(c)+"): expected a valid value "+jacksonValueList, s.minusOne()), true
}

// literal matches the rest of word (its first byte was read), as
// Jackson's _matchToken2 does.
func (s *jacksonScan) literal(word string) (string, bool) {
	for i := 1; i < len(word); i++ {
		if s.ptr >= len(s.b) || s.b[s.ptr] != word[i] {
			return s.invalidToken(word[:i])
		}
		s.ptr++
	}
	if word == "NaN" || word == "Infinity" {
		return s.errAt("Non-standard token '"+word+"': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow", s.here()), true
	}
	if s.ptr < len(s.b) {
		if c := s.b[s.ptr]; c >= '0' && c != ']' && c != '}' && c < 0x80 && javaIdentifierPart(rune(c)) {
			return s.invalidToken(word)
		}
	}
	return "", false // the literal is whole: any error is further on
}

// invalidToken reads the rest of what looks like a token, decoding UTF-8
// as Jackson's _reportInvalidToken does (which may fail first).
func (s *jacksonScan) invalidToken(matched string) (string, bool) {
	tok := []rune(matched)
	for s.ptr < len(s.b) {
		c := int(s.b[s.ptr])
		s.ptr++
		r, msg, ok := s.decodeForError(c)
		if !ok {
			return "", false
		}
		if msg != "" {
			return msg, true
		}
		if !javaIdentifierPart(r) {
			break
		}
		tok = append(tok, r)
		if len(tok) >= jacksonMaxErrorToken {
			return s.errAt("Unrecognized token '"+string(tok)+"...': was expecting "+jacksonValueList, s.here()), true
		}
	}
	return s.errAt("Unrecognized token '"+string(tok)+"': was expecting "+jacksonValueList, s.here()), true
}

// decodeForError decodes the character starting with byte c as Jackson's
// _decodeCharForError: an error message for an invalid UTF-8 byte, ok
// false at an end of input inside a character (not described).
func (s *jacksonScan) decodeForError(c int) (r rune, msg string, ok bool) {
	if c <= 0x7f {
		return rune(c), "", true
	}
	var needed int
	switch {
	case c&0xe0 == 0xc0:
		c, needed = c&0x1f, 1
	case c&0xf0 == 0xe0:
		c, needed = c&0x0f, 2
	case c&0xf8 == 0xf0:
		c, needed = c&0x07, 3
	default:
		return 0, s.errAt(fmt.Sprintf("Invalid UTF-8 start byte 0x%x", c), s.here()), true
	}
	for range needed {
		if s.ptr >= len(s.b) {
			return 0, "", false
		}
		d := int(s.b[s.ptr])
		s.ptr++
		if d&0xc0 != 0x80 {
			return 0, s.errAt(fmt.Sprintf("Invalid UTF-8 middle byte 0x%x", d), s.here()), true
		}
		c = c<<6 | d&0x3f
	}
	return rune(c), "", true
}

// jacksonCharDesc is Jackson's _getCharDesc.
func jacksonCharDesc(c int) string {
	if c < 0x20 || c >= 0x7f && c <= 0x9f {
		return fmt.Sprintf("(CTRL-CHAR, code %d)", c)
	}
	if c > 255 {
		return fmt.Sprintf("'%c' (code %d / 0x%x)", rune(c), c, c)
	}
	return fmt.Sprintf("'%c' (code %d)", rune(c), c)
}

// javaIdentifierStart is Java's Character.isJavaIdentifierStart: letters,
// letter numbers, currency symbols and connector punctuation.
func javaIdentifierStart(r rune) bool {
	return unicode.IsLetter(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Sc, r) || unicode.Is(unicode.Pc, r)
}

// javaIdentifierPart is Java's Character.isJavaIdentifierPart: a start
// character, a digit, a combining mark, or an identifier-ignorable one
// (controls other than white space, and format characters).
func javaIdentifierPart(r rune) bool {
	if javaIdentifierStart(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r) || unicode.Is(unicode.Cf, r) {
		return true
	}
	return r <= 0x08 || r >= 0x0e && r <= 0x1b || r >= 0x7f && r <= 0x9f
}

// errPayloadNotJSON is Lambda's answer to a payload that is not JSON,
// with Jackson's description when jacksonError has one.
func errPayloadNotJSON(payload []byte) error {
	const prefix = "Could not parse request body into json: Could not parse payload into json: "
	if msg, ok := jacksonError(payload); ok {
		return lambdaerr.InvalidRequestContent("%s", prefix+msg)
	}
	return lambdaerr.InvalidRequestContent("%s", prefix+"Unexpected character: was expecting a JSON value")
}
