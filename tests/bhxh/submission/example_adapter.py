"""A minimal I-VAN adapter and the carrier it speaks to, both in memory.

The README's "Writing an I-VAN adapter" shows this shape: an adapter declares its
carrier's capabilities and implements submit / find / status / registration. Used by the
conformance tests: ``MemoryAdapter`` passes the kit; ``BrokenAdapter`` claims an
idempotency key its carrier does not honour, and fails it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from dataclasses import dataclass, field

from bhxh.submission import (
    Capabilities,
    DossierStatus,
    Handover,
    NaturalKey,
    Registration,
    RegistrationUnavailable,
    Submission,
    SubmissionRefused,
    UnknownOutcome,
)


@dataclass
class Received:
    submission: Submission
    transaction_id: str
    status: str = "received"
    so_ho_so: str | None = None
    messages: list[str] = field(default_factory=list)


class MemoryCarrier:
    """A carrier that takes no idempotency key (as the known I-VANs)."""

    unit_code = "TZ9001A"

    def __init__(self) -> None:
        self.inbox: list[Received] = []
        self.refuse_unit: str | None = None
        self._lose = 0
        self._ids = itertools.count(1)

    # What the carrier's API offers.
    def receive(self, submission: Submission) -> Received:
        if submission.unit_code == self.refuse_unit:
            raise SubmissionRefused("unit_unknown", "Đơn vị chưa đăng ký", submission.dossier_id)
        record = Received(submission, f"MC-{next(self._ids):05d}")
        self.inbox.append(record)
        if self._lose:
            self._lose -= 1
            raise UnknownOutcome("the answer was lost", submission.dossier_id)
        return record

    def lookup(self, key: NaturalKey) -> Received | None:
        return next((r for r in self.inbox if r.submission.natural_key == key), None)

    # What a test does to it (the CarrierControl of the conformance kit).
    def received(self, submission: Submission) -> int:
        return sum(r.submission.natural_key == submission.natural_key for r in self.inbox)

    def lose_next_answer(self) -> None:
        self._lose += 1

    def refused(self, submission: Submission) -> tuple[Submission, str]:
        self.refuse_unit = "TZ0000X"
        return dataclasses.replace(submission, unit_code="TZ0000X"), "chưa đăng ký"

    def advance(self, submission: Submission, status: str, message: str = "") -> None:
        record = self.lookup(submission.natural_key)
        assert record is not None
        record.status = status
        record.so_ho_so = record.so_ho_so or "00001/2026/07906"
        if message:
            record.messages.append(message)


class MemoryAdapter:
    """A correct adapter over :class:`MemoryCarrier`."""

    name = "memory"
    capabilities = Capabilities(
        idempotency_key=False, registration_read=False, numbers_receipts=True
    )

    def __init__(self, carrier: MemoryCarrier) -> None:
        self.carrier = carrier

    def _handover(self, record: Received, duplicate: bool) -> Handover:
        return Handover("gateway", "submitted", record.transaction_id, "", duplicate)

    async def submit(self, submission: Submission) -> Handover:
        return self._handover(self.carrier.receive(submission), duplicate=False)

    async def find(self, key: NaturalKey, dossier_id: str) -> Handover | None:
        record = self.carrier.lookup(key)
        return self._handover(record, duplicate=True) if record else None

    async def status(self, key: NaturalKey, dossier_id: str) -> DossierStatus | None:
        record = self.carrier.lookup(key)
        if record is None:
            return None
        final = record.status in ("accepted", "rejected", "rejected_at_receipt")
        return DossierStatus(
            dossier_id=dossier_id,
            status=record.status,
            so_ho_so=record.so_ho_so,
            dot=1,
            promised_date=None,
            completed_date=None,
            outcome=record.status if final else None,
            messages=tuple(record.messages),
            transaction_id=record.transaction_id,
            received_at=dt.datetime.now(dt.UTC),
        )

    async def registration(self, unit_code: str) -> Registration:
        raise RegistrationUnavailable(f"unit {unit_code}: not offered")

    async def aclose(self) -> None:
        return None


class BrokenAdapter(MemoryAdapter):
    """Claims an idempotency key its carrier does not honour: a resend is a duplicate."""

    capabilities = Capabilities(
        idempotency_key=True, registration_read=False, numbers_receipts=True
    )
