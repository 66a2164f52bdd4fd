// Package connlimit caps the connections an http.Server holds open, so
// that idle or slow clients cannot use up the process's file descriptors
// and lock out everyone else.
//
// A [Limiter] wraps the server's raw TCP listener ([Limiter.Listener],
// beneath any TLS) and follows each connection's state through
// http.Server.ConnState ([Limiter.ConnState]). When a connection arrives
// at the cap, the limiter closes the connection that has been idle
// longest: first keep-alive connections waiting for their next request
// (StateIdle), then connections that have not yet sent a complete
// request header (StateNew, oldest first: what a slowloris client holds).
// Only when every connection is busy serving a request is the new one
// admitted over the cap, as an overflow connection: [Limiter.Handler]
// makes its first request wait up to Config.Wait for a slot to free and
// otherwise answers 503 with Retry-After and closes it. Overflow
// connections are themselves bounded; past that bound new connections are
// closed as soon as they are accepted.
//
// Closing an idle keep-alive connection races with a request the client
// may be sending on it at that instant, as an idle timeout does; clients
// retry such requests on a new connection (HTTP/1.1 §9.3.1 of RFC 9112).
// HTTP/2 connections (over TLS or h2c) are followed the same way: net/http
// reports one StateActive while it has an open stream and StateIdle when
// its last stream ends, so an HTTP/2 connection without a request in
// flight is idle here and may be closed at the cap like a keep-alive
// one. Its requests run under the same Handler; the overflow wait applies
// to each request of an overflow connection.
package connlimit

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Config sizes a Limiter.
type Config struct {
	// Max is the number of connections served at once; at least 1.
	Max int
	// Overflow bounds the connections admitted beyond Max while every
	// connection is busy; 0 means Max/10, at least 16.
	Overflow int
	// Wait is how long an overflow connection's request waits for a slot
	// before it is answered 503; 0 means one second.
	Wait time.Duration
}

// Limiter tracks connections and enforces Config. Create it with [New].
type Limiter struct {
	cfg Config
	now func() time.Time

	mu sync.Mutex
	// conns maps each raw connection to its state; guarded by mu.
	conns map[net.Conn]*conn
	// normal counts the conns that are not overflow; guarded by mu.
	normal int
	// overflow counts the overflow conns; guarded by mu.
	overflow int
	// changed is closed, and replaced, whenever a slot may have freed or
	// a connection became idle; guarded by mu.
	changed chan struct{}
}

// conn is one tracked connection.
type conn struct {
	c     net.Conn
	state http.ConnState
	// since is when the connection entered its state.
	since time.Time
	// over marks an overflow connection.
	over bool
}

// New returns a Limiter for cfg.
func New(cfg Config) *Limiter {
	if cfg.Max < 1 {
		cfg.Max = 1
	}
	if cfg.Overflow <= 0 {
		cfg.Overflow = max(16, cfg.Max/10)
	}
	if cfg.Wait <= 0 {
		cfg.Wait = time.Second
	}
	return &Limiter{cfg: cfg, now: time.Now, conns: map[net.Conn]*conn{}, changed: make(chan struct{})}
}

// Len reports how many connections are open, overflow ones included.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// Listener wraps ln so that each accepted connection is counted, and
// makes room for it at the cap.
func (l *Limiter) Listener(ln net.Listener) net.Listener { return &listener{Listener: ln, l: l} }

type listener struct {
	net.Listener
	l *Limiter
}

func (ln *listener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if ln.l.admit(c) {
			return c, nil
		}
		c.Close()
	}
}

// admit registers c, closing the longest-idle connection when at the
// cap; it reports false when c must be closed unserved.
func (l *Limiter) admit(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	tc := &conn{c: c, state: http.StateNew, since: l.now()}
	if l.normal < l.cfg.Max || l.evictLocked() {
		l.conns[c] = tc
		l.normal++
		return true
	}
	if l.overflow >= l.cfg.Overflow {
		return false
	}
	tc.over = true
	l.conns[c] = tc
	l.overflow++
	return true
}

// evictLocked closes the longest-idle connection, if any is idle or has
// not sent a request yet, and forgets it; it reports whether it did.
func (l *Limiter) evictLocked() bool {
	var victim *conn
	for _, tc := range l.conns {
		if tc.over || (tc.state != http.StateIdle && tc.state != http.StateNew) {
			continue
		}
		if victim == nil || rank(tc) < rank(victim) {
			victim = tc
		}
	}
	if victim == nil {
		return false
	}
	l.forgetLocked(victim.c)
	victim.c.Close()
	return true
}

// rank orders eviction candidates: idle keep-alive connections before
// new ones, each oldest first.
func rank(tc *conn) (r int64) {
	r = tc.since.UnixNano()
	if tc.state == http.StateNew {
		r += int64(1) << 62
	}
	return r
}

func (l *Limiter) forgetLocked(c net.Conn) {
	tc, ok := l.conns[c]
	if !ok {
		return
	}
	delete(l.conns, c)
	if tc.over {
		l.overflow--
	} else {
		l.normal--
	}
	l.signalLocked()
}

func (l *Limiter) signalLocked() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// raw returns the TCP connection beneath a TLS one.
func raw(c net.Conn) net.Conn {
	if tc, ok := c.(*tls.Conn); ok {
		return tc.NetConn()
	}
	return c
}

// ConnState is the http.Server.ConnState hook.
func (l *Limiter) ConnState(c net.Conn, state http.ConnState) {
	c = raw(c)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch state {
	case http.StateClosed, http.StateHijacked:
		l.forgetLocked(c)
	default:
		if tc, ok := l.conns[c]; ok {
			tc.state, tc.since = state, l.now()
			if state == http.StateIdle {
				l.signalLocked()
			}
		}
	}
}

type connKey struct{}

// ConnContext is the http.Server.ConnContext hook: it lets Handler find
// the connection a request came on.
func (l *Limiter) ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, raw(c))
}

// ErrBusy is the cause of a request refused because every connection
// stayed busy for Config.Wait.
var ErrBusy = errors.New("connlimit: every connection is busy")

// Handler serves h, except that the first request of an overflow
// connection waits for a slot and gets 503 with Retry-After when none
// frees in time; the connection is then closed.
func (l *Limiter) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Context().Value(connKey{}).(net.Conn)
		if c != nil && l.over(c) {
			if err := l.promote(r.Context(), c); err != nil {
				w.Header().Set("Connection", "close")
				w.Header().Set("Retry-After", strconv.Itoa(max(1, int(l.cfg.Wait/time.Second))))
				http.Error(w, "too many connections: every connection is busy, retry later", http.StatusServiceUnavailable)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

func (l *Limiter) over(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	tc, ok := l.conns[c]
	return ok && tc.over
}

// promote waits up to Config.Wait for c to take a normal slot: a freed
// one, or one of a connection that has become idle since.
func (l *Limiter) promote(ctx context.Context, c net.Conn) error {
	timer := time.NewTimer(l.cfg.Wait)
	defer timer.Stop()
	for {
		l.mu.Lock()
		tc, ok := l.conns[c]
		if !ok {
			l.mu.Unlock()
			return ErrBusy
		}
		if l.normal < l.cfg.Max || l.evictLocked() {
			tc.over = false
			l.overflow--
			l.normal++
			l.mu.Unlock()
			return nil
		}
		changed := l.changed
		l.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			return ErrBusy
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
