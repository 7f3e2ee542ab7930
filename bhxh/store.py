"""The crash-safe dossier store: one folder per dossier and a journal of its steps.

The store is the durable record; it does not know what the files mean. Where it puts a
dossier, and the journal format, are its own::

    <root>/<unit code>/<MM-YYYY>/<dossier id>/
        record.json      the journal: identity, the files opened with, ordered step records
        .lock            the advisory lock that serialises writers of this dossier
        ...              the dossier's files, at paths chosen by ``bhxh.pipeline.Layout``

Every write is atomic: a temporary file in the same folder, flush, fsync, ``os.replace``,
then fsync of the folder (inside :meth:`DossierStore.batch` the fsyncs wait for the
batch's end, one barrier for a whole step of many dossiers). The journal is rewritten
whole on each step the same way, so after a crash it is either the old journal or the new
one, never half of one. A dossier exists
once ``record.json`` exists (it is written last, after the dossier's first files); folders
without it are ignored and completed by the next :meth:`DossierStore.create`. Writers of
one dossier are serialised with an advisory lock (``.lock``), so two processes never lose
each other's steps.

Dossier ids are deterministic (:func:`dossier_id`): the same unit, period, procedure and
file contents give the same id, so loading the inbox twice opens the same dossier.
"""

from __future__ import annotations

import builtins
import fcntl
import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any

from bhxh.errors import StoreError
from bhxh.settings import Settings

__all__ = [
    "JOURNAL",
    "DossierRecord",
    "DossierStore",
    "Step",
    "StepRecord",
    "StoredFile",
    "dossier_id",
    "write_atomic",
]

JOURNAL = "record.json"
_VERSION = 1
_PERIOD = re.compile(r"^(0[1-9]|1[0-2])/(\d{4})$")
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
    match = _PERIOD.match(period)
    if not match:
        raise StoreError(f"period {period!r} is not MM/yyyy")
    return f"{match.group(1)}-{match.group(2)}"


def _safe(value: str, what: str) -> str:
    if not _SAFE_NAME.match(value) or value.endswith((".tmp", ".")):
        raise StoreError(f"{what} {value!r} cannot be a folder or file name in the store")
    return value


def _safe_filename(name: str, where: str) -> str:
    if (
        not name
        or name.startswith(".")
        or any(c in name for c in "/\\")
        or any(ord(c) < 32 for c in name)
        or len(name.encode()) > 200
        or name.endswith(".tmp")
    ):
        raise StoreError(f"{where}: file name {name!r} cannot be stored")
    return name


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


# ------------------------------------------------------------------ atomic files
def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _makedirs(path: Path, pending: set[Path] | None = None) -> None:
    """Create ``path`` and make each new directory entry durable (now, or with
    ``pending`` at the batch's end)."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        with suppress(FileExistsError):
            folder.mkdir()
        if pending is None:
            _fsync_dir(folder.parent)
        else:
            pending.add(folder)


def write_atomic(path: Path, data: bytes, pending: set[Path] | None = None) -> None:
    """Write ``path`` whole or not at all (temporary file, rename).

    Durable at once (fsync of the file, then of its folder) unless ``pending`` is given:
    the path is then recorded there and made durable by :func:`_make_durable` later.
    """
    _makedirs(path.parent, pending)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if pending is None:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if pending is None:
        _fsync_dir(path.parent)
    else:
        pending.add(path)


def _make_durable(paths: Iterable[Path]) -> None:
    """fsync each file (or new folder), then each folder holding them (once per folder)."""
    folders: set[Path] = set()
    for path in paths:
        with suppress(FileNotFoundError):
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        folders.add(path.parent)
    for folder in folders:
        _fsync_dir(folder)


# ------------------------------------------------------------------ journal (de)serialisation
def _to_json(rec: DossierRecord) -> bytes:
    doc = {
        "version": _VERSION,
        "id": rec.id,
        "unit_code": rec.unit_code,
        "period": rec.period,
        "procedure": rec.procedure,
        "name": rec.name,
        "files": [
            {"kind": f.kind, "form": f.form, "filename": f.filename, "sha256": f.sha256}
            for f in rec.files
        ],
        "steps": [
            {"step": s.step.value, "at": s.at.isoformat(), "data": dict(s.data)} for s in rec.steps
        ],
    }
    try:
        return json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise StoreError(f"dossier {rec.id}: step data is not JSON: {exc}") from exc


def _from_json(raw: bytes, path: Path) -> DossierRecord:
    try:
        doc = json.loads(raw)
        if doc.get("version") != _VERSION:
            raise StoreError(f"{path}: journal version {doc.get('version')!r} is not {_VERSION}")
        return DossierRecord(
            id=doc["id"],
            unit_code=doc["unit_code"],
            period=doc["period"],
            procedure=doc["procedure"],
            name=doc["name"],
            path=path,
            files=tuple(StoredFile(**f) for f in doc["files"]),
            steps=tuple(
                StepRecord(step=Step(s["step"]), at=datetime.fromisoformat(s["at"]), data=s["data"])
                for s in doc["steps"]
            ),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"{path / JOURNAL}: unreadable journal: {exc}") from exc


class DossierStore:
    """Dossier folders and journals under one root.

    Example:
        >>> store = DossierStore()                        # Settings().store_dir
        >>> rec = store.create("TZ1234A", "01/2026", "600", "bao-tang", files)  # idempotent
        >>> store.write_file(rec, "prepared/r1/D02-TS-595.xml", prepared_xml)
        >>> rec = store.record(rec, Step.PREPARED, items=[...])
        >>> rec.state
        <Step.PREPARED: 'prepared'>
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else Settings().store_dir
        self._local = threading.local()

    # -------------------------------------------------------------- durability
    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group the writes of a step of many dossiers under one durability barrier.

        Inside, every write is still atomic (temporary file, rename: a killed process
        leaves the old bytes or the new, and the page cache survives a process crash),
        but its fsync waits until the outermost ``batch`` ends, when every file written
        and its folder are made durable at once. The pipeline ends a batch before each
        call to a provider or a carrier, and right after each answer, so that a power
        cut can only lose work that is done again without asking anyone twice.
        """
        pending: set[Path] | None = getattr(self._local, "pending", None)
        if pending is not None:
            yield  # nested: the outer batch makes it durable
            return
        self._local.pending = pending = set()
        try:
            yield
        finally:
            self._local.pending = None
            _make_durable(sorted(pending))

    def _write(self, path: Path, data: bytes) -> None:
        write_atomic(path, data, getattr(self._local, "pending", None))

    # -------------------------------------------------------------- paths
    def _folder(self, unit_code: str, period: str, ident: str) -> Path:
        unit = _safe(unit_code, "unit code")
        return self.root / unit / _period_folder(period) / _safe(ident, "dossier id")

    @staticmethod
    def _relpath(rec: DossierRecord, relpath: str) -> Path:
        parts = PurePosixPath(relpath).parts
        if (
            not parts
            or relpath.startswith("/")
            or "\\" in relpath
            or any(p in ("", ".", "..") or p.startswith(".") for p in parts)
            or relpath == JOURNAL
        ):
            raise StoreError(f"dossier {rec.id}: {relpath!r} is not a file path inside it")
        return rec.path.joinpath(*parts)

    @contextmanager
    def _locked(self, folder: Path) -> Iterator[None]:
        _makedirs(folder)
        with open(folder / ".lock", "a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    # -------------------------------------------------------------- dossiers
    def create(
        self,
        unit_code: str,
        period: str,
        procedure: str,
        name: str,
        files: Sequence[tuple[StoredFile, str, bytes]],
    ) -> DossierRecord:
        """Create a dossier: its folder, its files (``(file, relpath, bytes)``), ``loaded``.

        The id comes from the unit, period, procedure and the files' hashes; if that dossier
        is already in the store, its record is returned unchanged (nothing is rewritten).

        Raises:
            StoreError: an unsafe unit code, period or file name, or a write failed.
        """
        stored = tuple(f for f, _, _ in files)
        ident = dossier_id(unit_code, period, procedure, (f.sha256 for f in stored))
        folder = self._folder(unit_code, period, ident)
        for f in stored:
            _safe_filename(f.filename, f"dossier {name!r}")
        with self._locked(folder):
            if (folder / JOURNAL).exists():
                return self._read(folder)
            rec = DossierRecord(
                id=ident,
                unit_code=unit_code,
                period=period,
                procedure=procedure,
                name=name,
                path=folder,
                files=stored,
            )
            for _, relpath, content in files:
                self._write(self._relpath(rec, relpath), content)
            rec = _append(rec, Step.LOADED, {"files": len(stored)})
            self._write_journal(rec)
            return rec

    def get(self, unit_code: str, period: str, dossier_id: str) -> DossierRecord:
        """Read a dossier's record back (to resume).

        Raises:
            StoreError: no such dossier, or an unreadable journal.
        """
        return self._read(self._folder(unit_code, period, dossier_id))

    def list(self, unit_code: str, period: str) -> list[DossierRecord]:
        """Every opened dossier of a unit for a period, oldest first."""
        base = self.root / _safe(unit_code, "unit code") / _period_folder(period)
        if not base.is_dir():
            return []
        records = [self._read(p) for p in base.iterdir() if (p / JOURNAL).is_file()]
        return sorted(records, key=lambda r: (r.steps[0].at if r.steps else datetime.min, r.id))

    def list_unit(self, unit_code: str) -> builtins.list[DossierRecord]:
        """Every opened dossier of a unit, whatever its period, oldest first.

        The period of each comes from its journal, never from a folder name.
        """
        base = self.root / _safe(unit_code, "unit code")
        if not base.is_dir():
            return []
        records = [
            self._read(p)
            for period in base.iterdir()
            if period.is_dir()
            for p in period.iterdir()
            if (p / JOURNAL).is_file()
        ]
        return sorted(records, key=lambda r: (r.steps[0].at if r.steps else datetime.min, r.id))

    def record(self, rec: DossierRecord, step: Step, **data: Any) -> DossierRecord:
        """Append a step to the journal atomically and return the new record.

        The journal on disk is the truth: the step is appended to what is there now.

        Raises:
            StoreError: data not JSON-able, or the write failed (the journal is unchanged).
        """
        step = Step(step)
        with self._locked(rec.path):
            current = self._read(rec.path)
            new = _append(current, step, data)
            self._write_journal(new)
            return new

    def _write_journal(self, rec: DossierRecord) -> None:
        payload = _to_json(rec)
        try:
            self._write(rec.path / JOURNAL, payload)
        except OSError as exc:
            raise StoreError(f"dossier {rec.id}: cannot write the journal: {exc}") from exc

    def _read(self, folder: Path) -> DossierRecord:
        journal = folder / JOURNAL
        try:
            raw = journal.read_bytes()
        except FileNotFoundError as exc:
            raise StoreError(f"no dossier at {folder}") from exc
        except OSError as exc:
            raise StoreError(f"{journal}: {exc}") from exc
        return _from_json(raw, folder)

    # -------------------------------------------------------------- files
    def write_file(self, rec: DossierRecord, relpath: str, data: bytes) -> Path:
        """Write a file of the dossier atomically (e.g. ``signed/D02-TS-595.xml``)."""
        path = self._relpath(rec, relpath)
        try:
            self._write(path, data)
        except OSError as exc:
            raise StoreError(f"dossier {rec.id}: cannot write {relpath}: {exc}") from exc
        return path

    def read_file(self, rec: DossierRecord, relpath: str) -> bytes:
        """Read a file of the dossier.

        Raises:
            StoreError: the file does not exist or cannot be read.
        """
        path = self._relpath(rec, relpath)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise StoreError(f"dossier {rec.id}: cannot read {relpath}: {exc}") from exc

    def has_file(self, rec: DossierRecord, relpath: str) -> bool:
        return self._relpath(rec, relpath).is_file()


def _append(rec: DossierRecord, step: Step, data: Mapping[str, Any]) -> DossierRecord:
    entry = StepRecord(step=step, at=datetime.now(UTC), data=dict(data))
    return DossierRecord(
        id=rec.id,
        unit_code=rec.unit_code,
        period=rec.period,
        procedure=rec.procedure,
        name=rec.name,
        path=rec.path,
        files=rec.files,
        steps=(*rec.steps, entry),
    )
