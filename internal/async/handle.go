package async

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/registry"
)

// attempt is one delivery of an event to a worker.
type attempt struct {
	e   *Engine
	msg jetstream.Msg
	ev  *event
	rec *Record
	rev uint64
	log func(msg string, args ...any)
}

// handle runs one delivery of an event. Every path ends in an ack (the
// event is finished), a nak with a delay (try again later) or, for a
// message that is not an event at all, a term.
func (e *Engine) handle(msg jetstream.Msg) {
	ctx := context.Background() // in-flight work finishes on shutdown
	ev, err := decodeEvent(msg.Headers(), msg.Data())
	if err != nil {
		e.logger.Error("dropping a malformed async message", "subject", msg.Subject(), "err", err)
		_ = msg.Term()
		return
	}
	rec, rev, err := e.records.get(ctx, ev.RecordKey)
	if err != nil {
		e.logger.Warn("async record unreadable; retrying", "request_id", ev.RequestID, "err", err)
		_ = msg.NakWithDelay(time.Second)
		return
	}
	if rec == nil {
		// Expired, or removed after a batch was read: recreate it so the
		// outcome is recorded (an event is never dropped silently).
		rec = newRecord(ev)
		if rev, err = e.records.create(ctx, ev.RecordKey, rec); err != nil {
			_ = msg.NakWithDelay(time.Second)
			return
		}
	}
	if rec.RequestID != ev.RequestID {
		_ = msg.Ack() // a stale copy of a batch that was queued again
		return
	}
	a := &attempt{e: e, msg: msg, ev: ev, rec: rec, rev: rev}
	a.log = func(m string, args ...any) {
		e.logger.Debug(m, append([]any{"request_id", ev.RequestID, "function", ev.Function}, args...)...)
	}
	a.run(ctx)
}

func (a *attempt) run(ctx context.Context) {
	e, ev := a.e, a.ev
	if a.rec.Status.Final() {
		a.finishDeliveries(ctx)
		return
	}
	policy := e.deps.Policies.AsyncPolicy(ev.Function, ev.Qualifier)
	if time.Since(ev.Received) >= policy.MaxEventAge {
		a.fail(ctx, policy, nil, ConditionEventAgeExceeded, "EventAgeExceeded")
		return
	}
	target, err := e.deps.Resolver.Resolve(ev.Function, ev.Qualifier)
	if err != nil {
		a.dropDeleted(ctx, err)
		return
	}
	a.rec.FunctionARN = qualifiedARN(target)
	if r := target.ReservedConcurrency; r != nil && *r == 0 {
		// Lambda: with reserved concurrency 0, events go straight to
		// failure handling, without retries.
		a.rec.Error = &ErrorInfo{ErrorType: lambdaerr.TypeTooManyRequests, ErrorMessage: "Rate Exceeded. The function's reserved concurrency is 0."}
		a.fail(ctx, policy, target, ConditionRetriesExhausted, "ZeroConcurrency")
		return
	}

	// Mark the attempt before running it, so a crash mid-run counts it.
	now := time.Now().UTC()
	first := a.rec.StartedAt == nil
	a.rec.Status, a.rec.NextAttemptAt = StatusRunning, nil
	a.rec.Attempts++
	if first {
		a.rec.StartedAt = &now
	}
	if !a.save(ctx) {
		return
	}
	if first && e.deps.Metrics != nil {
		e.deps.Metrics.StartDelay.WithLabelValues(ev.Function).Observe(now.Sub(ev.Received).Seconds())
	}
	stop := a.keepAlive()
	resp, err := e.deps.Invoker.Invoke(ctx, &invoke.Request{
		FunctionName:   ev.Function,
		Qualifier:      ev.Qualifier,
		InvocationType: lambdaapi.InvocationRequestResponse,
		ClientContext:  ev.ClientContext,
		Payload:        ev.Payload,
		TraceID:        ev.TraceID,
		RequestID:      ev.RequestID,
		FreezeDelay:    drainFreezeDelay,
	})
	stop()
	switch {
	case err != nil && lambdaerr.IsType(err, lambdaerr.TypeResourceNotFound):
		a.dropDeleted(ctx, err)
	case err != nil:
		// Throttled or a system error: the function did not run. Lambda
		// keeps such events until their maximum age.
		a.rec.Attempts--
		a.rec.Throttles++
		reason := "ServiceError"
		if lambdaerr.IsType(err, lambdaerr.TypeTooManyRequests) {
			reason = "Throttled"
		}
		a.rec.Error = errorInfoOf(err)
		delay := backoff(throttleBackoffMin, throttleBackoffMax, a.rec.Throttles)
		a.retry(ctx, policy, delay, reason)
	case resp.FunctionError == "":
		a.rec.ExecutedVersion = resp.ExecutedVersion
		a.rec.Result = json.RawMessage(resp.Payload)
		a.rec.Error, a.rec.FunctionError, a.rec.ErrorPayload = nil, "", nil
		a.finish(ctx, StatusSucceeded, ConditionSuccess, a.successDeliveries(policy))
	default:
		a.rec.ExecutedVersion = resp.ExecutedVersion
		a.rec.FunctionError = resp.FunctionError
		a.rec.ErrorPayload = json.RawMessage(resp.Payload)
		a.rec.Error = functionErrorOf(resp.Payload)
		if a.rec.Attempts <= policy.MaxRetries {
			delay := backoff(e.cfg.RetryDelay, 1<<62, a.rec.Attempts)
			a.retry(ctx, policy, delay, "FunctionError")
			return
		}
		a.fail(ctx, policy, target, ConditionRetriesExhausted, "RetriesExhausted")
	}
}

// qualifiedARN is the function ARN a destination record names: qualified,
// with $LATEST when the invocation named no qualifier.
func qualifiedARN(t *registry.Target) string {
	if t.InvokedARN == t.Version.FunctionARN {
		return t.Version.FunctionARN + ":" + registry.VersionLatest
	}
	return t.InvokedARN
}

// backoff is base doubled n-1 times, capped at limit.
func backoff(base, limit time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// retry puts the event back for another attempt after delay, but never
// past its maximum age: then the next delivery fails it as
// EventAgeExceeded, on time.
func (a *attempt) retry(ctx context.Context, policy Policy, delay time.Duration, reason string) {
	if left := policy.MaxEventAge - time.Since(a.ev.Received); delay > left {
		delay = max(left, 0) + 10*time.Millisecond
	}
	next := time.Now().Add(delay).UTC()
	a.rec.Status, a.rec.NextAttemptAt = StatusQueued, &next
	if !a.save(ctx) {
		return
	}
	if m := a.e.deps.Metrics; m != nil {
		m.Retries.WithLabelValues(a.ev.Function, reason).Inc()
	}
	a.log("async retry", "reason", reason, "delay", delay)
	_ = a.msg.NakWithDelay(delay)
}

// fail ends the invocation as failed and sends it to the dead-letter queue
// (of the version that ran) and the OnFailure destination.
func (a *attempt) fail(ctx context.Context, policy Policy, target *registry.Target, condition, reason string) {
	if a.rec.FunctionARN == "" {
		if t, err := a.e.deps.Resolver.Resolve(a.ev.Function, a.ev.Qualifier); err == nil {
			target = t
			a.rec.FunctionARN = qualifiedARN(t)
		}
	}
	var deliveries []Delivery
	if target != nil && target.Version.DeadLetterTarget != "" {
		deliveries = append(deliveries, Delivery{Kind: KindDeadLetter, Target: target.Version.DeadLetterTarget})
	}
	if policy.OnFailure != "" {
		deliveries = append(deliveries, Delivery{Kind: KindOnFailure, Target: policy.OnFailure})
	}
	if len(deliveries) == 0 && a.e.deps.Metrics != nil {
		a.e.deps.Metrics.EventsDropped.WithLabelValues(a.ev.Function, reason).Inc()
	}
	if a.rec.Error == nil && condition == ConditionEventAgeExceeded {
		a.rec.Error = &ErrorInfo{ErrorType: condition, ErrorMessage: "The event was older than the function's maximum event age (" + policy.MaxEventAge.String() + ") before it could run."}
	}
	a.finish(ctx, StatusFailed, condition, deliveries)
}

func (a *attempt) successDeliveries(policy Policy) []Delivery {
	if policy.OnSuccess == "" {
		return nil
	}
	return []Delivery{{Kind: KindOnSuccess, Target: policy.OnSuccess}}
}

// dropDeleted fails an event whose function (or qualifier) is gone:
// Lambda drops such events; the record says why.
func (a *attempt) dropDeleted(ctx context.Context, cause error) {
	a.rec.Error = errorInfoOf(cause)
	if m := a.e.deps.Metrics; m != nil {
		m.EventsDropped.WithLabelValues(a.ev.Function, "FunctionDeleted").Inc()
	}
	a.finish(ctx, StatusFailed, ConditionRetriesExhausted, nil)
}

// finish records the final state, then delivers.
func (a *attempt) finish(ctx context.Context, status Status, condition string, deliveries []Delivery) {
	now := time.Now().UTC()
	a.rec.Status, a.rec.Condition, a.rec.FinishedAt, a.rec.NextAttemptAt = status, condition, &now, nil
	a.rec.Deliveries = deliveries
	if !a.save(ctx) {
		return
	}
	a.finishDeliveries(ctx)
}

// finishDeliveries sends what is not delivered yet; the event is acked
// once everything is, and retried with backoff otherwise.
func (a *attempt) finishDeliveries(ctx context.Context) {
	failed := 0
	for i := range a.rec.Deliveries {
		d := &a.rec.Deliveries[i]
		if d.Delivered {
			continue
		}
		d.Attempts++
		if err := a.e.deliver(ctx, a.rec, a.ev, d); err != nil {
			failed++
			d.LastError = err.Error()
			if m := a.e.deps.Metrics; m != nil {
				m.DeliveryFailures.WithLabelValues(a.ev.Function, d.Kind).Inc()
			}
			a.e.logger.Warn("async delivery failed; will retry", "request_id", a.ev.RequestID, "kind", d.Kind, "target", d.Target, "attempt", d.Attempts, "err", err)
			continue
		}
		d.Delivered, d.LastError = true, ""
		if m := a.e.deps.Metrics; m != nil {
			m.Deliveries.WithLabelValues(a.ev.Function, d.Kind).Inc()
		}
	}
	if len(a.rec.Deliveries) > 0 && !a.save(ctx) {
		return
	}
	if failed > 0 {
		n := 0
		for _, d := range a.rec.Deliveries {
			n = max(n, d.Attempts)
		}
		_ = a.msg.NakWithDelay(backoff(throttleBackoffMin, throttleBackoffMax, n))
		return
	}
	_ = a.msg.Ack()
}

// save writes the record with compare-and-set. On a conflict another
// delivery of the same event moved it: this one backs off and lets the
// redelivery read the new state.
func (a *attempt) save(ctx context.Context) bool {
	rev, err := a.e.records.update(ctx, a.ev.RecordKey, a.rec, a.rev)
	if err != nil {
		if !errors.Is(err, errConflict) {
			a.e.logger.Warn("async record not saved; retrying the event", "request_id", a.ev.RequestID, "err", err)
		}
		_ = a.msg.NakWithDelay(time.Second)
		return false
	}
	a.rev = rev
	return true
}

// keepAlive tells JetStream the event is being worked on while a long
// invocation runs, so it is not handed to another worker.
func (a *attempt) keepAlive() (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(a.e.cfg.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = a.msg.InProgress()
			}
		}
	}()
	return func() { close(done) }
}

// errorInfoOf describes a platform error.
func errorInfoOf(err error) *ErrorInfo {
	if le, ok := lambdaerr.As(err); ok {
		return &ErrorInfo{ErrorType: le.Type, ErrorMessage: le.Message}
	}
	return &ErrorInfo{ErrorType: lambdaerr.TypeService, ErrorMessage: err.Error()}
}

// functionErrorOf reads the runtime's error document.
func functionErrorOf(payload []byte) *ErrorInfo {
	var doc struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	_ = json.Unmarshal(payload, &doc)
	if doc.ErrorType == "" {
		doc.ErrorType = "Unhandled"
	}
	return &ErrorInfo{ErrorType: doc.ErrorType, ErrorMessage: doc.ErrorMessage}
}
