package policy

import (
	"encoding/base64"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// opKind is a condition operator without its set prefix and IfExists
// suffix ("IAM JSON policy elements: Condition operators").
type opKind uint8

const (
	opStringEquals opKind = iota
	opStringNotEquals
	opStringEqualsIgnoreCase
	opStringNotEqualsIgnoreCase
	opStringLike
	opStringNotLike
	opNumericEquals
	opNumericNotEquals
	opNumericLessThan
	opNumericLessThanEquals
	opNumericGreaterThan
	opNumericGreaterThanEquals
	opDateEquals
	opDateNotEquals
	opDateLessThan
	opDateLessThanEquals
	opDateGreaterThan
	opDateGreaterThanEquals
	opBool
	opBinaryEquals
	opIPAddress
	opNotIPAddress
	opArnEquals
	opArnLike
	opArnNotEquals
	opArnNotLike
	opNull
)

var opNames = map[string]opKind{
	"StringEquals":              opStringEquals,
	"StringNotEquals":           opStringNotEquals,
	"StringEqualsIgnoreCase":    opStringEqualsIgnoreCase,
	"StringNotEqualsIgnoreCase": opStringNotEqualsIgnoreCase,
	"StringLike":                opStringLike,
	"StringNotLike":             opStringNotLike,
	"NumericEquals":             opNumericEquals,
	"NumericNotEquals":          opNumericNotEquals,
	"NumericLessThan":           opNumericLessThan,
	"NumericLessThanEquals":     opNumericLessThanEquals,
	"NumericGreaterThan":        opNumericGreaterThan,
	"NumericGreaterThanEquals":  opNumericGreaterThanEquals,
	"DateEquals":                opDateEquals,
	"DateNotEquals":             opDateNotEquals,
	"DateLessThan":              opDateLessThan,
	"DateLessThanEquals":        opDateLessThanEquals,
	"DateGreaterThan":           opDateGreaterThan,
	"DateGreaterThanEquals":     opDateGreaterThanEquals,
	"Bool":                      opBool,
	"BinaryEquals":              opBinaryEquals,
	"IpAddress":                 opIPAddress,
	"NotIpAddress":              opNotIPAddress,
	"ArnEquals":                 opArnEquals,
	"ArnLike":                   opArnLike,
	"ArnNotEquals":              opArnNotEquals,
	"ArnNotLike":                opArnNotLike,
	"Null":                      opNull,
}

// negated reports whether the operator matches when the key does not:
// "If the key that you specify in a policy condition is not present in
// the request context, the values do not match and the condition is
// false. If the policy condition requires that the key is not matched,
// such as StringNotLike or ArnNotLike, and the right key is not present,
// the condition is true."
func (o opKind) negated() bool {
	switch o {
	case opStringNotEquals, opStringNotEqualsIgnoreCase, opStringNotLike, opNumericNotEquals,
		opDateNotEquals, opNotIPAddress, opArnNotEquals, opArnNotLike:
		return true
	}
	return false
}

// setKind is a condition's set operator.
type setKind uint8

const (
	setNone setKind = iota
	setForAllValues
	setForAnyValue
)

// condition is one compiled key of one operator block: {"op": {"key": [values]}}.
type condition struct {
	op       opKind
	set      setKind
	ifExists bool
	key      string
	// One of the following holds the compiled values, by operator.
	pats  []pattern    // String*, Arn* (per value, whole string)
	arns  []arnPattern // ArnEquals/ArnLike and their negations
	nums  []float64
	dates []time.Time
	nets  []netip.Prefix
	bools []bool
	bins  [][]byte
	null  []bool // Null: true means "the key must be absent"
}

// parseOperator splits "ForAnyValue:StringLikeIfExists" into its parts;
// ok is false for an unknown operator.
func parseOperator(name string) (op opKind, set setKind, ifExists, ok bool) {
	switch {
	case strings.HasPrefix(name, "ForAllValues:"):
		set, name = setForAllValues, name[len("ForAllValues:"):]
	case strings.HasPrefix(name, "ForAnyValue:"):
		set, name = setForAnyValue, name[len("ForAnyValue:"):]
	}
	if op, ok = opNames[name]; ok {
		return op, set, false, true
	}
	if base, found := strings.CutSuffix(name, "IfExists"); found && base != "Null" {
		op, ok = opNames[base]
		return op, set, true, ok
	}
	return 0, 0, false, false
}

// compileCondition compiles one key's values. A value that cannot be read
// for its operator (a bad date) is reported as errLegacy, which Parse
// turns into "The policy failed legacy parsing"; other unreadable values
// (a bad number or CIDR) never match, which is how IAM's evaluation treats
// them.
func compileCondition(op opKind, set setKind, ifExists bool, key string, vals []string, vars bool) (condition, error) {
	c := condition{op: op, set: set, ifExists: ifExists, key: key}
	for _, v := range vals {
		switch op {
		case opStringEquals, opStringNotEquals:
			c.pats = append(c.pats, compilePattern(v, compileOpts{vars: vars}))
		case opStringEqualsIgnoreCase, opStringNotEqualsIgnoreCase:
			c.pats = append(c.pats, compilePattern(v, compileOpts{vars: vars, fold: true}))
		case opStringLike, opStringNotLike:
			c.pats = append(c.pats, compilePattern(v, compileOpts{wildcards: true, vars: vars}))
		case opArnEquals, opArnLike, opArnNotEquals, opArnNotLike:
			c.arns = append(c.arns, compileARNValue(v, vars))
		case opNumericEquals, opNumericNotEquals, opNumericLessThan, opNumericLessThanEquals,
			opNumericGreaterThan, opNumericGreaterThanEquals:
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				f = math.NaN() // compares false with everything
			}
			c.nums = append(c.nums, f)
		case opDateEquals, opDateNotEquals, opDateLessThan, opDateLessThanEquals,
			opDateGreaterThan, opDateGreaterThanEquals:
			t, ok := parseDate(v)
			if !ok {
				return c, errLegacy
			}
			c.dates = append(c.dates, t)
		case opBool:
			c.bools = append(c.bools, strings.EqualFold(v, "true"))
		case opNull:
			c.null = append(c.null, strings.EqualFold(v, "true"))
		case opBinaryEquals:
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				b = nil
			}
			c.bins = append(c.bins, b)
		case opIPAddress, opNotIPAddress:
			c.nets = append(c.nets, parsePrefix(v))
		}
	}
	return c, nil
}

// compileARNValue compiles an Arn* condition value. ArnEquals and ArnLike
// behave alike: "Each of the six colon-delimited components of the ARN is
// checked separately and each can include multi-character match wildcards
// (*) or single-character match wildcards (?)."
func compileARNValue(v string, vars bool) arnPattern {
	if v == "*" {
		return arnPattern{any: true}
	}
	return compileARN(v, vars)
}

// parsePrefix reads a CIDR block or a single address (taken as /32 or
// /128). An unreadable value gives the zero Prefix, which contains nothing.
func parsePrefix(v string) netip.Prefix {
	if p, err := netip.ParsePrefix(v); err == nil {
		return p.Masked()
	}
	if a, err := netip.ParseAddr(v); err == nil {
		return netip.PrefixFrom(a, a.BitLen())
	}
	return netip.Prefix{}
}

// dateLayouts are the ISO 8601 forms IAM accepts in Date conditions
// ("IAM JSON policy elements: Condition operators", Date condition
// operators: "you must use one of the W3C implementations of the ISO 8601
// date formats", or epoch time).
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04Z0700",
	"2006-01-02T15:04",
	"2006-01-02T15Z07:00",
	"2006-01-02",
	"2006-01",
	"2006",
}

// parseDate reads an ISO 8601 date (any case of T and Z) or epoch seconds.
func parseDate(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	if isDigits(v) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(n, 0).UTC(), true
	}
	if strings.ContainsAny(v, "tz") {
		v = upperTZ(v)
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// upperTZ upper-cases the t and z of an ISO 8601 date; only reached for
// the rare lower-case policy value, so it may allocate.
func upperTZ(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case 't':
			return 'T'
		case 'z':
			return 'Z'
		}
		return r
	}, s)
}

// eval reports whether the condition holds for req.
func (c *condition) eval(req *Request) bool {
	vals := req.lookup(c.key)
	if c.op == opNull {
		// "Use a Null condition operator to check if a condition key is
		// absent at the time of authorization": true means absent.
		for _, wantAbsent := range c.null {
			if wantAbsent == (vals.n == 0) {
				return true
			}
		}
		return false
	}
	if vals.n == 0 {
		switch {
		case c.ifExists:
			// "If the key is not present, evaluate the condition element
			// as true."
			return true
		case c.set == setForAllValues:
			// "ForAllValues … also returns true if there are no keys in
			// the request, or if the key values resolve to a null data
			// set, such as an empty string."
			return true
		case c.set == setForAnyValue:
			return false
		}
		return c.op.negated()
	}
	switch c.set {
	case setForAllValues:
		// Every request value matches at least one policy value (for a
		// negated operator: no policy value).
		for i := 0; i < vals.n; i++ {
			if c.matchAny(vals.at(i), req) == c.op.negated() {
				return false
			}
		}
		return true
	case setForAnyValue:
		for i := 0; i < vals.n; i++ {
			if c.matchAny(vals.at(i), req) != c.op.negated() {
				return true
			}
		}
		return false
	}
	// A single-valued operator: a positive operator holds when a request
	// value matches any policy value (values OR); a negated operator holds
	// when no request value matches any of them ("StringNotEquals" with
	// two values means neither).
	for i := 0; i < vals.n; i++ {
		if c.matchAny(vals.at(i), req) {
			return !c.op.negated()
		}
	}
	return c.op.negated()
}

// matchAny reports whether request value v satisfies the positive form of
// the operator against any of the policy values.
func (c *condition) matchAny(v string, req *Request) bool {
	switch c.op {
	case opStringEquals, opStringNotEquals, opStringEqualsIgnoreCase, opStringNotEqualsIgnoreCase,
		opStringLike, opStringNotLike:
		for i := range c.pats {
			if c.pats[i].match(v, req) {
				return true
			}
		}
	case opArnEquals, opArnLike, opArnNotEquals, opArnNotLike:
		for i := range c.arns {
			if c.arns[i].match(v, req) {
				return true
			}
		}
	case opNumericEquals, opNumericNotEquals, opNumericLessThan, opNumericLessThanEquals,
		opNumericGreaterThan, opNumericGreaterThanEquals:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return false
		}
		for _, p := range c.nums {
			if compareNum(c.op, f, p) {
				return true
			}
		}
	case opDateEquals, opDateNotEquals, opDateLessThan, opDateLessThanEquals,
		opDateGreaterThan, opDateGreaterThanEquals:
		t, ok := parseDate(v)
		if !ok {
			return false
		}
		for _, p := range c.dates {
			if compareDate(c.op, t, p) {
				return true
			}
		}
	case opBool:
		b := strings.EqualFold(v, "true")
		if !b && !strings.EqualFold(v, "false") {
			return false
		}
		for _, p := range c.bools {
			if p == b {
				return true
			}
		}
	case opBinaryEquals:
		var buf [512]byte
		if base64.StdEncoding.DecodedLen(len(v)) > len(buf) {
			return false
		}
		n, err := base64.StdEncoding.Decode(buf[:], []byte(v))
		if err != nil {
			return false
		}
		for _, p := range c.bins {
			if p != nil && string(p) == string(buf[:n]) {
				return true
			}
		}
	case opIPAddress, opNotIPAddress:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return false
		}
		a = a.Unmap()
		for _, p := range c.nets {
			if p.IsValid() && p.Contains(a) {
				return true
			}
		}
	}
	return false
}

// compareNum applies a numeric operator (positive form) to request value
// v and policy value p.
func compareNum(op opKind, v, p float64) bool {
	switch op {
	case opNumericEquals, opNumericNotEquals:
		return v == p
	case opNumericLessThan:
		return v < p
	case opNumericLessThanEquals:
		return v <= p
	case opNumericGreaterThan:
		return v > p
	case opNumericGreaterThanEquals:
		return v >= p
	}
	return false
}

// compareDate applies a date operator (positive form): request time v
// against policy time p.
func compareDate(op opKind, v, p time.Time) bool {
	switch op {
	case opDateEquals, opDateNotEquals:
		return v.Equal(p)
	case opDateLessThan:
		return v.Before(p)
	case opDateLessThanEquals:
		return !v.After(p)
	case opDateGreaterThan:
		return v.After(p)
	case opDateGreaterThanEquals:
		return !v.Before(p)
	}
	return false
}
