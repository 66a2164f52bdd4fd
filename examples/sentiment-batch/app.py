"""Sentiment scoring for a data warehouse's asynchronous external function.

The warehouse POSTs batches of rows to updraft's async batch endpoint and
polls it with GET until the result is ready; updraft queues the batch, runs
this function with the batch as its event, keeps the result and hands it to
the poll. So, unlike the three-handler sample this replaces, the function
only transforms rows: no state table, no POST or GET handlers.

Event:  {"data": [[0, "I love this"], [1, "terrible service"], ...]}
Result: {"data": [[0, "Positive"], [1, "Negative"], ...]}

Each text is scored with a small built-in word list (no outside service):
Positive, Negative, Mixed (both kinds of words) or Neutral (neither).

Deploy, then point the warehouse (or curl) at
http://HOST:9321/updraft/v1/async/sentiment:

    updraft function create sentiment --runtime python3.12 --handler app.handler --code examples/sentiment-batch
"""
import re

POSITIVE = frozenset("""
    good great excellent love loved lovely like liked happy glad wonderful
    amazing awesome fantastic best nice pleasant perfect superb delighted
    enjoy enjoyed recommend helpful fast friendly beautiful brilliant
""".split())

NEGATIVE = frozenset("""
    bad terrible awful hate hated poor worst horrible sad angry slow broken
    disappointing disappointed rude useless ugly annoying problem problems
    fail failed failure refund late dirty wrong never
""".split())

WORD = re.compile(r"[a-z']+")


def score(text):
    """Returns Positive, Negative, Mixed or Neutral for one text."""
    words = set(WORD.findall(str(text or "").lower()))
    pos, neg = bool(words & POSITIVE), bool(words & NEGATIVE)
    if pos and neg:
        return "Mixed"
    if pos:
        return "Positive"
    if neg:
        return "Negative"
    return "Neutral"


def handler(event, context):
    rows = event.get("data") if isinstance(event, dict) else None
    if not isinstance(rows, list):
        raise ValueError('expected {"data": [[row_number, text], ...]}')
    # One output row per input row, in order, with the same row number.
    return {"data": [[row[0], score(row[1] if len(row) > 1 else None)] for row in rows]}
