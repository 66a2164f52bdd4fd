package registry

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/updraft/updraft/internal/lambdaapi"
)

// Keys of the functions bucket. Function and alias names never contain a
// dot, so the parts are unambiguous.
const (
	keyFunctionPrefix = "fn."
	keyVersionPrefix  = "ver."
	keyAliasPrefix    = "alias."
)

func functionKey(name string) string     { return keyFunctionPrefix + name }
func versionKey(name, ver string) string { return keyVersionPrefix + name + "." + ver }
func aliasKey(name, alias string) string { return keyAliasPrefix + name + "." + alias }

// parseKey splits a bucket key into its kind ("fn", "ver", "alias",
// "eic", "layer", "lver"), the function (or layer) name and the version or
// alias name (the qualifier of an eic key, decoded; the number of a layer
// version).
func parseKey(key string) (kind, name, sub string, ok bool) {
	switch {
	case strings.HasPrefix(key, keyFunctionPrefix):
		return "fn", key[len(keyFunctionPrefix):], "", true
	case strings.HasPrefix(key, keyVersionPrefix):
		name, sub, ok = strings.Cut(key[len(keyVersionPrefix):], ".")
		return "ver", name, sub, ok
	case strings.HasPrefix(key, keyAliasPrefix):
		name, sub, ok = strings.Cut(key[len(keyAliasPrefix):], ".")
		return "alias", name, sub, ok
	case strings.HasPrefix(key, keyEventInvokePrefix):
		name, sub, ok = strings.Cut(key[len(keyEventInvokePrefix):], ".")
		return "eic", name, eventInvokeQualifier(sub), ok
	case strings.HasPrefix(key, keyLayerPrefix):
		return "layer", key[len(keyLayerPrefix):], "", true
	case strings.HasPrefix(key, keyLayerVersionPrefix):
		name, sub, ok = strings.Cut(key[len(keyLayerVersionPrefix):], ".")
		return "lver", name, sub, ok
	}
	return "", "", "", false
}

// lastModifiedLayout is Lambda's LastModified format.
const lastModifiedLayout = "2006-01-02T15:04:05.000-0700"

func lastModified(t time.Time) string { return t.UTC().Format(lastModifiedLayout) }

// functionRecord is the value of fn.<name>: the function's $LATEST
// configuration plus what belongs to the function as a whole.
type functionRecord struct {
	Name   string       `json:"name"`
	Config configRecord `json:"config"`
	// LastVersion is the highest version number ever published; numbers
	// are never reused, even after a version is deleted.
	LastVersion int `json:"lastVersion,omitempty"`
	// PublishedFrom is the $LATEST RevisionID that LastVersion was
	// published from: publishing again without a change returns it.
	PublishedFrom string `json:"publishedFrom,omitempty"`
	// Reserved is the reserved concurrency; nil means none.
	Reserved *int              `json:"reserved,omitempty"`
	Tags     map[string]string `json:"tags,omitempty"`
	// Previous is the configuration invocations of $LATEST run while an
	// update is in progress (Config.Updating), as on Lambda; nil otherwise.
	Previous *configRecord `json:"previous,omitempty"`
}

// versionRecord is the value of ver.<name>.<n>: an immutable snapshot.
type versionRecord struct {
	Function string       `json:"function"`
	Version  string       `json:"version"`
	Config   configRecord `json:"config"`
}

// aliasRecord is the value of alias.<name>.<alias>.
type aliasRecord struct {
	Function        string `json:"function"`
	Name            string `json:"name"`
	FunctionVersion string `json:"functionVersion"`
	Description     string `json:"description,omitempty"`
	// Weights holds at most one extra version and the share (0..1) of
	// traffic it receives.
	Weights    map[string]float64 `json:"weights,omitempty"`
	RevisionID string             `json:"revisionId"`
}

// configRecord is the configuration of $LATEST or of a version.
type configRecord struct {
	Runtime     string            `json:"runtime"`
	Role        string            `json:"role"`
	Handler     string            `json:"handler"`
	Description string            `json:"description,omitempty"`
	TimeoutSec  int               `json:"timeout"`
	MemoryMB    int               `json:"memory"`
	EphemeralMB int               `json:"ephemeral"`
	Env         map[string]string `json:"env,omitempty"`
	Layers      []string          `json:"layers,omitempty"`
	// LayerContent pins each of Layers, in the same order: the zip's
	// digest and sizes, copied when Layers was set (layer versions are
	// immutable; a deleted one keeps working for functions that use it).
	// Records written before layers existed may lack it.
	LayerContent  []layerContent `json:"layerContent,omitempty"`
	Architectures []string       `json:"architectures"`
	CodeSha256Hex string         `json:"codeSha256"`
	CodeSize      int64          `json:"codeSize"`
	// CodeUnzippedSize is the code's size unzipped (0 in records written
	// before it was kept); with the layers it must stay within 250 MB.
	CodeUnzippedSize int64                    `json:"codeUnzipped,omitempty"`
	DeadLetterTarget string                   `json:"deadLetterTarget,omitempty"`
	TracingMode      string                   `json:"tracingMode"`
	Logging          *lambdaapi.LoggingConfig `json:"logging,omitempty"`
	KMSKeyArn        string                   `json:"kmsKeyArn,omitempty"`
	LastModified     string                   `json:"lastModified"`
	RevisionID       string                   `json:"revisionId"`
	// Pending marks a configuration whose code is still being readied
	// (State Pending): $LATEST after CreateFunction, or a version published
	// from it. Updating marks $LATEST after an update that is still being
	// readied (LastUpdateStatus InProgress). Neither is set once settled;
	// records written before states existed are settled.
	Pending  bool `json:"pending,omitempty"`
	Updating bool `json:"updating,omitempty"`
	// UnsettledAt is when Pending or Updating was set (Unix ms), so that
	// another node can finish a settle its writer never did.
	UnsettledAt int64 `json:"unsettledAt,omitempty"`
}

// unsettled reports whether c is Pending or Updating.
func (c *configRecord) unsettled() bool { return c.Pending || c.Updating }

// clone returns a deep copy of c.
func (c configRecord) clone() configRecord {
	c.Env = maps.Clone(c.Env)
	c.Layers = slices.Clone(c.Layers)
	c.LayerContent = slices.Clone(c.LayerContent)
	c.Architectures = slices.Clone(c.Architectures)
	if c.Logging != nil {
		l := *c.Logging
		c.Logging = &l
	}
	return c
}

func encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("registry: encode %T: %w", v, err)
	}
	return b, nil
}

func decode[T any](key string, b []byte) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("registry: decode %s: %w", key, err)
	}
	return v, nil
}

// codeSha256Base64 turns the stored hex digest into Lambda's CodeSha256.
func codeSha256Base64(hexSum string) string {
	b, err := hex.DecodeString(hexSum)
	if err != nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(b)
}

// configuration renders c as Lambda's FunctionConfiguration. arn is the
// FunctionArn to show (qualified or not).
func (c *configRecord) configuration(name, version, arn string) *lambdaapi.FunctionConfiguration {
	out := &lambdaapi.FunctionConfiguration{
		FunctionName:     name,
		FunctionArn:      arn,
		Runtime:          c.Runtime,
		Role:             c.Role,
		Handler:          c.Handler,
		CodeSize:         c.CodeSize,
		Description:      c.Description,
		Timeout:          c.TimeoutSec,
		MemorySize:       c.MemoryMB,
		LastModified:     c.LastModified,
		CodeSha256:       codeSha256Base64(c.CodeSha256Hex),
		Version:          version,
		TracingConfig:    lambdaapi.TracingConfig{Mode: c.TracingMode},
		RevisionID:       c.RevisionID,
		State:            "Active",
		LastUpdateStatus: "Successful",
		PackageType:      "Zip",
		Architectures:    slices.Clone(c.Architectures),
		EphemeralStorage: lambdaapi.EphemeralStorage{Size: c.EphemeralMB},
		KMSKeyArn:        c.KMSKeyArn,
		SnapStart:        lambdaapi.SnapStartResponse{ApplyOn: "None", OptimizationStatus: "Off"},
	}
	// "Lambda function states": a new function is Pending with no
	// LastUpdateStatus; an update shows InProgress with the reason AWS
	// prints (it says "being created" for updates too).
	switch {
	case c.Pending:
		out.State, out.StateReason, out.StateReasonCode = "Pending", reasonCreating, reasonCodeCreating
		out.LastUpdateStatus = ""
	case c.Updating:
		out.LastUpdateStatus, out.LastUpdateStatusReason, out.LastUpdateStatusReasonCode = "InProgress", reasonCreating, reasonCodeCreating
	}
	if len(c.Env) > 0 {
		out.Environment = &lambdaapi.EnvironmentResponse{Variables: maps.Clone(c.Env)}
	}
	if c.DeadLetterTarget != "" {
		out.DeadLetterConfig = &lambdaapi.DeadLetterConfig{TargetArn: c.DeadLetterTarget}
	}
	for i, l := range c.Layers {
		item := lambdaapi.Layer{Arn: l}
		if i < len(c.LayerContent) {
			item.CodeSize = c.LayerContent[i].Size
		}
		out.Layers = append(out.Layers, item)
	}
	if c.Logging != nil {
		l := *c.Logging
		out.LoggingConfig = &l
	}
	return out
}

// aliasConfiguration renders a as Lambda's AliasConfiguration.
func (a *aliasRecord) aliasConfiguration(arn string) *lambdaapi.AliasConfiguration {
	out := &lambdaapi.AliasConfiguration{
		AliasArn:        arn,
		Name:            a.Name,
		FunctionVersion: a.FunctionVersion,
		Description:     a.Description,
		RevisionID:      a.RevisionID,
	}
	if len(a.Weights) > 0 {
		out.RoutingConfig = &lambdaapi.AliasRoutingConfiguration{AdditionalVersionWeights: maps.Clone(a.Weights)}
	}
	return out
}
