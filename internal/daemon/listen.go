package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/updraft/updraft/internal/certgen"
	"github.com/updraft/updraft/internal/config"
	"github.com/updraft/updraft/internal/connlimit"
	"github.com/updraft/updraft/internal/rawheader"
)

// Limits of the API's HTTP server. They bound what a client that holds a
// connection without making progress can cost, and stay generous enough
// for the legitimate slow cases.
const (
	// apiReadHeaderTimeout bounds how long a request's line and headers
	// may take (slowloris); SDKs send them in one write.
	apiReadHeaderTimeout = 10 * time.Second
	// apiBodyTimeout bounds reading a request body, from the end of its
	// headers: a 70 MB CreateFunction zip in 15 minutes needs about
	// 0.65 Mbit/s. It is a per-request read deadline, cleared once the
	// body is read, rather than http.Server.ReadTimeout: that deadline
	// would also end the server's background read while a long
	// invocation (up to Lambda's 15 minutes) or a followed log stream
	// runs, and cancel its request.
	apiBodyTimeout = 15 * time.Minute
	// apiIdleTimeout closes keep-alive connections left unused, longer
	// than the SDKs' own idle timeout (Go's transport: 90 s) so that the
	// client, which knows when it is done, usually closes first.
	apiIdleTimeout = 2 * time.Minute
	// apiMaxHeaderBytes caps a request's headers. SigV4 headers, a
	// session token and a 3.5 KB X-Amz-Client-Context fit many times.
	apiMaxHeaderBytes = 64 << 10
	// maxConnectionsCeiling bounds the default --max-connections.
	maxConnectionsCeiling = 10000
)

// There is deliberately no WriteTimeout: it is a deadline on the whole
// response, and responses may legitimately stream for as long as a
// function runs (a synchronous invoke of up to 15 minutes, a response
// stream, `updraft logs --follow`). A client that stops reading holds its
// connection until TCP gives up; the connection cap bounds how many
// such connections there can be.

// apiCAPrefix names the generated API CA and certificate in the data dir
// (api-ca.pem and so on; see certgen.Paths).
const apiCAPrefix = "api"

// raiseOpenFiles sets the soft RLIMIT_NOFILE to the hard limit and
// returns the soft limit in force. Go does this itself at start-up and
// restores the original limit for child processes as long as the program
// does not set the limit itself, so the call is made only when the limit
// is not raised already.
func raiseOpenFiles() (uint64, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, fmt.Errorf("daemon: read the open-file limit: %w", err)
	}
	if r.Cur >= r.Max {
		return r.Cur, nil
	}
	soft := r.Cur
	r.Cur = r.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return soft, fmt.Errorf("daemon: raise the open-file limit to %d: %w", r.Max, err)
	}
	return r.Cur, nil
}

// defaultMaxConnections is min(10000, openFiles/2): half the descriptors
// stay for environments, the store, logs and code.
func defaultMaxConnections(openFiles uint64) int {
	return int(max(1, min(maxConnectionsCeiling, openFiles/2)))
}

// apiTLS returns the TLS configuration of the API listener on host, nil
// for plain HTTP, and the path of the generated CA clients verify it with
// ("" unless --tls-self-signed).
func apiTLS(cfg config.Config, host string, logger *slog.Logger) (*tls.Config, string, error) {
	certFile, keyFile, caFile := cfg.Server.TLSCert, cfg.Server.TLSKey, ""
	switch {
	case cfg.Server.TLSSelfSigned:
		g, err := certgen.Ensure(cfg.Store.DataDir, apiCAPrefix, "updraft API", certgen.Hosts(host), time.Now())
		if err != nil {
			return nil, "", fmt.Errorf("daemon: api certificate: %w", err)
		}
		if g.Issued {
			logger.Info("issued the API server certificate", "file", g.CertFile, "ca", g.CAFile)
		}
		certFile, keyFile, caFile = g.CertFile, g.KeyFile, g.CAFile
	case certFile == "":
		return nil, "", nil
	}
	tc, err := certgen.ServerConfig(certFile, keyFile)
	if err != nil {
		return nil, "", fmt.Errorf("daemon: api certificate: %w", err)
	}
	// HTTP/2 first, as AWS's endpoints offer it (the AWS SDK for
	// JavaScript v3 sends Kinesis calls over HTTP/2 only), then HTTP/1.1.
	tc.NextProtos = []string{"h2", "http/1.1"}
	return tc, caFile, nil
}

// localEndpoint is the URL this machine's clients reach the listener at:
// its address, with loopback in place of an address that binds every
// interface (which no certificate names).
func localEndpoint(scheme string, addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return scheme + "://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// apiMaxStreams bounds the concurrent requests of one HTTP/2 connection
// (Go's default is 250): what one connection can hold, since the
// connection cap counts connections, not streams (see internal/connlimit).
const apiMaxStreams = 100

// apiProtocols is what the API listener speaks: HTTP/1.1, HTTP/2 over TLS
// (ALPN "h2") and HTTP/2 without TLS with prior knowledge (h2c; a client
// that opens with the HTTP/2 preface). The HTTP/1.1 Upgrade: h2c dance is
// not offered; no AWS SDK uses it.
func apiProtocols() *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetHTTP2(true)
	p.SetUnencryptedHTTP2(true)
	return p
}

// newAPIServer returns the API's http.Server: h behind the connection
// cap and the body deadline, with the limits above, speaking HTTP/1.1 and
// HTTP/2 (see apiProtocols).
func newAPIServer(h http.Handler, limiter *connlimit.Limiter, logger *slog.Logger) *http.Server {
	return &http.Server{
		Protocols: apiProtocols(),
		HTTP2: &http.HTTP2Config{
			MaxConcurrentStreams: apiMaxStreams,
			// The body deadline (withBodyDeadline) and the idle timeout
			// apply per stream and per connection as for HTTP/1.1.
		},
		Handler:           limiter.Handler(rawheader.Handler(withBodyDeadline(h, apiBodyTimeout))),
		ReadHeaderTimeout: apiReadHeaderTimeout,
		IdleTimeout:       apiIdleTimeout,
		MaxHeaderBytes:    apiMaxHeaderBytes,
		ConnState:         limiter.ConnState,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return rawheader.ConnContext(limiter.ConnContext(ctx, c), c)
		},
		ErrorLog: slog.NewLogLogger(logger.With("component", "http").Handler(), slog.LevelDebug),
	}
}

// withBodyDeadline gives each request d to send its body: a read
// deadline from the end of the headers, cleared when the body has been
// read to its end or closed.
func withBodyDeadline(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(d)); err != nil {
			h.ServeHTTP(w, r)
			return
		}
		r.Body = &deadlineBody{ReadCloser: r.Body, clear: func() { _ = rc.SetReadDeadline(time.Time{}) }}
		h.ServeHTTP(w, r)
	})
}

// deadlineBody clears the connection's read deadline once the body is
// done, so that the server's wait for the next request (or for the
// client going away during a long response) is not cut short.
type deadlineBody struct {
	io.ReadCloser
	clear func()
	done  bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !b.done {
		b.done = true
		b.clear()
	}
	return n, err
}

func (b *deadlineBody) Close() error {
	if !b.done {
		b.done = true
		b.clear()
	}
	return b.ReadCloser.Close()
}

// serveMetrics serves h at /metrics on addr, plain HTTP, and returns its
// URL and a function that stops it.
func serveMetrics(addr string, h http.Handler, logger *slog.Logger) (string, func(context.Context) error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("daemon: metrics listen %s (--metrics-listen, or off): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: apiReadHeaderTimeout,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       apiIdleTimeout,
		MaxHeaderBytes:    apiMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.With("component", "metrics").Handler(), slog.LevelDebug),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics listener stopped", "err", err)
		}
	}()
	return localEndpoint("http", ln.Addr()) + "/metrics", srv.Shutdown, nil
}
