from pkg import helper


def handler(event, context):
    return {"where": __name__, "helper": helper.greet(event.get("name", "world"))}
