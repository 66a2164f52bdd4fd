package registry

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
)

// CreateFunction validates the request and its zip, stores the code and
// creates the function's $LATEST, Pending until its code is readied a
// few milliseconds later (state.go). With Publish it also publishes
// version 1 (Pending as well) and returns that version.
func (r *Registry) CreateFunction(ctx context.Context, req *lambdaapi.CreateFunctionRequest) (*lambdaapi.FunctionConfiguration, error) {
	if req == nil {
		return nil, lambdaerr.InvalidRequestContent("The request body is missing.")
	}
	if req.FunctionName == "" {
		return nil, lambdaerr.Validation("1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null")
	}
	ref, err := checkCreateName(req.FunctionName)
	if err != nil {
		return nil, err
	}
	if ref.Qualifier != "" {
		return nil, lambdaerr.InvalidParameterValue("A function name with a qualifier cannot be created: %s", req.FunctionName)
	}
	if ref.Region == "" || ref.Region == r.cfg.Region {
		if ref.AccountID != "" && ref.AccountID != r.cfg.AccountID {
			// Creating in another account passes this account's role
			// across accounts: Lambda answers 403 (recorded:
			// test_function_arns, function_arn_other_account_exc).
			return nil, lambdaerr.AccessDenied("Cross-account pass role is not allowed.")
		}
	}
	if err := r.checkOwner(ref); err != nil {
		return nil, err
	}
	name := ref.Name
	c, err := newConfig(name, req)
	if err != nil {
		return nil, err
	}
	if err := r.checkDeadLetterTarget(c.DeadLetterTarget); err != nil {
		return nil, err
	}
	var zip []byte
	if req.Code != nil {
		zip = req.Code.ZipFile
		err = checkCodeSource(zip, req.Code.S3Bucket, req.Code.S3Key, req.Code.ImageURI)
	} else {
		err = checkCodeSource(nil, "", "", "")
	}
	if err != nil {
		return nil, err
	}
	zi, err := inspectZip(zip, "CreateFunction")
	if err != nil {
		return nil, err
	}
	c.CodeSha256Hex, c.CodeSize, c.CodeUnzippedSize = zi.sha256Hex, zi.size, zi.unzippedSize
	if c.LayerContent, err = r.resolveLayers(ctx, c.Layers); err != nil {
		return nil, err
	}
	if err := checkUnzippedTotal(c); err != nil {
		return nil, err
	}

	r.mu.RLock()
	f := r.view.fns[name]
	exists := f != nil && f.rec != nil
	leftovers := f != nil && (len(f.versions) > 0 || len(f.aliases) > 0 || len(f.eic) > 0)
	r.mu.RUnlock()
	if exists {
		return nil, errFunctionExists(name)
	}
	if err := r.storeCode(ctx, zi, zip); err != nil {
		return nil, err
	}
	r.startUnpack(zi.sha256Hex, zip)
	// A function of the same name deleted half-way (a crash between its
	// keys) may have left versions or aliases: they must not reappear.
	if leftovers {
		if err := r.deleteChildren(ctx, name); err != nil {
			return nil, err
		}
	}
	markUnsettled(c, true)
	rec := &functionRecord{Name: name, Config: *c, Tags: maps.Clone(req.Tags)}
	if _, err := r.put(ctx, functionKey(name), rec, 0); err != nil {
		if errors.Is(err, errConflict) {
			return nil, errFunctionExists(name)
		}
		return nil, err
	}
	r.logger.Info("function created", "function", name, "runtime", c.Runtime, "code_size", c.CodeSize)
	defer r.settleAfterWrite(ctx, name)
	if req.Publish {
		return r.publish(ctx, name, "", "", c.RevisionID, true)
	}
	return c.configuration(name, VersionLatest, r.functionARN(name)), nil
}

func errFunctionExists(name string) error {
	return lambdaerr.ResourceConflict("Function already exist: %s", name)
}

// newConfig builds $LATEST's configuration from a create request, with
// Lambda's defaults, and validates it.
func newConfig(name string, req *lambdaapi.CreateFunctionRequest) (*configRecord, error) {
	switch req.PackageType {
	case "", "Zip":
	case "Image":
		return nil, lambdaerr.InvalidParameterValue("PackageType Image is not supported by updraft: deploy a .zip package (Code.ZipFile).")
	default:
		return nil, lambdaerr.Validation("1 validation error detected: Value '%s' at 'packageType' failed to satisfy constraint: Member must satisfy enum value set: [Image, Zip]", req.PackageType)
	}
	if req.Role == "" {
		return nil, lambdaerr.Validation("1 validation error detected: Value null at 'role' failed to satisfy constraint: Member must not be null")
	}
	now := time.Now()
	c := &configRecord{
		Runtime:       req.Runtime,
		Role:          req.Role,
		Handler:       req.Handler,
		Description:   req.Description,
		TimeoutSec:    defaultTimeoutSec,
		MemoryMB:      defaultMemoryMB,
		EphemeralMB:   defaultEphemeralMB,
		Layers:        slices.Clone(req.Layers),
		Architectures: []string{"x86_64"},
		TracingMode:   "PassThrough",
		KMSKeyArn:     req.KMSKeyArn,
		LastModified:  lastModified(now),
		RevisionID:    uuid.NewString(),
	}
	if req.Timeout != nil {
		c.TimeoutSec = *req.Timeout
	}
	if req.MemorySize != nil {
		c.MemoryMB = *req.MemorySize
	}
	if req.EphemeralStorage != nil {
		c.EphemeralMB = req.EphemeralStorage.Size
	}
	if req.Environment != nil && len(req.Environment.Variables) > 0 {
		c.Env = maps.Clone(req.Environment.Variables)
	}
	if len(req.Architectures) > 0 {
		c.Architectures = slices.Clone(req.Architectures)
	}
	if req.DeadLetterConfig != nil {
		c.DeadLetterTarget = req.DeadLetterConfig.TargetArn
	}
	if req.TracingConfig != nil && req.TracingConfig.Mode != "" {
		c.TracingMode = req.TracingConfig.Mode
	}
	c.Logging = loggingConfig(name, nil, req.LoggingConfig)
	if err := validateConfig(c, true); err != nil {
		return nil, err
	}
	return c, nil
}

// loggingConfig merges a requested LoggingConfig into cur (or Lambda's
// default: Text to /aws/lambda/<name>).
func loggingConfig(name string, cur, req *lambdaapi.LoggingConfig) *lambdaapi.LoggingConfig {
	out := lambdaapi.LoggingConfig{LogFormat: "Text", LogGroup: "/aws/lambda/" + name}
	if cur != nil {
		out = *cur
	}
	if req != nil {
		if req.LogFormat != "" {
			out.LogFormat = req.LogFormat
		}
		if req.LogGroup != "" {
			out.LogGroup = req.LogGroup
		}
		if req.ApplicationLogLevel != "" {
			out.ApplicationLogLevel = req.ApplicationLogLevel
		}
		if req.SystemLogLevel != "" {
			out.SystemLogLevel = req.SystemLogLevel
		}
	}
	return &out
}

// checkCodeSource accepts only an inline zip: updraft has no S3 and no
// container images.
func checkCodeSource(zip []byte, s3Bucket, s3Key, imageURI string) error {
	switch {
	case imageURI != "":
		return lambdaerr.InvalidParameterValue("Container images (ImageUri) are not supported by updraft: upload a .zip deployment package as ZipFile.")
	case s3Bucket != "" || s3Key != "":
		return lambdaerr.InvalidParameterValue("Code from S3 (S3Bucket, S3Key) is not supported by updraft: upload the .zip deployment package itself as ZipFile (aws lambda ... --zip-file fileb://function.zip).")
	case len(zip) == 0:
		return lambdaerr.InvalidParameterValue("Please provide a source for function code: a .zip deployment package as ZipFile.")
	}
	return nil
}

// GetFunction returns a function's (or a version's or alias's)
// configuration, where to download its code, its tags and its reserved
// concurrency.
func (r *Registry) GetFunction(ctx context.Context, name, qualifier string) (*lambdaapi.GetFunctionResponse, error) {
	fc, rec, err := r.lookupConfiguration(name, qualifier)
	if err != nil {
		return nil, err
	}
	out := &lambdaapi.GetFunctionResponse{
		Configuration: *fc.cfg,
		Code: lambdaapi.FunctionCodeLocation{
			RepositoryType: "S3",
			Location:       r.codeLocation(fc.sha),
		},
		Tags: maps.Clone(rec.Tags),
	}
	if rec.Reserved != nil {
		n := *rec.Reserved
		out.Concurrency = &lambdaapi.Concurrency{ReservedConcurrentExecutions: &n}
	}
	return out, nil
}

func (r *Registry) codeLocation(sha string) string {
	base := ""
	if p := r.codeBaseURL.Load(); p != nil {
		base = *p
	}
	return fmt.Sprintf("%s/updraft/v1/code/%s", base, sha)
}

// GetFunctionConfiguration returns the configuration of $LATEST, of a
// version or of the version an alias points to.
func (r *Registry) GetFunctionConfiguration(ctx context.Context, name, qualifier string) (*lambdaapi.FunctionConfiguration, error) {
	fc, _, err := r.lookupConfiguration(name, qualifier)
	if err != nil {
		return nil, err
	}
	return fc.cfg, nil
}

type foundConfig struct {
	cfg *lambdaapi.FunctionConfiguration
	sha string
}

// lookupConfiguration finds a configuration in the view. With a
// qualifier, FunctionArn carries it, as Lambda shows it.
func (r *Registry) lookupConfiguration(name, qualifier string) (*foundConfig, *functionRecord, error) {
	fn, qual, err := r.parseRef(name, qualifier)
	if err != nil {
		return nil, nil, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	f := r.view.live(fn)
	if f == nil {
		return nil, nil, r.errMissingFunction(fn, qual)
	}
	arn := r.functionARN(fn)
	var c *configRecord
	version := VersionLatest
	switch {
	case qual == "":
		c = &f.rec.Config
	case qual == VersionLatest:
		c, arn = &f.rec.Config, f.latestARN
	case isVersionNumber(qual):
		vv := f.versions[qual]
		if vv == nil {
			return nil, nil, r.errQualifiedNotFound(fn, qual)
		}
		c, arn, version = &vv.rec.Config, vv.arn, qual
	default:
		av := f.aliases[qual]
		if av == nil {
			return nil, nil, r.errQualifiedNotFound(fn, qual)
		}
		version = av.rec.FunctionVersion
		if version == VersionLatest {
			c = &f.rec.Config
		} else if vv := f.versions[version]; vv != nil {
			c = &vv.rec.Config
		} else {
			return nil, nil, r.errQualifiedNotFound(fn, qual)
		}
		arn = av.arn
	}
	return &foundConfig{cfg: c.configuration(fn, version, arn), sha: c.CodeSha256Hex}, f.rec, nil
}

// ListFunctions lists functions sorted by name, $LATEST only or, with
// allVersions, every published version after each $LATEST. A page holds
// at most 50 (Lambda's cap, whatever MaxItems says); NextMarker is opaque.
func (r *Registry) ListFunctions(ctx context.Context, marker string, maxItems int, allVersions bool) (*lambdaapi.ListFunctionsResponse, error) {
	after, err := decodeMarker(marker)
	if err != nil {
		return nil, err
	}
	limit := pageSize(maxItems)
	out := &lambdaapi.ListFunctionsResponse{Functions: []lambdaapi.FunctionConfiguration{}}
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.view.fns))
	for name, f := range r.view.fns {
		if f.rec != nil {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	// Skip whole functions before the marker without building anything.
	start := sort.Search(len(names), func(i int) bool { return names[i] >= markerName(after) })
	lastKey := ""
	for _, name := range names[start:] {
		f := r.view.fns[name]
		type item struct {
			key, version, arn string
			c                 *configRecord
		}
		items := []item{{functionsKey(name, 0), VersionLatest, r.functionARN(name), &f.rec.Config}}
		if allVersions {
			items[0].arn = f.latestARN
			for _, v := range f.sortedVersions() {
				vv := f.versions[v]
				items = append(items, item{functionsKey(name, versionOrder(v)), v, vv.arn, &vv.rec.Config})
			}
		}
		for _, it := range items {
			if after != "" && it.key <= after {
				continue
			}
			if len(out.Functions) == limit {
				out.NextMarker = encodeMarker(lastKey)
				return out, nil
			}
			out.Functions = append(out.Functions, *it.c.configuration(name, it.version, it.arn))
			lastKey = it.key
		}
	}
	return out, nil
}

// functionsKey is the sort key of one ListFunctions item.
func functionsKey(name string, order int) string {
	return fmt.Sprintf("%s\x00%010d", name, order)
}

func markerName(after string) string {
	name, _, _ := strings.Cut(after, "\x00")
	return name
}

// UpdateFunctionCode replaces $LATEST's code (a new RevisionId). A stale
// RevisionId is refused with 412. DryRun validates and changes nothing;
// Publish also publishes a version and returns it.
func (r *Registry) UpdateFunctionCode(ctx context.Context, name string, req *lambdaapi.UpdateFunctionCodeRequest) (*lambdaapi.FunctionConfiguration, error) {
	if req == nil {
		return nil, lambdaerr.InvalidRequestContent("The request body is missing.")
	}
	fn, err := r.parseUnqualified(name)
	if err != nil {
		return nil, err
	}
	if err := checkCodeSource(req.ZipFile, req.S3Bucket, req.S3Key, req.ImageURI); err != nil {
		return nil, err
	}
	if req.Architectures != nil {
		var v violations
		validateArchitectures(&v, req.Architectures)
		if err := v.err(); err != nil {
			return nil, err
		}
	}
	zi, err := inspectZip(req.ZipFile, "UpdateFunctionCode")
	if err != nil {
		return nil, err
	}
	mutate := func(rec *functionRecord) error {
		if err := checkSettled(&rec.Config); err != nil {
			return err
		}
		if req.RevisionID != "" && req.RevisionID != rec.Config.RevisionID {
			return errRevisionMismatch()
		}
		if !req.DryRun {
			prev := rec.Config.clone()
			rec.Previous = &prev
			markUnsettled(&rec.Config, false)
		}
		rec.Config.CodeSha256Hex, rec.Config.CodeSize, rec.Config.CodeUnzippedSize = zi.sha256Hex, zi.size, zi.unzippedSize
		if err := checkUnzippedTotal(&rec.Config); err != nil {
			return err
		}
		if len(req.Architectures) > 0 {
			rec.Config.Architectures = slices.Clone(req.Architectures)
		}
		rec.Config.LastModified = lastModified(time.Now())
		rec.Config.RevisionID = uuid.NewString()
		return nil
	}
	if req.DryRun {
		var rec *functionRecord
		err := r.whenSettled(ctx, fn, func() (err error) {
			if rec, err = r.readFunction(ctx, fn); err != nil {
				return err
			}
			return mutate(rec)
		})
		if err != nil {
			return nil, err
		}
		return rec.Config.configuration(fn, VersionLatest, r.functionARN(fn)), nil
	}
	if err := r.storeCode(ctx, zi, req.ZipFile); err != nil {
		return nil, err
	}
	r.startUnpack(zi.sha256Hex, req.ZipFile)
	var rec *functionRecord
	err = r.whenSettled(ctx, fn, func() (err error) {
		rec, err = r.updateFunction(ctx, fn, mutate)
		return err
	})
	if err != nil {
		return nil, err
	}
	r.logger.Info("function code updated", "function", fn, "code_size", zi.size)
	defer r.settleAfterWrite(ctx, fn)
	if req.Publish {
		return r.publish(ctx, fn, "", "", rec.Config.RevisionID, true)
	}
	return rec.Config.configuration(fn, VersionLatest, r.functionARN(fn)), nil
}

// UpdateFunctionConfiguration changes $LATEST's settings; members left
// nil keep their value, Environment replaces the whole map. A stale
// RevisionId is refused with 412.
func (r *Registry) UpdateFunctionConfiguration(ctx context.Context, name string, req *lambdaapi.UpdateFunctionConfigurationRequest) (*lambdaapi.FunctionConfiguration, error) {
	if req == nil {
		return nil, lambdaerr.InvalidRequestContent("The request body is missing.")
	}
	fn, err := r.parseUnqualified(name)
	if err != nil {
		return nil, err
	}
	if req.DeadLetterConfig != nil {
		if err := r.checkDeadLetterTarget(req.DeadLetterConfig.TargetArn); err != nil {
			return nil, err
		}
	}
	var rec *functionRecord
	err = r.whenSettled(ctx, fn, func() (err error) {
		rec, err = r.updateFunction(ctx, fn, r.configUpdate(ctx, fn, req))
		return err
	})
	if err != nil {
		return nil, err
	}
	r.logger.Info("function configuration updated", "function", fn)
	defer r.settleAfterWrite(ctx, fn)
	return rec.Config.configuration(fn, VersionLatest, r.functionARN(fn)), nil
}

// configUpdate is the change UpdateFunctionConfiguration makes.
func (r *Registry) configUpdate(ctx context.Context, fn string, req *lambdaapi.UpdateFunctionConfigurationRequest) func(*functionRecord) error {
	return func(rec *functionRecord) error {
		if err := checkSettled(&rec.Config); err != nil {
			return err
		}
		if req.RevisionID != "" && req.RevisionID != rec.Config.RevisionID {
			return errRevisionMismatch()
		}
		prev := rec.Config.clone()
		c := rec.Config.clone()
		applyConfigUpdate(fn, &c, req)
		if err := validateConfig(&c, req.Runtime != nil); err != nil {
			return err
		}
		if req.Layers != nil {
			lc, err := r.resolveLayers(ctx, c.Layers)
			if err != nil {
				return err
			}
			c.LayerContent = lc
			if err := checkUnzippedTotal(&c); err != nil {
				return err
			}
		}
		c.LastModified = lastModified(time.Now())
		c.RevisionID = uuid.NewString()
		markUnsettled(&c, false)
		rec.Config, rec.Previous = c, &prev
		return nil
	}
}

func applyConfigUpdate(name string, c *configRecord, req *lambdaapi.UpdateFunctionConfigurationRequest) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&c.Runtime, req.Runtime)
	set(&c.Role, req.Role)
	set(&c.Handler, req.Handler)
	set(&c.Description, req.Description)
	set(&c.KMSKeyArn, req.KMSKeyArn)
	if req.Timeout != nil {
		c.TimeoutSec = *req.Timeout
	}
	if req.MemorySize != nil {
		c.MemoryMB = *req.MemorySize
	}
	if req.EphemeralStorage != nil {
		c.EphemeralMB = req.EphemeralStorage.Size
	}
	if req.Environment != nil {
		c.Env = nil
		if len(req.Environment.Variables) > 0 {
			c.Env = maps.Clone(req.Environment.Variables)
		}
	}
	if req.DeadLetterConfig != nil {
		c.DeadLetterTarget = req.DeadLetterConfig.TargetArn
	}
	if req.TracingConfig != nil && req.TracingConfig.Mode != "" {
		c.TracingMode = req.TracingConfig.Mode
	}
	if req.LoggingConfig != nil {
		c.Logging = loggingConfig(name, c.Logging, req.LoggingConfig)
	}
	if req.Layers != nil {
		c.Layers = slices.Clone(req.Layers)
	}
}

// readFunction reads fn.<name> fresh from the bucket.
func (r *Registry) readFunction(ctx context.Context, name string) (*functionRecord, error) {
	key := functionKey(name)
	e, err := r.getEntry(ctx, key)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, r.errFunctionNotFound(name)
	}
	return decode[functionRecord](key, e.Value())
}

// DeleteFunction deletes a function with all its versions and aliases
// (qualifier ""), or one published version (refused while an alias points
// at it). $LATEST cannot be deleted on its own.
func (r *Registry) DeleteFunction(ctx context.Context, name, qualifier string) error {
	fn, qual, err := r.parseRef(name, qualifier)
	if err != nil {
		return err
	}
	switch {
	case qual == "":
		return r.deleteFunction(ctx, fn)
	case qual == VersionLatest:
		return lambdaerr.InvalidParameterValue("$LATEST version cannot be deleted without deleting the function.")
	case isVersionNumber(qual):
		return r.deleteVersion(ctx, fn, qual)
	default:
		// Lambda's words (recorded); DeleteAlias deletes an alias. A
		// function that does not exist is not found first, without the
		// qualifier (recorded: ...[lowercase_latest_qualifier-delete_function]).
		if _, err := r.readFunction(ctx, fn); err != nil {
			return err
		}
		return lambdaerr.InvalidParameterValue("Deletion of aliases is not currently supported.")
	}
}

func (r *Registry) deleteFunction(ctx context.Context, name string) error {
	key := functionKey(name)
	for attempt := range maxCASAttempts {
		if err := casBackoff(ctx, attempt); err != nil {
			return err
		}
		e, err := r.getEntry(ctx, key)
		if err != nil {
			return err
		}
		if e == nil {
			return r.errFunctionNotFound(name)
		}
		// Aliases and versions first: if this stops half-way the function
		// still exists and a retry finishes the job.
		if err := r.deleteChildren(ctx, name); err != nil {
			return err
		}
		err = r.del(ctx, key, e.Revision())
		if errors.Is(err, errConflict) {
			continue
		}
		if err != nil {
			return err
		}
		r.logger.Info("function deleted", "function", name)
		return nil
	}
	return r.errBusy(name)
}

// deleteChildren deletes every version, alias and event invoke config
// key of a function.
func (r *Registry) deleteChildren(ctx context.Context, name string) error {
	keys, err := r.listKeys(ctx, eventInvokeKey(name, ">"), aliasKey(name, ">"), versionKey(name, ">"))
	if err != nil {
		return err
	}
	for _, key := range keys {
		if err := r.deleteKey(ctx, key); err != nil {
			return err
		}
	}
	return nil
}

// deleteKey deletes key whatever its revision (retrying lost races).
func (r *Registry) deleteKey(ctx context.Context, key string) error {
	for attempt := range maxCASAttempts {
		if err := casBackoff(ctx, attempt); err != nil {
			return err
		}
		e, err := r.getEntry(ctx, key)
		if err != nil || e == nil {
			return err
		}
		err = r.del(ctx, key, e.Revision())
		if !errors.Is(err, errConflict) {
			return err
		}
	}
	return fmt.Errorf("registry: delete %s: %w", key, errConflict)
}

// listKeys lists the live keys matching the filters, fresh from the
// bucket.
func (r *Registry) listKeys(ctx context.Context, filters ...string) ([]string, error) {
	kl, err := r.kv.ListKeysFiltered(ctx, filters...)
	if err != nil {
		return nil, fmt.Errorf("registry: list keys %v: %w", filters, err)
	}
	var keys []string
	for k := range kl.Keys() {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("registry: list keys %v: %w", filters, err)
	}
	return keys, nil
}

func (r *Registry) deleteVersion(ctx context.Context, name, version string) error {
	if _, err := r.readFunction(ctx, name); err != nil {
		return err
	}
	key := versionKey(name, version)
	e, err := r.getEntry(ctx, key)
	if err != nil {
		return err
	}
	if e == nil {
		// Lambda deletes an unknown version of an existing function
		// without complaint (recorded: LocalStack's
		// test_delete_on_nonexisting_version snapshot).
		return nil
	}
	aliases, err := r.loadAliases(ctx, name)
	if err != nil {
		return err
	}
	var refs []string
	for _, a := range aliases {
		if _, weighted := a.Weights[version]; a.FunctionVersion == version || weighted {
			refs = append(refs, a.Name)
		}
	}
	if len(refs) > 0 {
		sort.Strings(refs)
		return lambdaerr.ResourceConflict("Unable to delete version because the following aliases reference it: [%s]", strings.Join(refs, ", "))
	}
	// The version's async configuration first: if this stops half-way the
	// version still exists and a retry finishes the job.
	if err := r.deleteKey(ctx, eventInvokeKey(name, version)); err != nil {
		return err
	}
	if err := r.del(ctx, key, e.Revision()); err != nil {
		if errors.Is(err, errConflict) {
			return r.errBusy(name)
		}
		return err
	}
	r.logger.Info("function version deleted", "function", name, "version", version)
	return nil
}

// parseRef parses a FunctionName and merges its embedded qualifier with
// the Qualifier parameter.
func (r *Registry) parseRef(name, qualifier string) (fn, qual string, err error) {
	ref, err := ParseFunctionName(name)
	if err != nil {
		return "", "", err
	}
	if err := r.checkOwner(ref); err != nil {
		return "", "", err
	}
	qual, err = mergeQualifier(ref.Qualifier, qualifier)
	if err != nil {
		return "", "", err
	}
	return ref.Name, qual, nil
}

// parseUnqualified parses a FunctionName for an operation on the function
// itself, where a qualifier makes no sense.
func (r *Registry) parseUnqualified(name string) (string, error) {
	fn, qual, err := r.parseRef(name, "")
	if err != nil {
		return "", err
	}
	if qual != "" {
		return "", lambdaerr.InvalidParameterValue("This operation does not accept a qualified function name: %s", name)
	}
	return fn, nil
}

// parseFunctionOnly parses a FunctionName for the concurrency operations,
// which refuse a qualifier in Lambda's words (recorded: LocalStack's
// test_function_concurrency_exceptions, put_function_concurrency_with_qualified_arn).
func (r *Registry) parseFunctionOnly(name string) (string, error) {
	fn, qual, err := r.parseRef(name, "")
	if err != nil {
		return "", err
	}
	if qual != "" {
		return "", lambdaerr.InvalidParameterValue("This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.")
	}
	return fn, nil
}

// checkOwner refuses an ARN of another region or account: no such
// function lives here.
func (r *Registry) checkOwner(ref FunctionRef) error {
	if (ref.Region == "" || ref.Region == r.cfg.Region) && (ref.AccountID == "" || ref.AccountID == r.cfg.AccountID) {
		return nil
	}
	if ref.Region != "" && ref.Region != r.cfg.Region {
		// Lambda's answer to an ARN of another region (recorded:
		// LocalStack's test_get_function_wrong_region snapshot).
		return lambdaerr.ResourceNotFound("Functions from '%s' are not reachable in this region ('%s')", ref.Region, r.cfg.Region)
	}
	region, account := ref.Region, ref.AccountID
	if region == "" {
		region = r.cfg.Region
	}
	return lambdaerr.ResourceNotFound("Function not found: arn:aws:lambda:%s:%s:function:%s", region, account, ref.Name)
}
