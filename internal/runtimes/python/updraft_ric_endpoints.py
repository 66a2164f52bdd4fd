"""AWS_ENDPOINT_URL for a botocore that predates it.

updraft sets AWS_ENDPOINT_URL in every function's environment to its own
address as the function sees it, so that an AWS SDK inside the function
calls updraft. botocore honours that variable (and the per-service
AWS_ENDPOINT_URL_<SERVICE>, e.g. AWS_ENDPOINT_URL_DYNAMODB) from 1.31 on;
the boto3 that Debian ships (python3-boto3, botocore 1.29) does not, and
would call the real AWS.

install() adds an import hook that waits for botocore.session to be
imported (by the function, so a function that never imports boto3 pays
nothing) and then, only when that botocore lacks the setting (its
session variables have no "ignore_configured_endpoint_urls"), wraps
Session.create_client: a client created without an endpoint_url gets
AWS_ENDPOINT_URL_<SERVICE ID> or else AWS_ENDPOINT_URL, as a current
botocore would choose it (the service id upper-cased with spaces as
underscores; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true turns both off).
An endpoint_url the code passes wins. A function that ships its own,
newer botocore is left alone.
"""

import functools
import importlib.abc
import inspect
import os
import sys

_TARGET = "botocore.session"


def configured():
    """Whether the environment names an endpoint for the SDK to use."""
    if os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").strip().lower() == "true":
        return False
    return any(k == "AWS_ENDPOINT_URL" or k.startswith("AWS_ENDPOINT_URL_") for k in os.environ)


def endpoint_for(service_id):
    """The endpoint URL the environment gives service_id ("DynamoDB",
    "Lambda", "SFN"...), or None."""
    if os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").strip().lower() == "true":
        return None
    name = "AWS_ENDPOINT_URL_" + service_id.replace(" ", "_").upper()
    return os.environ.get(name) or os.environ.get("AWS_ENDPOINT_URL") or None


def supports_endpoint_env(configprovider):
    """Whether a botocore (its configprovider module) reads
    AWS_ENDPOINT_URL itself."""
    variables = getattr(configprovider, "BOTOCORE_DEFAUT_SESSION_VARIABLES", {})
    return "ignore_configured_endpoint_urls" in variables


def patch(session_module):
    """Makes session_module.Session.create_client default endpoint_url
    from the environment, unless this botocore does so already."""
    configprovider = sys.modules.get("botocore.configprovider")
    if configprovider is None or supports_endpoint_env(configprovider):
        return
    session_class = session_module.Session
    original = session_class.create_client
    if getattr(original, "_updraft_endpoint", False):
        return
    signature = inspect.signature(original)

    @functools.wraps(original)
    def create_client(*args, **kwargs):
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError:
            return original(*args, **kwargs)
        if bound.arguments.get("endpoint_url") is None:
            session = bound.arguments["self"]
            service = bound.arguments["service_name"]
            try:
                service_id = session.get_service_model(service, bound.arguments.get("api_version")).service_id
            except Exception:
                # An unknown service: let botocore raise its own error.
                return original(*args, **kwargs)
            url = endpoint_for(str(service_id))
            if url:
                bound.arguments["endpoint_url"] = url
        return original(*bound.args, **bound.kwargs)

    create_client._updraft_endpoint = True
    session_class.create_client = create_client


class _Loader(importlib.abc.Loader):
    """Runs the real loader of botocore.session, then patches it."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        patch(module)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds botocore.session with the other finders and hands back its
    spec with a patching loader; finds nothing else."""

    def find_spec(self, name, path, target=None):
        if name != _TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _Loader(spec.loader)
        return spec


def install():
    """Installs the hook when an endpoint is configured (patching at once
    if botocore.session is already imported)."""
    if not configured():
        return
    if _TARGET in sys.modules:
        patch(sys.modules[_TARGET])
        return
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
