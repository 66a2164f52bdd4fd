package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/updraft/updraft/internal/lambdaerr"
)

// Limits from Lambda's quotas page ("Lambda quotas") and API reference.
const (
	defaultTimeoutSec   = 3
	minTimeoutSec       = 1
	maxTimeoutSec       = 900
	defaultMemoryMB     = 128
	minMemoryMB         = 128
	maxMemoryMB         = 10240
	defaultEphemeralMB  = 512
	minEphemeralMB      = 512
	maxEphemeralMB      = 10240
	maxHandlerLen       = 128
	maxDescriptionLen   = 256
	maxLayers           = 5
	maxLayerARNLen      = 2048
	maxEnvBytes         = 4096
	minUnreservedMargin = 100
)

// Patterns Lambda quotes in its validation messages.
var (
	rolePattern        = `arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+`
	roleRE             = regexp.MustCompile(`^` + rolePattern + `$`)
	handlerRE          = regexp.MustCompile(`^[^\s]+$`)
	envKeyPattern      = `[a-zA-Z]([a-zA-Z0-9_])+`
	envKeyRE           = regexp.MustCompile(`^` + envKeyPattern + `$`)
	targetARNPattern   = `(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()`
	targetARNRE        = regexp.MustCompile(`^(` + targetARNPattern + `)$`)
	providedRuntimeRE  = regexp.MustCompile(`^provided(\.al2|\.al2023)?$`)
	pythonRuntimeRE    = regexp.MustCompile(`^python3\.\d{1,2}$`)
	nodeRuntimeRE      = regexp.MustCompile(`^nodejs\d{2}\.x$`)
	aliasNamePattern   = `(?!^[0-9]+$)([a-zA-Z0-9-_]+)`
	architectureValues = []string{"x86_64", "arm64"}
)

// reservedEnvKeys are the variables Lambda sets itself and refuses in a
// function's configuration ("Defined runtime environment variables"), plus
// the ones the Runtime Interface Emulator treats as reserved. TZ is not
// here: Lambda accepts it and users set it to change the time zone.
var reservedEnvKeys = map[string]bool{
	"_HANDLER":                        true,
	"_X_AMZN_TRACE_ID":                true,
	"AWS_DEFAULT_REGION":              true,
	"AWS_REGION":                      true,
	"AWS_EXECUTION_ENV":               true,
	"AWS_LAMBDA_FUNCTION_NAME":        true,
	"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
	"AWS_LAMBDA_FUNCTION_VERSION":     true,
	"AWS_LAMBDA_INITIALIZATION_TYPE":  true,
	"AWS_LAMBDA_LOG_GROUP_NAME":       true,
	"AWS_LAMBDA_LOG_STREAM_NAME":      true,
	"AWS_ACCESS_KEY":                  true,
	"AWS_ACCESS_KEY_ID":               true,
	"AWS_SECRET_ACCESS_KEY":           true,
	"AWS_SESSION_TOKEN":               true,
	"AWS_LAMBDA_RUNTIME_API":          true,
	"LAMBDA_TASK_ROOT":                true,
	"LAMBDA_RUNTIME_DIR":              true,
}

// violations collects API-model constraint failures, which Lambda reports
// together as one ValidationException.
type violations []string

func (v *violations) add(format string, args ...any) {
	*v = append(*v, fmt.Sprintf(format, args...))
}

func (v violations) err() error {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return lambdaerr.Validation("1 validation error detected: %s", v[0])
	default:
		return lambdaerr.Validation("%d validation errors detected: %s", len(v), strings.Join(v, "; "))
	}
}

func (v *violations) intRange(field string, n, lo, hi int) {
	if n < lo {
		v.add("Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", n, field, lo)
	}
	if n > hi {
		v.add("Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", n, field, hi)
	}
}

func (v *violations) maxLen(field, s string, n int) {
	if len(s) > n {
		v.add("Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", s, field, n)
	}
}

// validateConfig checks a complete configuration (after defaults, or
// after an update was merged in). Model constraints come first, all at
// once, as Lambda reports them; then the semantic rules, one at a time.
// The runtime is checked when the request set it (checkRuntime), so a
// function made before its runtime was deprecated can still be updated.
func validateConfig(c *configRecord, runtimeSet bool) error {
	var v violations
	if !roleRE.MatchString(c.Role) {
		v.add("Value '%s' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", c.Role, rolePattern)
	}
	if c.Handler != "" {
		v.maxLen("handler", c.Handler, maxHandlerLen)
		if !handlerRE.MatchString(c.Handler) {
			v.add("Value '%s' at 'handler' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\s]+", c.Handler)
		}
	}
	v.intRange("timeout", c.TimeoutSec, minTimeoutSec, maxTimeoutSec)
	v.intRange("memorySize", c.MemoryMB, minMemoryMB, maxMemoryMB)
	v.intRange("ephemeralStorage.size", c.EphemeralMB, minEphemeralMB, maxEphemeralMB)
	v.maxLen("description", c.Description, maxDescriptionLen)
	validateArchitectures(&v, c.Architectures)
	for _, k := range sortedKeys(c.Env) {
		if !envKeyRE.MatchString(k) {
			v.add("Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: %s]", envKeyPattern)
			break
		}
	}
	for _, l := range c.Layers {
		if len(l) > maxLayerARNLen || !layerVersionARNModelRE.MatchString(l) {
			v.add("Value '[%s]' at 'layers' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to %d, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: %s, Member must not be null]", strings.Join(c.Layers, ", "), maxLayerARNLen, layerVersionARNPattern)
			break
		}
	}
	if c.TracingMode != "Active" && c.TracingMode != "PassThrough" {
		v.add("Value '%s' at 'tracingConfig.mode' failed to satisfy constraint: Member must satisfy enum value set: [Active, PassThrough]", c.TracingMode)
	}
	if !targetARNRE.MatchString(c.DeadLetterTarget) {
		v.add("Value '%s' at 'deadLetterConfig.targetArn' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", c.DeadLetterTarget, targetARNPattern)
	}
	if c.Logging != nil && c.Logging.LogFormat != "" && c.Logging.LogFormat != "Text" && c.Logging.LogFormat != "JSON" {
		v.add("Value '%s' at 'loggingConfig.logFormat' failed to satisfy constraint: Member must satisfy enum value set: [JSON, Text]", c.Logging.LogFormat)
	}
	if err := v.err(); err != nil {
		return err
	}
	if c.Runtime == "" || c.Handler == "" {
		return lambdaerr.InvalidParameterValue("Runtime and Handler are mandatory parameters for functions created with deployment packages.")
	}
	if runtimeSet {
		if err := checkRuntime(c.Runtime); err != nil {
			return err
		}
	}
	if len(c.Layers) > maxLayers {
		return lambdaerr.InvalidParameterValue("Cannot reference more than %d layers.", maxLayers)
	}
	return validateEnv(c.Env)
}

func validateArchitectures(v *violations, archs []string) {
	if len(archs) != 1 {
		v.add("Value '[%s]' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1", strings.Join(archs, ", "))
		return
	}
	if !slices.Contains(architectureValues, archs[0]) {
		v.add("Value '[%s]' at 'architectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]", archs[0])
	}
}

// validateEnv applies Lambda's reserved-key and 4 KB rules.
func validateEnv(env map[string]string) error {
	var reserved []string
	for _, k := range sortedKeys(env) {
		if reservedEnvKeys[k] {
			reserved = append(reserved, k)
		}
	}
	if len(reserved) > 0 {
		return lambdaerr.InvalidParameterValue("Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: %s", strings.Join(reserved, ", "))
	}
	if len(env) == 0 {
		return nil
	}
	// Lambda measures the JSON form of the map ("String measured: {...}").
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(env)
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(b) > maxEnvBytes {
		return lambdaerr.InvalidParameterValue("Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: %s", b)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// validateAliasName applies Lambda's alias name rule: 1–128 characters of
// [a-zA-Z0-9-_], not all digits (digits name versions).
func validateAliasName(name string) error {
	if name == "" || len(name) > maxQualifierLen || isAllDigits(name) || !validQualifier(name) || name == VersionLatest {
		return lambdaerr.Validation("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", name, aliasNamePattern)
	}
	return nil
}

func isAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
