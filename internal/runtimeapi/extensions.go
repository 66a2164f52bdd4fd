package runtimeapi

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// This file serves the Extensions API ("Lambda Extensions API",
// runtimes-extensions-api.html) on the same listener as the Runtime API,
// under /2020-01-01/extension/. Its requests never take the fast path:
// classify leaves them to net/http, and an environment without extensions
// pays one nil check per invocation for all of this.
//
// An extension's life, as on Lambda:
//
//	register (init phase only) ──/event/next──► ready (parked in next)
//	ready ──INVOKE or SHUTDOWN event──► busy ──/event/next──► ready …
//	any ──/init/error or /exit/error──► failed (terminal)
//
// Init ends ([Server.WaitInit] returns) once the runtime has called
// /runtime/invocation/next, every external extension named in
// [Config.ExternalExtensions] has registered, and every registered
// extension has called /event/next. An invocation is over for the
// environment ([Server.Parked]) once the runtime is back in /next and no
// extension is busy, so an extension can finish work after the caller got
// its answer and before the environment is frozen or reused.

// Extensions API paths, relative to extPathPrefix.
const (
	extPathPrefix    = "/2020-01-01/extension/"
	extPathRegister  = "register"
	extPathNext      = "event/next"
	extPathInitError = "init/error"
	extPathExitError = "exit/error"
)

// Extensions API header names (canonical form).
const (
	hdrExtName          = "Lambda-Extension-Name"
	hdrExtID            = "Lambda-Extension-Identifier"
	hdrExtAcceptFeature = "Lambda-Extension-Accept-Feature"
	hdrExtEventID       = "Lambda-Extension-Event-Identifier"
	hdrExtErrorType     = "Lambda-Extension-Function-Error-Type"
)

// Event types an extension may subscribe to.
const (
	EventInvoke   = "INVOKE"
	EventShutdown = "SHUTDOWN"
)

// Shutdown reasons of a SHUTDOWN event, in the RIE's spelling (the docs
// write them in upper case; clients compare case-insensitively).
const (
	ShutdownSpindown = "spindown"
	ShutdownTimeout  = "timeout"
	ShutdownFailure  = "failure"
)

// Function error types of extension failures (the RIE's fatalerror names).
const (
	ErrTypeExtensionInitError = "Extension.InitError"
	ErrTypeExtensionExitError = "Extension.ExitError"
	ErrTypeExtensionCrash     = "Extension.Crash"
)

// maxExtensions is Lambda's limit on registered extensions.
const maxExtensions = 10

// Error types of Extensions API responses (the RIE's rapi/handler names).
const (
	typeExtMissingID          = "Extension.MissingExtensionIdentifier"
	typeExtUnknownID          = "Extension.UnknownExtensionIdentifier"
	typeExtInvalidName        = "Extension.InvalidExtensionName"
	typeExtRegistrationClosed = "Extension.RegistrationClosed"
	typeExtInvalidState       = "Extension.InvalidExtensionState"
	typeExtMissingHeader      = "Extension.MissingHeader"
	typeExtTooMany            = "Extension.TooManyExtensions"
	typeExtInvalidEventType   = "Extension.InvalidEventType"
	typeInvalidRequestFormat  = "InvalidRequestFormat"
)

// extension is one registered extension.
type extension struct {
	id, name string
	external bool
	invoke   bool // subscribed to INVOKE
	shutdown bool // subscribed to SHUTDOWN

	// Guarded by Server.mu.
	sawNext  bool
	inflight bool        // handed an event and has not called next since
	queue    []*extEvent // events not yet handed over
	// waiter is the parked /event/next (buffered 1), nil when none;
	// waiterConn is its connection.
	waiter     chan *extEvent
	waiterConn net.Conn
	// shutdownConn is the connection SHUTDOWN was written to: when it
	// closes, the extension has exited, which ends its shutdown as
	// calling next would (Lambda waits for "next or exit").
	shutdownConn net.Conn
	failed       bool // posted /init/error or /exit/error, or exited after SHUTDOWN
}

// extEvent is one event for an extension.
type extEvent struct {
	body     []byte
	shutdown bool
}

// busy reports whether x has work it has not finished.
func (x *extension) busy() bool { return x.inflight || len(x.queue) > 0 }

// extensions is the Extensions API state of one server; Server.ext is nil
// while no extension is expected or registered. Guarded by Server.mu.
type extensions struct {
	list     []*extension
	expected map[string]bool // external names not registered yet
	// initClosed is set when initCh was closed through the extensions'
	// path: init is over and registration closed.
	initClosed bool
	// rtParked says the runtime is back in /next; Server.parked also
	// needs every extension idle.
	rtParked bool
	// idle is closed while no extension is busy; replaced when one gets
	// an event.
	idle       chan struct{}
	idleClosed bool
	// failure is the first extension failure after init
	// (Extension.ExitError); the caller resets the environment.
	failure string
}

func newExtensions(external []string) *extensions {
	xs := &extensions{expected: make(map[string]bool), idle: make(chan struct{}), idleClosed: true}
	close(xs.idle)
	for _, n := range external {
		xs.expected[n] = true
	}
	return xs
}

// readyLocked reports whether the extensions' part of init is done.
func (xs *extensions) readyLocked() bool {
	if len(xs.expected) > 0 {
		return false
	}
	for _, x := range xs.list {
		if !x.sawNext && !x.failed {
			return false
		}
	}
	return true
}

func (xs *extensions) byID(id string) *extension {
	for _, x := range xs.list {
		if x.id == id {
			return x
		}
	}
	return nil
}

// runtimeInitDoneLocked records the runtime's first /next and closes initCh
// if the extensions are ready too.
func (s *Server) runtimeInitDoneLocked() {
	s.initDone = true
	if s.ext == nil {
		close(s.initCh)
		return
	}
	s.maybeEndInitLocked()
}

// maybeEndInitLocked closes initCh once the runtime and every extension
// have called next.
func (s *Server) maybeEndInitLocked() {
	xs := s.ext
	if s.initDone && !xs.initClosed && s.initErr == nil && xs.readyLocked() {
		xs.initClosed = true
		close(s.initCh)
	}
}

// registrationOpenLocked reports whether the init phase is still on.
func (s *Server) registrationOpenLocked() bool {
	if s.initErr != nil || s.closed {
		return false
	}
	if s.ext == nil {
		return !s.initDone
	}
	return !s.ext.initClosed
}

// settleExtLocked recomputes whether extensions are idle and, with the
// runtime parked, whether the environment is parked.
func (s *Server) settleExtLocked() {
	xs := s.ext
	busy := false
	for _, x := range xs.list {
		if x.busy() && !x.failed {
			busy = true
			break
		}
	}
	switch {
	case busy && xs.idleClosed:
		xs.idle = make(chan struct{})
		xs.idleClosed = false
		if s.parked && !s.closed {
			s.parked = false
			s.parkedCh = make(chan struct{})
		}
	case !busy && !xs.idleClosed:
		close(xs.idle)
		xs.idleClosed = true
		if xs.rtParked && !s.parked {
			s.parked = true
			close(s.parkedCh)
		}
	}
}

// HasExtensions reports whether any extension is registered or expected.
// An environment without extensions skips the extension phases entirely.
func (s *Server) HasExtensions() bool {
	return s.hasExt.Load()
}

// ExtensionFailure returns the error type of an extension failure reported
// after init (an extension that posted /extension/exit/error), or "". The
// caller resets such an environment once its invocation is over.
func (s *Server) ExtensionFailure() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ext == nil {
		return ""
	}
	return s.ext.failure
}

// ShutdownSubscribers reports how many registered extensions subscribed to
// SHUTDOWN.
func (s *Server) ShutdownSubscribers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	if s.ext != nil {
		for _, x := range s.ext.list {
			if x.shutdown && !x.failed {
				n++
			}
		}
	}
	return n
}

// Shutdown sends a SHUTDOWN event with reason (ShutdownSpindown,
// ShutdownTimeout, ShutdownFailure) and deadline to every extension
// subscribed to it, and waits until each of them has called
// /extension/event/next again, the server closes, or ctx ends (whose
// cause it then returns). It returns nil at once when no extension
// subscribed.
func (s *Server) Shutdown(ctx context.Context, reason string, deadline time.Time) error {
	body, _ := json.Marshal(struct {
		EventType      string `json:"eventType"`
		ShutdownReason string `json:"shutdownReason"`
		DeadlineMs     int64  `json:"deadlineMs"`
	}{EventShutdown, reason, deadline.UnixMilli()})
	s.mu.Lock()
	if s.closed || s.ext == nil {
		s.mu.Unlock()
		return nil
	}
	for _, x := range s.ext.list {
		if x.shutdown && !x.failed {
			x.queue = x.queue[:0] // an unanswered INVOKE is moot now
			s.pushExtEventLocked(x, &extEvent{body: body, shutdown: true})
		}
	}
	s.settleExtLocked()
	idle := s.ext.idle
	s.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-s.done:
		return ErrClosed
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// dispatchInvokeLocked hands c's INVOKE event to every extension
// subscribed to it. Called by enqueue, only when s.ext is not nil.
func (s *Server) dispatchInvokeLocked(c *call) {
	var ev *extEvent
	for _, x := range s.ext.list {
		if !x.invoke || x.failed {
			continue
		}
		if ev == nil {
			ev = &extEvent{body: invokeEventBody(c)}
		}
		s.pushExtEventLocked(x, ev)
	}
	if ev != nil {
		s.settleExtLocked()
	}
}

// invokeEventBody renders the INVOKE event of c.
func invokeEventBody(c *call) []byte {
	type tracing struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	}
	deadline, _ := strconv.ParseInt(c.hdr[hdrIdxDeadline], 10, 64)
	b, _ := json.Marshal(struct {
		EventType          string  `json:"eventType"`
		DeadlineMs         int64   `json:"deadlineMs"`
		RequestID          string  `json:"requestId"`
		InvokedFunctionARN string  `json:"invokedFunctionArn"`
		Tracing            tracing `json:"tracing"`
	}{EventInvoke, deadline, c.id, c.hdr[hdrIdxARN], tracing{"X-Amzn-Trace-Id", c.hdr[hdrIdxTrace]}})
	return b
}

// pushExtEventLocked queues ev for x, or hands it to x's parked next.
func (s *Server) pushExtEventLocked(x *extension, ev *extEvent) {
	if w := x.waiter; w != nil && len(x.queue) == 0 {
		x.waiter = nil
		x.inflight = true
		if ev.shutdown {
			x.shutdownConn = x.waiterConn
		}
		x.waiterConn = nil
		w <- ev // buffered 1, sent to once per registration
		return
	}
	x.queue = append(x.queue, ev)
}

// serveExtension routes a request under extPathPrefix.
func (s *Server) serveExtension(w http.ResponseWriter, r *http.Request, rest string) {
	var h func(http.ResponseWriter, *http.Request)
	method := http.MethodPost
	switch rest {
	case extPathRegister:
		h = s.handleExtRegister
	case extPathNext:
		h, method = s.handleExtNext, http.MethodGet
	case extPathInitError:
		h = func(w http.ResponseWriter, r *http.Request) { s.handleExtError(w, r, true) }
	case extPathExitError:
		h = func(w http.ResponseWriter, r *http.Request) { s.handleExtError(w, r, false) }
	default:
		writeError(w, http.StatusNotFound, typeNotFound, msgNotFound)
		return
	}
	if r.Method != method {
		methodNotAllowed(w, method)
		return
	}
	h(w, r)
}

// registerResponse is the body of a successful registration.
type registerResponse struct {
	FunctionName    string `json:"functionName"`
	FunctionVersion string `json:"functionVersion"`
	Handler         string `json:"handler"`
	AccountID       string `json:"accountId,omitempty"`
}

// handleExtRegister serves POST /extension/register.
func (s *Server) handleExtRegister(w http.ResponseWriter, r *http.Request) {
	name := r.Header.Get(hdrExtName)
	if name == "" {
		writeError(w, http.StatusBadRequest, typeExtInvalidName, "Empty extension name")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		writeError(w, http.StatusBadRequest, typeInvalidRequestFormat, "Could not read the request body")
		return
	}
	var req struct {
		Events            []string `json:"events"`
		ConfigurationKeys []string `json:"configurationKeys"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, typeInvalidRequestFormat, "Invalid request body: "+err.Error())
		return
	}
	if len(req.ConfigurationKeys) != 0 {
		writeError(w, http.StatusBadRequest, typeInvalidRequestFormat, "configurationKeys are deprecated; use environment variables instead")
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	external := false
	if s.ext != nil {
		external = s.ext.expected[name]
	}
	x := &extension{id: uuid.NewString(), name: name, external: external}
	for _, ev := range req.Events {
		switch ev {
		case EventInvoke:
			x.invoke = true
		case EventShutdown:
			if !external {
				writeError(w, http.StatusBadRequest, typeExtInvalidEventType, ev+": internal extensions cannot subscribe to SHUTDOWN")
				return
			}
			x.shutdown = true
		default:
			writeError(w, http.StatusBadRequest, typeExtInvalidEventType, ev+": unknown event type")
			return
		}
	}
	if !s.registrationOpenLocked() {
		writeError(w, http.StatusForbidden, typeExtRegistrationClosed, "Extension registration closed already")
		return
	}
	if s.ext == nil {
		s.ext = newExtensions(nil)
		s.hasExt.Store(true)
	}
	xs := s.ext
	if slices.ContainsFunc(xs.list, func(o *extension) bool { return o.name == name }) {
		writeError(w, http.StatusForbidden, typeExtInvalidState, "Extension with this name already registered")
		return
	}
	if len(xs.list) >= maxExtensions {
		writeError(w, http.StatusForbidden, typeExtTooMany, "Extension limit ("+strconv.Itoa(maxExtensions)+") reached")
		return
	}
	delete(xs.expected, name)
	xs.list = append(xs.list, x)
	resp := registerResponse{FunctionName: s.cfg.FunctionName, FunctionVersion: s.cfg.FunctionVersion, Handler: s.cfg.Handler}
	for _, f := range r.Header.Values(hdrExtAcceptFeature) {
		if f == "accountId" {
			resp.AccountID = s.cfg.AccountID
		}
	}
	out, _ := json.Marshal(resp)
	w.Header()[hdrExtID] = []string{x.id}
	s.log.Debug("extension registered", "extension", name, "external", external, "invoke", x.invoke, "shutdown", x.shutdown)
	writeJSON(w, http.StatusOK, out)
}

// extensionFor finds the extension named by the request's identifier
// header, writing the 403 and returning nil when there is none. Called
// with s.mu held.
func (s *Server) extensionForLocked(w http.ResponseWriter, r *http.Request) *extension {
	id := r.Header.Get(hdrExtID)
	if id == "" {
		writeError(w, http.StatusForbidden, typeExtMissingID, "Missing Lambda-Extension-Identifier header")
		return nil
	}
	var x *extension
	if s.ext != nil {
		x = s.ext.byID(id)
	}
	if x == nil {
		writeError(w, http.StatusForbidden, typeExtUnknownID, "Unknown extension "+id)
		return nil
	}
	return x
}

// handleExtNext serves GET /extension/event/next: it ends the extension's
// work on its previous event (or its init) and waits for the next event.
func (s *Server) handleExtNext(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	x := s.extensionForLocked(w, r)
	if x == nil {
		s.mu.Unlock()
		return
	}
	if x.failed {
		s.mu.Unlock()
		writeError(w, http.StatusForbidden, typeExtInvalidState, "State transition to Ready failed for extension "+x.id+": it reported an error")
		return
	}
	x.inflight = false
	if !x.sawNext {
		x.sawNext = true
		s.maybeEndInitLocked()
	}
	conn, _ := r.Context().Value(connKey{}).(net.Conn)
	for {
		if len(x.queue) > 0 {
			ev := x.queue[0]
			x.queue = x.queue[1:]
			x.inflight = true
			if ev.shutdown {
				x.shutdownConn = conn
			}
			s.mu.Unlock()
			writeExtEvent(w, ev.body)
			return
		}
		s.settleExtLocked()
		ch := make(chan *extEvent, 1)
		if old := x.waiter; old != nil {
			old <- nil // superseded by this request
		}
		x.waiter, x.waiterConn = ch, conn
		s.mu.Unlock()
		select {
		case ev := <-ch:
			if ev == nil {
				writeError(w, http.StatusForbidden, typeExtInvalidState, msgSupersededExt)
				return
			}
			writeExtEvent(w, ev.body)
			return
		case <-r.Context().Done():
			s.mu.Lock()
			if x.waiter == ch {
				x.waiter, x.waiterConn = nil, nil
			} else if ev := <-ch; ev != nil {
				// Handed an event after the extension left: keep it for
				// its next call.
				x.inflight = false
				x.queue = append([]*extEvent{ev}, x.queue...)
			}
			s.mu.Unlock()
			return
		case <-s.done:
			writeError(w, http.StatusInternalServerError, typeInternalServerError, msgInternalServerError)
			return
		}
	}
}

// connKey is the request context key of the request's connection.
type connKey struct{}

// connContext is the fallback server's ConnContext: it makes a request's
// connection known to the extension handlers.
func connContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// connState is the fallback server's ConnState hook: an extension whose
// SHUTDOWN connection closes has exited and is done shutting down.
func (s *Server) connState(c net.Conn, st http.ConnState) {
	if st != http.StateClosed && st != http.StateHijacked {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ext == nil {
		return
	}
	for _, x := range s.ext.list {
		if x.shutdownConn == c {
			x.shutdownConn = nil
			x.failed, x.inflight, x.queue = true, false, nil
			s.settleExtLocked()
		}
	}
}

const msgSupersededExt = "A newer /extension/event/next request replaced this one"

// writeExtEvent writes an event as the 200 answer to /extension/event/next.
func writeExtEvent(w http.ResponseWriter, ev []byte) {
	w.Header()[hdrExtEventID] = []string{uuid.NewString()}
	writeJSON(w, http.StatusOK, ev)
}

// handleExtError serves POST /extension/init/error (initPhase) and
// /extension/exit/error. Either ends the extension; during init it fails
// the init with Extension.InitError or Extension.ExitError, afterwards an
// exit error marks the environment for reset.
func (s *Server) handleExtError(w http.ResponseWriter, r *http.Request, initPhase bool) {
	s.mu.Lock()
	x := s.extensionForLocked(w, r)
	if x == nil {
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	reported := r.Header.Get(hdrExtErrorType)
	if reported == "" {
		writeError(w, http.StatusBadRequest, typeExtMissingHeader, hdrExtErrorType+" not found")
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, int64(s.cfg.MaxResponseBytes)))

	errType := ErrTypeExtensionExitError
	if initPhase {
		errType = ErrTypeExtensionInitError
	}
	s.mu.Lock()
	inInit := s.registrationOpenLocked()
	if x.failed || (initPhase && !inInit) {
		s.mu.Unlock()
		writeError(w, http.StatusForbidden, typeExtInvalidState, "State transition failed for extension "+x.id+": not allowed in this state")
		return
	}
	x.failed = true
	x.queue, x.inflight = nil, false
	if old := x.waiter; old != nil {
		x.waiter, x.waiterConn = nil, nil
		old <- nil
	}
	if inInit {
		ie := &InitError{ErrorType: errType, Payload: errorBody(errType, "Extension "+x.name+" failed: "+reported)}
		s.initErr = ie
		if !s.ext.initClosed {
			s.ext.initClosed = true
			close(s.initCh)
		}
		if c := s.current; c != nil {
			s.completeLocked(c, nil, ie)
		}
	} else if s.ext.failure == "" {
		s.ext.failure = errType
	}
	s.settleExtLocked()
	s.mu.Unlock()
	s.log.Debug("extension failed", "extension", x.name, "error_type", errType, "reported", reported)
	s.writeAccepted(w)
}
