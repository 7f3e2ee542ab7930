"""Prefect flows: orchestration only (setup_remote_signing, sign_and_submit,
monthly_submission, track_results).

``_signing`` holds what they share: run inputs for every pause, log-in with a one-time
code, the wait for the phone and one signing round with resume. Flows read dossiers as
``bhxh.pipeline.DossierView``s, never as store folders or raw step data. May import
Prefect, ``tasks``, ``blocks`` and the value types of ``esign`` / ``bhxh``.
"""

from flows.monthly import monthly_submission, track_results
from flows.setup import setup_remote_signing
from flows.sign_and_submit import sign_and_submit

__all__ = ["monthly_submission", "setup_remote_signing", "sign_and_submit", "track_results"]
