"""Read-only views of a dossier: :class:`DossierView` (where it stands, its files, its
requests) built from the journal, and the keys that name a dossier."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509

from bhxh.catalogue import get_procedure
from bhxh.pipeline.layout import (
    ROUND_STEPS,
    Round,
)
from bhxh.pipeline.records import (
    Acknowledged,
    Failure,
    Prepared,
    PreparedItem,
    Signed,
    SigningRequest,
    VssStatus,
)
from bhxh.pipeline.store import (
    DossierRecord,
    Step,
)

__all__ = [
    "DossierKey",
    "DossierView",
    "OpenRequest",
    "certificate_serial",
]


@dataclass(frozen=True)
class DossierKey:
    """Which dossier: enough to find it in the store."""

    id: str
    unit_code: str
    period: str


@dataclass(frozen=True)
class DossierView:
    """A dossier as the flows see it: identity and typed state, read from its journal."""

    record: DossierRecord

    @property
    def key(self) -> DossierKey:
        return DossierKey(self.record.id, self.record.unit_code, self.record.period)

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def unit_code(self) -> str:
        return self.record.unit_code

    @property
    def period(self) -> str:
        return self.record.period

    @property
    def procedure(self) -> str:
        return self.record.procedure

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def state(self) -> Step:
        return self.record.state

    @property
    def is_registration(self) -> bool:
        """A 04/05/06 form (the catalogue says so): its own envelope, one round."""
        return get_procedure(self.record.procedure).kind == "registration"

    @property
    def rounds(self) -> tuple[Round, ...]:
        """The signing rounds this dossier goes through: (2,) for a form, (1, 2) otherwise."""
        return (2,) if self.is_registration else (1, 2)

    @property
    def approvals_needed(self) -> int:
        """Phone approvals when signed alone: 1 for a 04/05/06 form, 2 otherwise."""
        return len(self.rounds)

    def prepared(self, round_no: int) -> Prepared | None:
        entry = self.record.last(ROUND_STEPS[round_no][0])
        return Prepared.from_data(entry.data) if entry else None

    def request(self, round_no: int) -> SigningRequest | None:
        entry = self.record.last(ROUND_STEPS[round_no][1])
        return SigningRequest.from_data(entry.data, self.id) if entry else None

    def signed(self, round_no: int) -> Signed | None:
        entry = self.record.last(ROUND_STEPS[round_no][2])
        return Signed.from_data(entry.data) if entry else None

    def is_signed(self, round_no: int) -> bool:
        return self.record.has(ROUND_STEPS[round_no][2])

    @property
    def certificate_serial(self) -> str | None:
        """The certificate named by the latest prepared round (round 2 first)."""
        for round_no in (2, 1):
            prepared = self.prepared(round_no)
            if prepared is not None:
                return prepared.certificate_serial or None
        return None

    @property
    def acknowledgement(self) -> Acknowledged | None:
        """The hand-over: a carrier's acknowledgement, or the export."""
        entry = self.record.last(Step.SUBMITTED) or self.record.last(Step.EXPORTED)
        return Acknowledged.from_data(entry.data) if entry else None

    @property
    def submitted(self) -> bool:
        """A carrier acknowledged it (the gateway route)."""
        return self.record.has(Step.SUBMITTED)

    @property
    def exported(self) -> bool:
        """Written out for the unit's I-VAN software (the export route)."""
        return self.record.has(Step.EXPORTED)

    @property
    def handed_over(self) -> bool:
        """Submitted or exported: nothing more for a signing run to send."""
        return self.submitted or self.exported

    @property
    def route(self) -> str | None:
        ack = self.acknowledgement
        return ack.route if ack else None

    @property
    def receipt(self) -> VssStatus | None:
        entry = self.record.last(Step.RECEIPT)
        return VssStatus.from_data(entry.data) if entry else None

    @property
    def result(self) -> VssStatus | None:
        entry = self.record.last(Step.RESULT)
        return VssStatus.from_data(entry.data) if entry else None

    @property
    def failure(self) -> Failure | None:
        entry = self.record.last(Step.FAILED)
        return Failure.from_data(entry.data) if entry else None

    @property
    def done(self) -> bool:
        """Nothing left for a signing run: handed over, or stopped with a failure."""
        return self.handed_over or self.failure is not None


@dataclass(frozen=True)
class OpenRequest:
    """A request an earlier run sent for this round and did not apply.

    ``pending`` are the dossiers still waiting for it; ``items`` every document the one
    request covered (the provider signs all of them, including documents of dossiers
    applied before a crash), in request order; ``dossiers`` every dossier it covered;
    ``void`` the references of earlier requests it replaces.
    ``transaction_id`` is None when the run stopped between the send and the journalled
    answer: the request is known only by ``client_transaction_id`` (it may or may not
    have reached the provider).
    """

    transaction_id: str | None
    expires_at: dt.datetime | None
    pending: tuple[DossierView, ...]
    items: tuple[PreparedItem, ...]
    client_transaction_id: str = ""
    dossiers: tuple[str, ...] = ()
    void: tuple[str, ...] = ()  # earlier requests it replaces (see SigningRequest.void)

    @property
    def answered(self) -> bool:
        """Whether the provider's transaction id was journalled."""
        return self.transaction_id is not None


def certificate_serial(certificate_der: bytes) -> str:
    """The serial as the journal records it: upper-case hex, no separators."""
    return format(x509.load_der_x509_certificate(certificate_der).serial_number, "X")


def _display_name(view: DossierView, filename: str) -> str:
    return f"{view.procedure} {view.period} {view.unit_code} {filename}"[:100]


KeyLike = DossierKey | DossierView


def _key(item: KeyLike) -> DossierKey:
    return item.key if isinstance(item, DossierView) else item
