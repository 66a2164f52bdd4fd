package iam

import (
	"maps"
	"regexp"
	"slices"

	"github.com/updraft/updraft/internal/awsquery"
)

// Constraints of IAM's API model (botocore iam 2010-05-08 shapes).
var (
	namePattern    = regexp.MustCompile(`^[\w+=,.@-]+$`)
	pathPattern    = regexp.MustCompile(`^(/|/[\x21-\x7e]+/)$`)
	versionPattern = regexp.MustCompile(`^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$`)
)

// Limits of IAM ("IAM and AWS STS quotas").
const (
	maxKeysPerUser     = 2
	maxPolicyVersions  = 5
	maxTags            = 50
	minSessionDuration = 3600
	maxSessionDuration = 43200
)

// checkName validates a user, role or policy name (field is the model's
// member name, e.g. "userName").
func checkName(field, v string, maxLen int) error {
	if len(v) < 1 || len(v) > maxLen {
		return awsquery.Validation("Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", v, field, maxLen)
	}
	if !namePattern.MatchString(v) {
		return awsquery.Validation(`Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`, v, field)
	}
	return nil
}

// checkPath validates a path and defaults "" to "/".
func checkPath(field string, p *string) error {
	if *p == "" {
		*p = "/"
	}
	if len(*p) > 512 || !pathPattern.MatchString(*p) {
		return awsquery.Validation(`Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)`, *p, field)
	}
	return nil
}

func checkTags(tags []Tag) error {
	if len(tags) > maxTags {
		return awsquery.Validation("Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to %d", maxTags)
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if len(t.Key) < 1 || len(t.Key) > 128 || len(t.Value) > 256 {
			return awsquery.Validation("Value '%s' at 'tags' failed to satisfy constraint: Member must have a key of 1 to 128 characters and a value of at most 256", t.Key)
		}
		if seen[t.Key] {
			return errInvalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[t.Key] = true
	}
	return nil
}

func checkDescription(d string) error {
	if len(d) > 1000 {
		return awsquery.Validation("Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000")
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
