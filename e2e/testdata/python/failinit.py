raise ValueError("configuration is missing")


def handler(event, context):
    return 1
