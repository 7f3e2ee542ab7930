"""The demo scenario (units, sandbox accounts, blocks, inbox) and ``make demo``.

Shared by the demo, the flow tests and the benchmarks so that all three run the same
thing. May import everything in the project; nothing in the product imports it.
"""

import os as _os

# Before Prefect is imported: it creates PREFECT_HOME but not its parents, and warns on a
# fresh clone (no var/ yet). See flows/__init__.py.
if _os.environ.get("PREFECT_HOME"):
    _os.makedirs(_os.path.expanduser(_os.environ["PREFECT_HOME"]), mode=0o700, exist_ok=True)
