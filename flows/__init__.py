"""Prefect flows: orchestration only (setup_remote_signing, sign_and_submit,
monthly_submission, track_results).

May import Prefect, ``tasks``, ``blocks`` and the value types of ``esign`` / ``bhxh``.
"""

from flows.monthly import monthly_submission, track_results
from flows.setup import setup_remote_signing
from flows.sign_and_submit import sign_and_submit

__all__ = ["monthly_submission", "setup_remote_signing", "sign_and_submit", "track_results"]
