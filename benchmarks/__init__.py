"""Repeatable measurements (run by ``make bench``), never timed assertions.

May import everything in the project.
"""

import os as _os

# Before Prefect is imported: it creates PREFECT_HOME but not its parents, and warns on a
# fresh clone (no var/ yet). See flows/__init__.py.
if _os.environ.get("PREFECT_HOME"):
    _os.makedirs(_os.path.expanduser(_os.environ["PREFECT_HOME"]), mode=0o700, exist_ok=True)
