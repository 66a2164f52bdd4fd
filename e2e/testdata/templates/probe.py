"""The probe of TestRuntimeTemplates: what a function can see of its
process, reported so that a runtime started from a template can be
compared with one started anew."""

import builtins
import json
import os
import random
import resource
import socket
import sys
import time

COUNT = 0
# Imported at the function's init, where a leaked module attribute would
# show.
LEAKED_AT_INIT = getattr(json, "UPDRAFT_LEAK", None)

STATUS_FIELDS = ("Uid", "Gid", "Groups", "NoNewPrivs", "Seccomp", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "Cpus_allowed_list")


def _status():
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in STATUS_FIELDS:
                out[k] = v.strip()
    return out


def _tmp_writable():
    p = "/tmp/probe-%d" % os.getpid()
    with open(p, "w") as f:
        f.write("x")
    os.remove(p)
    return True


def handler(event, context):
    global COUNT
    COUNT += 1
    action = event.get("action")
    if action == "leak":
        v = event["value"]
        builtins.UPDRAFT_LEAK = v
        json.UPDRAFT_LEAK = v
        os.environ["UPDRAFT_LEAK"] = v
        with open("/tmp/updraft-leak", "w") as f:
            f.write(v)
        with open("/dev/shm/updraft-leak", "w") as f:
            f.write(v)
        return "ok"
    if action == "peek":
        seen = {
            "builtins": getattr(builtins, "UPDRAFT_LEAK", None),
            "module": getattr(json, "UPDRAFT_LEAK", None),
            "module_at_init": LEAKED_AT_INIT,
            "environ": os.environ.get("UPDRAFT_LEAK"),
        }
        for name, path in (("tmp", "/tmp/updraft-leak"), ("shm", "/dev/shm/updraft-leak")):
            try:
                with open(path) as f:
                    seen[name] = f.read()
            except OSError:
                seen[name] = None
        return seen
    if action == "alloc":
        b = b"x" * (event["mb"] << 20)
        return len(b)
    if action == "fill":
        # One MiB at a time, saying how far it got, until the memory
        # limit stops it.
        held = []
        for n in range(1, event["mb"] + 1):
            held.append(b"x" * (1 << 20))
            print("filled %d MiB" % n, flush=True)
        return len(held)
    return {
        "count": COUNT,
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "cwd": os.getcwd(),
        "environ": dict(os.environ),
        "argv": sys.argv,
        "orig_argv": sys.orig_argv,
        "path": sys.path,
        "flags": str(sys.flags),
        "executable": sys.executable,
        "tmp": sorted(os.listdir("/tmp")),
        "tmp_writable": _tmp_writable(),
        "hostname": socket.gethostname(),
        "status": _status(),
        "fds": sorted(os.listdir("/proc/self/fd")),
        "tzname": list(time.tzname),
        "encodings": [sys.getfilesystemencoding(), sys.stdout.encoding, sys.stderr.encoding],
        "nofile": list(resource.getrlimit(resource.RLIMIT_NOFILE)),
        "random": random.random(),
        "handler_module": __name__,
        # uuid is imported by neither the runtime client nor this probe,
        # only ahead by a runtime template (a difference Lambda's
        # runtime has too: modules its client imported).
        "preloaded": "uuid" in sys.modules,
        "remaining_ok": 0 < context.get_remaining_time_in_millis() <= 10000,
        "function_name": context.function_name,
        "memory": context.memory_limit_in_mb,
    }
