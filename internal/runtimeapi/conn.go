package runtimeapi

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// This file is the fast path's connection layer: the server's own accept
// loop, the per-connection request reader, and the hand-back of requests
// it does not serve itself to net/http. See "Connections" in the package
// doc for the state machine.

// Limits mirrored from net/http's server so that a request behaves the same
// whichever path reads it.
const (
	// readHeaderTimeout bounds reading one request head once its first byte
	// has arrived (http.Server.ReadHeaderTimeout of the fallback server).
	readHeaderTimeout = time.Minute
	// maxHeadBytes is how much of a request head the fast path reads before
	// giving the request to net/http, which then answers 431
	// (http.DefaultMaxHeaderBytes plus net/http's 4 KiB slack).
	maxHeadBytes = http.DefaultMaxHeaderBytes + 4096
	// maxPostHandlerReadBytes is how much of an unread request body is
	// discarded to keep a connection alive (net/http's constant).
	maxPostHandlerReadBytes = 256 << 10
	// rstAvoidanceDelay is how long a connection closed with unread request
	// bytes lingers after CloseWrite, so the reply is not lost to a TCP RST
	// (net/http's value).
	rstAvoidanceDelay = 500 * time.Millisecond
	// maxInlinePayload is the largest event copied behind the /next head to
	// go out in one write; larger ones are written with writev.
	maxInlinePayload = 16 << 10
	// maxKeptBuffer is the largest per-connection buffer kept between
	// requests.
	maxKeptBuffer = 64 << 10
)

// aLongTimeAgo is a deadline in the past: setting it makes blocked I/O on
// a connection return at once.
var aLongTimeAgo = time.Unix(1, 0)

// endOfHead ends a request head.
var endOfHead = []byte("\r\n\r\n")

// errHeadTooLarge stops http.ReadRequest when a request head exceeds
// maxHeadBytes; the request then goes to net/http, which answers 431.
var errHeadTooLarge = errors.New("runtimeapi: request head too large")

// rconn is a runtime connection that the server reads and writes itself.
// Exactly one party owns it at a time and only the owner does I/O on it:
// the goroutine serving it, the Invoke using it for the fast path, or the
// server while it is parked in /next (Server.parkedConn). Ownership passes
// under Server.mu or by starting a goroutine. Server.Close may close any
// rconn at any time.
type rconn struct {
	nc    net.Conn
	br    *bufio.Reader // reads through rec
	rec   recorder
	wbuf  []byte // reused for writes
	fresh bool   // no request read yet: the head timeout runs from accept
	// lastPOST says the previous request was a POST, after which net/http
	// tolerates stray CR/LF before the next request line (RFC 7230 §3.5).
	lastPOST bool

	// Guarded by Server.mu.
	// interrupted is set when a deadline was forced into the past to stop
	// an Invoke blocked on this connection; whoever clears it resets the
	// deadlines.
	interrupted bool
}

func newRconn(nc net.Conn) *rconn {
	pc := &rconn{nc: nc, fresh: true}
	pc.rec.nc = nc
	pc.br = bufio.NewReader(&pc.rec)
	return pc
}

// recorder sits between an rconn's bufio.Reader and the socket. While a
// request head is parsed it keeps a copy of every byte read from the
// socket since the request began, so that a request the fast path does not
// serve can be replayed, byte for byte, to net/http.
type recorder struct {
	nc  net.Conn
	on  bool
	buf []byte
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.nc.Read(p)
	if r.on && n > 0 {
		r.buf = append(r.buf, p[:n]...)
		if len(r.buf) > maxHeadBytes && err == nil {
			err = errHeadTooLarge
		}
	}
	return n, err
}

// readStage says how far readRequest got before failing.
type readStage uint8

const (
	// stageWait: no byte of the request was consumed; the connection is
	// intact and may be served on.
	stageWait readStage = iota
	// stageHead: part of the head was consumed; the recording holds all of
	// it, so the request can still be replayed to net/http.
	stageHead
)

// readRequest waits for the next request on pc and parses its head with
// net/http's parser. The wait has no deadline (the runtime sits in /next
// for as long as the environment is idle or frozen); the head, once
// started, must arrive within readHeaderTimeout, as in net/http. The body
// is left unread.
func (s *Server) readRequest(pc *rconn) (*http.Request, readStage, error) {
	if pc.fresh {
		// net/http times the first head from accept.
		pc.fresh = false
		s.setReadDeadline(pc, time.Now().Add(readHeaderTimeout))
		defer s.setReadDeadline(pc, time.Time{})
	}
	if _, err := pc.br.Peek(1); err != nil {
		return nil, stageWait, err
	}
	if pc.lastPOST {
		pc.lastPOST = false
		peek, err := pc.br.Peek(4)
		if err != nil && len(peek) == 0 {
			return nil, stageWait, err
		}
		_, _ = pc.br.Discard(numLeadingCRorLF(peek))
	}

	// Record from here on. A head that is already buffered whole (the usual
	// case: one segment) needs no deadline and costs no timer.
	buffered, _ := pc.br.Peek(pc.br.Buffered())
	pc.rec.buf = append(pc.rec.buf[:0], buffered...)
	pc.rec.on = true
	timed := bytes.Index(buffered, endOfHead) < 0
	if timed {
		s.setReadDeadline(pc, time.Now().Add(readHeaderTimeout))
	}
	req, err := http.ReadRequest(pc.br)
	pc.rec.on = false
	if timed {
		s.setReadDeadline(pc, time.Time{})
	}
	if err != nil {
		return nil, stageHead, err
	}
	if cap(pc.rec.buf) > maxKeptBuffer {
		pc.rec.buf = nil
	}
	pc.lastPOST = req.Method == http.MethodPost
	return req, stageHead, nil
}

// setReadDeadline sets pc's read deadline unless an interrupt has forced it
// into the past meanwhile.
func (s *Server) setReadDeadline(pc *rconn, t time.Time) {
	s.mu.Lock()
	if !pc.interrupted {
		_ = pc.nc.SetReadDeadline(t)
	}
	s.mu.Unlock()
}

func numLeadingCRorLF(v []byte) (n int) {
	for _, b := range v {
		if b != '\r' && b != '\n' {
			break
		}
		n++
	}
	return n
}

// isCommonNetReadError is net/http's test for a read failure it answers by
// closing the connection without a reply.
func isCommonNetReadError(err error) bool {
	if err == io.EOF {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "read"
}

// reqClass is what the fast path makes of a request.
type reqClass uint8

const (
	reqOther  reqClass = iota // anything else: served by net/http
	reqNext                   // GET /runtime/invocation/next
	reqAnswer                 // POST /runtime/invocation/{id}/response|error
)

// classify decides whether the fast path serves req itself. It takes only
// plain HTTP/1.1 keep-alive requests that net/http would hand to
// serveHTTP unchanged and that need none of its special handling: no
// Expect, no Connection: close, an origin-form path without escapes or
// query, a valid Host, no body on /next, and an answer whose declared
// length and response mode are acceptable (refusals of those are rare and
// left to net/http, which also drains or closes correctly after them).
func (s *Server) classify(r *http.Request) (reqClass, string, answerKind) {
	if r.ProtoMajor != 1 || r.ProtoMinor != 1 || r.Close || r.URL.Path != r.RequestURI ||
		len(r.Header["Expect"]) != 0 || !validHost(r.Host) {
		return reqOther, "", 0
	}
	rest, ok := cutPrefix(r.URL.Path, pathPrefix)
	if !ok {
		return reqOther, "", 0
	}
	if rest == pathNext {
		if r.Method != http.MethodGet || r.ContentLength != 0 || len(r.TransferEncoding) != 0 {
			return reqOther, "", 0
		}
		return reqNext, "", 0
	}
	id, kind, ok := parseAnswerPath(rest)
	if !ok || r.Method != http.MethodPost || r.ContentLength > int64(s.cfg.MaxResponseBytes) {
		return reqOther, "", 0
	}
	if kind == answerResponse {
		if _, ok := parseResponseMode(r.Header[hdrResponseMode]); !ok {
			return reqOther, "", 0
		}
	}
	return reqAnswer, id, kind
}

// validHost is net/http's Host check (httpguts.ValidHostHeader), plus
// non-empty: http.ReadRequest leaves both to the server.
func validHost(h string) bool {
	if h == "" {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!$%&'()*+,-.:;=[]_~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// acceptLoop accepts runtime connections and starts serving each one on
// the fast path. It returns when the listener is closed.
func (s *Server) acceptLoop(ln net.Listener) {
	defer close(s.acceptDone)
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("runtime API accept failed; retrying", "addr", s.addr, "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-s.done:
				return
			}
			continue
		}
		backoff = 0
		pc := newRconn(nc)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = nc.Close()
			return
		}
		s.conns[pc] = struct{}{}
		s.mu.Unlock()
		s.goServe(pc, nil)
	}
}

// goServe starts a goroutine that owns pc from now on: it runs first, if
// not nil and as long as it reports the connection still open, then
// serves pc's requests until pc is parked, handed to net/http or closed.
func (s *Server) goServe(pc *rconn, first func() bool) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.closeConn(pc)
		return
	}
	s.handlers.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.handlers.Done()
		if first != nil && !first() {
			return
		}
		s.serveConn(pc)
	}()
}

// serveConn reads and serves requests on pc until pc is parked, handed to
// net/http or closed.
func (s *Server) serveConn(pc *rconn) {
	for {
		req, stage, err := s.readRequest(pc)
		if err != nil {
			s.readFailed(pc, stage, err)
			return
		}
		if !s.serveRequest(pc, req) {
			return
		}
	}
}

// readFailed disposes of pc after readRequest failed on it outside Invoke,
// the way net/http would: a broken or idle-closed connection is closed
// without a reply; a request net/http would reply to (malformed, too large)
// is replayed to it so the reply is net/http's own.
func (s *Server) readFailed(pc *rconn, stage readStage, err error) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed || stage == stageWait || isCommonNetReadError(err) {
		s.closeConn(pc)
		return
	}
	s.handback(pc)
}

// serveRequest serves one request read by readRequest. It reports whether
// the caller should go on reading pc; false means pc was parked, handed to
// net/http or closed.
func (s *Server) serveRequest(pc *rconn, req *http.Request) bool {
	cls, id, kind := s.classify(req)
	switch cls {
	case reqNext:
		return s.nextOn(pc)
	case reqAnswer:
		s.mu.Lock()
		c := s.claimLocked(id, kind, nil)
		s.mu.Unlock()
		if c == nil {
			break // 400 or 403 without reading the body: net/http's job
		}
		resp, out := s.readAnswer(req, kind, c.sink)
		s.mu.Lock()
		s.completeLocked(c, resp, nil)
		s.mu.Unlock()
		return s.replyAnswer(pc, req, c.id, out)
	}
	s.handback(pc)
	return false
}

// closeConn closes pc and forgets it.
func (s *Server) closeConn(pc *rconn) {
	s.mu.Lock()
	delete(s.conns, pc)
	s.mu.Unlock()
	_ = pc.nc.Close()
}

// lingerClose closes pc the way net/http does after replying with request
// bytes unread: half-close, give the runtime time to read the reply, then
// close.
func (s *Server) lingerClose(pc *rconn) {
	if cw, ok := pc.nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	t := time.NewTimer(rstAvoidanceDelay)
	select {
	case <-t.C:
	case <-s.done:
		t.Stop()
	}
	s.closeConn(pc)
}

// handback gives pc to the fallback net/http server, replaying the current
// request from its first byte. The connection stays with net/http until
// it closes.
func (s *Server) handback(pc *rconn) {
	s.mu.Lock()
	delete(s.conns, pc)
	s.mu.Unlock()
	rc := &replayConn{Conn: pc.nc, pending: pc.rec.buf}
	pc.rec.buf = nil
	if s.fallback == nil { // a server built by newServer in tests
		_ = rc.Close()
		return
	}
	select {
	case s.fallback.conns <- rc:
	case <-s.fallback.done:
		_ = rc.Close()
	}
}

// goHandback hands pc back from a goroutine, for callers that must not
// wait for net/http's accept.
func (s *Server) goHandback(pc *rconn) {
	s.goServe(pc, func() bool { s.handback(pc); return false })
}

// replayConn is a connection handed to net/http: reads return the
// recorded bytes of the request being replayed, then the socket's.
type replayConn struct {
	net.Conn
	pending []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// CloseWrite lets net/http half-close, as it does on a *net.TCPConn.
func (c *replayConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// handoffListener is the fallback http.Server's listener: Accept returns
// the connections handed back by the fast path.
type handoffListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newHandoffListener(addr net.Addr) *handoffListener {
	return &handoffListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.addr }
