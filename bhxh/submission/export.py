"""The export route: signed dossiers written for an I-VAN's own desktop software.

The signed envelope (or form) and its signed declarations are written to an export
location (a local folder, or any Prefect filesystem block through ``blocks.export``) with a
manifest; the dossier becomes ``exported``, and its receipt comes back from a person (a
paused run's form) or a receipts file (``receipts.csv``) the accountant fills in.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from contextlib import suppress
from pathlib import Path, PurePosixPath
from typing import Protocol

from bhxh._files import write_atomic
from bhxh.errors import InputLocation, InputRefused, SubmissionError
from bhxh.periods import folder_name, parse_period
from bhxh.submission.notice_files import (
    NOTICE_FOLDER,
    NOTICE_JSON,
    NOTICE_XLSX,
    read_notice_json,
    read_notice_workbook,
)
from bhxh.submission.port import (
    C12Document,
    Capabilities,
    DossierStatus,
    Handover,
    NaturalKey,
    Registration,
    RegistrationUnavailable,
    Submission,
    UnknownOutcome,
)

__all__ = [
    "RECEIPTS_FILE",
    "ExportAdapter",
    "ExportConflict",
    "ExportSink",
    "LocalFolderSink",
    "ReceiptsFileInvalid",
    "read_receipts",
]


class ExportConflict(SubmissionError, FileExistsError):
    """A dossier's file is already in the export location with other bytes."""


class ReceiptsFileInvalid(SubmissionError, ValueError):
    """A receipts file row cannot be read (the message names the file, row and column)."""


class ExportSink(Protocol):
    """Where exported files go: a local folder, or a Prefect file-system block.

    ``write`` must leave either the old file or the whole new one (never half of one);
    ``read`` returns None when the file does not exist.
    """

    def describe(self) -> str: ...

    async def write(self, relpath: str, data: bytes) -> None: ...

    async def read(self, relpath: str) -> bytes | None: ...


class LocalFolderSink:
    """An export folder on this machine (default ``$BHXH_DATA_DIR/export``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def describe(self) -> str:
        return str(self.root)

    def _path(self, relpath: str) -> Path:
        parts = PurePosixPath(relpath).parts
        if not parts or relpath.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"export path {relpath!r} is not a path inside the export folder")
        return self.root.joinpath(*parts)

    async def write(self, relpath: str, data: bytes) -> None:
        write_atomic(self._path(relpath), data)

    async def read(self, relpath: str) -> bytes | None:
        path = self._path(relpath)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None


#: The receipts file an accountant (or the I-VAN software's export) fills in, at the root
#: of the export location: one row per dossier.
RECEIPTS_FILE = "receipts.csv"
_RECEIPT_STATUSES = {
    "numbered",
    "processing",
    "accepted",
    "rejected",
    "rejected_at_receipt",
    "supplement_requested",
}
_OUTCOMES = {"accepted", "rejected", "rejected_at_receipt", "supplement_requested"}


def _period_folder(period: str) -> str:
    parsed = parse_period(period)
    if parsed is None:
        raise ValueError(f"period {period!r} is not MM/yyyy")
    return folder_name(*parsed)


def read_receipts(data: bytes, where: str = RECEIPTS_FILE) -> list[dict[str, str]]:
    """Rows of a receipts file: UTF-8 (BOM allowed), comma-separated, with a header.

    Columns: ``dossier_id`` or the natural key (``unit_code``, ``procedure``, ``period``,
    ``sha256``), then ``so_ho_so``, ``dot``, ``status`` (numbered, processing, accepted,
    rejected, rejected_at_receipt, supplement_requested), optional ``message`` and
    ``promised_date`` (dd/MM/yyyy or yyyy-mm-dd).

    Raises:
        ReceiptsFileInvalid: not UTF-8, a missing column, or a bad value (row and column named).
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReceiptsFileInvalid(
            f"{where}: tệp không phải UTF-8 / the file is not UTF-8; save it as CSV UTF-8"
        ) from None
    reader = csv.DictReader(io.StringIO(text))
    columns = {c.strip() for c in reader.fieldnames or ()}
    if "status" not in columns or not (
        "dossier_id" in columns or {"unit_code", "procedure", "period", "sha256"} <= columns
    ):
        raise ReceiptsFileInvalid(
            f"{where}: thiếu cột / missing columns: expected dossier_id (or unit_code, "
            f"procedure, period, sha256) and status; found {sorted(columns)}"
        )
    rows = []
    for number, raw in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        status = row.get("status", "")
        if status not in _RECEIPT_STATUSES:
            raise ReceiptsFileInvalid(
                f"{where}, row {number}, column status: {status!r} is not one of "
                f"{', '.join(sorted(_RECEIPT_STATUSES))}"
            )
        if row.get("dot") and not row["dot"].isdigit():
            raise ReceiptsFileInvalid(
                f"{where}, row {number}, column dot: {row['dot']!r} is not a whole number"
            )
        rows.append(row)
    return rows


def _date(text: str) -> dt.date | None:
    if not text:
        return None
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        with suppress(ValueError):
            return dt.datetime.strptime(text, fmt).date()
    return None


class ExportAdapter:
    """The export route: files for import into the unit's I-VAN software.

    Layout in the export location::

        <unit>/<MM-YYYY>/<dossier id>/BHXHDienTu.xml   (or the 04/05/06 form)
        <unit>/<MM-YYYY>/<dossier id>/<declaration>    the signed declarations it embeds
        <unit>/<MM-YYYY>/<dossier id>/manifest.json    unit, procedure, period, dossier id,
                                                       files and sha256, approval ids
        receipts.csv                                   filled in by a person (optional)

    Exporting twice never writes different bytes for the same dossier: the manifest holds
    nothing that changes between runs, and a file already there with other bytes is an
    :class:`ExportConflict`.
    """

    name = "export"
    capabilities = Capabilities(
        idempotency_key=True,  # a dossier id names one folder: a re-export is a no-op
        registration_read=False,
        numbers_receipts=False,
    )

    def __init__(self, sink: ExportSink, *, ivan_code: str = "", ivan_name: str = "") -> None:
        self.sink = sink
        self.ivan_code = ivan_code
        self.ivan_name = ivan_name

    def __repr__(self) -> str:
        return f"ExportAdapter({self.sink.describe()!r})"

    @staticmethod
    def folder(unit_code: str, period: str, dossier_id: str) -> str:
        return f"{unit_code}/{_period_folder(period)}/{dossier_id}"

    def _manifest(self, submission: Submission) -> bytes:
        files = [
            {
                "name": submission.filename,
                "role": "envelope" if submission.kind == "envelope" else "form",
                "sha256": submission.sha256,
            }
        ] + [
            {"name": name, "role": "declaration", "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in sorted(submission.declarations.items())
        ]
        doc = {
            "format": "prefect-bhxh export 1",
            "dossier_id": submission.dossier_id,
            "unit_code": submission.unit_code,
            "procedure": submission.procedure,
            "period": submission.period,
            "kind": submission.kind,
            "ivan": {"code": self.ivan_code, "name": self.ivan_name},
            "files": files,
            "approvals": list(submission.approvals),
            "next_step": "Nhập tệp vào phần mềm I-VAN và nộp; ghi số hồ sơ (soHoSo) vào "
            f"{RECEIPTS_FILE} / import into the I-VAN software, submit, and write the "
            f"receipt into {RECEIPTS_FILE}",
        }
        return json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True).encode() + b"\n"

    async def submit(self, submission: Submission) -> Handover:
        folder = self.folder(submission.unit_code, submission.period, submission.dossier_id)
        files: dict[str, bytes] = {submission.filename: submission.content}
        files.update(submission.declarations)
        files["manifest.json"] = self._manifest(submission)
        pending = []
        # Everything is compared before anything is written: a conflict changes nothing.
        for name, data in files.items():
            existing = await self.sink.read(f"{folder}/{name}")
            if existing is None:
                pending.append((name, data))
            elif existing != data:
                raise ExportConflict(
                    f"dossier {submission.dossier_id}: {folder}/{name} is already exported "
                    "with other bytes; it is not overwritten"
                )
        # The manifest last: a dossier is exported once its manifest exists.
        pending.sort(key=lambda item: item[0] == "manifest.json")
        try:
            for name, data in pending:
                await self.sink.write(f"{folder}/{name}", data)
        except OSError as exc:
            # Some files may be there: exporting again is safe (same bytes, no-op).
            raise UnknownOutcome(
                f"dossier {submission.dossier_id}: the export to {self.sink.describe()} was "
                f"not confirmed ({exc}); exporting again is safe",
                submission.dossier_id,
            ) from exc
        return Handover(
            "export",
            "exported",
            f"{folder}/manifest.json",
            dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            duplicate=not pending,
            location=f"{self.sink.describe()}/{folder}",
        )

    async def find(self, key: NaturalKey, dossier_id: str) -> Handover | None:
        folder = self.folder(key.unit_code, key.period, dossier_id)
        raw = await self.sink.read(f"{folder}/manifest.json")
        if raw is None:
            return None
        manifest = json.loads(raw)
        if manifest.get("files", [{}])[0].get("sha256") != key.sha256:
            return None
        return Handover(
            "export",
            "exported",
            f"{folder}/manifest.json",
            "",
            duplicate=True,
            location=f"{self.sink.describe()}/{folder}",
        )

    async def status(self, key: NaturalKey, dossier_id: str) -> DossierStatus | None:
        raw = await self.sink.read(RECEIPTS_FILE)
        if raw is None:
            return None
        where = f"{self.sink.describe()}/{RECEIPTS_FILE}"
        match = None
        for row in read_receipts(raw, where):
            if row.get("dossier_id") == dossier_id or (
                not row.get("dossier_id")
                and NaturalKey(
                    row.get("unit_code", ""),
                    row.get("procedure", ""),
                    row.get("period", ""),
                    row.get("sha256", "").lower(),
                )
                == key
            ):
                match = row  # the last row for a dossier wins
        if match is None:
            return None
        status = match["status"]
        return DossierStatus(
            dossier_id=dossier_id,
            status=status,
            so_ho_so=match.get("so_ho_so") or None,
            dot=int(match["dot"]) if match.get("dot") else None,
            promised_date=_date(match.get("promised_date", "")),
            completed_date=None,
            outcome=status if status in _OUTCOMES else None,
            messages=tuple(m for m in [match.get("message", "")] if m),
            transaction_id=match.get("so_ho_so", ""),
            received_at=dt.datetime.now(dt.UTC),
        )

    async def registration(self, unit_code: str) -> Registration:
        raise RegistrationUnavailable(
            f"unit {unit_code}: an export cannot read the registration at VSS"
        )

    async def contribution_notice(self, unit_code: str, period: str) -> C12Document | None:
        """The period's C12-TS notice a person dropped in the export location
        (``<unit>/<MM-YYYY>/c12/C12-TS.json`` or ``C12-TS.xlsx``,
        ``bhxh.submission.notice_files``); None when there is none.

        Raises:
            InputRefused: the file is refused (naming the file, and the cell of a
                workbook); both files at once (keep one).
        """
        folder = f"{unit_code}/{_period_folder(period)}/{NOTICE_FOLDER}"
        found = {
            name: data
            for name in (NOTICE_JSON, NOTICE_XLSX)
            if (data := await self.sink.read(f"{folder}/{name}")) is not None
        }
        if not found:
            return None
        if len(found) > 1:
            raise InputRefused(
                f"có cả {NOTICE_JSON} và {NOTICE_XLSX}; giữ lại một tệp",
                f"both {NOTICE_JSON} and {NOTICE_XLSX} are there; keep one",
                where=InputLocation(unit=unit_code, file=f"{self.sink.describe()}/{folder}"),
            )
        name, data = next(iter(found.items()))
        path = f"{self.sink.describe()}/{folder}/{name}"
        where = InputLocation(unit=unit_code, file=path)
        doc = (
            read_notice_json(data, where)
            if name == NOTICE_JSON
            else read_notice_workbook(data, where, unit_code)
        )
        return C12Document(unit_code, period, doc, "file", path)

    async def aclose(self) -> None:
        return None
