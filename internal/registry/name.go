package registry

import (
	"fmt"
	"strings"

	"github.com/updraft/updraft/internal/lambdaerr"
)

// Name limits from Lambda's API reference (FunctionName, Qualifier).
// A lookup's FunctionName may be 170 characters long: a bare name past
// 64 is simply not found, as on Lambda; CreateFunction allows 140 and
// checks the 64 of the bare name itself.
const (
	maxBareNameLen   = 64
	maxFullNameLen   = 170
	maxCreateNameLen = 140
	maxQualifierLen  = 128
)

// The regular expressions Lambda quotes when a FunctionName or Qualifier
// is malformed (recorded answers; LocalStack's
// test_function_name_and_qualifier_validation snapshot): lookups allow
// dots in names and $LATEST.PUBLISHED, CreateFunction neither.
const (
	functionNamePattern = `(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?`
	createNamePattern   = `(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`
	qualifierPattern    = `\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+`
)

// FunctionRef is a parsed FunctionName parameter. The strings are slices
// of the input: parsing does not allocate unless it fails.
type FunctionRef struct {
	// Name is the bare function name.
	Name string
	// Qualifier is the version or alias embedded in the name ("" if none).
	Qualifier string
	// Region and AccountID are set only when the name was an ARN (Region
	// only for a full ARN).
	Region    string
	AccountID string
}

// ParseFunctionName parses every form Lambda accepts for a FunctionName
// (Lambda API reference, "Invoke", FunctionName): a bare name
// ("my-function"), a name with a qualifier ("my-function:v1"), a full ARN
// ("arn:aws:lambda:us-west-2:123456789012:function:my-function[:v1]") and
// a partial ARN ("123456789012:function:my-function[:v1]"). A malformed
// name is a ValidationException quoting Lambda's pattern.
func ParseFunctionName(s string) (FunctionRef, error) {
	ref, ok := parseFunctionName(s)
	if !ok {
		return FunctionRef{}, badFunctionName(s)
	}
	return ref, nil
}

func parseFunctionName(s string) (FunctionRef, bool) {
	if s == "" || len(s) > maxFullNameLen {
		return FunctionRef{}, false
	}
	var ref FunctionRef
	rest := s
	if strings.HasPrefix(s, "arn:") {
		// arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUAL]
		var part, svc, region, account string
		var ok bool
		rest = s[len("arn:"):]
		if part, rest, ok = strings.Cut(rest, ":"); !ok || !validPartition(part) {
			return FunctionRef{}, false
		}
		if svc, rest, ok = strings.Cut(rest, ":"); !ok || svc != "lambda" {
			return FunctionRef{}, false
		}
		if region, rest, ok = strings.Cut(rest, ":"); !ok || !validRegion(region) {
			return FunctionRef{}, false
		}
		if account, rest, ok = strings.Cut(rest, ":"); !ok || !validAccount(account) {
			return FunctionRef{}, false
		}
		// Lambda's pattern makes "function:" optional, so
		// "arn:aws:lambda:REGION:ACCOUNT:function" names a function
		// called "function" (recorded: it is then not found).
		if kind, after, hasKind := strings.Cut(rest, ":"); hasKind {
			if kind != "function" {
				return FunctionRef{}, false
			}
			rest = after
		}
		ref.Region, ref.AccountID = region, account
	} else if first, after, ok := strings.Cut(s, ":"); ok && strings.HasPrefix(after, "function:") {
		// ACCOUNT:function:NAME[:QUAL]
		if !validAccount(first) {
			return FunctionRef{}, false
		}
		ref.AccountID = first
		rest = after[len("function:"):]
	}
	name, qual, hasQual := strings.Cut(rest, ":")
	if !validName(name) {
		return FunctionRef{}, false
	}
	if hasQual && !validEmbeddedQualifier(qual) {
		return FunctionRef{}, false
	}
	ref.Name, ref.Qualifier = name, qual
	return ref, true
}

func badFunctionName(s string) error {
	return lambdaerr.Validation("1 validation error detected: Value '%s' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", s, functionNamePattern)
}

// checkCreateName applies CreateFunction's FunctionName rules in Lambda's
// order: the 140-character limit and the pattern (both reported when
// both fail), then the bare name's 64 characters — an
// InvalidParameterValueException, as Lambda answers.
func checkCreateName(s string) (FunctionRef, error) {
	ref, ok := parseFunctionName(s)
	ok = ok && validNewName(ref.Name, maxFullNameLen) && (ref.Qualifier == "" || validEmbeddedQualifier(ref.Qualifier))
	var errs []string
	if len(s) > maxCreateNameLen {
		errs = append(errs, fmt.Sprintf("Value '%s' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to %d", s, maxCreateNameLen))
	}
	if !ok {
		errs = append(errs, fmt.Sprintf("Value '%s' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", s, createNamePattern))
	}
	if len(errs) > 0 {
		return FunctionRef{}, lambdaerr.Validation("%s", validationMessage(errs))
	}
	if len(ref.Name) > maxBareNameLen {
		return FunctionRef{}, lambdaerr.InvalidParameterValue("1 validation error detected: Value '%s' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to %d", ref.Name, maxBareNameLen)
	}
	return ref, nil
}

// validationMessage joins constraint failures as Lambda (Coral) does.
func validationMessage(errs []string) string {
	noun := "error"
	if len(errs) > 1 {
		noun = "errors"
	}
	return fmt.Sprintf("%d validation %s detected: %s", len(errs), noun, strings.Join(errs, "; "))
}

// checkQualifierParam checks a Qualifier parameter: its length, then
// Lambda's pattern, which lets "$latest" through (it is then not found).
func checkQualifierParam(q string) error {
	if len(q) > maxQualifierLen {
		return lambdaerr.Validation("1 validation error detected: Value '%s' at 'qualifier' failed to satisfy constraint: Member must have length less than or equal to %d", q, maxQualifierLen)
	}
	if q == "$LATEST" || q == "$LATEST.PUBLISHED" {
		return nil
	}
	for i := 0; i < len(q); i++ {
		if !isNameByte(q[i]) && q[i] != '$' {
			return lambdaerr.Validation("1 validation error detected: Value '%s' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", q, qualifierPattern)
		}
	}
	return nil
}

// mergeQualifier combines the qualifier embedded in a name with the
// Qualifier parameter: either may be empty, but two different ones are an
// error (Lambda answers the same way).
func mergeQualifier(embedded, param string) (string, error) {
	if param != "" {
		if err := checkQualifierParam(param); err != nil {
			return "", err
		}
	}
	switch {
	case embedded == "":
		return param, nil
	case param == "" || param == embedded:
		return embedded, nil
	default:
		return "", lambdaerr.InvalidParameterValue("The derived qualifier from the function name does not match the specified qualifier.")
	}
}

// validName reports whether s may be a function name in a lookup:
// [a-zA-Z0-9-_.]+ (Lambda's pattern; a name longer than any function's
// is not found rather than malformed). CreateFunction is stricter (no
// dots), see validNewName.
func validName(s string) bool {
	if s == "" || len(s) > maxFullNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) && s[i] != '.' {
			return false
		}
	}
	return true
}

// validNewName reports whether s may name a new function: [a-zA-Z0-9-_]+,
// at most max characters.
func validNewName(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return true
}

// validEmbeddedQualifier reports whether s may follow a function name:
// "$LATEST" or [a-zA-Z0-9-_]+. Lambda's pattern sets no length of its
// own (the whole name's limit applies), so "my-function:" and 129
// characters is only too long on create (recorded:
// test_function_name_and_qualifier_validation[qualifier_too_long-create_function]).
func validEmbeddedQualifier(s string) bool {
	if s == VersionLatest {
		return true
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return true
}

// validQualifier reports whether s is "$LATEST" or [a-zA-Z0-9-_]{1,128}.
func validQualifier(s string) bool {
	if s == "$LATEST" {
		return true
	}
	if s == "" || len(s) > maxQualifierLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return true
}

// isVersionNumber reports whether s is a published version number: digits
// without a leading zero.
func isVersionNumber(s string) bool {
	if s == "" || len(s) > 10 || s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// validPartition: aws[a-zA-Z-]* (Lambda's pattern allows it to be empty).
func validPartition(s string) bool {
	if s == "" {
		return true
	}
	if !strings.HasPrefix(s, "aws") {
		return false
	}
	for i := 3; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}

// validRegion matches Lambda's region pattern,
// (eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}, such as us-east-1
// or us-gov-west-1; "invalid-region" is a malformed name, not another
// region (recorded: test_function_name_and_qualifier_validation).
func validRegion(s string) bool {
	s = strings.TrimPrefix(s, "eusc-")
	if len(s) < 2 || !isLower(s[0]) || !isLower(s[1]) {
		return false
	}
	rest := s[2:]
	if regionTail(rest) {
		return true
	}
	if strings.HasPrefix(rest, "-gov") && regionTail(rest[4:]) {
		return true
	}
	if strings.HasPrefix(rest, "-iso") {
		rest = rest[4:]
		return regionTail(rest) || len(rest) > 0 && isLower(rest[0]) && regionTail(rest[1:])
	}
	return false
}

// regionTail matches -[a-z]+-\d, the end of a region name.
func regionTail(s string) bool {
	if len(s) < 4 || s[0] != '-' || s[len(s)-2] != '-' || s[len(s)-1] < '0' || s[len(s)-1] > '9' {
		return false
	}
	for i := 1; i < len(s)-2; i++ {
		if !isLower(s[i]) {
			return false
		}
	}
	return true
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

// validAccount: exactly twelve digits.
func validAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
