"""Functions of the workflow end-to-end tests (e2e/sfn_test.go)."""
import time


class Flaky(Exception):
    """The error the flaky function raises, caught by name in Retry."""


def prepare(event, context):
    # The seed's main process: make the items to fan out over.
    return {"items": [{"n": i} for i in range(event["count"])]}


def square(event, context):
    time.sleep(event.get("sleep", 0))
    return {"n": event["n"], "sq": event["n"] * event["n"]}


def aggregate(event, context):
    # The final task: gather every result, in order.
    values = [r["sq"] for r in event["results"]]
    return {"count": len(values), "sum": sum(values), "ns": [r["n"] for r in event["results"]]}


def flaky(event, context):
    raise Flaky("attempt failed for " + context.aws_request_id)


def handoff(event, context):
    # A .waitForTaskToken task: the token travels on; someone else answers.
    return {"received": event["token"][:8]}
