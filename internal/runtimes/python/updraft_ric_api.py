"""The Runtime API client: /next, /response, /error and /init/error.

One keep-alive connection serves every call ("AWS Lambda runtime API",
runtimes-api.html): the server's fast path hands the event to a runtime
parked in GET /next on that connection and reads the answer from the same
connection, so a warm invoke is two loopback round trips. /next has no
timeout: the environment is frozen while it waits.

The HTTP/1.1 client is a small one over a socket rather than http.client,
for cold starts: importing http.client imports ssl and the email package,
about 35 ms of a python3.11 cold start on a small machine, and it parses
every response's headers with the email parser. The server's answers
always carry Content-Length; chunked bodies and bodies ending at close
are read too.
"""

import socket
import sys

_BASE = "/2018-06-01/runtime"
_NEXT = _BASE + "/invocation/next"
_INIT_ERROR = _BASE + "/init/error"

_USER_AGENT = "updraft-python-ric/1 Python/%d.%d.%d" % sys.version_info[:3]
_MAX_LINE = 65536


class RuntimeAPIError(Exception):
    """The Runtime API refused a call the runtime cannot go on without."""


class _Closed(ConnectionError):
    """The server closed the connection before answering."""


class _Connection:
    """One keep-alive HTTP/1.1 connection, re-opened when it breaks."""

    def __init__(self, host, port):
        self._addr = (host, port)
        self._host = "%s:%d" % (host if ":" not in host else "[" + host + "]", port)
        self._sock = None
        self._rfile = None

    def _connect(self):
        sock = socket.create_connection(self._addr)  # no timeout, on purpose
        # Requests go out in one send and answers are waited for: never let
        # Nagle hold a small write back.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._rfile = sock.makefile("rb")

    def close(self):
        if self._sock is not None:
            try:
                self._rfile.close()
                self._sock.close()
            except OSError:
                pass
        self._sock = self._rfile = None

    def request(self, method, path, body, headers):
        """Sends one request and returns (status, headers with lower-case
        names, body). A connection the server closed while idle is
        re-opened and the request sent once more: a repeated /next gets the
        same event again, and a repeated answer that had arrived is refused
        (403) without harm."""
        for attempt in (1, 2):
            fresh = self._sock is None
            if fresh:
                self._connect()
            try:
                self._send(method, path, body, headers)
                return self._read_response()
            except (_Closed, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2 or fresh:
                    raise

    def _send(self, method, path, body, headers):
        head = [method, " ", path, " HTTP/1.1\r\nHost: ", self._host, "\r\nUser-Agent: ", _USER_AGENT, "\r\n"]
        for k, v in headers.items():
            head += [k, ": ", v, "\r\n"]
        if body is not None:
            head += ["Content-Length: ", str(len(body)), "\r\n"]
        head.append("\r\n")
        data = "".join(head).encode("utf-8")
        self._sock.sendall(data + body if body else data)

    def _readline(self):
        line = self._rfile.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE:
            raise RuntimeAPIError("Runtime API: header line too long")
        return line

    def _read_response(self):
        line = self._readline()
        if not line:
            raise _Closed("Runtime API closed the connection")
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise RuntimeAPIError("Runtime API: bad status line %r" % line[:100])
        status = int(parts[1])
        headers = {}
        while True:
            line = self._readline()
            if line in (b"\r\n", b"\n"):
                break
            if not line:
                raise _Closed("Runtime API closed the connection in a response head")
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("utf-8", "replace")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._read_chunked()
        elif "content-length" in headers:
            n = int(headers["content-length"])
            body = self._rfile.read(n)
            if len(body) != n:
                raise _Closed("Runtime API closed the connection in a response body")
        elif status in (204, 304) or status < 200:
            body = b""
        else:
            body = self._rfile.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close" or parts[0] == b"HTTP/1.0":
            self.close()
        return status, headers, body

    def _read_chunked(self):
        chunks = []
        while True:
            size = int(self._readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self._readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(self._rfile.read(size))
            self._readline()


class Invocation:
    """One event from GET /next."""

    __slots__ = (
        "request_id",
        "deadline_ms",
        "invoked_function_arn",
        "trace_id",
        "client_context",
        "cognito_identity",
        "tenant_id",
        "content_type",
        "body",
    )


class RuntimeClient:
    """Speaks the Runtime API at address ("host:port")."""

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        self._conn = _Connection(host, int(port))

    def _call(self, method, path, body=None, headers=None):
        return self._conn.request(method, path, body, headers or {})

    def next(self):
        """Blocks until the next event and returns it as an Invocation."""
        status, h, body = self._call("GET", _NEXT)
        if status != 200:
            raise RuntimeAPIError(
                "GET /runtime/invocation/next: %d %s" % (status, body[:512].decode("utf-8", "replace"))
            )
        inv = Invocation()
        inv.request_id = h.get("lambda-runtime-aws-request-id", "")
        try:
            inv.deadline_ms = int(h.get("lambda-runtime-deadline-ms", "0"))
        except ValueError:
            inv.deadline_ms = 0
        inv.invoked_function_arn = h.get("lambda-runtime-invoked-function-arn")
        inv.trace_id = h.get("lambda-runtime-trace-id")
        inv.client_context = h.get("lambda-runtime-client-context")
        inv.cognito_identity = h.get("lambda-runtime-cognito-identity")
        inv.tenant_id = h.get("lambda-runtime-aws-tenant-id")
        inv.content_type = h.get("content-type", "application/json")
        inv.body = body
        return inv

    def post_response(self, request_id, body, content_type):
        """Posts the result. A refusal (413 for a result over 6 MB) is not
        the runtime's problem: the server completes the invocation with the
        matching error and resets the environment if it must."""
        self._call(
            "POST",
            _BASE + "/invocation/" + request_id + "/response",
            body,
            {"Content-Type": content_type},
        )

    def post_error(self, request_id, document):
        """Posts a function error; document is the JSON error body (bytes).
        Lambda's Python runtime marks every invocation error Unhandled; the
        server then takes the type from the document's errorType."""
        self._call(
            "POST",
            _BASE + "/invocation/" + request_id + "/error",
            document,
            {"Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": "Unhandled"},
        )

    def post_init_error(self, document, error_type):
        """Posts an init failure (before the first /next)."""
        status, _, body = self._call(
            "POST",
            _INIT_ERROR,
            document,
            {"Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": error_type},
        )
        if status != 202:
            raise RuntimeAPIError(
                "POST /runtime/init/error: %d %s" % (status, body[:512].decode("utf-8", "replace"))
            )
