"""Quieter run logs: Prefect's per-task lines at DEBUG unless they carry information.

Prefect logs "Finished in state Completed()" for every task run (about ten per unit and
run), and, for a task that raised, "Task run failed with exception ..." with its
traceback. The flow itself reports every failure in one sentence (``flows._failures``),
so these lines add nothing at INFO: a filter on Prefect's ``prefect.task_runs`` logger
turns them into DEBUG records (dropped unless the logging level is DEBUG:
``PREFECT_LOGGING_LEVEL=DEBUG`` brings them back, tracebacks included). It is standard
``logging`` configuration, the kind Prefect's own ``logging.yml`` invites ("Define any
custom filters"), installed when ``flows`` is imported so that it holds in workers,
``serve``, scripts and tests alike; Prefect's later logging set-ups are incremental and
keep it.
"""

from __future__ import annotations

import logging

__all__ = ["QuietTaskRuns", "quiet_prefect_logs"]

#: Messages of Prefect's task engine that the flow reports better.
_TASK_NOISE = ("Finished in state ", "Task run failed with ")


class QuietTaskRuns(logging.Filter):
    """Demote Prefect's task-run bookkeeping lines to DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.DEBUG:
            return True
        message = record.msg if isinstance(record.msg, str) else ""
        if not message.startswith(_TASK_NOISE):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def quiet_prefect_logs() -> None:
    """Install :class:`QuietTaskRuns` on ``prefect.task_runs`` (once per process)."""
    logger = logging.getLogger("prefect.task_runs")
    if not any(isinstance(f, QuietTaskRuns) for f in logger.filters):
        logger.addFilter(QuietTaskRuns())
