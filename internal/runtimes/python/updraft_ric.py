"""updraft's runtime interface client for python3.* functions.

Written for updraft with the standard library only; it behaves like
Lambda's Python runtime (awslambdaric):

Init. The handler "module.function" (also "pkg.sub.mod.function", and
"dir/mod.function") is imported once per environment from LAMBDA_TASK_ROOT,
so module-level code runs once. When that fails, the runtime logs the
error, posts it to /runtime/init/error and exits 1:

  - no "." in the handler: Runtime.MalformedHandlerName "Bad handler 'h': ...";
  - a module named like a built-in one: Runtime.BuiltInModuleConflict;
  - ImportError: Runtime.ImportModuleError "Unable to import module 'm': No module named 'm'";
  - SyntaxError: Runtime.UserCodeSyntaxError "Syntax error in module 'm': ...";
  - no such attribute: Runtime.HandlerNotFound "Handler 'h' missing on module 'm'";
  - any other exception: its own type, message and stack trace.

Invocations. Each GET /next gives an event (the JSON body decoded) and a
context (updraft_ric_context); _X_AMZN_TRACE_ID is set from the trace
header. The handler's result is posted to /response as JSON
(updraft_ric_json; bytes are posted as they are); an exception it raises
is logged and posted to /error as Lambda's error document
(updraft_ric_errors). SystemExit and KeyboardInterrupt are not caught: a
handler that exits, or crashes the interpreter, ends the process, and
updraft reports Runtime.ExitError. Logging: updraft_ric_log.

AWS SDK. boto3 is not shipped here: the host's (Debian's python3-boto3)
is found on the interpreter's own path, after the function's code and
layers, so a function's own copy wins. updraft_ric_endpoints makes a
botocore too old for AWS_ENDPOINT_URL honour it.
"""

import importlib
import os
import sys

import updraft_ric_endpoints as endpoints
import updraft_ric_errors as errors
import updraft_ric_json as rjson
import updraft_ric_log as rlog
from updraft_ric_api import RuntimeAPIError, RuntimeClient
from updraft_ric_context import LambdaContext

_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))


def _fix_sys_path():
    """Puts the function's code first and the runtime's directory last, so
    that, as on Lambda, the function's modules win and ours hide none."""
    task = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != _RUNTIME_DIR]
    if task in sys.path:
        sys.path.remove(task)
    sys.path.insert(0, task)
    sys.path.append(_RUNTIME_DIR)


def load_handler(handler):
    """Imports the handler's module and returns the handler; raises
    FaultError with Lambda's type, or whatever the module's code raised."""
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise errors.FaultError(errors.MALFORMED_HANDLER_NAME, "Bad handler '%s': %s" % (handler, e)) from None
    if modname.split(".")[0] in sys.builtin_module_names:
        raise errors.FaultError(
            errors.BUILT_IN_MODULE_CONFLICT, "Cannot use built-in module %s as a handler module" % modname
        )
    try:
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise errors.FaultError(
            errors.IMPORT_MODULE_ERROR, "Unable to import module '%s': %s" % (modname, e)
        ) from None
    except SyntaxError as e:
        raise errors.FaultError(
            errors.USER_CODE_SYNTAX_ERROR,
            "Syntax error in module '%s': %s" % (modname, e),
            errors.syntax_error_trace(e),
        ) from None
    try:
        return getattr(module, fname)
    except AttributeError:
        raise errors.FaultError(
            errors.HANDLER_NOT_FOUND, "Handler '%s' missing on module '%s'" % (fname, modname)
        ) from None


def _init(api, sink):
    """Returns the handler, or reports the init error and exits."""
    try:
        return load_handler(os.environ.get("_HANDLER", ""))
    except errors.FaultError as e:
        doc = errors.fault_document(e)
    except Exception as e:
        doc = errors.exception_document(e)
    rlog.log_error(sink, doc)
    api.post_init_error(rjson.to_bytes(rjson.dumps(doc)), doc["errorType"])
    sys.exit(1)


def _invoke(api, sink, handler, inv):
    """Runs one invocation and posts its outcome."""
    rid = inv.request_id
    rlog.begin(rid)
    if inv.trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = inv.trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    doc = None
    try:
        context = LambdaContext(inv)
        event = rjson.unmarshal(inv.body, inv.content_type)
        body, content_type = rjson.marshal(handler(event, context))
    except errors.FaultError as e:
        doc = errors.fault_document(e, rid)
    except Exception as e:
        doc = errors.exception_document(e, rid)
    if doc is None:
        rlog.end()
        api.post_response(rid, body, content_type)
        return
    rlog.log_error(sink, doc)
    rlog.end()
    api.post_error(rid, rjson.to_bytes(rjson.dumps(doc)))


def main():
    sink = rlog.setup()
    api = RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
    _fix_sys_path()
    endpoints.install()
    try:
        handler = _init(api, sink)
        while True:
            _invoke(api, sink, handler, api.next())
    except (RuntimeAPIError, ConnectionError) as e:
        # The environment is going away (or the protocol broke): one line
        # in the log rather than the runtime's own traceback.
        rlog.end()
        sys.stderr.write("updraft runtime: %s: %s\n" % (type(e).__name__, e))
        sys.exit(1)
