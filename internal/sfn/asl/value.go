package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Decode reads one JSON value with numbers kept as json.Number, the form
// every function of this package takes and returns.
func Decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("asl: decode json: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("asl: decode json: trailing data after the value")
	}
	return v, nil
}

// Encode writes v as compact JSON without HTML escaping, as Step
// Functions shows inputs and outputs.
func Encode(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("asl: encode json: %w", err)
	}
	return string(bytes.TrimRight(b.Bytes(), "\n")), nil
}

// mustEncode is Encode for values this package built itself, which
// always encode.
func mustEncode(v any) string {
	s, err := Encode(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return s
}

// number returns v as a float64 if it is a JSON number.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

// integer returns v as an int64 if it is a JSON number with no fraction.
func integer(v any) (int64, bool) {
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return i, true
		}
	}
	f, ok := number(v)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

// num makes a JSON number of an integer.
func num(i int64) json.Number { return json.Number(strconv.FormatInt(i, 10)) }

// numf makes a JSON number of a float, written as an integer when it is one.
func numf(f float64) json.Number {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return num(int64(f))
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
}

// deepCopy copies a JSON value so that assigning into the copy leaves
// the original alone.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

// jsonEqual compares two JSON values structurally, numbers by value.
func jsonEqual(a, b any) bool {
	if fa, ok := number(a); ok {
		fb, ok := number(b)
		return ok && fa == fb
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}
