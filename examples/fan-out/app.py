"""Fan out, fan in: the functions of examples/fan-out/workflow.json.

prepare makes the work items, compute runs once per item (the Map state
calls it at most MaxConcurrency at a time), aggregate receives every
result, in item order, once all are done. Nothing waits in between: the
workflow's state lives in the server's store, not in a running function.
"""
import time


def prepare(event, context):
    count = int(event.get("count", 10))
    return {"items": [{"id": i, "value": i} for i in range(count)]}


def compute(event, context):
    # Stand-in for real work (an API call, a model, a query).
    time.sleep(float(event.get("work_seconds", 0.1)))
    return {"id": event["id"], "square": event["value"] * event["value"]}


def aggregate(event, context):
    results = event["results"]
    return {
        "items": len(results),
        "total": sum(r["square"] for r in results),
        "in_order": [r["id"] for r in results] == list(range(len(results))),
    }
