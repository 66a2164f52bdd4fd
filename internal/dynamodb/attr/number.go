package attr

import (
	"errors"
	"math/big"
	"strings"
)

// Limits of DynamoDB's Number type.
const (
	// MaxDigits is the most significant digits a Number holds.
	MaxDigits = 38
	// maxExp and minExp bound the exponent e of 0.d₁d₂… × 10^e: the
	// magnitude must lie in [1E-130, 9.99…9E+125].
	maxExp = 126
	minExp = -129
)

// Errors of numbers, in DynamoDB's words.
var (
	ErrNotNumeric = errors.New("The parameter cannot be converted to a numeric value")
	ErrPrecision  = errors.New("Attempting to store more than 38 significant digits in a Number")
	ErrOverflow   = errors.New("Number overflow. Attempting to store a number with magnitude larger than supported range")
	ErrUnderflow  = errors.New("Number underflow. Attempting to store a number with magnitude smaller than supported range")
)

// Number is an exact decimal: 0.Digits × 10^Exp, negative when Neg.
// Digits has no leading or trailing zeros; zero has no digits. No float64
// is ever involved, so 38 significant digits survive every operation.
type Number struct {
	Neg    bool
	Digits string
	Exp    int
}

// ParseNumber reads a number as DynamoDB accepts it ("+3", ".123",
// "0001.23", "-17.4E37") and checks its precision and magnitude.
func ParseNumber(s string) (Number, error) {
	n, err := parseDecimal(s)
	if err != nil {
		return Number{}, err
	}
	return n, n.check()
}

func parseDecimal(s string) (Number, error) {
	var n Number
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		n.Neg = s[i] == '-'
		i++
	}
	var mant strings.Builder
	point := -1
	digits := 0
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			mant.WriteByte(c)
			digits++
		case c == '.' && point < 0:
			point = digits
		default:
			goto exp
		}
	}
exp:
	if digits == 0 {
		return Number{}, ErrNotNumeric
	}
	e := 0
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return Number{}, ErrNotNumeric
		}
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return Number{}, ErrNotNumeric
		}
		for ; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return Number{}, ErrNotNumeric
			}
			if e < 1_000_000 {
				e = e*10 + int(c-'0')
			}
		}
		if eneg {
			e = -e
		}
	}
	if point < 0 {
		point = digits
	}
	m := mant.String()
	lead := len(m) - len(strings.TrimLeft(m, "0"))
	m = m[lead:]
	m = strings.TrimRight(m, "0")
	if m == "" {
		return Number{}, nil
	}
	n.Digits = m
	n.Exp = point - lead + e
	return n, nil
}

// check applies DynamoDB's precision and range limits.
func (n Number) check() error {
	if n.Digits == "" {
		return nil
	}
	if len(n.Digits) > MaxDigits {
		return ErrPrecision
	}
	if n.Exp > maxExp {
		return ErrOverflow
	}
	if n.Exp < minExp {
		return ErrUnderflow
	}
	return nil
}

// IsZero reports whether n is 0.
func (n Number) IsZero() bool { return n.Digits == "" }

// String is DynamoDB's canonical form: plain decimal notation, no plus
// sign, no leading or trailing zeros.
func (n Number) String() string {
	if n.Digits == "" {
		return "0"
	}
	var b strings.Builder
	if n.Neg {
		b.WriteByte('-')
	}
	d := n.Digits
	switch {
	case n.Exp <= 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -n.Exp))
		b.WriteString(d)
	case n.Exp >= len(d):
		b.WriteString(d)
		b.WriteString(strings.Repeat("0", n.Exp-len(d)))
	default:
		b.WriteString(d[:n.Exp])
		b.WriteByte('.')
		b.WriteString(d[n.Exp:])
	}
	return b.String()
}

// Cmp compares n and m: -1, 0 or +1.
func (n Number) Cmp(m Number) int {
	sn, sm := n.sign(), m.sign()
	if sn != sm {
		if sn < sm {
			return -1
		}
		return 1
	}
	if sn == 0 {
		return 0
	}
	c := cmpAbs(n, m)
	if sn < 0 {
		return -c
	}
	return c
}

func (n Number) sign() int {
	switch {
	case n.Digits == "":
		return 0
	case n.Neg:
		return -1
	}
	return 1
}

func cmpAbs(n, m Number) int {
	if n.Exp != m.Exp {
		if n.Exp < m.Exp {
			return -1
		}
		return 1
	}
	return strings.Compare(n.Digits, m.Digits) // no trailing zeros: lexical is numeric
}

// big returns n as coefficient × 10^scale.
func (n Number) big() (*big.Int, int) {
	c := new(big.Int)
	if n.Digits == "" {
		return c, 0
	}
	c.SetString(n.Digits, 10)
	if n.Neg {
		c.Neg(c)
	}
	return c, n.Exp - len(n.Digits)
}

var ten = big.NewInt(10)

// Add returns n + m, or an error when the exact sum does not fit a
// Number (DynamoDB refuses rather than round).
func (n Number) Add(m Number) (Number, error) {
	if n.IsZero() {
		return m, m.check()
	}
	if m.IsZero() {
		return n, n.check()
	}
	a, ea := n.big()
	b, eb := m.big()
	// Far apart magnitudes cannot give a result within 38 digits.
	if d := ea - eb; d > 2*MaxDigits+300 || d < -(2*MaxDigits+300) {
		return Number{}, ErrPrecision
	}
	for ea > eb {
		a.Mul(a, ten)
		ea--
	}
	for eb > ea {
		b.Mul(b, ten)
		eb--
	}
	a.Add(a, b)
	s := a.String()
	r, err := parseDecimal(s)
	if err != nil {
		return Number{}, err
	}
	if !r.IsZero() {
		r.Exp += ea
	}
	if err := r.check(); err != nil {
		return Number{}, err
	}
	return r, nil
}

// Negate returns -n.
func (n Number) Negate() Number {
	if n.Digits != "" {
		n.Neg = !n.Neg
	}
	return n
}
