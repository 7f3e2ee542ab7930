"""The folder journal, the embedded default store: one folder per dossier and a journal
of its steps.

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
"""

from __future__ import annotations

import builtins
import fcntl
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from bhxh._files import make_durable, makedirs_durable, write_atomic
from bhxh.errors import StoreError
from bhxh.pipeline.store import (
    DossierRecord,
    Step,
    StepRecord,
    StoredFile,
    _period_folder,
    _safe,
    dossier_id,
)
from bhxh.settings import Settings

__all__ = ["JOURNAL", "DossierStore"]

JOURNAL = "record.json"
_VERSION = 1


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
            make_durable(sorted(pending))

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
        makedirs_durable(folder)
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
