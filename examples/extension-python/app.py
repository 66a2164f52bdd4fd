"""Work after the response, with an internal extension.

The handler answers at once and leaves the slow part (here: writing an
audit line) to an extension thread registered from the function's own
process through the Extensions API. updraft, like Lambda, keeps the
environment busy - not frozen, not reused - until that extension has
called /extension/event/next again, so the work finishes after the
caller got its answer and before the next invocation starts.

    updraft function create audited --runtime python3.12 --handler app.handler --code examples/extension-python
    updraft invoke audited --payload '{"order": 42}'
    updraft logs audited    # "audit: order 42 recorded" appears after the REPORT of that call
"""
import json
import os
import queue
import threading
import time
import urllib.request

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2020-01-01/extension"
pending = queue.Queue()


def _request(path, data=None, headers=None):
    req = urllib.request.Request(API + path, data=data, headers=headers or {}, method="POST" if data is not None else "GET")
    return urllib.request.urlopen(req)


def _register():
    """Registers during init: the runtime has not asked for its first
    event yet, which is the only time Lambda accepts a registration."""
    resp = _request("/register", json.dumps({"events": ["INVOKE"]}).encode(),
                    {"Lambda-Extension-Name": "audit-writer"})
    return resp.headers["Lambda-Extension-Identifier"]


def _extension(ident):
    while True:
        # Blocks until the next invocation: by then the previous one's work
        # below is done, which is what keeps it inside that invocation.
        _request("/event/next", headers={"Lambda-Extension-Identifier": ident}).read()
        item = pending.get()
        time.sleep(0.2)  # the slow part the caller does not wait for
        print(f"audit: order {item} recorded", flush=True)


threading.Thread(target=_extension, args=(_register(),), daemon=True).start()


def handler(event, context):
    order = event.get("order")
    pending.put(order)
    return {"accepted": order}
