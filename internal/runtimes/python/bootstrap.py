"""Entry point of updraft's Python runtime (LAMBDA_RUNTIME_DIR/python).

The sandbox starts it as

    python3 -u -X utf8 /var/runtime/python/bootstrap.py

with the working directory /var/task, _HANDLER naming the function's
handler and AWS_LAMBDA_RUNTIME_API the environment's Runtime API server.
Everything lives in the updraft_ric* modules next to this file: their
prefix keeps them from shadowing a module of the function's own.

As a runtime template (UPDRAFT_TEMPLATE_FD set) it is started before its
function exists and waits for it in updraft_ric_template.
"""

import os
import sys

if "UPDRAFT_TEMPLATE_FD" in os.environ:
    # What the interpreter imported by itself, before the template's own.
    _startup_modules = frozenset(sys.modules)
    import updraft_ric_template

    updraft_ric_template.serve(_startup_modules)

import updraft_ric

if __name__ == "__main__":
    updraft_ric.main()
