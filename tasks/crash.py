"""TEST HOOK: kill the process right after a step boundary (the crash-point suite)."""

from __future__ import annotations

import os
import signal

__all__ = ["CRASH_ENV", "crash_point"]

#: The name of the step after which the process kills itself (see crash_point).
CRASH_ENV = "BHXH_TEST_CRASH_AT"


def crash_point(step: str) -> None:
    """SIGKILL this process right after ``step`` when ``BHXH_TEST_CRASH_AT=step``.

    The reliability suite (``tests/reliability/test_crash_points.py``) uses it to stop a
    flow process exactly at a step boundary, after the step's result is recorded, the way
    a power cut would. Unset (always, outside those tests) it costs one environment read.
    Steps: ``r1-prepared``, ``r1-sending``, ``r1-requested``, ``r1-approved``,
    ``r1-pdfs-signed`` (a dossier's PDF attachments finished, its declarations not yet),
    ``r1-applying``, ``envelopes-built``, ``r2-prepared``, ``r2-requested``,
    ``r2-approved``, ``r2-applying``, ``submitting``, ``submit-acknowledged``.
    """
    if os.environ.get(CRASH_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)
