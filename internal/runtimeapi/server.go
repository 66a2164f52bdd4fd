package runtimeapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// closeReplyTimeout bounds writing the 500 that Close sends a parked /next.
const closeReplyTimeout = 100 * time.Millisecond

// DefaultMaxResponseBytes is Lambda's limit for a synchronous response
// payload: 6 MiB + 100 bytes ("Lambda quotas", invocation payload).
const DefaultMaxResponseBytes = 6291556

// ErrClosed is returned by [Server.Invoke] and [Server.WaitInit] once
// [Server.Close] has been called.
var ErrClosed = errors.New("runtimeapi: server closed")

// ErrBusy is returned by [Server.Invoke] when another invocation is still
// in flight on the same environment; an environment runs one at a time.
var ErrBusy = errors.New("runtimeapi: another invocation is in flight")

// Config configures one [Server].
type Config struct {
	// FunctionName, FunctionVersion and Handler describe the function the
	// environment runs. They are echoed in Extensions API register
	// responses.
	FunctionName, FunctionVersion, Handler string

	// AccountID is echoed to extensions that register with
	// Lambda-Extension-Accept-Feature: accountId.
	AccountID string

	// ExternalExtensions names the external extensions (file names in
	// /opt/extensions) started with the runtime. Init does not end before
	// each has registered under its name and called
	// /extension/event/next; other names register as internal extensions.
	ExternalExtensions []string

	// MaxResponseBytes is the largest response or error body, in bytes, the
	// runtime may post. 0 means [DefaultMaxResponseBytes]; negative is an
	// error.
	MaxResponseBytes int

	// MaxStreamedResponseBytes is the largest response, in bytes, a runtime
	// may stream to an [Invocation] with a Stream. 0 or negative means
	// [DefaultMaxStreamedResponseBytes].
	MaxStreamedResponseBytes int64

	// Listener, when set, is the socket to serve, owned by the Server from
	// then on (a sandbox's 127.0.0.1:9001 inside its network namespace);
	// nil listens on the host's loopback at a kernel-chosen port.
	Listener net.Listener
}

// Server is the Runtime API endpoint of one execution environment. Create it
// with [New]; it is safe for concurrent use.
type Server struct {
	cfg  Config
	log  *slog.Logger
	addr string // "127.0.0.1:PORT"; "" for a server built by newServer
	// ln is the runtime's listener, read by acceptLoop; nil for a server
	// built by newServer, like srv and fallback.
	ln net.Listener
	// srv is the fallback net/http server. It serves the connections the
	// fast path hands back through fallback.
	srv      *http.Server
	fallback *handoffListener

	// done is closed by Close; it is the server's lifetime signal.
	done       chan struct{}
	acceptDone chan struct{} // closed when acceptLoop returns
	serveDone  chan struct{} // closed when the fallback Serve loop returns
	closeOnce  sync.Once
	closeErr   error
	// handlers counts running net/http handlers and fast-path connection
	// goroutines; Add only under mu while !closed.
	handlers sync.WaitGroup

	// Precomputed, read-only after construction.
	hdrJSON            []string // {"application/json"}
	hdrAcceptedLen     []string // Content-Length of acceptedBody
	tooLargeBody       []byte   // 413 body for the runtime
	tooLargeDoc        []byte   // Function.ResponseSizeTooLarge error document
	hdrTooLargeBodyLen []string

	// hasExt is set once ext is not nil; read without mu.
	hasExt atomic.Bool

	mu sync.Mutex
	// Guarded by mu.
	closed   bool
	initDone bool          // the runtime has called /next at least once
	initErr  *InitError    // set by /init/error; terminal
	initCh   chan struct{} // closed when initDone or initErr is set
	current  *call         // the invocation between Invoke and its answer; nil when idle
	parked   bool          // the runtime is back in /next with nothing outstanding
	parkedCh chan struct{} // closed while parked (or after Close); replaced when unparked
	// The parked /next, at most one of the two: waiter for a net/http
	// handler (buffered 1), parkedConn for a fast-path connection, which
	// the server owns while it is parked. nil when none.
	waiter     chan *call
	parkedConn *rconn
	// conns are the fast-path connections not handed to net/http, so
	// Close can close them.
	conns map[*rconn]struct{}
	// ext is the Extensions API state; nil while no extension is
	// registered or expected (see extensions.go).
	ext *extensions
}

// New creates the Runtime API server for one execution environment and
// starts serving it on cfg.Listener, or else on 127.0.0.1 at a
// kernel-chosen port (see [Server.Addr]). A nil logger discards logs.
func New(cfg Config, logger *slog.Logger) (*Server, error) {
	s, err := newServer(cfg, logger)
	if err != nil {
		return nil, err
	}
	ln := cfg.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("runtimeapi: listen on loopback: %w", err)
		}
	}
	s.addr = ln.Addr().String()
	s.ln = ln
	s.fallback = newHandoffListener(ln.Addr())
	s.srv = &http.Server{
		Handler: http.HandlerFunc(s.serveHTTP),
		// Only header reads are bounded: /next has no timeout by design (the
		// environment is frozen inside it), and bodies are bounded by size.
		ReadHeaderTimeout:            time.Minute,
		DisableGeneralOptionsHandler: true,
		ErrorLog:                     slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		// Extensions only: an extension that exits after SHUTDOWN is
		// seen by its connection closing (extensions.go).
		ConnContext: connContext,
		ConnState:   s.connState,
	}
	s.serveDone = make(chan struct{})
	s.acceptDone = make(chan struct{})
	go s.serve(s.fallback)
	go s.acceptLoop(ln)
	s.log.Debug("runtime API listening", "addr", s.addr)
	return s, nil
}

// newServer builds a Server that does not listen; New adds the listener.
// Tests and the fuzz target drive serveHTTP directly.
func newServer(cfg Config, logger *slog.Logger) (*Server, error) {
	if cfg.MaxResponseBytes < 0 {
		return nil, fmt.Errorf("runtimeapi: MaxResponseBytes %d is negative", cfg.MaxResponseBytes)
	}
	if cfg.MaxResponseBytes == 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	limit := strconv.Itoa(cfg.MaxResponseBytes)
	s := &Server{
		cfg:            cfg,
		log:            logger.With("component", "runtimeapi"),
		done:           make(chan struct{}),
		hdrJSON:        []string{contentTypeJSON},
		hdrAcceptedLen: []string{strconv.Itoa(len(acceptedBody))},
		tooLargeBody: errorBody(typeRequestEntityTooLarge,
			"Exceeded maximum allowed payload size ("+limit+" bytes)."),
		tooLargeDoc: errorBody(errTypeResponseSizeTooLarge,
			"Response payload size exceeded maximum allowed payload size ("+limit+" bytes)."),
		initCh:   make(chan struct{}),
		parkedCh: make(chan struct{}),
		conns:    make(map[*rconn]struct{}),
	}
	s.hdrTooLargeBodyLen = []string{strconv.Itoa(len(s.tooLargeBody))}
	if len(cfg.ExternalExtensions) > 0 {
		s.ext = newExtensions(cfg.ExternalExtensions)
		s.hasExt.Store(true)
	}
	return s, nil
}

// serve runs the fallback net/http server on the hand-back listener.
func (s *Server) serve(ln net.Listener) {
	defer close(s.serveDone)
	if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.log.Error("runtime API server stopped", "addr", s.addr, "err", err)
	}
}

// Addr returns the "127.0.0.1:PORT" address to put in the runtime's
// AWS_LAMBDA_RUNTIME_API.
func (s *Server) Addr() string { return s.addr }

// Config returns the server's configuration with defaults applied.
func (s *Server) Config() Config { return s.cfg }

// WaitInit blocks until the runtime finishes its init phase. It returns nil
// once the runtime has called /runtime/invocation/next for the first time,
// an [*InitError] if the runtime posted /runtime/init/error, [ErrClosed]
// after [Server.Close], or the cause of ctx ending.
func (s *Server) WaitInit(ctx context.Context) error {
	select {
	case <-s.initCh:
	case <-s.done:
		return ErrClosed
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.initErr != nil {
		return s.initErr
	}
	return nil
}

// Parked returns a channel that is closed once the runtime is back in
// /runtime/invocation/next with no invocation outstanding, which is when the
// environment may be frozen. Call it after [Server.Invoke] returns: the
// channel then belongs to that invocation and is closed when the runtime
// asks for the next one (it may already be closed). A runtime whose parked
// /next connection drops still counts as parked. The channel is also closed
// by [Server.Close], so a receive never outlives the server.
//
// The channel is the primitive because it costs one allocation per
// invocation and nothing per wait, and composes with the caller's own timers
// in a select; [Server.WaitParked] wraps it for callers holding a context.
func (s *Server) Parked() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.parkedCh
}

// WaitParked blocks until the runtime is parked as described at
// [Server.Parked]. It returns nil once parked, [ErrClosed] if the server is
// closed, or the cause of ctx ending.
func (s *Server) WaitParked(ctx context.Context) error {
	select {
	case <-s.Parked():
		select {
		case <-s.done:
			return ErrClosed
		default:
			return nil
		}
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// parkLocked marks the runtime as parked and wakes Parked waiters, unless
// an extension is still busy (settleExtLocked parks then).
func (s *Server) parkLocked() {
	if xs := s.ext; xs != nil && !s.closed {
		xs.rtParked = true
		if !xs.idleClosed {
			return
		}
	}
	if !s.parked {
		s.parked = true
		close(s.parkedCh)
	}
}

// unparkLocked marks the runtime as busy with an invocation.
func (s *Server) unparkLocked() {
	if s.ext != nil {
		s.ext.rtParked = false
	}
	if s.parked {
		s.parked = false
		s.parkedCh = make(chan struct{})
	}
}

// Close stops the server: it closes the listener and every connection,
// fails a pending [Server.Invoke] and [Server.WaitInit] with [ErrClosed],
// closes the [Server.Parked] channel, and waits until no handler is running.
// It is idempotent and safe to call concurrently; every call returns the
// first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.done)
		s.parkLocked()
		parked := s.parkedConn
		s.parkedConn = nil
		conns := make([]*rconn, 0, len(s.conns))
		for pc := range s.conns {
			if pc != parked {
				conns = append(conns, pc)
			}
		}
		s.mu.Unlock()
		if s.ln != nil {
			if err := s.ln.Close(); err != nil {
				s.closeErr = fmt.Errorf("runtimeapi: close listener %s: %w", s.addr, err)
			}
			<-s.acceptDone
		}
		if parked != nil {
			// What a parked net/http /next answers on Close.
			_ = parked.nc.SetWriteDeadline(time.Now().Add(closeReplyTimeout))
			_ = s.writeReply(parked, http.StatusInternalServerError, internalErrorBody, true)
			s.closeConn(parked)
		}
		for _, pc := range conns {
			_ = pc.nc.Close() // its owner notices and returns
		}
		if s.srv != nil {
			if err := s.srv.Close(); err != nil && s.closeErr == nil {
				s.closeErr = fmt.Errorf("runtimeapi: close server %s: %w", s.addr, err)
			}
			_ = s.fallback.Close() // in case Serve never ran
			<-s.serveDone
		}
		s.handlers.Wait()
	})
	return s.closeErr
}

// serveHTTP routes a Runtime API request. Paths are matched by hand rather
// than with http.ServeMux patterns: there are four of them, and this keeps
// the hot path free of pattern matching and the 404/405 bodies in the
// Runtime API's JSON error shape.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		writeError(w, http.StatusInternalServerError, typeInternalServerError, msgInternalServerError)
		return
	}
	s.handlers.Add(1)
	s.mu.Unlock()
	defer s.handlers.Done()

	rest, ok := cutPrefix(r.URL.Path, pathPrefix)
	if !ok {
		if rest, ok := cutPrefix(r.URL.Path, extPathPrefix); ok {
			s.serveExtension(w, r, rest)
			return
		}
		writeError(w, http.StatusNotFound, typeNotFound, msgNotFound)
		return
	}
	switch rest {
	case pathNext:
		if r.Method != http.MethodGet {
			methodNotAllowed(w, http.MethodGet)
			return
		}
		s.handleNext(w, r)
		return
	case pathInitError:
		if r.Method != http.MethodPost {
			methodNotAllowed(w, http.MethodPost)
			return
		}
		s.handleInitError(w, r)
		return
	}
	if id, kind, ok := parseAnswerPath(rest); ok {
		if r.Method != http.MethodPost {
			methodNotAllowed(w, http.MethodPost)
			return
		}
		s.handleAnswer(w, r, id, kind)
		return
	}
	writeError(w, http.StatusNotFound, typeNotFound, msgNotFound)
}

// Paths relative to pathPrefix.
const (
	pathPrefix     = "/2018-06-01/runtime/"
	pathNext       = "invocation/next"
	pathInitError  = "init/error"
	pathInvocation = "invocation/"
)

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return s, false
}

// parseAnswerPath splits "invocation/{id}/response" and
// "invocation/{id}/error". The id is one non-empty path segment.
func parseAnswerPath(rest string) (id string, kind answerKind, ok bool) {
	rest, ok = cutPrefix(rest, pathInvocation)
	if !ok {
		return "", 0, false
	}
	slash := -1
	for i := 0; i < len(rest); i++ {
		if rest[i] == '/' {
			slash = i
			break
		}
	}
	if slash <= 0 {
		return "", 0, false
	}
	switch rest[slash+1:] {
	case "response":
		return rest[:slash], answerResponse, true
	case "error":
		return rest[:slash], answerError, true
	}
	return "", 0, false
}

// stateNameLocked names the runtime's state the way the RIE does in its
// InvalidStateTransition messages.
func (s *Server) stateNameLocked() string {
	switch c := s.current; {
	case s.initErr != nil:
		return stateInitError
	case !s.initDone:
		return stateStarted
	case c != nil && c.state == callAnswering:
		return c.kind.stateName()
	case c != nil && c.answerableLocked():
		return stateRunning
	case s.parked:
		return stateReady
	default:
		return stateResponseSent
	}
}

// Runtime state names, as in the RIE's core/states.go.
const (
	stateStarted       = "Started"
	stateInitError     = "InitError"
	stateReady         = "Ready"
	stateRunning       = "Running"
	stateResponse      = "InvocationResponse"
	stateErrorResponse = "InvocationErrorResponse"
	stateResponseSent  = "RuntimeResponseSentState"
)
