package registry

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
)

// Asynchronous invocation configuration ("FunctionEventInvokeConfig",
// Lambda API version 2019-09-25): per function and qualifier ($LATEST, a
// version or an alias), the retry limit, the maximum event age and the
// destinations of invocation records. One key per qualifier,
// eic.<function>.<qualifier>, in the functions bucket; the view holds them
// and EventInvokeConfig serves the async engine from memory.
//
// Choices where Lambda's behaviour is not observable here:
//   - A Lambda function destination must exist when the configuration is
//     written, as on Lambda ("The destination ARN ... is invalid.";
//     recorded: test_lambda_function_event_invoke_config exceptions,
//     put_destination_lambda_doesntexist). One deleted later is a
//     delivery failure for the async engine to report. Naming the
//     configured function itself is refused (an on-success loop).
//   - A built-in queue destination need not exist either, for the same
//     reason; FIFO queues are refused, as Lambda refuses them ("When using
//     an Amazon SQS queue as a destination, FIFO queues cannot be used").
//   - ARNs must name this server's region and account: nothing else is
//     reachable from here.
//   - UpdateFunctionEventInvokeConfig merges OnSuccess and OnFailure one by
//     one: a member present in the request replaces that side (an empty
//     Destination clears it), a member left out keeps its value.

// Limits from Lambda's API reference (FunctionEventInvokeConfig,
// ListFunctionEventInvokeConfigs) and "Asynchronous invocation".
const (
	defaultMaxRetryAttempts = 2
	maxRetryAttemptsLimit   = 2
	defaultMaxEventAgeSec   = 21600
	minEventAgeSec          = 60
	maxEventAgeSec          = 21600
	maxDestinationLen       = 350
	maxQueueNameLen         = 80
)

// destinationPattern is the pattern Lambda quotes for a DestinationArn
// (recorded: put_destination_invalid_arn_pattern).
const destinationPattern = `$|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)`

var destinationRE = regexp.MustCompile(`^(` + destinationPattern + `)$`)

// supportedDestinations ends every refusal of a destination kind.
const supportedDestinations = "Supported destinations: Lambda function ARNs (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]), built-in queue ARNs (arn:aws:sqs:REGION:ACCOUNT:NAME) and http:// or https:// webhook URLs."

// Keys of event invoke configurations. '$' is not a valid NATS KV key
// character, so $LATEST is stored as latestKeyPart; '=' can never appear
// in a version or alias name, so the encoding is unambiguous.
const (
	keyEventInvokePrefix = "eic."
	latestKeyPart        = "=LATEST"
)

func eventInvokeKey(name, qualifier string) string {
	if qualifier == VersionLatest {
		qualifier = latestKeyPart
	}
	return keyEventInvokePrefix + name + "." + qualifier
}

// eventInvokeQualifier decodes the qualifier part of an eic key.
func eventInvokeQualifier(part string) string {
	if part == latestKeyPart {
		return VersionLatest
	}
	return part
}

// eventInvokeRecord is the value of eic.<name>.<qualifier>. Nil limits
// and empty destinations are unset (the defaults apply).
type eventInvokeRecord struct {
	Function       string `json:"function"`
	Qualifier      string `json:"qualifier"`
	MaxRetry       *int   `json:"maxRetry,omitempty"`
	MaxAgeSec      *int   `json:"maxAge,omitempty"`
	OnSuccess      string `json:"onSuccess,omitempty"`
	OnFailure      string `json:"onFailure,omitempty"`
	LastModifiedMs int64  `json:"lastModified"`
}

// EventInvokeConfig is the async configuration in force for one
// qualifier, defaults applied.
type EventInvokeConfig struct {
	// MaximumRetryAttempts is how many times a function error is retried
	// (0–2; default 2).
	MaximumRetryAttempts int
	// MaximumEventAge is how long an event may wait before it is
	// discarded (60 s to 6 h; default 6 h).
	MaximumEventAge time.Duration
	// OnSuccess and OnFailure are destination ARNs (arn:aws:lambda:… or
	// arn:aws:sqs:…) or http(s) webhook URLs; "" when none.
	OnSuccess, OnFailure string
}

// DefaultEventInvokeConfig is the configuration of a qualifier that has
// none: two retries, six hours, no destinations.
func DefaultEventInvokeConfig() EventInvokeConfig {
	return EventInvokeConfig{
		MaximumRetryAttempts: defaultMaxRetryAttempts,
		MaximumEventAge:      defaultMaxEventAgeSec * time.Second,
	}
}

func (rec *eventInvokeRecord) effective() EventInvokeConfig {
	c := DefaultEventInvokeConfig()
	if rec.MaxRetry != nil {
		c.MaximumRetryAttempts = *rec.MaxRetry
	}
	if rec.MaxAgeSec != nil {
		c.MaximumEventAge = time.Duration(*rec.MaxAgeSec) * time.Second
	}
	c.OnSuccess, c.OnFailure = rec.OnSuccess, rec.OnFailure
	return c
}

// wire renders rec as Lambda's FunctionEventInvokeConfig; arn is the
// qualified function ARN.
func (rec *eventInvokeRecord) wire(arn string) *lambdaapi.FunctionEventInvokeConfig {
	out := &lambdaapi.FunctionEventInvokeConfig{
		LastModified: float64(rec.LastModifiedMs) / 1000,
		FunctionArn:  arn,
		DestinationConfig: lambdaapi.DestinationConfig{
			OnSuccess: &lambdaapi.EventDestination{Destination: rec.OnSuccess},
			OnFailure: &lambdaapi.EventDestination{Destination: rec.OnFailure},
		},
	}
	if rec.MaxRetry != nil {
		n := *rec.MaxRetry
		out.MaximumRetryAttempts = &n
	}
	if rec.MaxAgeSec != nil {
		n := *rec.MaxAgeSec
		out.MaximumEventAgeInSeconds = &n
	}
	return out
}

// eventInvokeView is one configuration as the view holds it.
type eventInvokeView struct {
	rec *eventInvokeRecord
	cfg EventInvokeConfig // rec with defaults applied
}

// EventInvokeConfig returns the async configuration of function (a bare
// name) and qualifier ("" or "$LATEST" mean $LATEST; otherwise a version
// or an alias, as invoked). An unknown function or qualifier, or one
// without a configuration, gets the defaults. It reads only the in-memory
// view and does not allocate.
func (r *Registry) EventInvokeConfig(function, qualifier string) EventInvokeConfig {
	if qualifier == "" {
		qualifier = VersionLatest
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	f := r.view.live(function)
	if f == nil || !f.hasQualifier(qualifier) {
		return DefaultEventInvokeConfig()
	}
	if ev := f.eic[qualifier]; ev != nil {
		return ev.cfg
	}
	return DefaultEventInvokeConfig()
}

// hasQualifier reports whether qualifier names $LATEST, a version or an
// alias of f. A configuration left behind by an interrupted delete of its
// alias or version is ignored this way.
func (f *fnView) hasQualifier(qualifier string) bool {
	if qualifier == VersionLatest {
		return true
	}
	if isVersionNumber(qualifier) {
		return f.versions[qualifier] != nil
	}
	return f.aliases[qualifier] != nil
}

// PutFunctionEventInvokeConfig sets the async configuration of a
// function, version or alias, replacing any previous one: members left
// out of req are reset to their defaults.
func (r *Registry) PutFunctionEventInvokeConfig(ctx context.Context, name, qualifier string, req *lambdaapi.EventInvokeConfigRequest) (*lambdaapi.FunctionEventInvokeConfig, error) {
	return r.writeEventInvokeConfig(ctx, name, qualifier, req, false)
}

// UpdateFunctionEventInvokeConfig changes only the members given in req
// of an existing async configuration (404 when there is none, as Lambda
// answers).
func (r *Registry) UpdateFunctionEventInvokeConfig(ctx context.Context, name, qualifier string, req *lambdaapi.EventInvokeConfigRequest) (*lambdaapi.FunctionEventInvokeConfig, error) {
	return r.writeEventInvokeConfig(ctx, name, qualifier, req, true)
}

func (r *Registry) writeEventInvokeConfig(ctx context.Context, name, qualifier string, req *lambdaapi.EventInvokeConfigRequest, merge bool) (*lambdaapi.FunctionEventInvokeConfig, error) {
	if req == nil {
		return nil, lambdaerr.InvalidRequestContent("The request body is missing.")
	}
	fn, qual, err := r.parseRef(name, qualifier)
	if err != nil {
		return nil, err
	}
	if qual == "" {
		qual = VersionLatest
	}
	if err := validateEventInvokeRequest(req); err != nil {
		return nil, err
	}
	if err := r.checkQualifierExists(ctx, fn, qual); err != nil {
		return nil, err
	}
	if dc := req.DestinationConfig; dc != nil {
		for _, d := range []*lambdaapi.EventDestination{dc.OnSuccess, dc.OnFailure} {
			if d == nil {
				continue
			}
			if err := r.checkDestination(ctx, fn, d.Destination, dc); err != nil {
				return nil, err
			}
		}
	}
	key := eventInvokeKey(fn, qual)
	arn := r.functionARN(fn) + ":" + qual
	for attempt := range maxCASAttempts {
		if err := casBackoff(ctx, attempt); err != nil {
			return nil, err
		}
		e, err := r.getEntry(ctx, key)
		if err != nil {
			return nil, err
		}
		next := &eventInvokeRecord{Function: fn, Qualifier: qual}
		var rev uint64
		if e != nil {
			rev = e.Revision()
			if merge {
				if next, err = decode[eventInvokeRecord](key, e.Value()); err != nil {
					return nil, err
				}
			}
		} else if merge {
			return nil, r.errNoEventInvokeConfig(fn, qual)
		}
		applyEventInvokeRequest(next, req)
		next.LastModifiedMs = time.Now().UnixMilli()
		_, err = r.put(ctx, key, next, rev)
		if errors.Is(err, errConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		r.logger.Info("event invoke config set", "function", fn, "qualifier", qual)
		return next.wire(arn), nil
	}
	return nil, r.errBusy(fn)
}

// applyEventInvokeRequest copies the members given in req into rec.
func applyEventInvokeRequest(rec *eventInvokeRecord, req *lambdaapi.EventInvokeConfigRequest) {
	if req.MaximumRetryAttempts != nil {
		n := *req.MaximumRetryAttempts
		rec.MaxRetry = &n
	}
	if req.MaximumEventAgeInSeconds != nil {
		n := *req.MaximumEventAgeInSeconds
		rec.MaxAgeSec = &n
	}
	if dc := req.DestinationConfig; dc != nil {
		if dc.OnSuccess != nil {
			rec.OnSuccess = dc.OnSuccess.Destination
		}
		if dc.OnFailure != nil {
			rec.OnFailure = dc.OnFailure.Destination
		}
	}
}

// validateEventInvokeRequest checks the model constraints (one
// ValidationException listing them all), then that something is set.
func validateEventInvokeRequest(req *lambdaapi.EventInvokeConfigRequest) error {
	var v violations
	if req.MaximumRetryAttempts != nil {
		v.intRange("maximumRetryAttempts", *req.MaximumRetryAttempts, 0, maxRetryAttemptsLimit)
	}
	if req.MaximumEventAgeInSeconds != nil {
		v.intRange("maximumEventAgeInSeconds", *req.MaximumEventAgeInSeconds, minEventAgeSec, maxEventAgeSec)
	}
	if dc := req.DestinationConfig; dc != nil {
		destinationSyntax(&v, "destinationConfig.onSuccess.destination", dc.OnSuccess)
		destinationSyntax(&v, "destinationConfig.onFailure.destination", dc.OnFailure)
	}
	if err := v.err(); err != nil {
		return err
	}
	if req.MaximumRetryAttempts == nil && req.MaximumEventAgeInSeconds == nil && req.DestinationConfig == nil {
		return lambdaerr.InvalidParameterValue("You must specify at least one of error handling or destination setting.")
	}
	return nil
}

// destinationSyntax applies the model's length and pattern to a
// destination; webhook URLs (updraft's own kind) skip the ARN pattern.
func destinationSyntax(v *violations, field string, d *lambdaapi.EventDestination) {
	if d == nil || d.Destination == "" {
		return
	}
	v.maxLen(field, d.Destination, maxDestinationLen)
	if !isWebhookURL(d.Destination) && !destinationRE.MatchString(d.Destination) {
		v.add("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", d.Destination, field, destinationPattern)
	}
}

func isWebhookURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// arnParts are the colon-separated fields of an ARN.
type arnParts struct {
	service, region, account, resource string
}

// splitARN splits arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE.
func splitARN(s string) (arnParts, bool) {
	f := strings.SplitN(s, ":", 6)
	if len(f) != 6 || f[0] != "arn" {
		return arnParts{}, false
	}
	return arnParts{service: f[2], region: f[3], account: f[4], resource: f[5]}, true
}

// checkDestination applies the rules to one destination of function fn
// (dc is the whole configuration, which Lambda quotes for a service that
// is no destination): its kind is supported, it belongs to this server,
// it is well formed and a function destination exists.
func (r *Registry) checkDestination(ctx context.Context, fn, dest string, dc *lambdaapi.DestinationConfig) error {
	if dest == "" {
		return nil
	}
	if isWebhookURL(dest) {
		u, err := url.Parse(dest)
		if err != nil || u.Host == "" {
			return lambdaerr.InvalidParameterValue("The destination %s is not a valid webhook URL: want http://HOST[:PORT]/PATH or https://….", dest)
		}
		return nil
	}
	a, ok := splitARN(dest)
	if !ok {
		return lambdaerr.InvalidParameterValue("The destination ARN %s is invalid. %s", dest, supportedDestinations)
	}
	if kind := unsupportedKind(a.service); kind != "" {
		return lambdaerr.InvalidParameterValue("The destination %s is %s, which this server does not support. %s", dest, kind, supportedDestinations)
	}
	switch a.service {
	case "lambda":
		if err := r.checkARNOwner("destination", dest, a); err != nil {
			return err
		}
		ref, ok := parseFunctionName(dest)
		if !ok || !validNewName(ref.Name, maxBareNameLen) {
			return lambdaerr.InvalidParameterValue("The destination ARN %s is invalid: a function destination is arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER].", dest)
		}
		if ref.Name == fn {
			return lambdaerr.InvalidParameterValue("You can't specify the function as a destination for itself.")
		}
		// Read fresh from the bucket: a function created a moment ago on
		// another node counts.
		e, err := r.getEntry(ctx, functionKey(ref.Name))
		if err != nil {
			return err
		}
		if e == nil {
			return lambdaerr.InvalidParameterValue("The destination ARN %s is invalid.", dest)
		}
		return nil
	case "sqs":
		return r.checkQueueARN("destination", dest, a)
	default:
		// Lambda's words, quoting the configuration as Java prints it
		// (recorded: put_destination_invalid_service_arn).
		return lambdaerr.InvalidParameterValue("The provided destination config %s is invalid.", javaDestinationConfig(dc))
	}
}

// javaDestinationConfig prints dc as Lambda's (Java) messages quote it:
// DestinationConfig(onSuccess=OnSuccess(destination=ARN), onFailure=null).
func javaDestinationConfig(dc *lambdaapi.DestinationConfig) string {
	side := func(kind string, d *lambdaapi.EventDestination) string {
		if d == nil {
			return "null"
		}
		dest := d.Destination
		if dest == "" {
			dest = "null"
		}
		return kind + "(destination=" + dest + ")"
	}
	return "DestinationConfig(onSuccess=" + side("OnSuccess", dc.OnSuccess) + ", onFailure=" + side("OnFailure", dc.OnFailure) + ")"
}

// unsupportedKind names the destination kinds Lambda has and this server
// does not; "" for any other service.
func unsupportedKind(service string) string {
	switch service {
	case "sns":
		return "an Amazon SNS topic"
	case "events":
		return "an Amazon EventBridge event bus"
	case "s3":
		return "an Amazon S3 bucket"
	}
	return ""
}

// checkARNOwner refuses an ARN of another region or account.
func (r *Registry) checkARNOwner(what, arn string, a arnParts) error {
	if a.region == r.cfg.Region && a.account == r.cfg.AccountID {
		return nil
	}
	return lambdaerr.InvalidParameterValue("The %s ARN %s is invalid: this server's resources are in region %s, account %s.", what, arn, r.cfg.Region, r.cfg.AccountID)
}

// checkQueueARN checks a built-in queue ARN: this server's, a valid SQS
// queue name (1–80 of [A-Za-z0-9_-], optional .fifo), not FIFO.
func (r *Registry) checkQueueARN(what, arn string, a arnParts) error {
	if err := r.checkARNOwner(what, arn, a); err != nil {
		return err
	}
	if !validQueueName(a.resource) {
		return lambdaerr.InvalidParameterValue("The %s ARN %s is invalid: a queue name is 1 to 80 letters, digits, hyphens and underscores, optionally ending in .fifo.", what, arn)
	}
	if strings.HasSuffix(a.resource, ".fifo") {
		return lambdaerr.InvalidParameterValue("The %s ARN %s is a FIFO queue: Lambda sends invocation records only to standard queues.", what, arn)
	}
	return nil
}

// validQueueName applies SQS's queue name rules.
func validQueueName(s string) bool {
	if len(s) > maxQueueNameLen {
		return false
	}
	base := strings.TrimSuffix(s, ".fifo")
	if base == "" {
		return false
	}
	for i := 0; i < len(base); i++ {
		if !isNameByte(base[i]) {
			return false
		}
	}
	return true
}

// checkDeadLetterTarget applies updraft's rules to a DeadLetterConfig
// TargetArn that passed the model's pattern: "" clears it, and only a
// built-in queue of this server is accepted (Lambda also takes SNS
// topics, which this server does not have).
func (r *Registry) checkDeadLetterTarget(target string) error {
	if target == "" || !targetARNRE.MatchString(target) {
		return nil // empty, or validateConfig reports the pattern
	}
	a, ok := splitARN(target)
	switch {
	case ok && a.service == "sqs":
		return r.checkQueueARN("dead-letter queue", target, a)
	case ok && a.service == "sns":
		return lambdaerr.InvalidParameterValue("DeadLetterConfig TargetArn %s is an Amazon SNS topic, which this server does not support: use a built-in queue ARN (arn:aws:sqs:%s:%s:NAME).", target, r.cfg.Region, r.cfg.AccountID)
	default:
		return lambdaerr.InvalidParameterValue("DeadLetterConfig TargetArn %s is not supported: this server accepts only built-in queue ARNs (arn:aws:sqs:%s:%s:NAME).", target, r.cfg.Region, r.cfg.AccountID)
	}
}

// checkQualifierExists reads the function and its version or alias fresh
// from the bucket.
func (r *Registry) checkQualifierExists(ctx context.Context, fn, qual string) error {
	notFound := lambdaerr.ResourceNotFound("The function doesn't exist.")
	if _, err := r.readFunction(ctx, fn); err != nil {
		if lambdaerr.IsType(err, lambdaerr.TypeResourceNotFound) {
			return notFound
		}
		return err
	}
	switch {
	case qual == VersionLatest:
		return nil
	case isVersionNumber(qual):
		vr, err := r.readVersion(ctx, fn, qual)
		if err != nil {
			return err
		}
		if vr == nil {
			return notFound
		}
	default:
		e, err := r.getEntry(ctx, aliasKey(fn, qual))
		if err != nil {
			return err
		}
		if e == nil {
			return notFound
		}
	}
	return nil
}

func (r *Registry) errNoEventInvokeConfig(fn, qual string) error {
	return lambdaerr.ResourceNotFound("The function %s:%s doesn't have an EventInvokeConfig", r.functionARN(fn), qual)
}

// GetFunctionEventInvokeConfig returns the async configuration of a
// function, version or alias (404 when there is none).
func (r *Registry) GetFunctionEventInvokeConfig(ctx context.Context, name, qualifier string) (*lambdaapi.FunctionEventInvokeConfig, error) {
	fn, qual, err := r.parseRef(name, qualifier)
	if err != nil {
		return nil, err
	}
	if qual == "" {
		qual = VersionLatest
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	f := r.view.live(fn)
	if f == nil || !f.hasQualifier(qual) || f.eic[qual] == nil {
		return nil, r.errNoEventInvokeConfig(fn, qual)
	}
	return f.eic[qual].rec.wire(r.functionARN(fn) + ":" + qual), nil
}

// DeleteFunctionEventInvokeConfig removes the async configuration of a
// function, version or alias (404 when there is none).
func (r *Registry) DeleteFunctionEventInvokeConfig(ctx context.Context, name, qualifier string) error {
	fn, qual, err := r.parseRef(name, qualifier)
	if err != nil {
		return err
	}
	if qual == "" {
		qual = VersionLatest
	}
	key := eventInvokeKey(fn, qual)
	e, err := r.getEntry(ctx, key)
	if err != nil {
		return err
	}
	if e == nil {
		return r.errNoEventInvokeConfig(fn, qual)
	}
	if err := r.del(ctx, key, e.Revision()); err != nil {
		if errors.Is(err, errConflict) {
			return r.errBusy(fn)
		}
		return err
	}
	r.logger.Info("event invoke config deleted", "function", fn, "qualifier", qual)
	return nil
}

// ListFunctionEventInvokeConfigs lists a function's async configurations:
// $LATEST, then versions in ascending order, then aliases by name, at most
// maxItems (1–50; 0 means 50) per page.
func (r *Registry) ListFunctionEventInvokeConfigs(ctx context.Context, name, marker string, maxItems int) (*lambdaapi.ListFunctionEventInvokeConfigsResponse, error) {
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
		return nil, lambdaerr.ResourceNotFound("The function doesn't exist.")
	}
	keys := make([]string, 0, len(f.eic))
	byKey := make(map[string]*eventInvokeView, len(f.eic))
	for q, ev := range f.eic {
		if f.hasQualifier(q) {
			k := eventInvokeSortKey(q)
			keys = append(keys, k)
			byKey[k] = ev
		}
	}
	sort.Strings(keys)
	out := &lambdaapi.ListFunctionEventInvokeConfigsResponse{FunctionEventInvokeConfigs: []lambdaapi.FunctionEventInvokeConfig{}}
	arn := r.functionARN(fn)
	start := sort.SearchStrings(keys, after)
	if start < len(keys) && after != "" && keys[start] == after {
		start++
	}
	for i, k := range keys[start:] {
		if i == limit {
			out.NextMarker = encodeMarker(keys[start+i-1])
			break
		}
		ev := byKey[k]
		out.FunctionEventInvokeConfigs = append(out.FunctionEventInvokeConfigs, *ev.rec.wire(arn + ":" + ev.rec.Qualifier))
	}
	return out, nil
}

// eventInvokeSortKey orders $LATEST, then versions numerically, then
// aliases by name.
func eventInvokeSortKey(qualifier string) string {
	if qualifier == VersionLatest || isVersionNumber(qualifier) {
		return fmt.Sprintf("0%010d", versionOrder(qualifier))
	}
	return "1" + qualifier
}
