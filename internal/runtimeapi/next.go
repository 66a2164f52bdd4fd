package runtimeapi

import (
	"net/http"
)

// Canonical /next response header names (net/http's canonical form, so they
// can be assigned to the header map without re-canonicalising).
const (
	hdrRequestID     = "Lambda-Runtime-Aws-Request-Id"
	hdrDeadline      = "Lambda-Runtime-Deadline-Ms"
	hdrARN           = "Lambda-Runtime-Invoked-Function-Arn"
	hdrTrace         = "Lambda-Runtime-Trace-Id"
	hdrClientContext = "Lambda-Runtime-Client-Context"
	hdrCognito       = "Lambda-Runtime-Cognito-Identity"
)

// handleNext serves GET /runtime/invocation/next: it delivers the current
// invocation, or parks until Invoke hands one over. See the package doc for
// re-delivery and for what happens when the connection drops.
func (s *Server) handleNext(w http.ResponseWriter, r *http.Request) {
	var ch chan *call // this request's registration as the waiter
	for {
		s.mu.Lock()
		c, refuseFrom := s.nextLocked()
		switch {
		case refuseFrom != "":
			s.mu.Unlock()
			writeStateTransition(w, refuseFrom, stateReady)
			return
		case c != nil:
			s.mu.Unlock()
			s.writeNext(w, c)
			return
		}
		// Nothing to deliver: park. The newest /next is the waiter; an older
		// one still registered belongs to a connection the runtime gave up.
		if ch == nil {
			ch = make(chan *call, 1)
		}
		oldConn := s.parkNextLocked(nil, ch)
		s.mu.Unlock()
		s.supersede(oldConn)

		select {
		case c := <-ch:
			if c == nil {
				writeError(w, http.StatusForbidden, typeInvalidStateTransition, msgSuperseded)
				return
			}
			s.mu.Lock()
			ok := s.current == c && c.state == callDelivered
			if ok {
				c.written = true
			}
			s.mu.Unlock()
			if ok {
				s.writeNext(w, c)
				return
			}
			// Invoke gave up between the hand-off and our wake-up: park again.
		case <-r.Context().Done():
			s.mu.Lock()
			if s.waiter == ch {
				s.waiter = nil
			} else if c := <-ch; c != nil {
				// Handed an event after the runtime left: put it back for the
				// next /next. (Whoever cleared s.waiter sent under the lock,
				// so the receive does not block.)
				s.requeueLocked(c)
			}
			s.mu.Unlock()
			return
		case <-s.done:
			writeError(w, http.StatusInternalServerError, typeInternalServerError, msgInternalServerError)
			return
		}
	}
}

// nextLocked makes the state transitions of a /next, for handleNext and
// the fast path's nextOn alike, and tells the caller what to write once it
// has unlocked s.mu: the call to deliver, or the state to name in a 403
// InvalidStateTransition (refuseFrom not empty). Neither means there is
// nothing to deliver: the caller parks.
func (s *Server) nextLocked() (c *call, refuseFrom string) {
	if s.initErr != nil {
		return nil, s.stateNameLocked()
	}
	if !s.initDone {
		s.runtimeInitDoneLocked()
	}
	c = s.current
	if c == nil {
		return nil, ""
	}
	switch c.state {
	case callQueued:
		c.state = callDelivered
		c.written = true
		s.unparkLocked()
		return c, ""
	case callDelivered:
		// The runtime asks again without answering: re-deliver, as the RIE
		// does; this also recovers an event lost with a broken connection.
		c.written = true
		return c, ""
	case callAnswering:
		return nil, s.stateNameLocked()
	}
	return nil, ""
}

// parkNextLocked registers a /next that found nothing to deliver as the
// one the next Invoke hands its event to: pc, a fast-path connection, or
// ch, a net/http handler's channel (the other is nil). It marks the runtime
// parked and returns the older parked connection it superseded, for
// supersede once s.mu is unlocked.
func (s *Server) parkNextLocked(pc *rconn, ch chan *call) *rconn {
	old := s.supersedeLocked()
	s.parkedConn, s.waiter = pc, ch
	s.parkLocked()
	return old
}

// requeueLocked puts a delivered call back in the queue after its delivery
// failed, so the next /next delivers it again. It does not make the call
// unanswerable: another /next may have re-delivered it meanwhile.
func (s *Server) requeueLocked(c *call) {
	if s.current == c && c.state == callDelivered {
		c.state = callQueued
	}
}

// writeNext writes the 200 /next response for c. All header values were
// computed by newCall; the payload is written as is.
func (s *Server) writeNext(w http.ResponseWriter, c *call) {
	h := w.Header()
	h[hdrRequestID] = c.hdr[hdrIdxRequestID : hdrIdxRequestID+1 : hdrIdxRequestID+1]
	h[hdrDeadline] = c.hdr[hdrIdxDeadline : hdrIdxDeadline+1 : hdrIdxDeadline+1]
	if c.hdr[hdrIdxARN] != "" {
		h[hdrARN] = c.hdr[hdrIdxARN : hdrIdxARN+1 : hdrIdxARN+1]
	}
	h[hdrTrace] = c.hdr[hdrIdxTrace : hdrIdxTrace+1 : hdrIdxTrace+1]
	if c.hdr[hdrIdxClientContext] != "" {
		h[hdrClientContext] = c.hdr[hdrIdxClientContext : hdrIdxClientContext+1 : hdrIdxClientContext+1]
	}
	if c.hdr[hdrIdxCognito] != "" {
		h[hdrCognito] = c.hdr[hdrIdxCognito : hdrIdxCognito+1 : hdrIdxCognito+1]
	}
	h["Content-Length"] = c.hdr[hdrIdxContentLength : hdrIdxContentLength+1 : hdrIdxContentLength+1]
	h["Content-Type"] = c.hdr[hdrIdxContentType : hdrIdxContentType+1 : hdrIdxContentType+1]
	h["Date"] = nil // suppress net/http's automatic Date header; nobody reads it
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(c.inv.Payload)
	if err == nil {
		// Flush now rather than when the handler returns, to learn whether
		// the event left. *http.response implements FlushError.
		if f, ok := w.(interface{ FlushError() error }); ok {
			err = f.FlushError()
		}
	}
	if err != nil {
		s.mu.Lock()
		s.requeueLocked(c)
		s.mu.Unlock()
		s.log.Debug("event delivery failed; requeued", "request_id", c.id, "err", err)
	}
}
