package registry

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
)

// Layers (Lambda API version 2018-10-31): named, numbered, immutable zips
// that functions list in Layers and find merged under /opt.
//
// Storage, in the functions bucket beside the functions:
//   - layer.<name> holds the highest version number ever published, so a
//     number is never reused, even after every version was deleted; it is
//     never removed.
//   - lver.<name>.<n> holds one version: its metadata and the hex sha256 of
//     its zip, which lives in the code object store beside the functions'
//     zips (content-addressed, so a layer equal to a function's code is
//     stored once).
//
// A function pins what it uses: when CreateFunction or
// UpdateFunctionConfiguration accepts Layers, each version's digest and
// sizes are copied into the configuration (configRecord.LayerContent). A
// layer version is immutable, so the copy never goes stale, and
// DeleteLayerVersion can remove the version's key at once: the functions
// that already use it keep running it, as on Lambda ("Deleting a layer
// version … functions that already use it continue to work"), because the
// zip stays in the object store while any function version references it
// (prune.go deletes only unreferenced zips). New references to a deleted
// version are refused.
//
// Choices where Lambda's behaviour is not observable here:
//   - DeleteLayerVersion of a version that does not exist answers 204, as
//     Lambda does (the operation is idempotent).
//   - A layer ARN of another region or account is refused: nothing else
//     is reachable from here. Layer permissions (AddLayerVersionPermission)
//     do not exist: every function of this server may use every layer.
//   - CompatibleRuntimes and CompatibleArchitectures only filter the List
//     operations; a function may use any layer, as on Lambda.

// Keys of layers in the functions bucket. Layer names never contain a
// dot, so the parts are unambiguous.
const (
	keyLayerPrefix        = "layer."
	keyLayerVersionPrefix = "lver."
)

func layerKey(name string) string { return keyLayerPrefix + name }
func layerVersionKey(name string, version int64) string {
	return keyLayerVersionPrefix + name + "." + strconv.FormatInt(version, 10)
}

// Limits from the PublishLayerVersion and ListLayers API reference.
const (
	maxLayerNameLen       = 140
	maxLicenseInfoLen     = 512
	maxCompatibleRuntimes = 15
	maxCompatibleArchs    = 2
	maxLayerVersionARNLen = 140
	maxLayerListPageItems = 50
	msgLayerDoesNotExist  = "The resource you requested does not exist."
	layerNamePattern      = `(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+`
	// layerVersionARNPattern is the LayerVersionArn pattern Lambda quotes
	// (recorded: test_layer_exceptions, get_layer_version_by_arn_exc_invalidarn,
	// and test_layer_function_exceptions, add_layer_arn_without_version_exc).
	layerVersionARNPattern = `(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)`
)

var (
	layerNameRE = regexp.MustCompile(`^[a-zA-Z0-9-_]+$`)
	layerARNRE  = regexp.MustCompile(`^arn:[a-zA-Z0-9-]+:lambda:([a-zA-Z0-9-]+):(\d{12}):layer:([a-zA-Z0-9-_]+)$`)
	// layerVersionARNModelRE is the model's constraint; layerVersionARNRE
	// takes an ARN that meets it apart (an awslayer ARN it does not match).
	layerVersionARNModelRE = regexp.MustCompile(`^(` + layerVersionARNPattern + `)$`)
	layerVersionARNRE      = regexp.MustCompile(`^arn:[a-zA-Z0-9-]+:lambda:([a-zA-Z0-9-]+):(\d{12}):layer:([a-zA-Z0-9-_]+):([0-9]+)$`)
)

// layerRecord is the value of layer.<name>.
type layerRecord struct {
	Name string `json:"name"`
	// LastVersion is the highest version number ever published.
	LastVersion int64 `json:"lastVersion"`
}

// layerVersionRecord is the value of lver.<name>.<n>: immutable.
type layerVersionRecord struct {
	Layer                   string   `json:"layer"`
	Version                 int64    `json:"version"`
	Description             string   `json:"description,omitempty"`
	CompatibleRuntimes      []string `json:"runtimes,omitempty"`
	CompatibleArchitectures []string `json:"architectures,omitempty"`
	LicenseInfo             string   `json:"licenseInfo,omitempty"`
	CodeSha256Hex           string   `json:"codeSha256"`
	CodeSize                int64    `json:"codeSize"`
	UnzippedSize            int64    `json:"unzippedSize"`
	CreatedDate             string   `json:"createdDate"`
}

// layerContent is what a function configuration pins of one of its
// layers (see configRecord.LayerContent).
type layerContent struct {
	Sha256Hex    string `json:"sha256"`
	Size         int64  `json:"size"`
	UnzippedSize int64  `json:"unzipped"`
}

// layerView is one layer as the view holds it. Versions may be present
// while rec is nil (keys seen before the layer's own key).
type layerView struct {
	rec      *layerRecord
	versions map[int64]*layerVersionRecord
}

// applyLayerLocked applies one layer or layer version entry to the view.
// Requires r.mu held for writing.
func (r *Registry) applyLayerLocked(kind, name, sub string, value []byte, deleted bool) error {
	l := r.view.layers[name]
	if l == nil {
		l = &layerView{versions: make(map[int64]*layerVersionRecord)}
		r.view.layers[name] = l
	}
	switch kind {
	case "layer":
		if deleted {
			l.rec = nil
			break
		}
		rec, err := decode[layerRecord](layerKey(name), value)
		if err != nil {
			return err
		}
		l.rec = rec
	case "lver":
		n, err := strconv.ParseInt(sub, 10, 64)
		if err != nil {
			return fmt.Errorf("registry: layer version key %s.%s: %w", name, sub, err)
		}
		if deleted {
			delete(l.versions, n)
			break
		}
		rec, err := decode[layerVersionRecord](layerVersionKey(name, n), value)
		if err != nil {
			return err
		}
		l.versions[n] = rec
	}
	if l.rec == nil && len(l.versions) == 0 {
		delete(r.view.layers, name)
	}
	return nil
}

func (r *Registry) layerARN(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:layer:%s", r.cfg.Region, r.cfg.AccountID, name)
}

func (r *Registry) layerVersionARN(name string, version int64) string {
	return r.layerARN(name) + ":" + strconv.FormatInt(version, 10)
}

// parseLayerName accepts a LayerName: a name or an unversioned layer ARN
// of this server's region and account.
func (r *Registry) parseLayerName(s string) (string, error) {
	var v violations
	if len(s) > maxLayerNameLen {
		v.add("Value '%s' at 'layerName' failed to satisfy constraint: Member must have length less than or equal to %d", s, maxLayerNameLen)
	}
	name := s
	m := layerARNRE.FindStringSubmatch(s)
	if m != nil {
		name = m[3]
	} else if !layerNameRE.MatchString(s) {
		v.add("Value '%s' at 'layerName' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", s, layerNamePattern)
	}
	if err := v.err(); err != nil {
		return "", err
	}
	if m != nil {
		if err := r.checkARNOwner("layer", s, arnParts{region: m[1], account: m[2]}); err != nil {
			return "", err
		}
	}
	return name, nil
}

// rendering ------------------------------------------------------------

func (r *Registry) layerVersionWire(rec *layerVersionRecord) *lambdaapi.LayerVersion {
	return &lambdaapi.LayerVersion{
		Content: &lambdaapi.LayerVersionContentOutput{
			Location:   r.codeLocation(rec.CodeSha256Hex),
			CodeSha256: codeSha256Base64(rec.CodeSha256Hex),
			CodeSize:   rec.CodeSize,
		},
		LayerArn:                r.layerARN(rec.Layer),
		LayerVersionArn:         r.layerVersionARN(rec.Layer, rec.Version),
		Description:             rec.Description,
		CreatedDate:             rec.CreatedDate,
		Version:                 rec.Version,
		CompatibleRuntimes:      slices.Clone(rec.CompatibleRuntimes),
		CompatibleArchitectures: slices.Clone(rec.CompatibleArchitectures),
		LicenseInfo:             rec.LicenseInfo,
	}
}

func (r *Registry) layerVersionItem(rec *layerVersionRecord) *lambdaapi.LayerVersionsListItem {
	return &lambdaapi.LayerVersionsListItem{
		LayerVersionArn:         r.layerVersionARN(rec.Layer, rec.Version),
		Version:                 rec.Version,
		Description:             rec.Description,
		CreatedDate:             rec.CreatedDate,
		CompatibleRuntimes:      slices.Clone(rec.CompatibleRuntimes),
		CompatibleArchitectures: slices.Clone(rec.CompatibleArchitectures),
		LicenseInfo:             rec.LicenseInfo,
	}
}

// operations -----------------------------------------------------------

// PublishLayerVersion validates the zip, stores it and creates the next
// version of the layer (1, 2, …; numbers are never reused).
func (r *Registry) PublishLayerVersion(ctx context.Context, layerName string, req *lambdaapi.PublishLayerVersionRequest) (*lambdaapi.LayerVersion, error) {
	if req == nil {
		return nil, lambdaerr.InvalidRequestContent("The request body is missing.")
	}
	name, err := r.parseLayerName(layerName)
	if err != nil {
		return nil, err
	}
	if err := validatePublishLayer(req); err != nil {
		return nil, err
	}
	c := req.Content
	switch {
	case c.S3Bucket != "" || c.S3Key != "":
		return nil, lambdaerr.InvalidParameterValue("Layer content from S3 (S3Bucket, S3Key) is not supported by updraft: upload the .zip archive itself as ZipFile (aws lambda publish-layer-version ... --zip-file fileb://layer.zip).")
	case len(c.ZipFile) == 0:
		return nil, lambdaerr.InvalidParameterValue("Please provide a source for the layer content: a .zip archive as ZipFile.")
	}
	zi, err := inspectZip(c.ZipFile, "PublishLayerVersion")
	if err != nil {
		return nil, err
	}
	if err := r.storeCode(ctx, zi, c.ZipFile); err != nil {
		return nil, err
	}
	version, err := r.claimLayerVersion(ctx, name)
	if err != nil {
		return nil, err
	}
	rec := &layerVersionRecord{
		Layer:                   name,
		Version:                 version,
		Description:             req.Description,
		CompatibleRuntimes:      slices.Clone(req.CompatibleRuntimes),
		CompatibleArchitectures: slices.Clone(req.CompatibleArchitectures),
		LicenseInfo:             req.LicenseInfo,
		CodeSha256Hex:           zi.sha256Hex,
		CodeSize:                zi.size,
		UnzippedSize:            zi.unzippedSize,
		CreatedDate:             lastModified(time.Now()),
	}
	if _, err := r.put(ctx, layerVersionKey(name, version), rec, 0); err != nil {
		if errors.Is(err, errConflict) {
			return nil, lambdaerr.ResourceConflict("The operation cannot be performed at this time. An update is in progress for resource: %s", r.layerARN(name))
		}
		return nil, err
	}
	r.logger.Info("layer version published", "layer", name, "version", version, "code_size", zi.size)
	return r.layerVersionWire(rec), nil
}

// claimLayerVersion takes the next version number of a layer (creating
// the layer's key on first use). A number claimed by a publish that then
// fails is skipped, never reused.
func (r *Registry) claimLayerVersion(ctx context.Context, name string) (int64, error) {
	key := layerKey(name)
	for attempt := range maxCASAttempts {
		if err := casBackoff(ctx, attempt); err != nil {
			return 0, err
		}
		e, err := r.getEntry(ctx, key)
		if err != nil {
			return 0, err
		}
		rec := &layerRecord{Name: name}
		var rev uint64
		if e != nil {
			if rec, err = decode[layerRecord](key, e.Value()); err != nil {
				return 0, err
			}
			rev = e.Revision()
		}
		rec.LastVersion++
		_, err = r.put(ctx, key, rec, rev)
		if errors.Is(err, errConflict) {
			continue
		}
		if err != nil {
			return 0, err
		}
		return rec.LastVersion, nil
	}
	return 0, lambdaerr.ResourceConflict("The operation cannot be performed at this time. An update is in progress for resource: %s", r.layerARN(name))
}

// validatePublishLayer applies the model's constraints, reported together.
func validatePublishLayer(req *lambdaapi.PublishLayerVersionRequest) error {
	var v violations
	if req.Content == nil {
		v.add("Value null at 'content' failed to satisfy constraint: Member must not be null")
	}
	v.maxLen("description", req.Description, maxDescriptionLen)
	v.maxLen("licenseInfo", req.LicenseInfo, maxLicenseInfoLen)
	if len(req.CompatibleRuntimes) > maxCompatibleRuntimes {
		v.add("Value '[%s]' at 'compatibleRuntimes' failed to satisfy constraint: Member must have length less than or equal to %d", strings.Join(req.CompatibleRuntimes, ", "), maxCompatibleRuntimes)
	}
	for _, rt := range req.CompatibleRuntimes {
		// AWS's enum (recorded: test_layer_exceptions, publish_result
		// with an invalid runtime and architecture).
		if !knownRuntime(rt) {
			v.add("Value '[%s]' at 'compatibleRuntimes' failed to satisfy constraint: Member must satisfy enum value set: %s", strings.Join(req.CompatibleRuntimes, ", "), awsRuntimeList)
			break
		}
	}
	if len(req.CompatibleArchitectures) > maxCompatibleArchs {
		v.add("Value '[%s]' at 'compatibleArchitectures' failed to satisfy constraint: Member must have length less than or equal to %d", strings.Join(req.CompatibleArchitectures, ", "), maxCompatibleArchs)
	}
	for _, a := range req.CompatibleArchitectures {
		if !slices.Contains(architectureValues, a) {
			v.add("Value '[%s]' at 'compatibleArchitectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]", strings.Join(req.CompatibleArchitectures, ", "))
			break
		}
	}
	return v.err()
}

// GetLayerVersion returns one version of a layer (404 when it does not
// exist or was deleted).
func (r *Registry) GetLayerVersion(ctx context.Context, layerName string, version int64) (*lambdaapi.LayerVersion, error) {
	name, err := r.parseLayerName(layerName)
	if err != nil {
		return nil, err
	}
	if version < 1 {
		return nil, errLayerVersionBelowOne()
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	rec := r.view.layerVersion(name, version)
	if rec == nil {
		return nil, lambdaerr.ResourceNotFound(msgLayerDoesNotExist)
	}
	return r.layerVersionWire(rec), nil
}

// GetLayerVersionByArn returns the version a layer version ARN names.
func (r *Registry) GetLayerVersionByArn(ctx context.Context, arn string) (*lambdaapi.LayerVersion, error) {
	var v violations
	if arn == "" {
		v.add("Value null at 'arn' failed to satisfy constraint: Member must not be null")
	} else {
		if len(arn) > maxLayerVersionARNLen {
			v.add("Value '%s' at 'arn' failed to satisfy constraint: Member must have length less than or equal to %d", arn, maxLayerVersionARNLen)
		}
		if !layerVersionARNModelRE.MatchString(arn) {
			v.add("Value '%s' at 'arn' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", arn, layerVersionARNPattern)
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	m := layerVersionARNRE.FindStringSubmatch(arn)
	if m == nil {
		return nil, lambdaerr.ResourceNotFound(msgLayerDoesNotExist)
	}
	if err := r.checkARNOwner("layer", arn, arnParts{region: m[1], account: m[2]}); err != nil {
		return nil, err
	}
	n, err := strconv.ParseInt(m[4], 10, 64)
	if err != nil {
		return nil, lambdaerr.ResourceNotFound(msgLayerDoesNotExist)
	}
	return r.GetLayerVersion(ctx, m[3], n)
}

// DeleteLayerVersion deletes one version of a layer. Functions that use
// it keep working (they pin its content); a version that does not exist
// is not an error, as on Lambda.
func (r *Registry) DeleteLayerVersion(ctx context.Context, layerName string, version int64) error {
	name, err := r.parseLayerName(layerName)
	if err != nil {
		return err
	}
	if version < 1 {
		return errLayerVersionBelowOne()
	}
	if err := r.deleteKey(ctx, layerVersionKey(name, version)); err != nil {
		return err
	}
	r.logger.Info("layer version deleted", "layer", name, "version", version)
	return nil
}

// ListLayers lists layers by name, each with its newest version that
// matches the filters (runtime and architecture, "" for any); layers
// without such a version are left out. A page holds at most maxItems
// (1–50; 0 means 50).
func (r *Registry) ListLayers(ctx context.Context, runtime, arch, marker string, maxItems int) (*lambdaapi.ListLayersResponse, error) {
	if err := validateLayerFilters(runtime, arch); err != nil {
		return nil, err
	}
	after, err := decodeMarker(marker)
	if err != nil {
		return nil, err
	}
	limit := pageSize(maxItems)
	out := &lambdaapi.ListLayersResponse{Layers: []lambdaapi.LayersListItem{}}
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := slices.Sorted(maps.Keys(r.view.layers))
	lastName := ""
	for _, name := range names {
		if after != "" && name <= after {
			continue
		}
		l := r.view.layers[name]
		var latest *layerVersionRecord
		for _, rec := range l.versions {
			if layerMatches(rec, runtime, arch) && (latest == nil || rec.Version > latest.Version) {
				latest = rec
			}
		}
		if latest == nil {
			continue
		}
		if len(out.Layers) == limit {
			out.NextMarker = encodeMarker(lastName)
			return out, nil
		}
		out.Layers = append(out.Layers, lambdaapi.LayersListItem{
			LayerName:             name,
			LayerArn:              r.layerARN(name),
			LatestMatchingVersion: r.layerVersionItem(latest),
		})
		lastName = name
	}
	return out, nil
}

// ListLayerVersions lists the versions of a layer, newest first, that
// match the filters. An unknown layer has no versions (not a 404, as on
// Lambda).
func (r *Registry) ListLayerVersions(ctx context.Context, layerName, runtime, arch, marker string, maxItems int) (*lambdaapi.ListLayerVersionsResponse, error) {
	name, err := r.parseLayerName(layerName)
	if err != nil {
		return nil, err
	}
	if err := validateLayerFilters(runtime, arch); err != nil {
		return nil, err
	}
	after, err := decodeMarker(marker)
	if err != nil {
		return nil, err
	}
	var below int64 = -1
	if after != "" {
		if below, err = strconv.ParseInt(after, 10, 64); err != nil {
			return nil, lambdaerr.InvalidParameterValue("Invalid Marker: %s", marker)
		}
	}
	limit := pageSize(maxItems)
	out := &lambdaapi.ListLayerVersionsResponse{LayerVersions: []lambdaapi.LayerVersionsListItem{}}
	r.mu.RLock()
	defer r.mu.RUnlock()
	l := r.view.layers[name]
	if l == nil {
		return out, nil
	}
	versions := slices.Sorted(maps.Keys(l.versions))
	slices.Reverse(versions)
	var last int64
	for _, n := range versions {
		if below >= 0 && n >= below {
			continue
		}
		rec := l.versions[n]
		if !layerMatches(rec, runtime, arch) {
			continue
		}
		if len(out.LayerVersions) == limit {
			out.NextMarker = encodeMarker(strconv.FormatInt(last, 10))
			return out, nil
		}
		out.LayerVersions = append(out.LayerVersions, *r.layerVersionItem(rec))
		last = n
	}
	return out, nil
}

func validateLayerFilters(runtime, arch string) error {
	var v violations
	if runtime != "" && !knownRuntime(runtime) {
		v.add("Value '%s' at 'compatibleRuntime' failed to satisfy constraint: Member must satisfy enum value set: %s", runtime, awsRuntimeList)
	}
	if arch != "" && !slices.Contains(architectureValues, arch) {
		v.add("Value '%s' at 'compatibleArchitecture' failed to satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]", arch)
	}
	return v.err()
}

// layerMatches applies ListLayers' filters: a version matches a runtime
// (or architecture) only when it lists it.
func layerMatches(rec *layerVersionRecord, runtime, arch string) bool {
	return (runtime == "" || slices.Contains(rec.CompatibleRuntimes, runtime)) &&
		(arch == "" || slices.Contains(rec.CompatibleArchitectures, arch))
}

// layerVersion returns a live layer version from the view, or nil.
func (v *view) layerVersion(name string, version int64) *layerVersionRecord {
	if l := v.layers[name]; l != nil {
		return l.versions[version]
	}
	return nil
}

// functions using layers -----------------------------------------------

// resolveLayers checks the layer version ARNs of a function configuration
// (already matched against the model's pattern and counted) and returns
// what the configuration pins of each, in order. Each is read fresh from
// the bucket, so a version published or deleted on another node a moment
// ago is seen.
func (r *Registry) resolveLayers(ctx context.Context, arns []string) ([]layerContent, error) {
	if len(arns) == 0 {
		return nil, nil
	}
	out := make([]layerContent, 0, len(arns))
	seen := make(map[string]string, len(arns))
	for _, arn := range arns {
		m := layerVersionARNRE.FindStringSubmatch(arn)
		if m != nil && m[1] != r.cfg.Region {
			// Recorded: create_function_with_layer_in_different_region.
			return nil, lambdaerr.InvalidParameterValue("Layers are not in the same region as the function. Layers are expected to be in region %s.", r.cfg.Region)
		}
		if m == nil || m[2] != r.cfg.AccountID {
			return nil, errLayerVersionMissing(arn)
		}
		name := m[3]
		if prev, dup := seen[name]; dup {
			// Recorded: two_layer_versions_single_function_exc (and the
			// same version twice reads the same).
			return nil, lambdaerr.InvalidParameterValue("Two different versions of the same layer are not allowed to be referenced in the same function. %s and %s are versions of the same layer.", prev, arn)
		}
		seen[name] = arn
		n, err := strconv.ParseInt(m[4], 10, 64)
		if err != nil {
			return nil, errLayerVersionMissing(arn)
		}
		key := layerVersionKey(name, n)
		e, err := r.getEntry(ctx, key)
		if err != nil {
			return nil, err
		}
		if e == nil {
			return nil, errLayerVersionMissing(arn)
		}
		rec, err := decode[layerVersionRecord](key, e.Value())
		if err != nil {
			return nil, err
		}
		out = append(out, layerContent{Sha256Hex: rec.CodeSha256Hex, Size: rec.CodeSize, UnzippedSize: rec.UnzippedSize})
	}
	return out, nil
}

// errLayerVersionBelowOne is Lambda's answer to a version number below 1
// (recorded: get_layer_version_exc_layer_version_doesnotexist_negative,
// _zero, delete_layer_version_exc_layerversion_invalid_version).
func errLayerVersionBelowOne() error {
	return lambdaerr.InvalidParameterValue("Layer Version Cannot be less than 1")
}

func errLayerVersionMissing(arn string) error {
	return lambdaerr.InvalidParameterValue("Layer version %s does not exist.", arn)
}

// checkUnzippedTotal applies Lambda's quota on a function's code plus all
// its layers, unzipped (250 MB).
func checkUnzippedTotal(c *configRecord) error {
	if len(c.LayerContent) == 0 {
		return nil
	}
	total := c.CodeUnzippedSize
	for _, l := range c.LayerContent {
		total += l.UnzippedSize
	}
	if total > MaxUnzippedBytes {
		return lambdaerr.InvalidParameterValue("Function code combined with layers exceeds the maximum allowed size of %d bytes. The actual size is %d bytes.", MaxUnzippedBytes, total)
	}
	return nil
}
