"""A DynamoDB Streams consumer for e2e/dynamodb_stream_test.go: prints one
line per successful batch; a record whose new image has "poison" fails the
batch."""


def handler(event, context):
    out = []
    for r in event["Records"]:
        d = r["dynamodb"]
        new = d.get("NewImage", {})
        if "poison" in new:
            raise Exception("poisoned record " + d["Keys"]["pk"]["S"])
        old = d.get("OldImage", {})
        out.append("%s:%s:%s:%s:%s" % (d["Keys"]["pk"]["S"], r["eventName"], old.get("v", {}).get("N"),
                                       new.get("v", {}).get("N"), r["eventSource"]))
    print("BATCH " + " ".join(out))
