"""The submission port: how a signed dossier is handed to the unit's I-VAN, and what
comes back.

What reaches VSS, and how: there is no public wire between a unit's software and VSS. An
I-VAN (a licensed carrier, see ``bhxh.ivan``) carries dossiers to VSS under its own
contract with VSS, and the VSS portal's API is a captcha-guarded web app, not a
submission interface. This module is therefore the *port* a carrier adapter plugs into:

* :class:`GatewayAdapter`, the reference adapter, speaks the project's JSON contract
  (``bhxh.gateway.GatewayClient``; the sandbox gateway plays a carrier and VSS behind it).
  An I-VAN that offers an API is reached by writing an adapter like it.
* :class:`ExportAdapter`, the route that works today for an accountant who uses an
  I-VAN's own software: the signed envelope (or form) and its signed declarations are
  written to an export location with a manifest; the dossier becomes ``exported``, and
  its receipt comes back from a person (a paused run's form) or a receipts file.

Adapters declare what their carrier offers (:class:`Capabilities`), and the pipeline acts
on it: without an idempotency key, a lost answer is resolved by looking the dossier up by
its natural key (unit, procedure, period, content hash) before any second send; without a
registration read, the unit's registration is tracked locally from its 04/05/06 dossiers
(:func:`bhxh.registration.local_registration`).

Every adapter passes the conformance kit (``bhxh.conformance.SubmissionPortSuite``).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal, Protocol, runtime_checkable

from bhxh.errors import GatewayError
from bhxh.gateway import (
    DossierNotFound,
    DossierStatus,
    GatewayClient,
    Registration,
    SubmissionRefused,
    UnknownOutcome,
)
from bhxh.store import write_atomic

__all__ = [
    "RECEIPTS_FILE",
    "Capabilities",
    "ExportAdapter",
    "ExportConflict",
    "ExportSink",
    "GatewayAdapter",
    "Handover",
    "LocalFolderSink",
    "NaturalKey",
    "ReceiptsFileInvalid",
    "RegistrationUnavailable",
    "Submission",
    "SubmissionPort",
    "SubmissionRefused",
    "UnknownOutcome",
    "read_receipts",
]

Kind = Literal["envelope", "registration"]


class RegistrationUnavailable(GatewayError, NotImplementedError):
    """The carrier cannot tell what VSS has on file for a unit (no registration read)."""


class ExportConflict(GatewayError, FileExistsError):
    """A dossier's file is already in the export location with other bytes."""


class ReceiptsFileInvalid(GatewayError, ValueError):
    """A receipts file row cannot be read (the message names the file, row and column)."""


@dataclass(frozen=True)
class Capabilities:
    """What a carrier offers, as its adapter declares it.

    Attributes:
        idempotency_key: the carrier takes our dossier id as an idempotency key: sending
            the same dossier again returns the first receipt, never a second submission.
        registration_read: the carrier can read which certificate VSS has on file for a
            unit (and whether the unit is registered, changing or stopped).
        numbers_receipts: the carrier reports the receipt (``soHoSo``, ``dot``) and the
            outcome itself (a status read); otherwise a person or a receipts file does.
    """

    idempotency_key: bool
    registration_read: bool
    numbers_receipts: bool


@dataclass(frozen=True)
class NaturalKey:
    """What identifies a dossier to any carrier, whatever its own ids."""

    unit_code: str
    procedure: str
    period: str  # MM/yyyy
    sha256: str  # of the signed envelope or form

    def matches(self, other: NaturalKey) -> bool:
        return self == other


@dataclass(frozen=True)
class Submission:
    """A signed dossier, ready to hand over."""

    dossier_id: str
    unit_code: str
    procedure: str
    period: str
    kind: Kind
    filename: str  # BHXHDienTu.xml, or the 04/05/06 form's file
    content: bytes = field(repr=False)
    declarations: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    approvals: tuple[str, ...] = ()  # the signing transaction ids, round 1 then round 2

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def natural_key(self) -> NaturalKey:
        return NaturalKey(self.unit_code, self.procedure, self.period, self.sha256)


@dataclass(frozen=True)
class Handover:
    """The carrier took the dossier: how, under which id, and when."""

    route: Literal["gateway", "export"]
    state: Literal["submitted", "exported"]
    transaction_id: str  # the carrier's id (gateway) or the manifest's path (export)
    received_at: str  # ISO 8601
    duplicate: bool
    location: str = ""  # export: where the files are


@runtime_checkable
class SubmissionPort(Protocol):
    """What the pipeline and the flows need of a carrier adapter.

    ``status`` returns None while the carrier has no news of the dossier (an export whose
    receipt nobody entered yet); ``find`` returns None when the carrier never received it.
    ``registration`` raises :class:`RegistrationUnavailable` unless the capabilities say
    ``registration_read``.
    """

    name: str
    capabilities: Capabilities

    async def submit(self, submission: Submission) -> Handover: ...

    async def find(self, key: NaturalKey, dossier_id: str) -> Handover | None: ...

    async def status(self, key: NaturalKey, dossier_id: str) -> DossierStatus | None: ...

    async def registration(self, unit_code: str) -> Registration: ...

    async def aclose(self) -> None: ...


# ------------------------------------------------------------------------------ gateway
class GatewayAdapter:
    """The reference adapter: the project's JSON contract over HTTP.

    The contract (``/openapi.json`` of the sandbox gateway) is what an I-VAN with an API
    would be asked to offer; a carrier's real API gets an adapter of its own. Capabilities
    come from the gateway (``GET /api/v1/capabilities``) unless given.
    """

    name = "gateway"

    def __init__(self, client: GatewayClient, capabilities: Capabilities) -> None:
        self.client = client
        self.capabilities = capabilities

    def __repr__(self) -> str:
        return f"GatewayAdapter({self.client.base_url!r})"

    @classmethod
    async def connect(
        cls, client: GatewayClient, capabilities: Capabilities | None = None
    ) -> GatewayAdapter:
        """An adapter over ``client``, its capabilities read from the gateway if not given."""
        if capabilities is None:
            offered = await client.capabilities()
            capabilities = Capabilities(
                idempotency_key=offered.idempotency_key,
                registration_read=offered.registration_read,
                numbers_receipts=offered.numbers_receipts,
            )
        return cls(client, capabilities)

    async def submit(self, submission: Submission) -> Handover:
        ack = await self.client.submit(
            submission.dossier_id,
            submission.unit_code,
            submission.kind,
            submission.content,
            natural_key=None
            if self.capabilities.idempotency_key
            else (submission.procedure, submission.period),
        )
        return Handover(
            "gateway", "submitted", ack.transaction_id, ack.received_at.isoformat(), ack.duplicate
        )

    async def find(self, key: NaturalKey, dossier_id: str) -> Handover | None:
        found = await self.client.find(key.unit_code, key.procedure, key.period, key.sha256)
        if found is None:
            return None
        return Handover(
            "gateway", "submitted", found.transaction_id, found.received_at.isoformat(), True
        )

    async def status(self, key: NaturalKey, dossier_id: str) -> DossierStatus | None:
        try:
            if self.capabilities.idempotency_key:
                return await self.client.status(dossier_id)
            return await self.client.find(key.unit_code, key.procedure, key.period, key.sha256)
        except DossierNotFound:
            return None

    async def registration(self, unit_code: str) -> Registration:
        if not self.capabilities.registration_read:
            raise RegistrationUnavailable(
                f"unit {unit_code}: the carrier cannot read the registration at VSS"
            )
        return await self.client.registration(unit_code)

    async def aclose(self) -> None:
        await self.client.aclose()


# ------------------------------------------------------------------------------ export
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
    month, _, year = period.partition("/")
    return f"{month}-{year}"


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

    async def aclose(self) -> None:
        return None
