package registry

import (
	"context"
	"errors"
	"maps"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
)

// CreateAlias names a version ($LATEST or a number), optionally sending a
// share of its traffic to one more version (RoutingConfig).
func (r *Registry) CreateAlias(ctx context.Context, name string, req *lambdaapi.CreateAliasRequest) (*lambdaapi.AliasConfiguration, error) {
	if req == nil {
		return nil, lambdaerr.InvalidRequestContent("The request body is missing.")
	}
	fn, err := r.parseUnqualified(name)
	if err != nil {
		return nil, err
	}
	if err := validateAliasName(req.Name); err != nil {
		return nil, err
	}
	var weights map[string]float64
	if req.RoutingConfig != nil {
		weights = req.RoutingConfig.AdditionalVersionWeights
	}
	if err := validateAliasTarget(req.FunctionVersion, req.Description, weights); err != nil {
		return nil, err
	}
	if err := r.checkAliasVersions(ctx, fn, req.FunctionVersion, weights); err != nil {
		return nil, err
	}
	rec := &aliasRecord{
		Function:        fn,
		Name:            req.Name,
		FunctionVersion: req.FunctionVersion,
		Description:     req.Description,
		Weights:         cloneWeights(weights),
		RevisionID:      uuid.NewString(),
	}
	arn := r.functionARN(fn) + ":" + req.Name
	if _, err := r.put(ctx, aliasKey(fn, req.Name), rec, 0); err != nil {
		if errors.Is(err, errConflict) {
			return nil, lambdaerr.ResourceConflict("Alias already exists: %s", arn)
		}
		return nil, err
	}
	r.logger.Info("alias created", "function", fn, "alias", req.Name, "version", req.FunctionVersion)
	return rec.aliasConfiguration(arn), nil
}

// GetAlias returns one alias.
func (r *Registry) GetAlias(ctx context.Context, name, alias string) (*lambdaapi.AliasConfiguration, error) {
	fn, err := r.parseUnqualified(name)
	if err != nil {
		return nil, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	f := r.view.live(fn)
	if f == nil {
		return nil, r.errFunctionNotFound(fn)
	}
	av := f.aliases[alias]
	if av == nil {
		// GetAlias words it differently from UpdateAlias (recorded:
		// test_notfound_and_invalid_routingconfigs, alias_does_not_exist_esc).
		return nil, lambdaerr.ResourceNotFound("Cannot find alias arn: %s:%s", r.functionARN(fn), alias)
	}
	return av.rec.aliasConfiguration(av.arn), nil
}

// UpdateAlias changes an alias's version, description or routing; empty
// members keep their value, a RoutingConfig replaces the weights (an
// empty one removes them). A stale RevisionId is refused with 412.
func (r *Registry) UpdateAlias(ctx context.Context, name, alias string, req *lambdaapi.UpdateAliasRequest) (*lambdaapi.AliasConfiguration, error) {
	if req == nil {
		return nil, lambdaerr.InvalidRequestContent("The request body is missing.")
	}
	fn, err := r.parseUnqualified(name)
	if err != nil {
		return nil, err
	}
	key := aliasKey(fn, alias)
	arn := r.functionARN(fn) + ":" + alias
	for attempt := range maxCASAttempts {
		if err := casBackoff(ctx, attempt); err != nil {
			return nil, err
		}
		if _, err := r.readFunction(ctx, fn); err != nil {
			return nil, err
		}
		e, err := r.getEntry(ctx, key)
		if err != nil {
			return nil, err
		}
		if e == nil {
			return nil, r.errAliasNotFound(fn, alias)
		}
		rec, err := decode[aliasRecord](key, e.Value())
		if err != nil {
			return nil, err
		}
		if req.RevisionID != "" && req.RevisionID != rec.RevisionID {
			return nil, errRevisionMismatch()
		}
		if req.FunctionVersion != "" {
			rec.FunctionVersion = req.FunctionVersion
		}
		if req.Description != nil {
			rec.Description = *req.Description
		}
		if req.RoutingConfig != nil {
			rec.Weights = cloneWeights(req.RoutingConfig.AdditionalVersionWeights)
		}
		if err := validateAliasTarget(rec.FunctionVersion, rec.Description, rec.Weights); err != nil {
			return nil, err
		}
		if err := r.checkAliasVersions(ctx, fn, rec.FunctionVersion, rec.Weights); err != nil {
			return nil, err
		}
		rec.RevisionID = uuid.NewString()
		_, err = r.put(ctx, key, rec, e.Revision())
		if errors.Is(err, errConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		r.logger.Info("alias updated", "function", fn, "alias", alias, "version", rec.FunctionVersion)
		return rec.aliasConfiguration(arn), nil
	}
	return nil, r.errBusy(fn)
}

// DeleteAlias deletes an alias; one that does not exist is no error.
func (r *Registry) DeleteAlias(ctx context.Context, name, alias string) error {
	fn, err := r.parseUnqualified(name)
	if err != nil {
		return err
	}
	if _, err := r.readFunction(ctx, fn); err != nil {
		return err
	}
	key := aliasKey(fn, alias)
	e, err := r.getEntry(ctx, key)
	if err != nil {
		return err
	}
	if e == nil {
		// Deleting an alias that is not there succeeds, as on Lambda
		// (recorded: test_non_existent_alias_deletion, 204).
		return nil
	}
	// The alias's async configuration first: if this stops half-way the
	// alias still exists and a retry finishes the job.
	if err := r.deleteKey(ctx, eventInvokeKey(fn, alias)); err != nil {
		return err
	}
	if err := r.del(ctx, key, e.Revision()); err != nil {
		if errors.Is(err, errConflict) {
			return r.errBusy(fn)
		}
		return err
	}
	r.logger.Info("alias deleted", "function", fn, "alias", alias)
	return nil
}

// ListAliases lists a function's aliases sorted by name, only those
// pointing at functionVersion when it is set, at most 50 per page.
func (r *Registry) ListAliases(ctx context.Context, name, functionVersion, marker string, maxItems int) (*lambdaapi.ListAliasesResponse, error) {
	fn, err := r.parseUnqualified(name)
	if err != nil {
		return nil, err
	}
	after, err := decodeMarker(marker)
	if err != nil {
		return nil, err
	}
	limit := pageSize(maxItems)
	r.mu.RLock()
	defer r.mu.RUnlock()
	f := r.view.live(fn)
	if f == nil {
		return nil, r.errFunctionNotFound(fn)
	}
	names := make([]string, 0, len(f.aliases))
	for a, av := range f.aliases {
		if functionVersion == "" || av.rec.FunctionVersion == functionVersion {
			names = append(names, a)
		}
	}
	sort.Strings(names)
	out := &lambdaapi.ListAliasesResponse{Aliases: []lambdaapi.AliasConfiguration{}}
	for _, a := range names {
		if after != "" && a <= after {
			continue
		}
		if len(out.Aliases) == limit {
			out.NextMarker = encodeMarker(out.Aliases[len(out.Aliases)-1].Name)
			break
		}
		av := f.aliases[a]
		out.Aliases = append(out.Aliases, *av.rec.aliasConfiguration(av.arn))
	}
	return out, nil
}

// validateAliasTarget checks an alias's version, description and weights
// on their own (existence is checkAliasVersions's job).
func validateAliasTarget(version, description string, weights map[string]float64) error {
	var v violations
	if version == "" {
		v.add("Value null at 'functionVersion' failed to satisfy constraint: Member must not be null")
	} else if version != VersionLatest && !isVersionNumber(version) {
		v.add("Value '%s' at 'functionVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)", version)
	}
	v.maxLen("description", description, maxDescriptionLen)
	// Lambda's model constraints on the map, quoting it as Java prints
	// it ({2=2.0}; recorded: test_notfound_and_invalid_routingconfigs).
	for ver := range weights {
		if !isAllDigits(ver) || len(ver) > 1024 {
			v.add("Value '%s' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]", javaMap(weights))
			break
		}
	}
	for _, w := range weights {
		if math.IsNaN(w) || w < 0 || w > 1 {
			v.add("Value '%s' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]", javaMap(weights))
			break
		}
	}
	if err := v.err(); err != nil {
		return err
	}
	if len(weights) == 0 {
		return nil
	}
	if len(weights) > 1 {
		return lambdaerr.InvalidParameterValue("Number of items in AdditionalVersionWeights cannot be greater than 1")
	}
	if version == VersionLatest {
		return lambdaerr.InvalidParameterValue("$LATEST is not supported for an alias pointing to more than 1 version")
	}
	for ver := range weights {
		if ver == version {
			return lambdaerr.InvalidParameterValue("Invalid function version %s. Function version %s is already included in routing configuration.", ver, ver)
		}
	}
	return nil
}

// checkAliasVersions makes sure the function and every version an alias
// names exist.
func (r *Registry) checkAliasVersions(ctx context.Context, fn, version string, weights map[string]float64) error {
	// A function that does not exist is not found under the alias's
	// version (recorded: test_notfound_and_invalid_routingconfigs,
	// routing_config_exc_fn_doesnotexist).
	if _, err := r.readFunction(ctx, fn); err != nil {
		if lambdaerr.IsType(err, lambdaerr.TypeResourceNotFound) {
			return r.errMissingFunction(fn, version)
		}
		return err
	}
	versions := []string{version}
	for v := range weights {
		versions = append(versions, v)
	}
	for _, v := range versions {
		if v == VersionLatest {
			continue
		}
		vr, err := r.readVersion(ctx, fn, v)
		if err != nil {
			return err
		}
		if vr == nil {
			return r.errQualifiedNotFound(fn, v)
		}
	}
	return nil
}

// loadAliases reads every alias of a function fresh from the bucket.
func (r *Registry) loadAliases(ctx context.Context, fn string) ([]*aliasRecord, error) {
	keys, err := r.listKeys(ctx, aliasKey(fn, ">"))
	if err != nil {
		return nil, err
	}
	var out []*aliasRecord
	for _, key := range keys {
		e, err := r.getEntry(ctx, key)
		if err != nil {
			return nil, err
		}
		if e == nil {
			continue
		}
		a, err := decode[aliasRecord](key, e.Value())
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func (r *Registry) errAliasNotFound(fn, alias string) error {
	return lambdaerr.ResourceNotFound("Alias not found: %s:%s", r.functionARN(fn), alias)
}

func cloneWeights(w map[string]float64) map[string]float64 {
	if len(w) == 0 {
		return nil
	}
	return maps.Clone(w)
}

// javaMap prints weights the way Lambda's (Java) messages quote a map:
// {2=2.0, 3=0.5}, keys sorted.
func javaMap(weights map[string]float64) string {
	keys := make([]string, 0, len(weights))
	for k := range weights {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(javaDouble(weights[k]))
	}
	b.WriteByte('}')
	return b.String()
}

// javaDouble formats f as Java's Double.toString does: at least one
// digit after the point (2.0, 0.5), scientific notation outside
// [10^-3, 10^7) (1.0E7).
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	if a := math.Abs(f); a != 0 && (a < 1e-3 || a >= 1e7) {
		mant, exp, _ := strings.Cut(strconv.FormatFloat(f, 'E', -1, 64), "E")
		if !strings.Contains(mant, ".") {
			mant += ".0"
		}
		e, _ := strconv.Atoi(exp)
		return mant + "E" + strconv.Itoa(e)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
