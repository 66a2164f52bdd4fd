package queue

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
)

// Attribute is an SQS message attribute. DataType is "String", "Number"
// or "Binary", optionally followed by a custom label ("Number.float",
// "Binary.gif"); StringValue holds the value of String and Number (SQS
// sends numbers as strings too), BinaryValue that of Binary.
type Attribute struct {
	DataType    string `json:"DataType"`
	StringValue string `json:"StringValue,omitempty"`
	BinaryValue []byte `json:"BinaryValue,omitempty"`
}

// Attribute data types.
const (
	TypeString = "String"
	TypeNumber = "Number"
	TypeBinary = "Binary"
)

// BaseType is the data type without its custom label: "Number" for
// "Number.float".
func (a Attribute) BaseType() string {
	t, _, _ := strings.Cut(a.DataType, ".")
	return t
}

// Attribute limits, as SQS has them ("SendMessage", Amazon SQS API
// Reference): at most 10 attributes per message, names of at most 256
// characters.
const (
	MaxAttributes    = 10
	maxAttrNameLen   = 256
	attrHeaderPrefix = "Updraft-Attr-"
)

// validAttrName applies SQS's rules for message attribute names:
// [A-Za-z0-9_.-], case-sensitive, not starting with "AWS." or "Amazon."
// (in any case), not starting or ending with '.', no "..".
func validAttrName(name string) error {
	if name == "" || len(name) > maxAttrNameLen {
		return invalid("Message attribute name %q must be 1 to %d characters long.", trunc(name), maxAttrNameLen)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !nameChar(c) && c != '.' {
			return invalid("Message attribute name %q is invalid: only letters, digits, hyphens, underscores and periods are allowed.", trunc(name))
		}
	}
	if name[0] == '.' || name[len(name)-1] == '.' || strings.Contains(name, "..") {
		return invalid("Message attribute name %q is invalid: it must not start or end with a period or contain two in a row.", trunc(name))
	}
	lower := strings.ToLower(name)
	if strings.HasPrefix(lower, "aws.") || strings.HasPrefix(lower, "amazon.") {
		return invalid("Message attribute name %q is reserved: names starting with AWS. or Amazon. are reserved.", trunc(name))
	}
	return nil
}

// validate checks one attribute's type and value.
func (a Attribute) validate(name string) error {
	if len(a.DataType) > maxAttrNameLen {
		return invalid("Message attribute %q has a DataType longer than %d characters.", trunc(name), maxAttrNameLen)
	}
	if _, label, ok := strings.Cut(a.DataType, "."); ok && (label == "" || !ValidText(label)) {
		return invalid("Message attribute %q has DataType %q with an invalid custom label.", trunc(name), trunc(a.DataType))
	}
	switch a.BaseType() {
	case TypeString, TypeNumber:
		if a.StringValue == "" {
			return invalid("Message attribute %q must have a non-empty StringValue.", trunc(name))
		}
		if len(a.BinaryValue) > 0 {
			return invalid("Message attribute %q of DataType %s must not have a BinaryValue.", trunc(name), trunc(a.DataType))
		}
	case TypeBinary:
		if len(a.BinaryValue) == 0 {
			return invalid("Message attribute %q must have a non-empty BinaryValue.", trunc(name))
		}
		if a.StringValue != "" {
			return invalid("Message attribute %q of DataType %s must not have a StringValue.", trunc(name), trunc(a.DataType))
		}
		return nil
	default:
		return invalid("Message attribute %q has DataType %q: only String, Number and Binary, optionally with a custom label, are supported.", trunc(name), trunc(a.DataType))
	}
	if a.BaseType() == TypeString && !ValidText(a.StringValue) {
		return invalid("Message attribute %q has a StringValue with characters outside the allowed set (valid UTF-8 without control characters other than tab, line feed and carriage return).", trunc(name))
	}
	if a.BaseType() == TypeNumber && !validNumber(a.StringValue) {
		return invalid("Message attribute %q has DataType Number but StringValue %q is not a decimal number.", trunc(name), trunc(a.StringValue))
	}
	return nil
}

// ValidText reports whether s is in SQS's character set for message
// bodies and attribute strings: #x9 | #xA | #xD |
// #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF, as valid UTF-8.
func ValidText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
		case r < 0x20, r >= 0xD800 && r < 0xE000, r == 0xFFFE || r == 0xFFFF:
			return false
		}
	}
	return true
}

// SanitizeAttributes returns attrs made acceptable to Send when their
// values come from text nobody checked, such as a function's error
// message cut to 1 KB: invalid UTF-8 and characters SQS refuses become
// U+FFFD, and attributes with an empty value, which SQS refuses, are
// left out. Names and data types are not touched: a bad one is the
// caller's mistake and Send reports it. attrs itself is not modified.
func SanitizeAttributes(attrs map[string]Attribute) map[string]Attribute {
	if attrs == nil {
		return nil
	}
	out := make(map[string]Attribute, len(attrs))
	for name, a := range attrs {
		if a.StringValue == "" && len(a.BinaryValue) == 0 {
			continue
		}
		if !ValidText(a.StringValue) {
			a.StringValue = strings.Map(func(r rune) rune {
				if !ValidText(string(r)) {
					return utf8.RuneError
				}
				return r
			}, strings.ToValidUTF8(a.StringValue, string(utf8.RuneError)))
		}
		out[name] = a
	}
	return out
}

// validNumber accepts [+-]? (digits [. digits*] | . digits) ([eE] [+-]? digits)?.
func validNumber(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	n := digits()
	if i < len(s) && s[i] == '.' {
		i++
		n += digits()
	}
	if n == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// validateAttributes checks every attribute and returns the bytes they
// count towards the message size (names, types and values, as SQS counts
// them).
func validateAttributes(attrs map[string]Attribute) (int, error) {
	if len(attrs) > MaxAttributes {
		return 0, invalid("A message can have at most %d attributes; it has %d.", MaxAttributes, len(attrs))
	}
	size := 0
	for name, a := range attrs {
		if err := validAttrName(name); err != nil {
			return 0, err
		}
		if err := a.validate(name); err != nil {
			return 0, err
		}
		size += len(name) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
	}
	return size, nil
}

// encodeAttributes stores attrs in h, one header per attribute:
// "Updraft-Attr-<name>: <the Attribute as JSON>". NATS headers keep the
// case of their keys, so names such as RequestID survive; JSON escapes
// line breaks and keeps the value free of leading and trailing spaces,
// which a header line could not carry.
func encodeAttributes(h nats.Header, attrs map[string]Attribute) error {
	for name, a := range attrs {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // keep "<" as one byte; the value is no HTML
		if err := enc.Encode(a); err != nil {
			return fmt.Errorf("queue: encode attribute %s: %w", name, err)
		}
		h.Set(attrHeaderPrefix+name, strings.TrimSuffix(b.String(), "\n"))
	}
	return nil
}

// decodeAttributes reads the attributes encodeAttributes stored in h.
// Other headers are ignored; a malformed attribute header is an error.
func decodeAttributes(h nats.Header) (map[string]Attribute, error) {
	var attrs map[string]Attribute
	for key, vals := range h {
		name, ok := strings.CutPrefix(key, attrHeaderPrefix)
		if !ok {
			continue
		}
		if len(vals) != 1 {
			return nil, fmt.Errorf("queue: attribute header %q has %d values, want 1", trunc(key), len(vals))
		}
		if err := validAttrName(name); err != nil {
			return nil, fmt.Errorf("queue: attribute header %q: %w", trunc(key), err)
		}
		var a Attribute
		if err := json.Unmarshal([]byte(vals[0]), &a); err != nil {
			return nil, fmt.Errorf("queue: attribute header %q: %w", trunc(key), err)
		}
		if err := a.validate(name); err != nil {
			return nil, fmt.Errorf("queue: attribute header %q: %w", trunc(key), err)
		}
		if attrs == nil {
			attrs = make(map[string]Attribute)
		}
		attrs[name] = a
	}
	return attrs, nil
}

// MD5OfAttributes is SQS's MD5OfMessageAttributes: the digest, over the
// attributes sorted by name, of each name, data type and value, every one
// preceded by its 4-byte big-endian length, with a transport byte (1 for
// String and Number, 2 for Binary) before the value. "" when there are
// none.
func MD5OfAttributes(attrs map[string]Attribute) string {
	if len(attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	h := md5.New()
	put := func(b []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		_, _ = h.Write(n[:])
		_, _ = h.Write(b)
	}
	for _, n := range names {
		a := attrs[n]
		put([]byte(n))
		put([]byte(a.DataType))
		if a.BaseType() == TypeBinary {
			_, _ = h.Write([]byte{2})
			put(a.BinaryValue)
			continue
		}
		_, _ = h.Write([]byte{1})
		put([]byte(a.StringValue))
	}
	return hex.EncodeToString(h.Sum(nil))
}
