// Package rawheader recovers the header names of HTTP/1.x requests as
// the client spelled them. net/http canonicalises every name it reads
// (sf-external-function-query-batch-id becomes
// Sf-External-Function-Query-Batch-Id) and keeps no other copy, but an
// API Gateway REST event carries the names as sent, and functions index
// them that way.
//
// [Listener] wraps the server's plaintext listener: each connection's
// Read feeds what the server reads into a small parser that follows the
// HTTP/1.x message framing (header block, then a Content-Length or
// chunked body, skipped without being copied) and keeps each request's
// header block in a short queue. [Handler], around the server's handler,
// takes the block of the request being served off the queue (matching
// its request line; blocks of requests the server answered itself are
// dropped), and [Names] gives a handler the raw spelling of each
// canonical name. Anything the parser does not follow — an HTTP/2
// preface, a hijacked connection, a header block over the bound, a
// request that does not match its block — turns recording off for that
// connection, and Names then reports nothing, so callers fall back to
// the canonical names. HTTP/2 requests need none of this: their names
// are lower case on the wire, which is what Names reports for them.
//
// TLS connections are not recorded: the server must see *tls.Conn
// itself (for r.TLS and ALPN), and only it sees the plaintext.
package rawheader

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
)

const (
	// maxHead bounds a header block being assembled; the API server
	// refuses headers over 64 KB long before this.
	maxHead = 256 << 10
	// maxQueued bounds the bytes of blocks waiting for their handler.
	maxQueued = 512 << 10
	// maxLine bounds a chunk-size or trailer line.
	maxLine = 4 << 10
)

// Listener wraps ln: every connection it accepts records the header
// blocks of the requests read from it. Use it only beneath a server that
// speaks HTTP/1.x (or HTTP/2 with prior knowledge) in plaintext.
func Listener(ln net.Listener) net.Listener { return &listener{Listener: ln} }

type listener struct{ net.Listener }

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &Conn{Conn: c}, nil
}

// Conn is a connection that records its requests' header blocks.
type Conn struct {
	net.Conn

	mu sync.Mutex
	// p parses what was read; guarded by mu.
	p parser
	// current is the header block of the request being served; guarded
	// by mu.
	current []byte
}

// NetConn returns the connection beneath.
func (c *Conn) NetConn() net.Conn { return c.Conn }

// CloseWrite half-closes the connection beneath, as net/http does to a
// TCP connection it closes after an answer (so that the client reads the
// answer before a reset); a no-op where the connection cannot.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom writes r to the connection with the connection's own
// ReadFrom where it has one (sendfile, splice): writes need no
// recording.
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(c.Conn, r)
}

// Read reads from the connection and records what it read.
func (c *Conn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.mu.Lock()
		c.p.feed(b[:n])
		c.mu.Unlock()
	}
	return n, err
}

// take makes the queued block of the request line "method target" the
// current one, dropping the blocks before it; it reports whether there
// was one.
func (c *Conn) take(method, target string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.current = nil
	for len(c.p.blocks) > 0 {
		b := c.p.blocks[0]
		c.p.blocks[0] = nil
		c.p.blocks = c.p.blocks[1:]
		c.p.queued -= len(b)
		if requestLineIs(b, method, target) {
			c.current = b
			return true
		}
	}
	return false
}

// block returns the current request's header block, or nil.
func (c *Conn) block() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.current
}

// off stops recording: the parser lost the framing.
func (c *Conn) off() {
	c.mu.Lock()
	c.p.stop()
	c.current = nil
	c.mu.Unlock()
}

type connKey struct{}

// ConnContext is (or is called by) the http.Server.ConnContext hook: it
// lets Handler and Names find the connection of a request.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if rc, ok := c.(*Conn); ok {
		return context.WithValue(ctx, connKey{}, rc)
	}
	return ctx
}

func connOf(r *http.Request) *Conn {
	c, _ := r.Context().Value(connKey{}).(*Conn)
	return c
}

// Handler serves h after making the header block of r the current one
// of its connection.
func Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 1 {
			if c := connOf(r); c != nil && !c.take(r.Method, r.RequestURI) {
				c.off()
			}
		}
		h.ServeHTTP(w, r)
	})
}

// Names maps each canonical header name of r (and "Host") to the name as
// the client sent it, the first spelling where it sent several. It
// returns nil when the names are unknown: a request on a connection that
// is not recorded, or whose block does not hold every header of r.
func Names(r *http.Request) map[string]string {
	if r.ProtoMajor == 2 {
		names := make(map[string]string, len(r.Header)+1)
		for k := range r.Header {
			names[k] = strings.ToLower(k)
		}
		names["Host"] = "host"
		return names
	}
	c := connOf(r)
	if c == nil {
		return nil
	}
	block := c.block()
	if block == nil {
		return nil
	}
	names := namesOf(block)
	for k := range r.Header {
		if _, ok := names[k]; !ok {
			return nil
		}
	}
	return names
}

// namesOf parses the names of a header block (request line first).
func namesOf(block []byte) map[string]string {
	names := map[string]string{}
	_, rest, _ := bytes.Cut(block, []byte("\n"))
	for len(rest) > 0 {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		name, _, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 {
			continue
		}
		raw := string(name)
		canon := textproto.CanonicalMIMEHeaderKey(raw)
		if _, seen := names[canon]; !seen {
			names[canon] = raw
		}
	}
	return names
}

// requestLineIs reports whether block starts with the request line of
// method and target.
func requestLineIs(block []byte, method, target string) bool {
	line, _, _ := bytes.Cut(block, []byte("\n"))
	m, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok || string(m) != method {
		return false
	}
	tgt, _, ok := bytes.Cut(rest, []byte(" "))
	return ok && string(tgt) == target
}

// parser states.
const (
	stateHead      = iota // reading a header block
	stateBody             // skipping remain bytes of a Content-Length body
	stateChunkSize        // reading a chunk-size line
	stateChunkData        // skipping remain bytes of chunk data
	stateChunkEnd         // reading the CRLF after chunk data
	stateTrailer          // reading trailer lines up to the empty one
	stateOff              // not recording
)

// parser follows HTTP/1.x request framing over the bytes a server reads.
type parser struct {
	state  int
	head   []byte // the header block so far (stateHead)
	line   []byte // the line so far (chunk and trailer states)
	remain int64  // body or chunk bytes left to skip
	// blocks are complete header blocks waiting for their handler, and
	// queued their total length.
	blocks [][]byte
	queued int
}

func (p *parser) stop() {
	p.state, p.head, p.line, p.blocks, p.queued = stateOff, nil, nil, nil, 0
}

// feed consumes b.
func (p *parser) feed(b []byte) {
	for len(b) > 0 {
		switch p.state {
		case stateOff:
			return
		case stateHead:
			b = p.feedHead(b)
		case stateBody, stateChunkData:
			n := int64(len(b))
			if n > p.remain {
				n = p.remain
			}
			b = b[n:]
			p.remain -= n
			if p.remain == 0 {
				if p.state == stateBody {
					p.state = stateHead
				} else {
					p.state = stateChunkEnd
				}
			}
		default:
			b = p.feedLine(b)
		}
	}
}

// feedHead adds b to the header block and finishes it when its empty
// line has come; it returns what follows the block.
func (p *parser) feedHead(b []byte) []byte {
	if len(p.head) == 0 {
		// Servers skip a client's stray CRLF between requests.
		b = bytes.TrimLeft(b, "\r\n")
		if len(b) == 0 {
			return nil
		}
	}
	from := max(0, len(p.head)-3)
	p.head = append(p.head, b...)
	end := headEnd(p.head[from:])
	if end < 0 {
		if len(p.head) > maxHead {
			p.stop()
		}
		return nil
	}
	end += from
	block := bytes.Clone(p.head[:end])
	rest := p.head[end:]
	consumed := len(b) - len(rest)
	p.head = p.head[:0]
	if cap(p.head) > 4096 {
		p.head = nil
	}
	if !p.finishHead(block) {
		p.stop()
		return nil
	}
	return b[consumed:]
}

// headEnd returns the index just past the empty line that ends a header
// block in b ("\r\n\r\n" or a bare-LF form), or -1.
func headEnd(b []byte) int {
	for i := 0; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		switch {
		case i+1 < len(b) && b[i+1] == '\n':
			return i + 2
		case i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n':
			return i + 3
		}
	}
	return -1
}

var (
	contentLength    = []byte("Content-Length")
	transferEncoding = []byte("Transfer-Encoding")
)

// finishHead queues block and sets the body state from its framing
// headers; false means the block is not an HTTP/1.x request header.
func (p *parser) finishHead(block []byte) bool {
	line, rest, _ := bytes.Cut(block, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if !bytes.HasSuffix(line, []byte(" HTTP/1.1")) && !bytes.HasSuffix(line, []byte(" HTTP/1.0")) {
		return false
	}
	var length int64
	chunked := false
	for len(rest) > 0 {
		var l []byte
		l, rest, _ = bytes.Cut(rest, []byte("\n"))
		name, value, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			continue
		}
		switch {
		case bytes.EqualFold(name, contentLength):
			n, err := strconv.ParseInt(string(bytes.TrimSpace(value)), 10, 64)
			if err != nil || n < 0 {
				return false
			}
			length = n
		case bytes.EqualFold(name, transferEncoding):
			codings := strings.Split(string(bytes.TrimSpace(value)), ",")
			chunked = strings.EqualFold(strings.TrimSpace(codings[len(codings)-1]), "chunked")
			if !chunked {
				return false
			}
		}
	}
	if p.queued+len(block) > maxQueued {
		return false
	}
	p.blocks = append(p.blocks, block)
	p.queued += len(block)
	switch {
	case chunked:
		p.state = stateChunkSize
	case length > 0:
		p.state, p.remain = stateBody, length
	default:
		p.state = stateHead
	}
	return true
}

// feedLine reads one line of the chunk and trailer states and acts on it
// when complete; it returns what follows.
func (p *parser) feedLine(b []byte) []byte {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		p.line = append(p.line, b...)
		if len(p.line) > maxLine {
			p.stop()
		}
		return nil
	}
	p.line = append(p.line, b[:i]...)
	line := strings.TrimSpace(string(p.line))
	p.line = p.line[:0]
	b = b[i+1:]
	switch p.state {
	case stateChunkSize:
		size, _, _ := strings.Cut(line, ";")
		n, err := strconv.ParseInt(strings.TrimSpace(size), 16, 64)
		switch {
		case err != nil || n < 0:
			p.stop()
		case n == 0:
			p.state = stateTrailer
		default:
			p.state, p.remain = stateChunkData, n
		}
	case stateChunkEnd:
		if line != "" {
			p.stop()
			return nil
		}
		p.state = stateChunkSize
	case stateTrailer:
		if line == "" {
			p.state = stateHead
		}
	}
	return b
}
