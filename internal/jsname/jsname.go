// Package jsname encodes the names people give queues and streams into
// tokens JetStream accepts in stream names and subjects, which may not
// hold '.'. The encoding is a prefix code over '_' as the escape
// character:
//
//	a-z 0-9 -   themselves
//	_           "__"
//	A-Z         "_" + the lower-case letter
//	.           "_0"
//
// so "My_Queue.fifo" becomes "_my___queue_0fifo". It is unambiguous
// (every '_' starts a two-byte escape) and it also keeps names that
// differ only in case apart on case-insensitive file systems, where
// JetStream keeps each stream in a directory named after it.
package jsname

import (
	"fmt"
	"strings"
)

// Encode turns a name of letters, digits, '-', '_' and '.' into a token.
func Encode(name string) string {
	var b strings.Builder
	b.Grow(len(name) + 8)
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == '_':
			b.WriteString("__")
		case c == '.':
			b.WriteString("_0")
		case c >= 'A' && c <= 'Z':
			b.WriteByte('_')
			b.WriteByte(c - 'A' + 'a')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Decode reverses Encode. It fails on anything Encode cannot produce; the
// caller still checks the name against its own rules.
func Decode(enc string) (string, error) {
	var b strings.Builder
	b.Grow(len(enc))
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		switch {
		case c == '_':
			if i+1 == len(enc) {
				return "", fmt.Errorf("decode %q: dangling escape", enc)
			}
			i++
			switch e := enc[i]; {
			case e == '_':
				b.WriteByte('_')
			case e == '0':
				b.WriteByte('.')
			case e >= 'a' && e <= 'z':
				b.WriteByte(e - 'a' + 'A')
			default:
				return "", fmt.Errorf("decode %q: bad escape %q", enc, "_"+string(e))
			}
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-':
			b.WriteByte(c)
		default:
			return "", fmt.Errorf("decode %q: bad character %q", enc, c)
		}
	}
	return b.String(), nil
}
