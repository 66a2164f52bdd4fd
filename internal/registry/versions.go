package registry

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
)

// PublishVersion freezes $LATEST as the next version number (1, 2, …;
// numbers are never reused). If $LATEST has not changed since the last
// version was published, that version is returned instead, as Lambda
// does. A CodeSha256 or RevisionId that does not match $LATEST is refused
// with 412.
func (r *Registry) PublishVersion(ctx context.Context, name string, req *lambdaapi.PublishVersionRequest) (*lambdaapi.FunctionConfiguration, error) {
	fn, err := r.parseUnqualified(name)
	if err != nil {
		return nil, err
	}
	if req == nil {
		req = &lambdaapi.PublishVersionRequest{}
	}
	var v violations
	v.maxLen("description", req.Description, maxDescriptionLen)
	if err := v.err(); err != nil {
		return nil, err
	}
	var out *lambdaapi.FunctionConfiguration
	err = r.whenSettled(ctx, fn, func() (err error) {
		out, err = r.publish(ctx, fn, req.CodeSha256, req.Description, req.RevisionID, false)
		return err
	})
	return out, err
}

// publish implements PublishVersion for an already parsed name; the
// checks are skipped when codeSha or revisionID are empty. Publishing an
// unsettled $LATEST is refused unless its own write asks for it
// (CreateFunction or UpdateFunctionCode with Publish: unsettled true);
// the version is then Pending until it settles.
func (r *Registry) publish(ctx context.Context, name, codeSha, description, revisionID string, unsettled bool) (*lambdaapi.FunctionConfiguration, error) {
	var prev *versionRecord // the version $LATEST is unchanged since, if any
	rec, err := r.casFunction(ctx, name, func(rec *functionRecord) (bool, error) {
		if !unsettled {
			if err := checkSettled(&rec.Config); err != nil {
				return false, err
			}
		}
		if revisionID != "" && revisionID != rec.Config.RevisionID {
			return false, errRevisionMismatch()
		}
		if cur := codeSha256Base64(rec.Config.CodeSha256Hex); codeSha != "" && codeSha != cur {
			// 400, not 412 (recorded: test_publish_with_wrong_sha256).
			return false, lambdaerr.InvalidParameterValue("CodeSHA256 (%s) is different from current CodeSHA256 in $LATEST (%s). Please try again with the CodeSHA256 in $LATEST.", codeSha, cur)
		}
		if rec.LastVersion > 0 && rec.PublishedFrom == rec.Config.RevisionID {
			v, err := r.readVersion(ctx, name, strconv.Itoa(rec.LastVersion))
			if err != nil {
				return false, err
			}
			if v != nil {
				prev = v
				return false, nil
			}
		}
		// Claim the number first: if this stops before the version is
		// written, the number is skipped, never reused.
		rec.LastVersion++
		rec.PublishedFrom = rec.Config.RevisionID
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if prev != nil {
		return prev.Config.configuration(name, prev.Version, r.functionARN(name)+":"+prev.Version), nil
	}
	ver := strconv.Itoa(rec.LastVersion)
	c := rec.Config.clone()
	if description != "" {
		c.Description = description
	}
	c.LastModified = lastModified(time.Now())
	c.RevisionID = uuid.NewString()
	if c.unsettled() {
		c.Pending, c.Updating = true, false
	}
	vr := &versionRecord{Function: name, Version: ver, Config: c}
	if _, err := r.put(ctx, versionKey(name, ver), vr, 0); err != nil {
		return nil, fmt.Errorf("registry: publish %s version %s: %w", name, ver, err)
	}
	r.logger.Info("function version published", "function", name, "version", ver)
	return c.configuration(name, ver, r.functionARN(name)+":"+ver), nil
}

// readVersion reads ver.<name>.<version> fresh; nil if it does not exist.
func (r *Registry) readVersion(ctx context.Context, name, version string) (*versionRecord, error) {
	key := versionKey(name, version)
	e, err := r.getEntry(ctx, key)
	if err != nil || e == nil {
		return nil, err
	}
	return decode[versionRecord](key, e.Value())
}

// ListVersionsByFunction lists $LATEST then every published version in
// ascending order, at most 50 per page.
func (r *Registry) ListVersionsByFunction(ctx context.Context, name, marker string, maxItems int) (*lambdaapi.ListVersionsByFunctionResponse, error) {
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
	out := &lambdaapi.ListVersionsByFunctionResponse{Versions: []lambdaapi.FunctionConfiguration{}}
	lastKey := ""
	add := func(key, version, arn string, c *configRecord) bool {
		if after != "" && key <= after {
			return true
		}
		if len(out.Versions) == limit {
			out.NextMarker = encodeMarker(lastKey)
			return false
		}
		out.Versions = append(out.Versions, *c.configuration(fn, version, arn))
		lastKey = key
		return true
	}
	if !add(versionsKey(VersionLatest), VersionLatest, f.latestARN, &f.rec.Config) {
		return out, nil
	}
	for _, v := range f.sortedVersions() {
		vv := f.versions[v]
		if !add(versionsKey(v), v, vv.arn, &vv.rec.Config) {
			break
		}
	}
	return out, nil
}

// versionsKey is the sort key of one ListVersionsByFunction item.
func versionsKey(version string) string {
	return fmt.Sprintf("%010d", versionOrder(version))
}
