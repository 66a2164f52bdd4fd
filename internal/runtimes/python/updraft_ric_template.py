"""Runtime template mode ("stem") of updraft's Python runtime.

updraft keeps this interpreter started inside a pre-started sandbox
before any function is assigned to it: the interpreter's start-up, this
runtime client and the standard-library modules most handlers import
first are paid ahead, not in a cold start. When a function is assigned,
the sandbox init has mounted its code (/var/task), layers (/opt) and
/tmp, moved this process into the function's cgroup and CPU set, and
sends one packet on the descriptor UPDRAFT_TEMPLATE_FD: {"env": [...]},
the function's complete environment, with its stdout and stderr
attached. serve() then makes the process what `python3 -u -X utf8
bootstrap.py` started with that environment would be, and returns; the
bootstrap continues exactly as in a fresh start (logging set-up, the
init phase with its errors, the invoke loop).

Where it cannot be exactly that, it re-executes the interpreter with the
function's environment (the same process, as a fresh start): when a
variable the interpreter reads at start-up differs from those the
template was started with (PYTHON*, LANG, LC_*, TZ, LD_*, HOME, ...), when the function's code or
layers hold a module named like one imported here ahead (it would have
shadowed it), or when the user site directory exists.

What differs from a fresh start, as Lambda documents for SnapStart: the
process started earlier (its start time and CPU time include the
template's start-up), /proc/self/environ and /proc/self/cmdline show the
template's start-up environment, and the modules below are in
sys.modules before the handler is imported (as Lambda's own runtime
client imports many). Nothing is shared with another environment: each
template is its own interpreter with its own hash secret and address
layout, used once. random is reseeded anyway, so its state does not
predate the assignment.
"""

import importlib
import json
import os
import socket
import sys
import time

# Ahead of need: the runtime client and its modules, and the standard
# library most handlers start with. Third-party packages (boto3) are not
# imported: the function's own copy must win.
import updraft_ric  # noqa: F401
import base64  # noqa: F401
import collections  # noqa: F401
import datetime  # noqa: F401
import decimal  # noqa: F401
import hashlib  # noqa: F401
import logging  # noqa: F401
import random
import typing  # noqa: F401
import urllib.parse  # noqa: F401
import uuid  # noqa: F401

FD_ENV = "UPDRAFT_TEMPLATE_FD"

# Variables the interpreter (or the C library under it) reads at start-up
# only: a function whose value differs needs a fresh interpreter.
_STARTUP_NAMES = ("LANG", "LANGUAGE", "TZ", "HOME", "GLIBC_TUNABLES")
_STARTUP_PREFIXES = ("PYTHON", "LC_", "LD_", "MALLOC_")


def _startup_variable(name):
    return name in _STARTUP_NAMES or name.startswith(_STARTUP_PREFIXES)


def _top_level_names(directory):
    """The top-level module names a directory on sys.path provides."""
    try:
        entries = os.listdir(directory)
    except OSError:
        return set()
    return {e.split(".", 1)[0] for e in entries}


def _startup_environ():
    """The environment the interpreter was started with (os.environ may
    have more: the locale coercion of PEP 538 sets LC_CTYPE)."""
    with open("/proc/self/environ", "rb") as f:
        entries = f.read().split(b"\0")
    env = {}
    for e in entries:
        if e:
            k, _, v = os.fsdecode(e).partition("=")
            env[k] = v
    return env


def _needs_fresh_start(env, started_with, startup_modules):
    for name in set(env) | set(started_with):
        if _startup_variable(name) and env.get(name) != started_with.get(name):
            return "start-up variable %s differs" % name
    ours = {m.split(".", 1)[0] for m in sys.modules if m not in startup_modules}
    runtime_dir = os.path.dirname(os.path.abspath(__file__))
    for d in env.get("PYTHONPATH", "").split(":"):
        if d and os.path.abspath(d) != runtime_dir:
            clash = ours & _top_level_names(d)
            if clash:
                return "%s in %s" % (sorted(clash)[0], d)
    import site

    if site.ENABLE_USER_SITE and os.path.isdir(site.getusersitepackages()):
        return "user site directory"
    return None


def _receive(fd):
    sock = socket.socket(fileno=fd)
    try:
        sock.send(b"ready")
        msg, fds, _, _ = socket.recv_fds(sock, 1 << 20, 2)
    finally:
        sock.close()
    if not msg or len(fds) != 2:
        # The sandbox was discarded before use.
        os._exit(0)
    return json.loads(msg)["env"], fds


def serve(startup_modules):
    """Waits for the assignment and applies it; returns as a fresh start
    would be at this point, or re-executes the interpreter."""
    fd = int(os.environ[FD_ENV])
    env_list, fds = _receive(fd)
    os.dup2(fds[0], 1)
    os.dup2(fds[1], 2)
    for f in fds:
        os.close(f)
    env = {}
    for kv in env_list:
        k, _, v = kv.partition("=")
        env[k] = v
    started_with = _startup_environ()
    why = _needs_fresh_start(env, started_with, startup_modules)
    os.chdir(env.get("LAMBDA_TASK_ROOT") or "/var/task")
    if why is not None:
        os.execve(sys.executable, sys.orig_argv, env)
    # What the interpreter itself added at start-up, from the same start-up
    # variables, a fresh start would add too.
    added = {k: v for k, v in os.environ.items() if k not in started_with and k not in env}
    os.environ.clear()
    os.environ.update(env)
    os.environ.update(added)
    time.tzset()
    # The code and layers were mounted after the interpreter looked at
    # those directories.
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()
    random.seed()
