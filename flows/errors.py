"""The exceptions the flows raise, for a caller or a test to catch.

A flow ends a failed run with one sentence in Vietnamese and English (``flows._failures``)
and, to a Python caller, raises the exception itself: one of these, or one of the domain's
own (``esign.errors``, ``bhxh.errors``, ``blocks.providers.UnknownProvider``).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from bhxh.errors import DossierInvalid, SubmissionError
from esign.errors import CertificateNotFound

__all__ = [
    "CertificateNotChosen",
    "CertificateUnusable",
    "HrFilesRefused",
    "NoticesRefused",
    "PeriodInvalid",
    "SigningStopped",
    "StoppedByOperator",
    "UnitNotFound",
    "UnitsFailed",
    "VssRefused",
]


class PeriodInvalid(ValueError):
    """A period that is not ``MM/yyyy``."""


class UnitNotFound(LookupError):
    """No saved unit by that name (or the chosen one no longer exists)."""

    def __init__(self, asked: str, known: Sequence[str]) -> None:
        names = ", ".join(known) or "(chưa có / none yet)"
        close = difflib.get_close_matches(asked, known, n=1, cutoff=0.6)
        hint = f" Có phải / did you mean '{close[0]}'?" if close else ""
        super().__init__(
            f"Không có đơn vị '{asked}' / there is no unit named '{asked}'. "
            f"Các đơn vị đã lưu / saved units: {names}.{hint}"
        )
        self.asked = asked
        self.known = tuple(known)


class SigningStopped(RuntimeError):
    """A round was not approved and will not be asked again in this run; state is kept."""


class StoppedByOperator(SigningStopped):
    """The person answering a paused run chose to stop: nothing is lost and nothing failed,
    so the run ends Cancelled (with what is kept and how to continue), not Failed."""


class CertificateNotChosen(CertificateNotFound):
    """The unit has no certificate chosen yet (setup was never run)."""


class CertificateUnusable(CertificateNotFound):
    """The unit's chosen certificate is expired, not yet valid, inactive or gone."""


class VssRefused(SubmissionError):
    """VSS (the unit's I-VAN, the gateway) refused one or more dossiers, or would."""


class HrFilesRefused(DossierInvalid):
    """Some HR files could not be made into dossiers (each one names its cell); the others
    were built."""


class UnitsFailed(RuntimeError):
    """Some units of a run over several units did not finish (each one is reported)."""


class NoticesRefused(RuntimeError):
    """One or more units' C12-TS notices were refused (a file that cannot be trusted,
    a notice of another unit...); nothing was written for them (each one is reported)."""
