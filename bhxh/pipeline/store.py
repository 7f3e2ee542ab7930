"""The journal interface: the records of a dossier's steps and the operations the pipeline
needs of a store (:class:`DossierJournal`).

A record (:class:`DossierRecord`) is a dossier's identity, the files it was opened with and
its ordered steps (:class:`StepRecord`); a step is appended, never rewritten. The folder
journal (``bhxh.pipeline.folder.DossierStore``) is the first backend and the embedded
default; another backend (a database, for a month spread over machines) implements the
same protocol and passes the same tests, and the pipeline does not change.

Dossier ids are deterministic (:func:`dossier_id`): the same unit, period, procedure and
file contents give the same id, so loading the inbox twice opens the same dossier.
"""

from __future__ import annotations

import builtins
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from bhxh.errors import StoreError
from bhxh.periods import folder_name, parse_period

__all__ = [
    "DossierJournal",
    "DossierOutbox",
    "DossierRecord",
    "Step",
    "StepRecord",
    "StoredFile",
    "dossier_id",
]

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class Step(StrEnum):
    """The steps of a dossier, in the order they happen (``failed`` may follow any).

    - ``loaded``: the dossier's files were copied in from the inbox (or built: 04/05/06).
    - ``prepared``: round 1 signature templates written, their digests recorded.
    - ``round1_requested``: the signing transaction for round 1 (written before and after
      the request).
    - ``declarations_signed``: round 1 applied: the signed declarations are final.
    - ``envelope_prepared``: round 2 templates (the envelope, or the 04/05/06 form).
    - ``round2_requested``: the signing transaction for round 2.
    - ``signed``: round 2 applied: the signed envelope or form is final.
    - ``submitting``: about to submit (written before the call, for a safe retry).
    - ``submitted``: the carrier (an I-VAN's gateway) acknowledged the dossier.
    - ``exported``: the dossier was written out for the unit's I-VAN software (the export
      route); a person submits it there and enters the receipt.
    - ``receipt``: VSS numbered the dossier (``soHoSo``).
    - ``result``: VSS's final outcome.
    - ``failed``: stopped with an error a person must look at (reason in data).

    What each step's data holds is typed in ``bhxh.pipeline``.
    """

    LOADED = "loaded"
    PREPARED = "prepared"
    ROUND1_REQUESTED = "round1_requested"
    DECLARATIONS_SIGNED = "declarations_signed"
    ENVELOPE_PREPARED = "envelope_prepared"
    ROUND2_REQUESTED = "round2_requested"
    SIGNED = "signed"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    EXPORTED = "exported"
    RECEIPT = "receipt"
    RESULT = "result"
    FAILED = "failed"

    @property
    def order(self) -> int:
        """Position in the happy path (``failed`` is last)."""
        return list(Step).index(self)


@dataclass(frozen=True)
class StepRecord:
    """One journal entry: which step, when (UTC), and what it produced."""

    step: Step
    at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredFile:
    """A file the dossier was opened with: ``kind`` is "declaration" or "attachment"."""

    kind: str
    form: str
    filename: str
    sha256: str


@dataclass(frozen=True)
class DossierRecord:
    """A dossier as the store knows it: identity, files and the journal of steps."""

    id: str
    unit_code: str
    period: str  # MM/yyyy
    procedure: str
    name: str
    path: Path
    files: tuple[StoredFile, ...] = ()
    steps: tuple[StepRecord, ...] = ()

    def last(self, step: Step) -> StepRecord | None:
        """The latest record of ``step``, if any."""
        for entry in reversed(self.steps):
            if entry.step == step:
                return entry
        return None

    def has(self, step: Step) -> bool:
        return self.last(step) is not None

    @property
    def state(self) -> Step:
        """The latest step recorded."""
        return self.steps[-1].step if self.steps else Step.LOADED


def _period_folder(period: str) -> str:
    parsed = parse_period(period)
    if parsed is None:
        raise StoreError(f"period {period!r} is not MM/yyyy")
    return folder_name(*parsed)


def _safe(value: str, what: str) -> str:
    if not _SAFE_NAME.match(value) or value.endswith((".tmp", ".")):
        raise StoreError(f"{what} {value!r} cannot be a folder or file name in the store")
    return value


def dossier_id(unit_code: str, period: str, procedure: str, content_sha256s: Iterable[str]) -> str:
    """A short deterministic id: ``<procedure>-<MMYYYY>-<10 hex>``, e.g. ``600-012026-3fa9c1d2e0``.

    The hash covers the unit, period, procedure and the sorted content hashes, so the order
    the files are listed in does not matter.
    """
    _safe(procedure, "procedure")
    folder = _period_folder(period)
    hashes = sorted(h.lower() for h in content_sha256s)
    material = "\n".join([unit_code, period, procedure, *hashes]).encode()
    return f"{procedure}-{folder.replace('-', '')}-{hashlib.sha256(material).hexdigest()[:10]}"


# ------------------------------------------------------------------ journal (de)serialisation


@runtime_checkable
class DossierJournal(Protocol):
    """What the pipeline, the flows and the overview need of a dossier store.

    Every write is atomic; a record's steps are appended under a per-dossier lock, so two
    writers never lose each other's steps; :meth:`batch` groups the durability barrier of
    a step of many dossiers (a backend with transactions may make it one transaction).
    """

    def batch(self) -> AbstractContextManager[None]:
        """Group writes under one durability barrier (ended before each external call)."""
        ...

    def create(
        self,
        unit_code: str,
        period: str,
        procedure: str,
        name: str,
        files: Sequence[tuple[StoredFile, str, bytes]],
    ) -> DossierRecord:
        """Create a dossier with its files and a ``loaded`` step; idempotent by content."""
        ...

    def get(self, unit_code: str, period: str, dossier_id: str) -> DossierRecord:
        """Read a dossier's record back (``StoreError`` when there is none)."""
        ...

    def list(self, unit_code: str, period: str) -> list[DossierRecord]:
        """Every dossier of a unit for a period, oldest first."""
        ...

    def list_unit(self, unit_code: str) -> builtins.list[DossierRecord]:
        """Every dossier of a unit, all periods."""
        ...

    def record(self, rec: DossierRecord, step: Step, **data: Any) -> DossierRecord:
        """Append a step to a dossier's journal and return the new record."""
        ...

    def write_file(self, rec: DossierRecord, relpath: str, data: bytes) -> Path:
        """Write a file of the dossier atomically."""
        ...

    def read_file(self, rec: DossierRecord, relpath: str) -> bytes:
        """Read a file of the dossier (``StoreError`` when missing)."""
        ...

    def has_file(self, rec: DossierRecord, relpath: str) -> bool:
        """Whether the dossier has this file."""
        ...


@runtime_checkable
class DossierOutbox(Protocol):
    """A store that also keeps the outbox (the signed files handed out), as the PostgreSQL
    store does: the pipeline writes a dossier's final files there as well as to the
    outbox folder of the worker that signed it (that folder is then a copy, not the record).
    """

    def write_outbox(
        self, unit_code: str, period: str, dossier_id: str, files: Mapping[str, bytes]
    ) -> None:
        """Keep the files, write-once (``OutboxConflict`` for other bytes under a name)."""
        ...

    def read_outbox(self, unit_code: str, period: str, dossier_id: str) -> dict[str, bytes]:
        """The dossier's files in the outbox, by file name."""
        ...
