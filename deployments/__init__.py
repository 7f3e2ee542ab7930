"""Deployments: ``prefect.yaml`` (monthly cron, Asia/Ho_Chi_Minh) and a serve entry point.

- ``prefect.yaml``: the four deployments on the ``bhxh-process`` work pool
  (``prefect --no-prompt deploy --all --prefect-file deployments/prefect.yaml``).
- :mod:`deployments.serve`: ``python -m deployments.serve``, the same from one process.
- :mod:`deployments.server`: ``make server`` (server + UI, worker, deployments, sandbox).
- :mod:`deployments.stack`, :mod:`deployments.processes`, :mod:`deployments.postgres`:
  the pieces (Prefect server and workers as child processes, a throwaway PostgreSQL).

May import ``flows``.
"""

import os as _os

# Before Prefect is imported: it creates PREFECT_HOME but not its parents, and warns on a
# fresh clone (no var/ yet). See flows/__init__.py.
if _os.environ.get("PREFECT_HOME"):
    _os.makedirs(_os.path.expanduser(_os.environ["PREFECT_HOME"]), mode=0o700, exist_ok=True)
