"""Error documents as Lambda's Python runtime writes them.

An error the function raises becomes the body of POST /error:

    {"errorMessage": str(e), "errorType": type(e).__name__,
     "requestId": "<id>", "stackTrace": ["  File \\"/var/task/app.py\\", line 5, in handler\\n    raise E()\\n"]}

in that key order, the frames formatted by traceback.format_list from
(file, line, function, code) tuples, so without the column carets Python
3.11 would add, and without the runtime's own frames. Failures the runtime
detects itself (a handler it cannot import, a result it cannot encode)
carry Lambda's Runtime.* types.
"""

import os
import traceback

MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))


class FaultError(Exception):
    """A failure the runtime reports with one of Lambda's Runtime.* types."""

    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


def document(message, error_type, stack_trace, request_id=None):
    """Lambda's error document (a dict in Lambda's key order)."""
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace or [],
    }


def fault_document(fault, request_id=None):
    return document(fault.message, fault.error_type, fault.trace, request_id)


def exception_document(exc, request_id=None):
    """The document for an exception raised by the function's code."""
    try:
        message = str(exc)
    except Exception:
        message = "<exception str() failed>"
    return document(message, type(exc).__name__, format_frames(exc.__traceback__), request_id)


def format_frames(tb):
    """The frames of tb from the first that is not the runtime's own."""
    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    for i, f in enumerate(frames):
        if os.path.dirname(f[0]) != _RUNTIME_DIR:
            frames = frames[i:]
            break
    return traceback.format_list(frames)


def syntax_error_trace(e):
    """Lambda's one-element trace of a SyntaxError in the function's code."""
    return ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
