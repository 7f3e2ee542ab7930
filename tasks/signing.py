"""Tasks over ``esign``: log in, list and resolve certificates, request and read signatures.

No task here takes or returns a secret: clients (and their tokens) stay in the process
(``tasks._runtime``); a one-time code is passed as an opaque one-shot reference.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from prefect import task
from prefect.cache_policies import NONE
from prefect.logging import get_run_logger

from esign.errors import CertificateNotFound
from esign.models import Certificate, SignItem, Transaction
from tasks._runtime import get_session, pop_secret

__all__ = [
    "CertificateChoice",
    "fetch_transaction",
    "list_certificates",
    "login_esign",
    "read_transaction",
    "request_signatures",
    "resolve_certificate",
]


@task(name="login_esign", cache_policy=NONE, persist_result=False)
async def login_esign(unit_block: str, otp_ref: str | None = None) -> str:
    """Log the unit's provider account in; returns the account name (not secret).

    Raises ``esign.errors.TwoFactorRequired`` when the provider asks for a one-time code
    and ``otp_ref`` (a reference from ``tasks._runtime.put_secret``) is not given.
    """
    session = await get_session(unit_block)
    otp_secret = pop_secret(otp_ref) if otp_ref else None

    async def supply() -> str:
        if otp_secret is None:
            from esign.errors import TwoFactorRequired

            raise TwoFactorRequired(
                f"{session.account}: the provider asks for a one-time code (two-factor)"
            )
        return otp_secret.get_secret_value()

    await session.client.login(otp=supply)
    session.logged_in = True
    get_run_logger().info("Logged in to the signing provider as %s", session.account)
    return session.account


@task(name="list_certificates", cache_policy=NONE, persist_result=False)
async def list_certificates(unit_block: str) -> list[Certificate]:
    """Every certificate of the unit's provider account, normalised."""
    session = await get_session(unit_block)
    if not session.logged_in:
        await session.client.login()
        session.logged_in = True
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
            f"unit {unit_code}: no active, currently valid certificate with UID MST:{tax_code}; "
            f"found: {choice.describe_others()}. Buy or renew a certificate for this tax code."
        )
    return choice


@task(name="request_signatures", cache_policy=NONE, persist_result=False)
async def request_signatures(
    unit_block: str,
    certificate: Certificate,
    items: list[SignItem],
    display_text: str,
    client_transaction_id: str,
) -> Transaction:
    """Send one batch to the signer's phone (one approval for every item)."""
    session = await get_session(unit_block)
    if not session.logged_in:
        await session.client.login()
        session.logged_in = True
    tx = await session.client.request_signatures(
        certificate, items, display_text, client_transaction_id
    )
    get_run_logger().info(
        "Signing request %s sent to %s's phone (%d documents)", tx.id, session.account, len(items)
    )
    return tx


async def fetch_transaction(
    unit_block: str, transaction_id: str, certificate: Certificate, items: list[SignItem]
) -> Transaction:
    """What ``read_transaction`` does, without a task run: for polling loops.

    A wait for the phone polls a transaction a few times per round and unit; a task run
    per poll would multiply the writes in the Prefect database for nothing (a poll
    changes no state of ours).
    """
    session = await get_session(unit_block)
    if not session.logged_in:
        await session.client.login()
        session.logged_in = True
    return await session.client.get_transaction(transaction_id, certificate, items)


@task(name="read_transaction", cache_policy=NONE, persist_result=False)
async def read_transaction(
    unit_block: str, transaction_id: str, certificate: Certificate, items: list[SignItem]
) -> Transaction:
    """The transaction's normalised status; on success every signature is verified."""
    return await fetch_transaction(unit_block, transaction_id, certificate, items)
