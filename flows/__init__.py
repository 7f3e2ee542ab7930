"""Prefect flows: orchestration only (setup_remote_signing, sign_and_submit,
monthly_submission, track_results).

May import Prefect, ``tasks``, ``blocks`` and the value types of ``esign`` / ``bhxh``.
"""
