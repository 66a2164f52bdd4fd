package registry

import (
	"math/rand/v2"
)

// Target is what an invocation runs, as Resolve found it.
type Target struct {
	// Version is the snapshot to run; for a weighted alias, the version
	// picked by weight.
	Version *Version
	// InvokedARN is the ARN as invoked: the function ARN, plus
	// ":qualifier" when a qualifier (alias, version or $LATEST) was given.
	InvokedARN string
	// Alias is the alias name when invoked through one.
	Alias string
	// ReservedConcurrency is the function's reservation; nil means none.
	// Shared: callers must not modify it.
	ReservedConcurrency *int
}

// Resolve finds what an invocation of name (any FunctionName form) with
// qualifier runs. It is on the warm-invoke path: it reads only the
// in-memory view, under a read lock, and allocates only the Target. A
// function that does not exist is not found under the qualifier given,
// if any.
//
// A Target whose Version is Pending or Updating is not refused here (the
// name exists); invocations call ResolveSettled for it.
func (r *Registry) Resolve(name, qualifier string) (*Target, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.resolveLocked(name, qualifier, "")
}

// ResolveInvoke is Resolve for the Invoke operation: a function that does
// not exist is not found as ":$LATEST" when no qualifier was given, which
// is how Lambda's Invoke words it (recorded: LocalStack's
// test_function_name_and_qualifier_validation[function_name_too_long-invoke]).
func (r *Registry) ResolveInvoke(name, qualifier string) (*Target, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.resolveLocked(name, qualifier, VersionLatest)
}

// resolveLocked is Resolve with r.mu held (for reading at least);
// missingQual names a missing function's qualifier when none was given.
func (r *Registry) resolveLocked(name, qualifier, missingQual string) (*Target, error) {
	ref, ok := parseFunctionName(name)
	if !ok {
		return nil, badFunctionName(name)
	}
	if err := r.checkOwner(ref); err != nil {
		return nil, err
	}
	qual, err := mergeQualifier(ref.Qualifier, qualifier)
	if err != nil {
		return nil, err
	}
	f := r.view.live(ref.Name)
	if f == nil {
		if qual == "" {
			qual = missingQual
		}
		return nil, r.errMissingFunction(ref.Name, qual)
	}
	t := &Target{ReservedConcurrency: f.rec.Reserved}
	switch {
	case qual == "":
		t.Version, t.InvokedARN = f.latest, f.latest.FunctionARN
	case qual == VersionLatest:
		t.Version, t.InvokedARN = f.latest, f.latestARN
	case isVersionNumber(qual):
		vv := f.versions[qual]
		if vv == nil {
			return nil, r.errQualifiedNotFound(ref.Name, qual)
		}
		t.Version, t.InvokedARN = vv.v, vv.arn
	default:
		av := f.aliases[qual]
		if av == nil {
			return nil, r.errQualifiedNotFound(ref.Name, qual)
		}
		pick := av.rec.FunctionVersion
		if av.extra != "" && av.weight > 0 && rand.Float64() < av.weight {
			pick = av.extra
		}
		if pick == VersionLatest {
			t.Version = f.latest
		} else if vv := f.versions[pick]; vv != nil {
			t.Version = vv.v
		} else {
			return nil, r.errQualifiedNotFound(ref.Name, qual)
		}
		t.InvokedARN, t.Alias = av.arn, av.rec.Name
	}
	return t, nil
}
