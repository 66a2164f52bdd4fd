package asl

import (
	"fmt"
	"strings"
)

// validateTemplate checks a payload template (Parameters,
// ResultSelector, ItemSelector): every key ending in ".$" must hold a
// path or an intrinsic function call. It returns the first problem with
// the JSON pointer below the template where it is.
func validateTemplate(t any, at string) (string, error) {
	switch v := t.(type) {
	case map[string]any:
		for _, k := range sortedKeys(v) {
			e := v[k]
			if strings.HasSuffix(k, ".$") {
				s, ok := e.(string)
				if !ok {
					return at + "/" + k, fmt.Errorf("The value for the field '%s' must be a STRING that contains a JSONPath but was %s", k, typeName(e))
				}
				if err := checkExpr(s); err != nil {
					return at + "/" + k, fmt.Errorf("The value for the field '%s' must be a valid JSONPath or a valid intrinsic function call", k)
				}
				continue
			}
			if where, err := validateTemplate(e, at+"/"+k); err != nil {
				return where, err
			}
		}
	case []any:
		for i, e := range v {
			if where, err := validateTemplate(e, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return where, err
			}
		}
	}
	return "", nil
}

// checkExpr parses the value of a ".$" key.
func checkExpr(s string) error {
	if IsIntrinsic(s) {
		_, err := ParseIntrinsic(s)
		return err
	}
	_, err := ParsePath(s)
	return err
}

// typeName names a JSON value's type as Step Functions' messages do.
func typeName(v any) string {
	switch v.(type) {
	case map[string]any:
		return "OBJECT"
	case []any:
		return "ARRAY"
	case string:
		return "STRING"
	case bool:
		return "BOOLEAN"
	case nil:
		return "NULL"
	}
	if _, ok := number(v); ok {
		return "NUMBER"
	}
	return "UNKNOWN"
}

// applyTemplate evaluates a payload template against input ($) and ctx
// ($$): keys ending in ".$" are replaced by the value their path or
// intrinsic call gives, under the key without the suffix.
func applyTemplate(t, input, ctx any) (any, error) {
	switch v := t.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for _, k := range sortedKeys(v) {
			e := v[k]
			if name, ok := strings.CutSuffix(k, ".$"); ok {
				s, _ := e.(string)
				r, err := evalExpr(s, input, ctx, k)
				if err != nil {
					return nil, err
				}
				out[name] = r
				continue
			}
			r, err := applyTemplate(e, input, ctx)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			r, err := applyTemplate(e, input, ctx)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return t, nil
}

// evalExpr evaluates one path or intrinsic call; field names the
// template key for the error message.
func evalExpr(s string, input, ctx any, field string) (any, error) {
	if IsIntrinsic(s) {
		c, err := ParseIntrinsic(s)
		if err != nil {
			return nil, runtimeErr(ErrIntrinsicFailure, "%v", err)
		}
		v, err := c.Eval(input, ctx)
		if err != nil {
			return nil, runtimeErr(ErrIntrinsicFailure, "The evaluation of the intrinsic function for field '%s' failed: %v", field, err)
		}
		return v, nil
	}
	p, err := ParsePath(s)
	if err != nil {
		return nil, runtimeErr(ErrRuntime, "%v", err)
	}
	root := input
	if p.Context {
		root = ctx
	}
	v, ok := p.Select(root)
	if !ok {
		return nil, runtimeErr(ErrRuntime, "The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", s, field, mustEncode(root))
	}
	return v, nil
}
