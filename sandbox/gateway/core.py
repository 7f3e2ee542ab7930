"""The gateway's state: registered units, received dossiers, numbering and outcomes.

In memory, guarded by one lock (the HTTP server and tests may call from several threads).
Time-driven changes (numbering, outcomes, a 05 taking effect) are applied lazily, in
receipt order, whenever the state is read or written, against an injectable clock.

Lifecycle of a dossier: ``received`` -> ``numbered`` (``soHoSo``, ``dot``, promised date)
-> ``accepted`` | ``rejected`` | ``supplement_requested``; or ``received`` ->
``rejected_at_receipt`` (scripted; no number). Refusals at receipt (HTTP 422) record
nothing: the unit fixes the dossier and may submit it again under the same id.

Registration lifecycle: ``unknown`` -(04)-> ``registered`` -(05)-> ``change_pending``
(the old certificate still rules) -> ``registered`` (the new one rules) -(06)-> ``stopped``
-(04)-> ``registered``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from bhxh.catalogue import IVANS
from sandbox.audit import AuditLog
from sandbox.gateway import messages as m
from sandbox.gateway.config import (
    GatewayConfig,
    Outcome,
    PaymentConfig,
    RegistrationState,
    UnitConfig,
)
from sandbox.gateway.documents import Inspected, inspect_envelope, inspect_registration
from sandbox.gateway.trust import Trust
from sandbox.pki import TestPKI

__all__ = ["Conflict", "DossierRecord", "GatewayCore", "UnitRecord"]

SERVICE = "gateway"
Kind = Literal["envelope", "registration"]

_FINAL_STATUS: dict[Outcome, str] = {
    "accepted": "accepted",
    "rejected": "rejected",
    "supplement": "supplement_requested",
    "rejected_at_receipt": "rejected_at_receipt",
}
_OUTCOME_MESSAGE: dict[Outcome, str] = {
    "accepted": "Hồ sơ đã được giải quyết: chấp nhận",
    "rejected": "Hồ sơ bị từ chối sau khi xử lý",
    "supplement": "Đề nghị đơn vị bổ sung hồ sơ",
    "rejected_at_receipt": "Hồ sơ bị từ chối tiếp nhận",
}


class Conflict(Exception):
    """The dossier id was already received with other bytes."""

    def __init__(self, refusal: m.Refusal) -> None:
        super().__init__(refusal.message)
        self.code = refusal.code
        self.message = refusal.message


@dataclass
class UnitRecord:
    """What the gateway knows of a unit's e-transaction registration."""

    unit_code: str
    tax_code: str | None
    name: str
    agency_code: str
    state: RegistrationState
    certificate: x509.Certificate | None = None
    pending_certificate: x509.Certificate | None = None
    pending_until: dt.datetime | None = None
    ivan_code: str = "00110"


@dataclass
class DossierRecord:
    """One received dossier and what happened to it since."""

    dossier_id: str
    unit_code: str
    kind: Kind
    sha256: str
    transaction_id: str
    received_at: dt.datetime
    procedure: str
    period: str
    agency_code: str
    outcome: Outcome
    number_due: dt.datetime
    result_due: dt.datetime
    status: str = "received"
    so_ho_so: str | None = None
    dot: int | None = None
    promised_date: dt.date | None = None
    completed_date: dt.date | None = None
    final_outcome: Outcome | None = None
    messages: list[str] = field(default_factory=list)
    declarations: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)

    def acknowledgement(self, *, duplicate: bool) -> dict[str, Any]:
        return {
            "transaction_id": self.transaction_id,
            "dossier_id": self.dossier_id,
            "received_at": self.received_at.isoformat(),
            "duplicate": duplicate,
        }

    def view(self) -> dict[str, Any]:
        return {
            "dossier_id": self.dossier_id,
            "unit_code": self.unit_code,
            "kind": self.kind,
            "transaction_id": self.transaction_id,
            "received_at": self.received_at.isoformat(),
            "status": self.status,
            "so_ho_so": self.so_ho_so,
            "dot": self.dot,
            "promised_date": self.promised_date.isoformat() if self.promised_date else None,
            "completed_date": self.completed_date.isoformat() if self.completed_date else None,
            "outcome": self.final_outcome,
            "messages": list(self.messages),
            "procedure": self.procedure,
            "period": self.period,
            "sha256": self.sha256,
        }


def _fingerprint(cert: x509.Certificate) -> bytes:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()


def _same(a: x509.Certificate | None, b: x509.Certificate) -> bool:
    return a is not None and hmac.compare_digest(_fingerprint(a), _fingerprint(b))


def _add_working_days(day: dt.date, days: int) -> dt.date:
    while days > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class GatewayCore:
    """The gateway without HTTP: submit, read a status, read a registration.

    Example:
        >>> core = GatewayCore(GatewayConfig(), pki, AuditLog(path))  # doctest: +SKIP
        >>> record, duplicate = core.submit("d-1", "TZ1234A", "envelope", data)  # doctest: +SKIP
    """

    def __init__(
        self,
        config: GatewayConfig,
        pki: TestPKI,
        audit: AuditLog,
        *,
        clock: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self.config = config
        self.audit = audit
        self.trust = Trust(pki, config.trust)
        self._clock = clock
        self._lock = threading.RLock()
        self._units: dict[str, UnitRecord] = {}
        self._dossiers: dict[str, DossierRecord] = {}
        self._received: list[DossierRecord] = []  # every receipt (twice, without idempotency)
        self._sequence: dict[tuple[str, int], int] = {}
        self._dots: dict[tuple[str, str, str], int] = {}
        #: Transfers per unit (the configuration's, and any a test records).
        self._payments: dict[str, list[PaymentConfig]] = {
            unit.unit_code: list(unit.payments) for unit in config.units
        }
        for unit in config.units:
            cert = self._unit_certificate(pki, unit) if unit.certificate else None
            self._units[unit.unit_code] = UnitRecord(
                unit_code=unit.unit_code,
                tax_code=unit.tax_code,
                name=unit.name,
                agency_code=unit.agency_code,
                state=unit.state,
                certificate=cert,
                ivan_code=unit.ivan_code,
            )

    @staticmethod
    def _unit_certificate(pki: TestPKI, unit: UnitConfig) -> x509.Certificate:
        assert unit.certificate is not None
        try:
            return pki.get(unit.certificate).certificate
        except KeyError:
            return pki.issue(
                unit.certificate,
                tax_code=unit.tax_code,
                unit_name=unit.name,
                ca=unit.certificate_ca,
            ).certificate

    # ---------------------------------------------------------------------- submit
    def submit(
        self, dossier_id: str, unit_code: str, kind: Kind, content: bytes
    ) -> tuple[DossierRecord, bool]:
        """Receive a dossier; returns its record and whether it was a duplicate.

        Raises:
            Conflict: the id was received with other bytes (409).
            Refusal: the dossier is refused at receipt (422); nothing is recorded.
        """
        digest = hashlib.sha256(content).hexdigest()
        with self._lock:
            known = self._idempotent(dossier_id, unit_code, digest)
            if known is not None:
                return known, True
        now = self._clock()
        try:
            if kind == "envelope":
                inspected = inspect_envelope(
                    content,
                    unit_code,
                    self.trust,
                    now,
                    max_bytes=self.config.max_bytes,
                    max_depth=self.config.max_depth,
                )
            else:
                inspected = inspect_registration(
                    content,
                    unit_code,
                    self.trust,
                    now,
                    max_bytes=self.config.max_bytes,
                    max_depth=self.config.max_depth,
                )
            with self._lock:
                known = self._idempotent(dossier_id, unit_code, digest)
                if known is not None:
                    return known, True
                self._settle(now)
                if inspected.kind == "envelope":
                    unit = self._check_business(inspected)
                else:
                    unit = self._check_registration(inspected)
                record = self._record(dossier_id, kind, digest, now, inspected, unit)
                return record, False
        except m.Refusal as refusal:
            self.audit.write(
                SERVICE,
                "refused",
                dossier_id=dossier_id,
                unit_code=unit_code,
                kind=kind,
                sha256=digest,
                code=refusal.code,
                reason=refusal.message,
            )
            raise

    def _idempotent(self, dossier_id: str, unit_code: str, digest: str) -> DossierRecord | None:
        if not self.config.idempotency_keys:
            return None  # a carrier without idempotency keys receives it again
        record = self._dossiers.get(dossier_id)
        if record is None:
            return None
        if record.sha256 != digest or record.unit_code != unit_code:
            self.audit.write(
                SERVICE, "conflict", dossier_id=dossier_id, unit_code=unit_code, sha256=digest
            )
            raise Conflict(m.CONFLICT(dossier_id=dossier_id, first=record.sha256))
        self.audit.write(
            SERVICE,
            "duplicate",
            dossier_id=dossier_id,
            unit_code=unit_code,
            transaction_id=record.transaction_id,
        )
        return record

    def _ruling_unit(self, inspected: Inspected) -> UnitRecord:
        unit = self._units.get(inspected.unit_code)
        if unit is None or unit.state == "unknown":
            raise m.UNIT_UNKNOWN(unit=inspected.unit_code)
        if unit.state == "stopped":
            raise m.UNIT_STOPPED(unit=inspected.unit_code)
        self._check_tax_code(unit, inspected)
        return unit

    @staticmethod
    def _document(inspected: Inspected) -> str:
        return "BHXHDienTu.xml" if inspected.kind == "envelope" else f"{inspected.form}.xml"

    def _check_ivan(self, unit: UnitRecord | None, inspected: Inspected) -> None:
        """The document names a known I-VAN, and (but for a 04/05) the unit's own."""
        if inspected.ivan_code not in IVANS:
            raise m.IVAN_UNKNOWN(code=inspected.ivan_code, document=self._document(inspected))
        if unit is None or inspected.procedure in {"04", "05"}:
            return  # a 04 registers through an I-VAN, a 05 may change it
        if inspected.ivan_code != unit.ivan_code:
            raise m.IVAN_MISMATCH(
                unit=unit.unit_code,
                registered=unit.ivan_code,
                declared=inspected.ivan_code,
                document=self._document(inspected),
            )

    def _check_tax_code(self, unit: UnitRecord, inspected: Inspected) -> None:
        if unit.tax_code and unit.tax_code != inspected.tax_code:
            raise m.TAX_CODE_MISMATCH(
                document=inspected.signers[0].document,
                declared=inspected.tax_code,
                unit=unit.unit_code,
                registered=unit.tax_code,
            )

    def _require_registered_certificate(self, unit: UnitRecord, inspected: Inspected) -> None:
        for signer in inspected.signers:
            if not _same(unit.certificate, signer.certificate):
                raise m.CERTIFICATE_NOT_REGISTERED(
                    unit=unit.unit_code,
                    serial=format(signer.certificate.serial_number, "X"),
                    document=signer.document,
                )

    def _check_business(self, inspected: Inspected) -> UnitRecord:
        unit = self._ruling_unit(inspected)
        self._check_ivan(unit, inspected)
        self._require_registered_certificate(unit, inspected)
        return unit

    def _check_registration(self, inspected: Inspected) -> UnitRecord:
        code = inspected.procedure
        unit = self._units.get(inspected.unit_code)
        if code == "04":
            if unit is not None and unit.state in ("registered", "change_pending"):
                raise m.ALREADY_REGISTERED(unit=inspected.unit_code)
            if unit is not None:
                self._check_tax_code(unit, inspected)
            self._check_ivan(unit, inspected)
            return unit or UnitRecord(
                unit_code=inspected.unit_code,
                tax_code=None,
                name=inspected.unit_name,
                agency_code=inspected.agency_code,
                state="unknown",
            )
        unit = self._ruling_unit(inspected)
        self._check_ivan(unit, inspected)
        if code == "06":
            # Stopping is the registered certificate's business; a 05 is signed by the
            # new certificate it names (checked against ChungThuSo already).
            self._require_registered_certificate(unit, inspected)
        return unit

    # ---------------------------------------------------------------------- record
    def _record(
        self,
        dossier_id: str,
        kind: Kind,
        digest: str,
        now: dt.datetime,
        inspected: Inspected,
        unit: UnitRecord,
    ) -> DossierRecord:
        outcome = self.config.outcomes.for_dossier(dossier_id, inspected.unit_code)
        result_due = now + dt.timedelta(seconds=self.config.result_delay_seconds)
        numbering = self.config.numbering_delay_seconds
        number_due = (
            result_due
            if numbering is None
            else min(result_due, now + dt.timedelta(seconds=numbering))
        )
        record = DossierRecord(
            dossier_id=dossier_id,
            unit_code=inspected.unit_code,
            kind=kind,
            sha256=digest,
            transaction_id=f"GW-{uuid.uuid4().hex[:20].upper()}",
            received_at=now,
            procedure=inspected.procedure,
            period=inspected.period,
            agency_code=unit.agency_code or inspected.agency_code,
            outcome=outcome,
            number_due=number_due,
            result_due=result_due,
            messages=["Đã tiếp nhận hồ sơ"],
            declarations=inspected.declarations,
        )
        self._dossiers[dossier_id] = record
        self._received.append(record)
        self.audit.write(
            SERVICE,
            "submitted",
            dossier_id=dossier_id,
            unit_code=inspected.unit_code,
            kind=kind,
            procedure=inspected.procedure,
            sha256=digest,
            transaction_id=record.transaction_id,
            # What the gateway read from the signed document, as it will act on it.
            unit_name=inspected.unit_name,
            tax_code=inspected.tax_code,
            period=inspected.period,
        )
        if inspected.kind == "registration" and outcome == "accepted":
            self._register(inspected, unit, now)
        self._settle(now)
        return record

    def _register(self, inspected: Inspected, unit: UnitRecord, now: dt.datetime) -> None:
        cert = inspected.signers[0].certificate
        code = inspected.procedure
        if code in {"04", "05"}:
            unit.ivan_code = inspected.ivan_code
        if code == "04":
            unit.state = "registered"
            unit.certificate = cert
            unit.tax_code = inspected.tax_code
            unit.name = inspected.unit_name or unit.name
            unit.agency_code = inspected.agency_code or unit.agency_code
            self._units[unit.unit_code] = unit
        elif code == "05":
            unit.pending_certificate = cert
            unit.pending_until = now + dt.timedelta(seconds=self.config.change_delay_seconds)
            unit.state = "change_pending"
        else:
            unit.state = "stopped"
            unit.pending_certificate = None
            unit.pending_until = None
        self.audit.write(
            SERVICE,
            "registration",
            unit_code=unit.unit_code,
            procedure=code,
            state=unit.state,
            serial=format(cert.serial_number, "X"),
            name=unit.name,
        )
        self._settle(now)

    # ---------------------------------------------------------------------- time
    def _settle(self, now: dt.datetime) -> None:
        """Apply every change whose time has come, in receipt order."""
        for unit in self._units.values():
            if (
                unit.state == "change_pending"
                and unit.pending_until is not None
                and now >= unit.pending_until
            ):
                unit.certificate = unit.pending_certificate
                unit.pending_certificate = None
                unit.pending_until = None
                unit.state = "registered"
                assert unit.certificate is not None
                self.audit.write(
                    SERVICE,
                    "registration",
                    unit_code=unit.unit_code,
                    procedure="05",
                    state="registered",
                    serial=format(unit.certificate.serial_number, "X"),
                )
        for record in sorted(self._dossiers.values(), key=lambda r: r.received_at):
            if record.status == "received" and now >= record.number_due:
                if record.outcome == "rejected_at_receipt":
                    self._finish(record, now)
                    continue
                self._number(record)
            if record.status == "numbered" and now >= record.result_due:
                self._finish(record, now)

    def _number(self, record: DossierRecord) -> None:
        year = record.received_at.astimezone(dt.timezone(dt.timedelta(hours=7))).year
        key = (record.agency_code, year)
        self._sequence[key] = self._sequence.get(key, 0) + 1
        dot_key = (record.unit_code, record.procedure, record.period)
        self._dots[dot_key] = self._dots.get(dot_key, 0) + 1
        record.so_ho_so = f"{self._sequence[key]:05d}/{year}/{record.agency_code}"
        record.dot = self._dots[dot_key]
        record.promised_date = _add_working_days(
            record.received_at.date(), self.config.promised_working_days
        )
        record.status = "numbered"
        record.messages.append(f"Đã cấp số hồ sơ {record.so_ho_so}, đợt {record.dot}")
        self.audit.write(
            SERVICE,
            "numbered",
            dossier_id=record.dossier_id,
            so_ho_so=record.so_ho_so,
            dot=record.dot,
        )

    def _finish(self, record: DossierRecord, now: dt.datetime) -> None:
        record.status = _FINAL_STATUS[record.outcome]
        record.final_outcome = record.outcome
        record.completed_date = now.date()
        record.messages.append(_OUTCOME_MESSAGE[record.outcome])
        self.audit.write(
            SERVICE,
            "result",
            dossier_id=record.dossier_id,
            outcome=record.outcome,
            status=record.status,
        )

    # ---------------------------------------------------------------------- reads
    def status(self, dossier_id: str) -> dict[str, Any] | None:
        """The dossier's current status view, or None when unknown."""
        with self._lock:
            self._settle(self._clock())
            record = self._dossiers.get(dossier_id)
            view = record.view() if record else None
        self.audit.write(
            SERVICE, "status", dossier_id=dossier_id, status=view["status"] if view else None
        )
        return view

    def lookup(
        self, unit_code: str, procedure: str, period: str, sha256: str
    ) -> list[dict[str, Any]]:
        """Every receipt of a dossier by natural key (unit, procedure, period, content hash)."""
        with self._lock:
            self._settle(self._clock())
            views = [
                r.view()
                for r in self._received
                if (r.unit_code, r.procedure, r.period, r.sha256)
                == (unit_code, procedure, period, sha256.lower())
            ]
        self.audit.write(
            SERVICE,
            "lookup",
            unit_code=unit_code,
            procedure=procedure,
            period=period,
            sha256=sha256,
            found=len(views),
        )
        return views

    def capabilities(self) -> dict[str, Any]:
        """What this carrier offers (``GET /api/v1/capabilities``)."""
        return {
            "idempotency_key": self.config.idempotency_keys,
            "registration_read": self.config.registration_read,
            "numbers_receipts": True,
            "notice_read": self.config.notice_read,
        }

    def record_payment(self, unit_code: str, payment: PaymentConfig) -> None:
        """A transfer the unit made (shown on the notice of its month: line C)."""
        with self._lock:
            self._payments.setdefault(unit_code, []).append(payment)
        self.audit.write(
            SERVICE, "payment", unit_code=unit_code, so_unc=payment.soUnc, amount=payment.soTien
        )

    def contribution_notice(self, unit_code: str, period: str) -> dict[str, Any] | None:
        """The unit's C12-TS notice of ``period`` (MM/yyyy), computed from the dossiers
        accepted so far and the payments of the configuration; None for a unit the
        gateway does not know or a month not begun (``sandbox.gateway.notices``)."""
        from sandbox.gateway.notices import build_notice

        with self._lock:
            now = self._clock()
            self._settle(now)
            unit = self._units.get(unit_code)
            payments = list(self._payments.get(unit_code, ()))
            records = [r for r in self._received if r.unit_code == unit_code]
            notice = None
            if unit is not None:
                notice = build_notice(
                    unit,
                    payments,
                    records,
                    period,
                    now,
                    interest_rate_percent=self.config.interest_rate_percent,
                )
        self.audit.write(
            SERVICE, "notice", unit_code=unit_code, period=period, found=notice is not None
        )
        return notice

    def registration(self, unit_code: str) -> dict[str, Any]:
        """The unit's registration view (state ``unknown`` when never registered)."""
        with self._lock:
            self._settle(self._clock())
            unit = self._units.get(unit_code)
            if unit is None:
                return {
                    "unit_code": unit_code,
                    "tax_code": None,
                    "state": "unknown",
                    "certificate": None,
                }
            cert = unit.certificate
            return {
                "unit_code": unit_code,
                "tax_code": unit.tax_code,
                "state": unit.state,
                "ivan_code": unit.ivan_code,
                "certificate": None
                if cert is None
                else {
                    "serial": format(cert.serial_number, "X"),
                    "subject": cert.subject.rfc4514_string(),
                    "not_before": cert.not_valid_before_utc.isoformat(),
                    "not_after": cert.not_valid_after_utc.isoformat(),
                },
            }
