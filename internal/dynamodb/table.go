package dynamodb

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/updraft/updraft/internal/dynamodb/attr"
)

// KeyElement is one entry of a KeySchema.
type KeyElement struct {
	AttributeName string `json:"AttributeName"`
	KeyType       string `json:"KeyType"`
}

// AttributeDefinition declares a key attribute's type.
type AttributeDefinition struct {
	AttributeName string `json:"AttributeName"`
	AttributeType string `json:"AttributeType"`
}

// Projection says which attributes an index holds.
type Projection struct {
	ProjectionType   string   `json:"ProjectionType,omitempty"`
	NonKeyAttributes []string `json:"NonKeyAttributes,omitempty"`
}

// Index is a global or local secondary index.
type Index struct {
	IndexName  string       `json:"IndexName"`
	KeySchema  []KeyElement `json:"KeySchema"`
	Projection Projection   `json:"Projection"`
	// Set on output only.
	IndexStatus           string          `json:"IndexStatus,omitempty"`
	IndexArn              string          `json:"IndexArn,omitempty"`
	IndexSizeBytes        *int64          `json:"IndexSizeBytes,omitempty"`
	ItemCount             *int64          `json:"ItemCount,omitempty"`
	ProvisionedThroughput *throughputDesc `json:"ProvisionedThroughput,omitempty"`
}

// StreamSpecification is a table's stream setting.
type StreamSpecification struct {
	StreamEnabled  bool   `json:"StreamEnabled"`
	StreamViewType string `json:"StreamViewType,omitempty"`
}

type throughput struct {
	ReadCapacityUnits  int64 `json:"ReadCapacityUnits"`
	WriteCapacityUnits int64 `json:"WriteCapacityUnits"`
}

type throughputDesc struct {
	NumberOfDecreasesToday int64 `json:"NumberOfDecreasesToday"`
	ReadCapacityUnits      int64 `json:"ReadCapacityUnits"`
	WriteCapacityUnits     int64 `json:"WriteCapacityUnits"`
}

// Table is a table's definition as stored in the tables bucket.
type Table struct {
	Name        string                `json:"name"`
	ID          string                `json:"id"`
	Created     time.Time             `json:"created"`
	KeySchema   []KeyElement          `json:"keySchema"`
	Attrs       []AttributeDefinition `json:"attrs"`
	GSIs        []Index               `json:"gsis,omitempty"`
	LSIs        []Index               `json:"lsis,omitempty"`
	BillingMode string                `json:"billingMode"`
	Throughput  *throughput           `json:"throughput,omitempty"`
	Stream      *StreamSpecification  `json:"stream,omitempty"`
	StreamLabel string                `json:"streamLabel,omitempty"`
	TTLAttr     string                `json:"ttlAttr,omitempty"`
	Deleting    bool                  `json:"deleting,omitempty"`
}

// hashKey and rangeKey name the table's key attributes ("" for none).
func (t *Table) hashKey() string  { return keyOf(t.KeySchema, "HASH") }
func (t *Table) rangeKey() string { return keyOf(t.KeySchema, "RANGE") }

func keyOf(ks []KeyElement, typ string) string {
	for _, k := range ks {
		if k.KeyType == typ {
			return k.AttributeName
		}
	}
	return ""
}

// types maps each declared attribute to its type.
func (t *Table) types() map[string]attr.Type {
	m := make(map[string]attr.Type, len(t.Attrs))
	for _, a := range t.Attrs {
		m[a.AttributeName] = attr.Type(a.AttributeType)
	}
	return m
}

// index finds a secondary index by name.
func (t *Table) index(name string) (*Index, bool) {
	for i := range t.GSIs {
		if t.GSIs[i].IndexName == name {
			return &t.GSIs[i], true
		}
	}
	for i := range t.LSIs {
		if t.LSIs[i].IndexName == name {
			return &t.LSIs[i], true
		}
	}
	return nil, false
}

var tableNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

// validateTableName applies DynamoDB's naming rule.
func validateTableName(name, field string) *apiError {
	if len(name) < 3 || len(name) > 255 {
		return validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to 3", name, field)
	}
	if !tableNameRE.MatchString(name) {
		return validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", name, field)
	}
	return nil
}

// validateSchema checks a CreateTable request's keys and indexes.
func validateSchema(t *Table) *apiError {
	types := t.types()
	if len(t.KeySchema) == 0 || len(t.KeySchema) > 2 || t.KeySchema[0].KeyType != "HASH" ||
		(len(t.KeySchema) == 2 && t.KeySchema[1].KeyType != "RANGE") {
		return validation("1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: Member must not be null")
	}
	for _, a := range t.Attrs {
		switch a.AttributeType {
		case "S", "N", "B":
		default:
			return validation("1 validation error detected: Value '%s' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]", a.AttributeType)
		}
	}
	used := map[string]bool{}
	check := func(ks []KeyElement) *apiError {
		for _, k := range ks {
			if _, ok := types[k.AttributeName]; !ok {
				return validation("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: [%s]", keyNames(ks), attrNames(t.Attrs))
			}
			used[k.AttributeName] = true
		}
		return nil
	}
	if err := check(t.KeySchema); err != nil {
		return err
	}
	names := map[string]bool{}
	for _, ix := range append(slices.Clone(t.GSIs), t.LSIs...) {
		if names[ix.IndexName] {
			return validation("One or more parameter values were invalid: Duplicate index name: %s", ix.IndexName)
		}
		names[ix.IndexName] = true
		if err := check(ix.KeySchema); err != nil {
			return err
		}
		switch ix.Projection.ProjectionType {
		case "ALL", "KEYS_ONLY", "INCLUDE":
		default:
			return validation("One or more parameter values were invalid: Unknown ProjectionType: %s", ix.Projection.ProjectionType)
		}
	}
	for _, ix := range t.LSIs {
		if len(ix.KeySchema) != 2 || ix.KeySchema[0].AttributeName != t.hashKey() {
			return validation("One or more parameter values were invalid: Index KeySchema does not have a range key for index: %s", ix.IndexName)
		}
	}
	if len(t.LSIs) > 0 && t.rangeKey() == "" {
		return validation("One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex")
	}
	if len(used) != len(t.Attrs) {
		return validation("One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
	}
	return nil
}

func keyNames(ks []KeyElement) string {
	s := ""
	for i, k := range ks {
		if i > 0 {
			s += ", "
		}
		s += k.AttributeName
	}
	return s
}

func attrNames(as []AttributeDefinition) string {
	s := ""
	for i, a := range as {
		if i > 0 {
			s += ", "
		}
		s += a.AttributeName
	}
	return s
}

// ARN is the table's ARN.
func (s *Service) tableARN(name string) string {
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", s.region, s.account, name)
}
