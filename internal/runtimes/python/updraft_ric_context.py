"""The context object handed to the handler, shaped like Lambda's.

Attributes as in "AWS Lambda context object in Python" (python-context.html)
and Lambda's runtime: memory_limit_in_mb is the environment variable's
text ("128"), as on Lambda; identity is always an object (its fields None
without a Cognito identity); client_context is None unless the caller sent
one, else an object with .client (an object with installation_id,
app_title, app_version_name, app_version_code, app_package_name), .custom
and .env.
"""

import json
import os
import sys
import time

from updraft_ric_errors import CONTEXT_UNMARSHAL_ERROR, FaultError


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, identity_id=None, pool_id=None):
        self.cognito_identity_id = identity_id
        self.cognito_identity_pool_id = pool_id

    def __repr__(self):
        return "CognitoIdentity([cognito_identity_id=%s,cognito_identity_pool_id=%s])" % (
            self.cognito_identity_id,
            self.cognito_identity_pool_id,
        )


class Client:
    __slots__ = ("installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name")

    def __repr__(self):
        return "Client([%s])" % ",".join("%s=%s" % (k, getattr(self, k)) for k in self.__slots__)


class ClientContext:
    __slots__ = ("custom", "env", "client")

    def __repr__(self):
        return "ClientContext([custom=%s,env=%s,client=%s])" % (self.custom, self.env, self.client)


def _from_dict(cls, d):
    if d is None:
        return None
    if not isinstance(d, dict):
        d = {}
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, d.get(field))
    return obj


def _parse_json(header, what):
    try:
        return json.loads(header)
    except Exception as e:
        raise FaultError(CONTEXT_UNMARSHAL_ERROR, "Unable to parse %s JSON: %s" % (what, e)) from None


class _Static:
    """Per-environment values, read once."""

    def __init__(self):
        env = os.environ
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")


_static = None


class LambdaContext:
    """The handler's second argument."""

    def __init__(self, invocation):
        global _static
        if _static is None:
            _static = _Static()
        s = _static
        self.aws_request_id = invocation.request_id
        self.log_group_name = s.log_group_name
        self.log_stream_name = s.log_stream_name
        self.function_name = s.function_name
        self.memory_limit_in_mb = s.memory_limit_in_mb
        self.function_version = s.function_version
        self.invoked_function_arn = invocation.invoked_function_arn
        self.tenant_id = invocation.tenant_id
        self._deadline_ms = invocation.deadline_ms

        self.client_context = None
        if invocation.client_context:
            cc = _parse_json(invocation.client_context, "Client Context")
            self.client_context = _from_dict(ClientContext, cc)
            if self.client_context is not None:
                self.client_context.client = _from_dict(Client, self.client_context.client)

        self.identity = CognitoIdentity()
        if invocation.cognito_identity:
            ci = _parse_json(invocation.cognito_identity, "Cognito Identity")
            if isinstance(ci, dict):
                self.identity.cognito_identity_id = ci.get("cognitoIdentityId")
                self.identity.cognito_identity_pool_id = ci.get("cognitoIdentityPoolId")

    def get_remaining_time_in_millis(self):
        left = self._deadline_ms - int(time.time() * 1000)
        return left if left > 0 else 0

    def log(self, msg):
        """Writes msg to the function's log as is (no newline added)."""
        sys.stdout.write(str(msg))

    def __repr__(self):
        return (
            "LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,"
            "memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s,client_context=%s,"
            "identity=%s,tenant_id=%s])"
            % (
                self.aws_request_id,
                self.log_group_name,
                self.log_stream_name,
                self.function_name,
                self.memory_limit_in_mb,
                self.function_version,
                self.invoked_function_arn,
                self.client_context,
                self.identity,
                self.tenant_id,
            )
        )
