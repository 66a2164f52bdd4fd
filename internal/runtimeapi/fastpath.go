package runtimeapi

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// This file serves the Runtime API on the server's own connections (the
// fast path): Invoke doing the I/O of a warm invoke itself, and the
// connection goroutine serving /next and answers. The replies are the
// bytes net/http would write for the same handler output, Date header
// included; requests the fast path does not take go to net/http (see
// classify).

// invokeOn is Invoke's fast path on pc, the connection of the runtime
// parked in /next, which enqueue handed over with c delivered to it: write
// the event, read the runtime's next request on the same connection, and if
// it is c's answer, read it, complete c and return the response, leaving
// the connection to a new goroutine that writes the reply (202) and waits
// for the runtime's next /next. It returns nil when the answer must be
// awaited the ordinary way (Server.wait): the connection broke, ctx ended,
// the server closed, or the runtime did something else, and pc has been
// closed or handed on to be served as usual.
//
// Until the answer is claimed, ctx ending, the server closing and c being
// answered on another connection interrupt the blocked I/O through
// Server.interruptLocked; the state is then exactly as if a net/http
// handler had written the event.
func (s *Server) invokeOn(ctx context.Context, c *call, pc *rconn) *Response {
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.interruptLocked(c)
		s.mu.Unlock()
	})
	defer stop()

	if err := s.writeEvent(pc, c); err != nil {
		s.mu.Lock()
		c.reader = nil
		s.requeueLocked(c)
		s.mu.Unlock()
		s.log.Debug("event delivery failed; requeued", "request_id", c.id, "err", err)
		s.closeConn(pc)
		return nil
	}

	req, stage, err := s.readRequest(pc)
	var (
		cls  reqClass
		id   string
		kind answerKind
	)
	if err == nil {
		cls, id, kind = s.classify(req)
	}
	s.mu.Lock()
	var claimed *call
	if err == nil && cls == reqAnswer && id == c.id && !pc.interrupted {
		claimed = s.claimLocked(id, kind, c)
	}
	if claimed == nil {
		intr := s.releaseLocked(c, pc)
		closed := s.closed
		s.mu.Unlock()
		switch {
		case closed:
			s.closeConn(pc)
		case err == nil:
			// Another request (a repeated /next, a refused or foreign
			// answer …), or an answer that arrived as ctx ended: serve it
			// as any other.
			s.goServe(pc, func() bool { return s.serveRequest(pc, req) })
		case stage == stageWait && intr:
			s.goServe(pc, nil) // nothing was read: the connection is intact
		case stage == stageWait || (!intr && isCommonNetReadError(err)):
			s.closeConn(pc)
		default:
			s.goHandback(pc) // the recording still holds the whole head
		}
		return nil
	}
	s.mu.Unlock()

	resp, out := s.readAnswer(req, kind, c.sink)

	s.mu.Lock()
	intr := s.releaseLocked(c, pc)
	if out == outcomeTruncated && (intr || s.closed) {
		// ctx ended or the server closed while the body was being read:
		// the connection is mid-request and unusable, and wait reports
		// why Invoke gave up.
		s.mu.Unlock()
		s.closeConn(pc)
		return nil
	}
	s.completeLocked(c, resp, nil)
	s.mu.Unlock()

	// The reply goes out from the connection's next goroutine, as the
	// /response handler used to write it after waking Invoke: written here,
	// the runtime it wakes tends to take this CPU from Invoke's caller
	// (measured: +25 µs p50 on a 2-vCPU VM).
	s.goServe(pc, func() bool { return s.replyAnswer(pc, req, c.id, out) })
	return resp
}

// releaseLocked ends Invoke's use of pc for c: interrupts stop, and
// deadlines an interrupt set are cleared. It reports whether an interrupt
// had fired.
func (s *Server) releaseLocked(c *call, pc *rconn) bool {
	c.reader = nil
	intr := pc.interrupted
	if intr {
		pc.interrupted = false
		_ = pc.nc.SetDeadline(time.Time{})
	}
	return intr
}

// interruptLocked makes I/O that Invoke is blocked in on c's connection
// return at once: ctx ended, or c was answered on another connection.
func (s *Server) interruptLocked(c *call) {
	if pc := c.reader; pc != nil && !pc.interrupted {
		pc.interrupted = true
		_ = pc.nc.SetDeadline(aLongTimeAgo)
	}
}

// claimLocked makes the outstanding invocation answering if id may answer
// it now (and it is want, if want is not nil); otherwise it returns nil and
// the answer is for net/http to refuse.
func (s *Server) claimLocked(id string, kind answerKind, want *call) *call {
	c := s.current
	if s.closed || c == nil || !c.answerableLocked() || c.id != id || (want != nil && c != want) {
		return nil
	}
	c.state = callAnswering
	c.kind = kind
	return c
}

// nextOn serves GET /next on pc, like handleNext. It reports whether pc
// stays with the caller (an event or a refusal was written); false means pc
// was parked in the server or closed.
func (s *Server) nextOn(pc *rconn) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.closeConn(pc)
		return false
	}
	c, refuseFrom := s.nextLocked()
	switch {
	case refuseFrom != "":
		s.mu.Unlock()
		return s.replyOrClose(pc, http.StatusForbidden, stateTransitionBody(refuseFrom, stateReady))
	case c != nil:
		s.mu.Unlock()
		return s.deliverOn(pc, c)
	}
	// Park the connection itself: the next Invoke takes it.
	old := s.parkNextLocked(pc, nil)
	s.mu.Unlock()
	s.supersede(old)
	return false
}

// supersedeLocked unregisters the parked /next, if any, because a newer
// one arrived. A parked net/http handler is told at once; a parked
// connection is returned for supersede, outside the lock.
func (s *Server) supersedeLocked() *rconn {
	if old := s.waiter; old != nil {
		s.waiter = nil
		old <- nil
	}
	old := s.parkedConn
	s.parkedConn = nil
	return old
}

// supersede answers an older parked /next connection with 403, as a
// superseded net/http handler does, and goes on serving it.
func (s *Server) supersede(old *rconn) {
	if old == nil {
		return
	}
	if err := s.writeReply(old, http.StatusForbidden, supersededBody, false); err != nil {
		s.closeConn(old)
		return
	}
	s.goServe(old, nil)
}

// deliverOn writes c as the /next response on pc; a failed write puts c
// back in the queue, as writeNext does.
func (s *Server) deliverOn(pc *rconn, c *call) bool {
	if err := s.writeEvent(pc, c); err != nil {
		s.mu.Lock()
		s.requeueLocked(c)
		s.mu.Unlock()
		s.log.Debug("event delivery failed; requeued", "request_id", c.id, "err", err)
		s.closeConn(pc)
		return false
	}
	return true
}

// replyAnswer writes the reply to an answer whose body readAnswer has read
// (wholly, or up to the limit, or until it broke), deciding as net/http
// does whether the connection can carry another request. It reports
// whether it can; otherwise pc has been closed.
func (s *Server) replyAnswer(pc *rconn, req *http.Request, id string, out outcome) bool {
	switch out {
	case outcomeAccepted:
		return s.replyOrClose(pc, http.StatusAccepted, acceptedBody)
	case outcomeTooLarge:
		// Only a chunked body gets here (classify leaves a declared
		// length over the limit to net/http). Like net/http, look for its
		// end within 256 KiB; past that, close and linger.
		s.log.Debug("response too large", "request_id", id)
		_, err := io.CopyN(io.Discard, req.Body, maxPostHandlerReadBytes+1)
		switch err {
		case io.EOF:
			return s.replyOrClose(pc, http.StatusRequestEntityTooLarge, string(s.tooLargeBody))
		case nil:
			if s.writeReply(pc, http.StatusRequestEntityTooLarge, string(s.tooLargeBody), true) == nil {
				s.lingerClose(pc)
				return false
			}
		default:
			_ = s.writeReply(pc, http.StatusRequestEntityTooLarge, string(s.tooLargeBody), true)
		}
	case outcomeTruncated:
		// net/http keeps a connection whose declared-length body hit EOF
		// (the next read finds the EOF) and closes one whose chunked
		// encoding failed.
		s.log.Debug("truncated answer", "request_id", id)
		body := string(errorBody(typeTruncatedHTTPRequest, msgTruncatedHTTPRequest))
		if req.ContentLength >= 0 {
			return s.replyOrClose(pc, http.StatusBadRequest, body)
		}
		_ = s.writeReply(pc, http.StatusBadRequest, body, true)
	}
	s.closeConn(pc)
	return false
}

// replyOrClose writes a keep-alive reply and reports whether it went out;
// if not, pc is closed.
func (s *Server) replyOrClose(pc *rconn, status int, body string) bool {
	if err := s.writeReply(pc, status, body, false); err != nil {
		s.closeConn(pc)
		return false
	}
	return true
}

// writeReply writes a JSON reply the way net/http writes writeJSON's
// output: sorted handler headers, then Date, then Connection: close when
// the connection is closed after it.
func (s *Server) writeReply(pc *rconn, status int, body string, closing bool) error {
	b := append(pc.wbuf[:0], "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(status)...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\nContent-Type: "+contentTypeJSON+"\r\nDate: "...)
	b = time.Now().UTC().AppendFormat(b, http.TimeFormat)
	if closing {
		b = append(b, "\r\nConnection: close"...)
	}
	b = append(b, "\r\n\r\n"...)
	b = append(b, body...)
	pc.keepBuffer(b)
	_, err := pc.nc.Write(b)
	return err
}

// writeEvent writes c as a 200 /next response in one write: the head
// newCall built, then the payload, untouched.
func (s *Server) writeEvent(pc *rconn, c *call) error {
	if len(c.inv.Payload) > maxInlinePayload {
		bufs := net.Buffers{c.head, c.inv.Payload}
		_, err := bufs.WriteTo(pc.nc)
		return err
	}
	b := append(pc.wbuf[:0], c.head...)
	b = append(b, c.inv.Payload...)
	pc.keepBuffer(b)
	_, err := pc.nc.Write(b)
	return err
}

// keepBuffer keeps b for the next write unless it grew too large to keep.
func (pc *rconn) keepBuffer(b []byte) {
	if cap(b) <= maxKeptBuffer {
		pc.wbuf = b[:0]
	}
}

// appendNextHead appends the head of c's 200 /next response: the bytes
// net/http writes for writeNext's headers (sorted, Date suppressed, values
// cleaned as Header.Write cleans them).
func appendNextHead(b []byte, c *call) []byte {
	b = append(b, "HTTP/1.1 200 OK\r\nContent-Length: "...)
	b = appendHeaderValue(b, c.hdr[hdrIdxContentLength])
	b = append(b, "\r\nContent-Type: "...)
	b = appendHeaderValue(b, c.hdr[hdrIdxContentType])
	b = append(b, "\r\n"+hdrRequestID+": "...)
	b = appendHeaderValue(b, c.hdr[hdrIdxRequestID])
	if v := c.hdr[hdrIdxClientContext]; v != "" {
		b = append(b, "\r\n"+hdrClientContext+": "...)
		b = appendHeaderValue(b, v)
	}
	if v := c.hdr[hdrIdxCognito]; v != "" {
		b = append(b, "\r\n"+hdrCognito+": "...)
		b = appendHeaderValue(b, v)
	}
	b = append(b, "\r\n"+hdrDeadline+": "...)
	b = appendHeaderValue(b, c.hdr[hdrIdxDeadline])
	if v := c.hdr[hdrIdxARN]; v != "" {
		b = append(b, "\r\n"+hdrARN+": "...)
		b = appendHeaderValue(b, v)
	}
	b = append(b, "\r\n"+hdrTrace+": "...)
	b = appendHeaderValue(b, c.hdr[hdrIdxTrace])
	return append(b, "\r\n\r\n"...)
}

// appendHeaderValue appends v as net/http's Header.Write does: CR and LF
// become spaces and surrounding whitespace is trimmed, so a value can never
// end the header line early.
func appendHeaderValue(b []byte, v string) []byte {
	i, j := 0, len(v)
	for i < j && isASCIISpace(v[i]) {
		i++
	}
	for j > i && isASCIISpace(v[j-1]) {
		j--
	}
	v = v[i:j]
	if !strings.ContainsAny(v, "\r\n") {
		return append(b, v...)
	}
	for k := 0; k < len(v); k++ {
		ch := v[k]
		if ch == '\r' || ch == '\n' {
			ch = ' '
		}
		b = append(b, ch)
	}
	return b
}

func isASCIISpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r'
}
