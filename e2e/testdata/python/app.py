"""The python3.* end-to-end test function: the event's "action" picks what
it does; the default reports what the runtime gave it."""

import datetime
import decimal
import logging
import os
import sys

logger = logging.getLogger()
COUNT = 0
print("app module loaded")


class OrderError(Exception):
    pass


def handler(event, context):
    global COUNT
    COUNT += 1
    action = event.get("action", "context") if isinstance(event, dict) else "echo"
    if action == "echo":
        return event
    if action == "raise":
        raise OrderError("order %s is out of stock" % event.get("order"))
    if action == "datetime":
        return {"at": datetime.datetime(2024, 1, 1)}
    if action == "decimal":
        return {"price": decimal.Decimal("19.990"), "qty": decimal.Decimal("3"), "s": "été"}
    if action == "none":
        return None
    if action == "exit":
        sys.exit(3)
    if action == "basicconfig":
        # The well-known Lambda trait: the runtime's handler is already on
        # the root logger, so basicConfig does nothing.
        logging.basicConfig(level=logging.INFO, format="%(asctime)s - %(levelname)s - %(message)s")
        logging.info("hello world")
        return {"root_level": logging.getLevelName(logging.getLogger().level)}

    print("print from handler", event.get("tag"))
    print("two\nlines")
    logger.info("info from handler\nsecond line of the record")
    logger.debug("debug from handler")
    logger.warning("warning from handler")
    identity = context.identity
    cc = context.client_context
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "identity": [identity.cognito_identity_id, identity.cognito_identity_pool_id],
        "client_context": None if cc is None else {"custom": cc.custom, "env": cc.env,
                                                    "installation_id": cc.client and cc.client.installation_id},
        "trace_id": os.environ.get("_X_AMZN_TRACE_ID"),
        "env_stream": os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME"),
        "count": COUNT,
        "pid": os.getpid(),
        "uid": os.getuid(),
        "cwd": os.getcwd(),
        "sys_path0": sys.path[0],
        "event": event,
    }
