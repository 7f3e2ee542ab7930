"""Prefect flows: orchestration only (setup_remote_signing, sign_and_submit,
monthly_submission, track_results).

What they share: ``_forms`` (what the run forms offer, and the checks of every value
given), ``_failures`` (an expected failure ends a run with one sentence in Vietnamese and
English), ``_pauses`` (every pause announces what it asks, how to answer, until when),
``_artifacts`` (keys, Vietnam time, tables updated in place), ``_logging`` (Prefect's
per-task lines at DEBUG) and ``_signing`` (log-in with a one-time code, the wait for the
phone, one signing round with resume). Flows read dossiers as
``bhxh.pipeline.DossierView``s, never as store folders or raw step data. May import
Prefect, ``tasks``, ``blocks`` and the value types of ``esign`` / ``bhxh``.
"""

from flows._logging import quiet_prefect_logs

quiet_prefect_logs()

from flows.monthly import monthly_submission  # noqa: E402
from flows.setup import setup_remote_signing  # noqa: E402
from flows.sign_and_submit import sign_and_submit  # noqa: E402
from flows.track import track_results  # noqa: E402

__all__ = ["monthly_submission", "setup_remote_signing", "sign_and_submit", "track_results"]
