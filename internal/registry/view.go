package registry

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// view is the in-memory copy of the functions bucket that reads and the
// data plane use. It is built from the bucket at New, kept current by the
// watcher, and updated directly after this node's own writes; each key's
// last applied revision makes the two paths commute (an older revision
// never overwrites a newer one). Guarded by Registry.mu.
type view struct {
	fns    map[string]*fnView
	layers map[string]*layerView
	revs   map[string]uint64 // last applied revision per key, deletes included
	// changed is closed, and replaced, whenever a function or version
	// record is applied: AwaitSettled waits on it.
	changed chan struct{}
}

// fnView is one function as the view holds it. Versions and aliases may
// be present while rec is nil (a delete in progress, or keys seen before
// the function's own key); such a function does not exist for callers.
type fnView struct {
	rec       *functionRecord
	latest    *Version // snapshot of $LATEST; nil when rec is nil
	latestARN string   // function ARN + ":$LATEST"
	versions  map[string]*versionView
	aliases   map[string]*aliasView
	eic       map[string]*eventInvokeView // by qualifier: $LATEST, a version or an alias
}

type versionView struct {
	rec *versionRecord
	v   *Version
	arn string // function ARN + ":" + version
}

type aliasView struct {
	rec    *aliasRecord
	arn    string  // function ARN + ":" + alias
	extra  string  // additional version of a weighted alias, or ""
	weight float64 // share of traffic sent to extra
}

func newView() *view {
	return &view{fns: make(map[string]*fnView), layers: make(map[string]*layerView), revs: make(map[string]uint64), changed: make(chan struct{})}
}

func (v *view) fn(name string) *fnView {
	f := v.fns[name]
	if f == nil {
		f = &fnView{versions: make(map[string]*versionView), aliases: make(map[string]*aliasView), eic: make(map[string]*eventInvokeView)}
		v.fns[name] = f
	}
	return f
}

// live returns the function named name if it exists.
func (v *view) live(name string) *fnView {
	if f := v.fns[name]; f != nil && f.rec != nil {
		return f
	}
	return nil
}

// applyLocked applies one bucket entry (a put, or a delete when value is
// nil) at revision rev. It returns the name of the function that changed,
// or "" when the entry was stale or not ours. Requires r.mu held for
// writing.
func (r *Registry) applyLocked(key string, value []byte, rev uint64, deleted bool) (string, error) {
	if rev <= r.view.revs[key] {
		return "", nil
	}
	kind, name, sub, ok := parseKey(key)
	if !ok {
		return "", nil
	}
	r.view.revs[key] = rev
	if kind == "layer" || kind == "lver" {
		return "", r.applyLayerLocked(kind, name, sub, value, deleted)
	}
	f := r.view.fn(name)
	if kind == "fn" || kind == "ver" {
		close(r.view.changed)
		r.view.changed = make(chan struct{})
	}
	switch kind {
	case "fn":
		if deleted {
			f.rec, f.latest = nil, nil
			break
		}
		rec, err := decode[functionRecord](key, value)
		if err != nil {
			return "", err
		}
		f.rec = rec
		arn := r.functionARN(name)
		f.latestARN = arn + ":" + VersionLatest
		// While an update is in progress invocations run the previous
		// configuration ("Lambda function states").
		if rec.Config.Updating && rec.Previous != nil {
			f.latest = newVersion(name, arn, VersionLatest, rec.Previous)
			f.latest.Updating = true
		} else {
			f.latest = newVersion(name, arn, VersionLatest, &rec.Config)
		}
	case "ver":
		if deleted {
			delete(f.versions, sub)
			break
		}
		rec, err := decode[versionRecord](key, value)
		if err != nil {
			return "", err
		}
		arn := r.functionARN(name)
		f.versions[sub] = &versionView{rec: rec, v: newVersion(name, arn, sub, &rec.Config), arn: arn + ":" + sub}
	case "alias":
		if deleted {
			delete(f.aliases, sub)
			break
		}
		rec, err := decode[aliasRecord](key, value)
		if err != nil {
			return "", err
		}
		av := &aliasView{rec: rec, arn: r.functionARN(name) + ":" + sub}
		for ver, w := range rec.Weights {
			av.extra, av.weight = ver, w
		}
		f.aliases[sub] = av
	case "eic":
		if deleted {
			delete(f.eic, sub)
			break
		}
		rec, err := decode[eventInvokeRecord](key, value)
		if err != nil {
			return "", err
		}
		rec.Function, rec.Qualifier = name, sub
		f.eic[sub] = &eventInvokeView{rec: rec, cfg: rec.effective()}
	}
	if f.rec == nil && len(f.versions) == 0 && len(f.aliases) == 0 && len(f.eic) == 0 {
		delete(r.view.fns, name)
	}
	return name, nil
}

// VersionLatest is the unpublished, mutable version of every function.
const VersionLatest = "$LATEST"

// Version is an immutable snapshot of a function version ($LATEST or a
// published number) as the data plane needs it. It is never mutated after
// it is published to readers: a change to $LATEST builds a new Version
// with a new RevisionID. Callers must not modify it (Env, Layers and
// Architectures are shared).
type Version struct {
	// FunctionName is the bare name; FunctionARN the unqualified ARN.
	FunctionName, FunctionARN string
	// Version is "$LATEST" or "1", "2", …
	Version string
	// Runtime, Handler, Role and Description as configured.
	Runtime, Handler, Role, Description string
	// Timeout is the invocation time limit (1 s to 900 s).
	Timeout time.Duration
	// MemoryMB is the memory size; EphemeralMB the size of /tmp.
	MemoryMB, EphemeralMB int
	// Env is the function's own environment (no reserved keys).
	Env map[string]string
	// Layers are layer version ARNs in order; Architectures has one entry.
	Layers        []string
	Architectures []string
	// LayerSha256Hex names the zip of each of Layers, in order (see
	// Registry.OptDir); shorter than Layers only for a configuration
	// written before layers were stored.
	LayerSha256Hex []string
	// CodeSha256Hex names the code zip (see Registry.CodeDir); CodeSize is
	// its size in bytes.
	CodeSha256Hex string
	CodeSize      int64
	// RevisionID changes on every change of $LATEST's code or
	// configuration; environments are keyed by (name, version, RevisionID).
	RevisionID string
	// DeadLetterTarget is the DeadLetterConfig TargetArn, or "".
	DeadLetterTarget string
	// LogFormat is the LoggingConfig's format, "Text" or "JSON";
	// ApplicationLogLevel its application log level ("" when unset);
	// LogGroup where its logs go.
	LogFormat, ApplicationLogLevel, LogGroup string
	// Pending is set while the version's code is being readied (State
	// Pending): it cannot be invoked. Updating is set on $LATEST while an
	// update is in progress: this snapshot is the configuration before
	// the update, which invocations run until it settles.
	Pending, Updating bool
}

func newVersion(name, arn, version string, c *configRecord) *Version {
	v := &Version{
		FunctionName:     name,
		FunctionARN:      arn,
		Version:          version,
		Runtime:          c.Runtime,
		Handler:          c.Handler,
		Role:             c.Role,
		Description:      c.Description,
		Timeout:          time.Duration(c.TimeoutSec) * time.Second,
		MemoryMB:         c.MemoryMB,
		EphemeralMB:      c.EphemeralMB,
		Env:              maps.Clone(c.Env),
		Layers:           slices.Clone(c.Layers),
		LayerSha256Hex:   layerDigests(c.LayerContent),
		Architectures:    slices.Clone(c.Architectures),
		CodeSha256Hex:    c.CodeSha256Hex,
		CodeSize:         c.CodeSize,
		RevisionID:       c.RevisionID,
		DeadLetterTarget: c.DeadLetterTarget,
		Pending:          c.Pending,
		LogFormat:        "Text",
		LogGroup:         "/aws/lambda/" + name,
	}
	if l := c.Logging; l != nil {
		if l.LogFormat != "" {
			v.LogFormat = l.LogFormat
		}
		if l.LogGroup != "" {
			v.LogGroup = l.LogGroup
		}
		v.ApplicationLogLevel = l.ApplicationLogLevel
	}
	return v
}

// sortedVersions returns the published version numbers of f in ascending
// numeric order.
func (f *fnView) sortedVersions() []string {
	out := slices.Collect(maps.Keys(f.versions))
	slices.SortFunc(out, func(a, b string) int { return versionOrder(a) - versionOrder(b) })
	return out
}

// versionOrder sorts $LATEST before every number.
func versionOrder(v string) int {
	if v == VersionLatest {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0
	}
	return n
}

func (r *Registry) functionARN(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", r.cfg.Region, r.cfg.AccountID, name)
}

func layerDigests(lc []layerContent) []string {
	if len(lc) == 0 {
		return nil
	}
	out := make([]string, len(lc))
	for i, l := range lc {
		out[i] = l.Sha256Hex
	}
	return out
}
