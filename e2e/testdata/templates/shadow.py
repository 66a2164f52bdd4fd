import uuid


def handler(event, context):
    return getattr(uuid, "MARK", "the standard library's uuid")
