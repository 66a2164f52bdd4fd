"""JSON for events and results, as Lambda's Python runtime writes it.

Lambda's runtime encodes results with simplejson: decimal.Decimal values
(what boto3 returns for DynamoDB numbers) are written as the number they
hold, digit for digit, NaN as NaN; anything else json cannot encode (a
datetime, a set, a coroutine) fails the invocation with
Runtime.MarshalError "Unable to marshal response: Object of type datetime
is not JSON serializable". From python3.12 on it writes non-ASCII
characters as they are rather than as \\u escapes.

The standard library's C encoder cannot write a Decimal's own digits, so
a result is first encoded by it with a default that gives up on the first
Decimal; only then is it encoded again by json's pure-Python encoder,
whose float formatting can be replaced. Results without Decimals pay
nothing for this.
"""

import json
import json.encoder
import math
import os
import re
import sys

from updraft_ric_errors import MARSHAL_ERROR, UNMARSHAL_ERROR, FaultError


def _ensure_ascii_for(execution_env):
    m = re.fullmatch(r"AWS_Lambda_python3\.(\d+)", execution_env)
    return not (m and int(m.group(1)) >= 12)


# Read when a result is encoded, not at import: a runtime template imports
# this module before it is handed its function's environment.
_ascii_for_env = ("", _ensure_ascii_for(""))


def _ensure_ascii():
    global _ascii_for_env
    env = os.environ.get("AWS_EXECUTION_ENV", "")
    if _ascii_for_env[0] != env:
        _ascii_for_env = (env, _ensure_ascii_for(env))
    return _ascii_for_env[1]


class _DecimalNumber(float):
    """A Decimal on its way through the pure-Python encoder; text holds its
    digits."""


class _FoundDecimal(Exception):
    pass


def _not_serializable(o):
    raise TypeError("Object of type %s is not JSON serializable" % o.__class__.__name__)


def _is_decimal(o):
    # No Decimal exists unless the function imported decimal: the runtime
    # does not import it itself, for cold starts.
    d = sys.modules.get("decimal")
    return d is not None and isinstance(o, d.Decimal)


def _probe_default(o):
    if _is_decimal(o):
        raise _FoundDecimal
    _not_serializable(o)


def _decimal_default(o):
    if _is_decimal(o):
        if o.is_nan():
            return math.nan
        n = _DecimalNumber(o)
        n.text = str(o)
        return n
    _not_serializable(o)


def _float_text(o, _repr=float.__repr__, _inf=math.inf):
    if o.__class__ is _DecimalNumber:
        return o.text
    if o != o:
        return "NaN"
    if o == _inf:
        return "Infinity"
    if o == -_inf:
        return "-Infinity"
    return _repr(o)


# Built once: json.dumps with arguments builds an encoder per call.
_ENCODERS = {
    True: json.JSONEncoder(ensure_ascii=True, default=_probe_default),
    False: json.JSONEncoder(ensure_ascii=False, default=_probe_default),
}


def dumps(obj, ensure_ascii=None):
    """Encodes obj like Lambda's runtime; raises TypeError, ValueError or
    RecursionError when it cannot."""
    if ensure_ascii is None:
        ensure_ascii = _ensure_ascii()
    try:
        return _ENCODERS[ensure_ascii].encode(obj)
    except _FoundDecimal:
        pass
    make = getattr(json.encoder, "_make_iterencode", None)
    if make is None:  # not expected; floats are close enough then
        return json.dumps(obj, ensure_ascii=ensure_ascii, default=lambda o: float(_decimal_default(o)))
    encode = json.encoder.py_encode_basestring_ascii if ensure_ascii else json.encoder.py_encode_basestring
    it = make({}, _decimal_default, encode, None, _float_text, ": ", ", ", False, False, True)
    return "".join(it(obj, 0))


def to_bytes(text):
    # A lone surrogate can only sit inside a JSON string, where
    # backslashreplace writes it as the valid escape \udXXX.
    return text.encode("utf-8", "backslashreplace")


def unmarshal(body, content_type):
    """The handler's event: the JSON body decoded, or the body itself when
    it is not declared JSON."""
    if content_type and not content_type.startswith("application/json"):
        return body
    try:
        return json.loads(body)
    except Exception as e:
        raise FaultError(UNMARSHAL_ERROR, "Unable to unmarshal input: %s" % e) from None


def marshal(result):
    """The handler's result as (body bytes, content type)."""
    if isinstance(result, bytes):
        return result, "application/unknown"
    try:
        return to_bytes(dumps(result)), "application/json"
    except Exception as e:
        raise FaultError(MARSHAL_ERROR, "Unable to marshal response: %s" % e) from None
