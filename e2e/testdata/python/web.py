"""An API Gateway proxy handler for the HTTP proxy end-to-end test: it
returns a dict, as Python handlers written for API Gateway do."""

import base64
import json


def handler(event, context):
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("latin-1")
    return {
        "statusCode": 418,
        "headers": {"Content-Type": "text/plain", "X-Runtime": "python"},
        "body": "%s %s q=%s body=%s" % (
            event["httpMethod"],
            event["path"],
            (event.get("queryStringParameters") or {}).get("q"),
            body,
        ),
    }
