"""Deployments: ``prefect.yaml`` (monthly cron, Asia/Ho_Chi_Minh) and a serve entry point.

- ``prefect.yaml``: the four deployments on the ``bhxh-process`` work pool
  (``prefect --no-prompt deploy --all --prefect-file deployments/prefect.yaml``).
- :mod:`deployments.serve`: ``python -m deployments.serve``, the same from one process.
- :mod:`deployments.server`: ``make server`` (server + UI, worker, deployments, sandbox).
- :mod:`deployments.stack`, :mod:`deployments.processes`, :mod:`deployments.postgres`:
  the pieces (Prefect server and workers as child processes, a throwaway PostgreSQL).

May import ``flows``.
"""
