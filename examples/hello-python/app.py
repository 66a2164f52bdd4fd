"""The smallest Python function: the same greeting as examples/hello-go.

Deploy and invoke:

    updraft function create hello-py --runtime python3.12 --handler app.handler --code examples/hello-python
    updraft invoke hello-py --payload '{"name":"Ada"}' --log
"""
import logging

logger = logging.getLogger()


def handler(event, context):
    name = (event or {}).get("name") or "world"
    logger.info("greeting %s", name)
    return {"message": f"Hello, {name}!", "requestId": context.aws_request_id}
