"""The function's log: print, the logging module, and the runtime's own
error records, all on stdout (fd 1), which updraft captures line by line.

logging: the root logger gets one handler, as on Lambda, so a function
logs without set-up (and logging.basicConfig, finding a handler, does
nothing, as on Lambda). Its records use Lambda's text format

    [INFO]\\t2024-01-01T00:00:00.123Z\\t<request id>\\t<message>

or, with AWS_LAMBDA_LOG_FORMAT=JSON, Lambda's JSON lines {"timestamp",
"level", "message", "logger", "requestId", ...}. As in Lambda's runtime
(awslambdaric's bootstrap, _setup_logging), the root level is set only
when AWS_LAMBDA_LOG_LEVEL names a level (TRACE means DEBUG, WARN
WARNING, FATAL CRITICAL): Lambda sets it with the JSON format (INFO
unless configured otherwise), so JSON logs show logging.info; with the
Text format it is unset and the root logger stays at Python's WARNING,
so logging.info prints nothing until the function sets a level (and
logging.basicConfig(level=...), finding the handler, changes nothing).
The handler sets
record.aws_request_id, so a formatter the function installs on it may use
%(aws_request_id)s as on Lambda. Lambda writes each record as one frame to
its log daemon; here a record is one line: the newlines inside it (a
multi-line message, a traceback from logger.exception) become "\\r", which
is what Lambda's runtime does when it logs to stdout, so updraft's line
splitter keeps the record whole.

print: Lambda writes print output as it is. updraft tags it instead, for
the request id is what ties a line to its invocation when the log is read
back: sys.stdout and sys.stderr are replaced by writers that start every
line written during an invocation (from the event's arrival until the
answer is posted) with "<timestamp>\\t<request id>\\t", the layout of
Lambda's Node.js console lines. Outside an invocation (module import,
threads between invocations) lines are written as they are. Writers go
straight to the file descriptor, unbuffered, so nothing the function wrote
before answering can arrive after the answer.
"""

import io
import json
import logging
import os
import sys
import threading
import time
import traceback

# The invocation in progress. request_id keeps the last invocation's id
# afterwards, as Lambda's runtime does for logging records; print lines are
# tagged only while tagging is True.
request_id = ""
tagging = False

_JSON = False
_NBSP = "\u00a0"


def begin(rid):
    global request_id, tagging
    request_id = rid
    tagging = True


def end():
    global tagging
    tagging = False


def timestamp(t=None):
    """UTC time as 2024-01-01T00:00:00.123Z."""
    if t is None:
        t = time.time()
    secs = int(t)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + ".%03dZ" % int((t - secs) * 1000)


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


class TaggedStream(io.TextIOBase):
    """sys.stdout / sys.stderr: unbuffered, lines tagged during an
    invocation (see the module doc)."""

    def __init__(self, fd, original, name):
        super().__init__()
        self._fd = fd
        self._original = original
        self._name = name
        # Reentrant: a __del__ or signal handler that prints while this
        # thread is inside write must not deadlock.
        self._lock = threading.RLock()
        self._line_start = True  # the last byte written ended a line

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError("write() argument must be str, not %s" % type(s).__name__)
        if not s:
            return 0
        with self._lock:
            if tagging:
                prefix = timestamp() + "\t" + request_id + "\t"
                parts = []
                pos, n = 0, len(s)
                while pos < n:
                    if self._line_start:
                        parts.append(prefix)
                    nl = s.find("\n", pos)
                    if nl < 0:
                        parts.append(s[pos:])
                        self._line_start = False
                        break
                    parts.append(s[pos : nl + 1])
                    self._line_start = True
                    pos = nl + 1
                out = "".join(parts)
            else:
                out = s
                self._line_start = s[-1] == "\n"
            _write_all(self._fd, out.encode("utf-8", "backslashreplace"))
        return len(s)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def write_record(self, record):
        """Writes one whole log record (ending in a newline), on a line of
        its own."""
        with self._lock:
            if not self._line_start:
                record = "\n" + record
            self._line_start = True
            _write_all(self._fd, record.encode("utf-8", "backslashreplace"))

    def flush(self):
        pass

    def fileno(self):
        return self._fd

    def isatty(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False

    def seekable(self):
        return False

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "backslashreplace"

    @property
    def name(self):
        return self._name

    @property
    def line_buffering(self):
        return True

    @property
    def buffer(self):
        # Bytes written here bypass the tagging, as they bypass any text
        # layer.
        return self._original.buffer

    def __getattr__(self, attr):
        if attr == "_original":  # not set yet
            raise AttributeError(attr)
        return getattr(self._original, attr)


class _RequestIDFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = request_id
        return True


class LambdaLoggerHandler(logging.Handler):
    """The root logger's handler: one record, one line."""

    def __init__(self, sink):
        super().__init__()
        self.sink = sink

    def emit(self, record):
        try:
            msg = self.format(record)
            if msg.endswith("\n"):
                msg = msg[:-1]
            self.sink.write_record(msg.replace("\r\n", "\r").replace("\n", "\r") + "\n")
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


_TEXT_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"

# LogRecord attributes that are not "extra" fields of a JSON record.
_RESERVED = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "aws_request_id", "tenant_id", "taskName"}
)


def _json_default(o):
    return str(o)


class JsonFormatter(logging.Formatter):
    """Lambda's JSON log records."""

    def format(self, record):
        levelno = min(50, max(0, record.levelno)) // 10 * 10
        result = {
            "timestamp": timestamp(record.created),
            "level": logging.getLevelName(levelno),
            "message": record.getMessage(),
            "logger": record.name,
        }
        if record.exc_info:
            etype, value, tb = record.exc_info
            result["stackTrace"] = traceback.format_tb(tb)
            result["errorType"] = etype.__name__ if etype else None
            result["errorMessage"] = str(value)
        result["requestId"] = getattr(record, "aws_request_id", None)
        if record.exc_info:
            result["location"] = "%s:%s:%s" % (record.pathname, record.funcName, record.lineno)
        for k, v in record.__dict__.items():
            if k not in _RESERVED and k not in result:
                result[k] = v
        result = {k: v for k, v in result.items() if v is not None}
        return json.dumps(result, ensure_ascii=False, default=_json_default) + "\n"


def setup():
    """Replaces sys.stdout and sys.stderr and installs the root handler;
    returns the stdout writer, where the runtime writes its own records."""
    global _JSON
    _JSON = os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    level = {"TRACE": "DEBUG", "WARN": "WARNING", "FATAL": "CRITICAL"}.get(level, level)

    out = TaggedStream(1, sys.stdout, "<stdout>")
    sys.stdout = out
    sys.stderr = TaggedStream(2, sys.stderr, "<stderr>")

    logging.Formatter.converter = time.gmtime  # as Lambda's runtime does
    handler = LambdaLoggerHandler(out)
    handler.setFormatter(JsonFormatter() if _JSON else logging.Formatter(_TEXT_FORMAT, _DATE_FORMAT))
    handler.addFilter(_RequestIDFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    if level and isinstance(logging.getLevelName(level), int):
        root.setLevel(level)
    return out


def log_error(sink, doc):
    """Logs an error document the way Lambda's runtime does before it
    reports the error."""
    if _JSON:
        from updraft_ric_json import dumps

        rec = {"timestamp": time.strftime(_DATE_FORMAT, time.gmtime()), "level": "ERROR"}
        rec.update(doc)
        sink.write_record(dumps(rec, ensure_ascii=False) + "\n")
        return
    desc = "[ERROR]"
    if doc.get("errorType"):
        desc += " " + doc["errorType"]
    if doc.get("errorMessage"):
        if doc.get("errorType"):
            desc += ":"
        desc += " " + doc["errorMessage"]
    lines = [desc]
    trace = doc.get("stackTrace")
    if trace is not None:
        lines.append("Traceback (most recent call last):")
        for element in trace:
            if element == "":
                lines.append("")
                continue
            for line in element.splitlines():
                stripped = line.lstrip(" ")
                lines.append(_NBSP * (len(line) - len(stripped)) + stripped)
    sink.write_record("\r".join(lines).replace("\n", "\r") + "\n")
