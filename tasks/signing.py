"""Tasks over ``esign``: log in, list and resolve certificates, request and read signatures.

Each takes the unit's :class:`tasks.session.UnitSession` (the logged-in client lives
there, never in a parameter or result of its own). No task returns a secret.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from prefect import task
from prefect.cache_policies import NONE
from prefect.logging import get_run_logger
from pydantic import SecretStr

from bhxh.pipeline import DossierView
from esign.base import FindsRequests
from esign.errors import CertificateNotFound, TwoFactorRequired
from esign.models import Certificate, SignItem, Transaction
from tasks._unwalked import unit_task
from tasks.session import UnitSession

__all__ = [
    "CertificateChoice",
    "can_find_requests",
    "choose_certificates",
    "fetch_transaction",
    "find_signing_request",
    "list_certificates",
    "login_esign",
    "request_reference",
    "request_signatures",
    "resolve_certificate",
]


def request_reference(client_transaction_id: str) -> str:
    """The short reference of a signing request, as the phone shows it ("Mã yêu cầu") and
    as every log line, card and question names the request."""
    return client_transaction_id.rsplit("-", 1)[-1][:8].upper()


@unit_task("login_esign")
async def login_esign(session: UnitSession, otp: SecretStr | None = None) -> str:
    """Log the unit's provider account in; returns the account name (not secret).

    Raises ``esign.errors.TwoFactorRequired`` when the provider asks for a one-time code
    and ``otp`` is not given. The code is used for this one login and not kept.
    """

    async def supply() -> str:
        if otp is None:
            raise TwoFactorRequired(
                f"{session.account}: the provider asks for a one-time code (two-factor)"
            )
        return otp.get_secret_value()

    await session.client.login(otp=supply)
    session.logged_in = True
    get_run_logger().info(
        "Đã đăng nhập nhà cung cấp ký số / logged in to the signing provider as %s",
        session.account,
    )
    return session.account


async def _ensure_login(session: UnitSession) -> None:
    if not session.logged_in:
        await session.client.login()
        session.logged_in = True


@unit_task("list_certificates")
async def list_certificates(session: UnitSession) -> list[Certificate]:
    """Every certificate of the unit's provider account, normalised."""
    await _ensure_login(session)
    return await session.client.list_certificates()


@dataclass(frozen=True)
class CertificateChoice:
    """The outcome of resolving certificates for a unit's tax code."""

    fitting: tuple[Certificate, ...]
    others: tuple[tuple[Certificate, str], ...]  # (certificate, why it does not fit)

    def describe_others(self) -> str:
        if not self.others:
            return "the account lists no certificate"
        return "; ".join(f"{c.describe()}: {why}" for c, why in self.others)


def choose_certificates(
    certificates: Sequence[Certificate], tax_code: str, at: dt.datetime | None = None
) -> CertificateChoice:
    """Keep active, currently valid certificates whose ``UID=MST:`` is the unit's tax code."""
    at = at or dt.datetime.now(dt.UTC)
    fitting: list[Certificate] = []
    others: list[tuple[Certificate, str]] = []
    for cert in certificates:
        if cert.status != "active":
            others.append((cert, f"status {cert.status}"))
        elif at < cert.not_before:
            others.append((cert, f"not valid before {cert.not_before:%Y-%m-%d}"))
        elif at > cert.not_after:
            others.append((cert, f"expired on {cert.not_after:%Y-%m-%d}"))
        elif cert.mst != tax_code:
            others.append((cert, f"MST {cert.mst or '(none)'} is not {tax_code}"))
        else:
            fitting.append(cert)
    return CertificateChoice(tuple(fitting), tuple(others))


@task(name="resolve_certificate", cache_policy=NONE, persist_result=False)
def resolve_certificate(
    certificates: list[Certificate], tax_code: str, unit_code: str
) -> CertificateChoice:
    """Which certificates fit the unit; raises CertificateNotFound when none does."""
    choice = choose_certificates(certificates, tax_code)
    if not choice.fitting:
        raise CertificateNotFound(
            f"Đơn vị {unit_code}: không có chứng thư số nào đang hoạt động, còn hạn, mang "
            f"UID MST:{tax_code} / no active, currently valid certificate with UID "
            f"MST:{tax_code}; found: {choice.describe_others()}."
        )
    return choice


@unit_task("request_signatures")
async def request_signatures(
    session: UnitSession,
    views: list[DossierView],
    round_no: int,
    certificate: Certificate,
    items: list[SignItem],
    display_text: str,
    client_transaction_id: str,
) -> Transaction:
    """Send one batch to the signer's phone (one approval for every item), and journal the
    provider's transaction id in every dossier of ``views`` as soon as the answer is in.

    The request itself was journalled under ``client_transaction_id`` before this call.
    Between the provider's answer and the journal there is nothing but the write (one
    durability barrier for all the dossiers): no log line, no call to the Prefect API (the
    task's own state is reported after). A process that dies in that window leaves a
    request the journal knows only by its client id: ``flows/_signing.py`` finds it again
    where the provider allows it (``esign.base.FindsRequests``), else calls it void.
    """
    await _ensure_login(session)
    tx = await session.client.request_signatures(
        certificate, items, display_text, client_transaction_id
    )
    await asyncio.to_thread(
        session.pipeline.record_request,
        views,
        round_no,
        client_transaction_id,
        tx.id,
        tx.expires_at,
    )
    reference = request_reference(client_transaction_id)
    get_run_logger().info(
        "Đã gửi yêu cầu ký, Mã yêu cầu %s, tới điện thoại của %s (%d tài liệu; mã của nhà "
        "cung cấp %s) / signing request %s sent to %s's phone (provider id %s)",
        reference,
        session.account,
        len(items),
        tx.id,
        reference,
        session.account,
        tx.id,
    )
    return tx


def can_find_requests(session: UnitSession) -> bool:
    """Whether the unit's provider can find a request again by our own transaction id."""
    return isinstance(session.client, FindsRequests)


async def find_signing_request(
    session: UnitSession,
    client_transaction_id: str,
    certificate: Certificate,
    items: Sequence[SignItem],
) -> Transaction | None:
    """The provider's transaction for a request journalled under ``client_transaction_id``
    whose answer was not journalled, or None when the provider never received it.

    Only for a client that :func:`can_find_requests`. Not a task, like
    :func:`fetch_transaction` (a read).

    Raises:
        TransportError: the provider could not be asked (the request may be on the phone).
    """
    client = session.client
    if not isinstance(client, FindsRequests):
        raise TypeError(f"{session.account}: the provider cannot find a request by our id")
    await _ensure_login(session)
    return await client.find_request(client_transaction_id, certificate, items)


async def fetch_transaction(
    session: UnitSession, transaction_id: str, certificate: Certificate, items: Sequence[SignItem]
) -> Transaction:
    """The transaction's normalised status; on success every signature is verified.

    Not a task: a wait for the phone reads a transaction several times per round and unit,
    and a read changes no state of ours; a task run per read would only add writes to the
    Prefect database.
    """
    await _ensure_login(session)
    return await session.client.get_transaction(transaction_id, certificate, items)
