"""What the flows share: run inputs for every pause, log-in with two-factor, the wait for
the phone, and one signing round with resume.

Only orchestration lives here: the work is in ``tasks``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import html
import uuid
from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID

from prefect import get_client
from prefect.artifacts import acreate_markdown_artifact
from prefect.flow_runs import apause_flow_run
from prefect.input import RunInput
from prefect.input.actions import adelete_flow_run_input
from prefect.logging import get_run_logger
from prefect.runtime import deployment, flow_run
from pydantic import Field, SecretStr

from bhxh.settings import Settings
from bhxh.store import DossierStore
from blocks.unit import BhxhUnit
from esign.errors import TransportError, TwoFactorRequired
from esign.models import Certificate, SignItem, Transaction, TxStatus
from tasks._runtime import crash_point, get_session, put_secret
from tasks.dossiers import (
    ROUND_STEPS,
    DossierRef,
    apply_round,
    items_of,
    prepare_round,
    record_signing_request,
)
from tasks.signing import fetch_transaction, login_esign, request_signatures

__all__ = [
    "AskAgain",
    "OneTimeCode",
    "SigningStopped",
    "UnitRun",
    "announce_start",
    "artifact_key",
    "expect_start",
    "is_interactive",
    "login",
    "sign_round",
]


#: Sign requests in a row, per round, that may fail in transport before the round stops.
UNKNOWN_SENDS = 5


_starting: dict[tuple[int, str], asyncio.Event] = {}


def expect_start(unit_block: str) -> asyncio.Event:
    """An event set when ``unit_block``'s run (in this process and loop) has started."""
    event = asyncio.Event()
    _starting[(id(asyncio.get_running_loop()), unit_block)] = event
    return event


def announce_start(unit_block: str) -> None:
    """Called by a unit's run once its flow run exists: see ``expect_start``."""
    event = _starting.pop((id(asyncio.get_running_loop()), unit_block), None)
    if event is not None:
        event.set()


class SigningStopped(RuntimeError):
    """A round was not approved and will not be asked again in this run; state is kept."""


class OneTimeCode(RunInput):
    """The one-time code the provider sent (SMS, e-mail or authenticator app)."""

    code: SecretStr = Field(description="The one-time code (two-factor authentication).")


class AskAgain(RunInput):
    """What to do after the phone rejected the request or let it expire."""

    action: Literal["ask_again", "stop"] = Field(
        default="ask_again",
        description="ask_again: send a new request to the phone; stop: end this run "
        "(everything done so far is kept; run again later).",
    )


def artifact_key(*parts: str) -> str:
    """Artifact keys allow lower-case letters, digits and dashes only."""
    raw = "-".join(parts).lower()
    return "".join(c if c.isalnum() and c.isascii() else "-" for c in raw).strip("-")[:100]


async def is_interactive(explicit: bool | None) -> bool:
    """A person may answer pauses: a deployment run started by hand (not by the schedule).

    Runs without a deployment (scripts, tests, ``make demo``) count as unattended unless
    told otherwise.
    """
    if explicit is not None:
        return explicit
    if deployment.id is None or flow_run.id is None:
        return False
    async with get_client() as client:
        run = await client.read_flow_run(UUID(flow_run.id))
    return not run.auto_scheduled


@dataclass
class UnitRun:
    """Everything one unit's run needs, with no secret in it."""

    unit_block: str
    unit: BhxhUnit
    interactive: bool
    settings: Settings
    certificate: Certificate | None = None
    approvals: int = 0
    requests: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def store_dir(self) -> str:
        return str(self.settings.store_dir)

    @property
    def outbox_dir(self) -> str:
        return str(self.unit.outbox_path(self.settings))

    @property
    def store(self) -> DossierStore:
        return DossierStore(self.settings.store_dir)


async def login(run: UnitRun) -> str:
    """Log in; in a manual run ask a person for the one-time code when the provider wants one.

    The code is deleted from the run's stored inputs as soon as it is read.
    """
    try:
        return await login_esign(run.unit_block)
    except TwoFactorRequired as exc:
        if not run.interactive:
            raise TwoFactorRequired(
                f"unit {run.unit.unit_code}: the provider asks for a one-time code; an "
                "unattended run cannot type it. Start setup_remote_signing by hand from the "
                "Prefect UI (or mark this device as remembered with the provider)."
            ) from exc
    session = await get_session(run.unit_block)
    for attempt in range(3):
        description = (
            f"**{run.unit.name}** ({run.unit.unit_code}): the signing provider sent a one-time "
            f"code to the owner of account `{session.account}`. Type it below."
        )
        key = f"otp-{attempt}"
        answer = await apause_flow_run(
            wait_for_input=OneTimeCode.with_initial_data(description=description),
            timeout=run.settings.pause_timeout_seconds,
            poll_interval=run.settings.pause_poll_seconds,
            key=key,
        )
        if flow_run.id is not None:
            # The code must not stay in the Prefect database.
            await adelete_flow_run_input(
                key=f"paused-{key}-response", flow_run_id=UUID(flow_run.id)
            )
        ref = put_secret(answer.code)
        try:
            return await login_esign(run.unit_block, otp_ref=ref)
        except TwoFactorRequired:
            get_run_logger().warning("The one-time code was refused; asking again")
    raise TwoFactorRequired(f"unit {run.unit.unit_code}: three one-time codes were refused")


def _deadline(tx: Transaction, settings: Settings, started: dt.datetime) -> dt.datetime:
    if tx.expires_at is not None:
        return tx.expires_at
    return started + dt.timedelta(seconds=settings.approval_window_seconds)


async def _publish_approval_request(
    run: UnitRun,
    tx: Transaction,
    items: list[SignItem],
    round_no: int,
    expires: dt.datetime,
    reference: str,
) -> None:
    session = await get_session(run.unit_block)
    names = "\n".join(f"| `{i.document_id}` | {html.escape(i.name)} |" for i in items)
    markdown = (
        f"## Approve on the phone: {run.unit.name} ({run.unit.unit_code})\n\n"
        f"- Provider: **{run.unit.provider}**, account **{session.account}**\n"
        f"- Transaction: `{tx.id}` (round {round_no} of "
        f"{'2' if round_no == 1 else '1 or 2'}), shown on the phone as "
        f"**Mã yêu cầu: {reference or '-'}**\n"
        f"- Expires: **{expires:%Y-%m-%d %H:%M:%S} UTC**\n"
        f"- What to do: open the signing app, press **Đồng ý**, confirm with Face ID / "
        f"Touch ID / PIN.\n\n"
        f"| document id | document |\n|---|---|\n{names}\n"
    )
    get_run_logger().info(
        "Waiting for %s to approve transaction %s on the phone (%d documents, until %s UTC)",
        session.account,
        tx.id,
        len(items),
        f"{expires:%H:%M:%S}",
    )
    await acreate_markdown_artifact(
        markdown=markdown,
        key=artifact_key("approve", run.unit.unit_code),
        description=f"Approval request for {run.unit.unit_code}",
    )


async def wait_for_transaction(
    run: UnitRun, tx: Transaction, items: list[SignItem], round_no: int, reference: str = ""
) -> Transaction:
    """Poll on a backoff schedule until a terminal status or the deadline (then: expired)."""
    assert run.certificate is not None
    started = dt.datetime.now(dt.UTC)
    deadline = _deadline(tx, run.settings, started)
    await _publish_approval_request(run, tx, items, round_no, deadline, reference)
    delay = run.settings.poll_initial_seconds
    while True:
        # A transport error (timeout, 429, 5xx after the client's own retries) says nothing
        # about the transaction: keep polling the same one, never ask for a new approval.
        current = await _read_or_none(run, tx.id, items)
        if current is not None and current.status.terminal:
            return current
        remaining = (deadline - dt.datetime.now(dt.UTC)).total_seconds()
        if remaining <= -5:  # a little grace for clocks and the provider's own expiry
            return Transaction(
                tx.id, tx.provider, TxStatus.EXPIRED, message="no answer before the deadline"
            )
        await asyncio.sleep(max(0.05, min(delay, max(remaining, 1.0))))
        delay = min(delay * 1.6, run.settings.poll_max_seconds)


async def _read_or_none(run: UnitRun, tx_id: str, items: list[SignItem]) -> Transaction | None:
    """The transaction's status, or None when the provider could not be read this time."""
    assert run.certificate is not None
    try:
        # No task run per poll: a poll changes nothing, and at hundreds of units the
        # task runs (writes in the Prefect database) were what made the run slow.
        return await fetch_transaction(run.unit_block, tx_id, run.certificate, items)
    except TransportError as exc:
        get_run_logger().warning(
            "unit %s: could not read transaction %s (%s); polling the same transaction again",
            run.unit.unit_code,
            tx_id,
            exc,
        )
        return None


async def _decide_after_failure(run: UnitRun, round_no: int, tx: Transaction, attempt: int) -> None:
    """Ask again, or raise SigningStopped (all state is kept)."""
    what = f"unit {run.unit.unit_code}: round {round_no} transaction {tx.id} {tx.status.value}"
    if tx.message or tx.error_code:
        what += f" ({tx.error_code or ''} {tx.message or ''})".replace("( ", "(")
    logger = get_run_logger()
    logger.warning("%s", what)
    if run.interactive:
        answer = await apause_flow_run(
            wait_for_input=AskAgain.with_initial_data(
                description=f"**{what}**.\n\nSend a new request to the phone, or stop here? "
                "Nothing done so far is lost.",
                action="ask_again",
            ),
            timeout=run.settings.pause_timeout_seconds,
            poll_interval=run.settings.pause_poll_seconds,
            key=f"ask-again-r{round_no}-{attempt}",
        )
        if answer.action == "stop":
            raise SigningStopped(f"{what}; stopped by the operator. Run again to continue.")
        return
    if attempt + 1 >= run.settings.scheduled_signing_attempts:
        raise SigningStopped(
            f"{what}; {attempt + 1} request(s) in this unattended run were not approved. "
            "Everything done so far is kept: run again (or start it by hand) to continue."
        )
    logger.info("Asking the phone again (attempt %d)", attempt + 2)


def _display_text(
    run: UnitRun, refs: list[DossierRef], round_no: int, n_docs: int, reference: str
) -> str:
    unit = run.unit
    what = "tờ khai" if round_no == 1 else "hồ sơ (bộ hồ sơ / tờ khai đăng ký)"
    return (
        f"<b>BHXH điện tử</b>: {html.escape(unit.name)} ({html.escape(unit.unit_code)})<br>"
        f"Kỳ {html.escape(refs[0].period)}, lượt ký {round_no}: {n_docs} {what} "
        f"của {len(refs)} hồ sơ<br>Mã yêu cầu: {html.escape(reference)}"
    )


def _reference(client_tx: str) -> str:
    """The short request reference shown on the phone and in the approval artifact."""
    return client_tx.rsplit("-", 1)[-1][:8].upper()


async def _resume_existing(run: UnitRun, refs: list[DossierRef], round_no: int) -> set[str]:
    """Continue transactions an earlier run started for this round; returns dossiers done.

    A transaction still pending is waited for; one that succeeded is applied (no new
    approval); one that failed is forgotten (a new request follows).
    """
    requested_step, signed_step = ROUND_STEPS[round_no][1], ROUND_STEPS[round_no][2]
    store = run.store
    by_tx: dict[str, list[DossierRef]] = {}
    covered: dict[str, list[str]] = {}  # transaction -> every dossier its request covered
    deadline: dict[str, str | None] = {}
    for ref in refs:
        rec = store.get(ref.unit_code, ref.period, ref.id)
        last = rec.last(requested_step)
        if rec.has(signed_step) or last is None or not last.data.get("transaction_id"):
            continue
        prepared = rec.last(ROUND_STEPS[round_no][0])
        if prepared is None or prepared.at > last.at:
            continue  # prepared again after that request (another certificate)
        tx_id = last.data["transaction_id"]
        by_tx.setdefault(tx_id, []).append(ref)
        covered[tx_id] = list(last.data.get("dossiers") or [ref.id])
        deadline[tx_id] = last.data.get("expires_at")
    done: set[str] = set()
    for tx_id, group in by_tx.items():
        # The provider returns a signature for every document of the request, including
        # those of dossiers already applied before a crash: verify against all of them.
        unit_code, period = group[0].unit_code, group[0].period
        items = [
            i
            for dossier_id in covered[tx_id]
            for i in items_of(store.get(unit_code, period, dossier_id), round_no)
        ]
        get_run_logger().info("Resuming signing transaction %s from an earlier run", tx_id)
        recorded = deadline[tx_id]
        expires = dt.datetime.fromisoformat(recorded) if recorded else None
        tx = await _read_or_none(run, tx_id, items) or Transaction(
            tx_id, run.unit.provider, TxStatus.PENDING, expires_at=expires
        )
        if tx.status is TxStatus.PENDING:
            tx = dataclasses.replace(tx, expires_at=tx.expires_at or expires)
            tx = await wait_for_transaction(run, tx, items, round_no)
        if tx.status is TxStatus.SUCCEEDED:
            run.approvals += 1
            await _apply(run, group, round_no, tx)
            done.update(r.id for r in group)
    return done


async def _apply(run: UnitRun, refs: list[DossierRef], round_no: int, tx: Transaction) -> None:
    """Phase two for every dossier of the round: one task run per unit and round."""
    assert run.certificate is not None
    await apply_round(
        refs, round_no, tx.id, tx.signatures, run.certificate.der, run.store_dir, run.outbox_dir
    )


async def _after_lost_request(
    run: UnitRun, round_no: int, client_tx: str, exc: TransportError, lost: int
) -> None:
    """A sign request failed in transport: send a new one (bounded), or stop the round.

    When the request may have reached the provider (a timeout or 5xx after it was sent),
    MISA may have put it on the phone, and only its answer carries the transaction id: it
    cannot be looked up, so it is never used. The new request carries a new reference
    ("Mã yêu cầu") on the phone and in the approval artifact, so the signer can tell the
    current one; the orphan expires unused. VNPT keys requests on our own id, which the
    client resends safely itself.
    """
    logger = get_run_logger()
    what = f"unit {run.unit.unit_code}: round {round_no} request {_reference(client_tx)}"
    if lost >= UNKNOWN_SENDS:
        raise SigningStopped(
            f"{what}: {lost} sign requests in a row failed in transport ({exc}); nothing "
            "was approved. Everything done so far is kept: run again later."
        )
    if exc.maybe_sent:
        logger.warning(
            "%s may have reached the phone but its answer was lost (%s). It will not be "
            "used: approve only the newest request, shown with its own reference.",
            what,
            exc,
        )
    else:
        logger.warning("%s was not delivered (%s); sending it again", what, exc)
    await asyncio.sleep(min(5.0, run.settings.poll_initial_seconds * lost))


async def sign_round(run: UnitRun, refs: list[DossierRef], round_no: int) -> None:
    """One batch signature (one approval) for every document of ``refs`` in this round.

    Resumes what an earlier run left: prepared templates are reused, a pending or approved
    transaction is continued, never asked for again.
    """
    if not refs:
        return
    assert run.certificate is not None
    store = run.store
    signed_step = ROUND_STEPS[round_no][2]
    pending = [r for r in refs if not store.get(r.unit_code, r.period, r.id).has(signed_step)]
    if not pending:
        return
    items_by_ref = await prepare_round(pending, round_no, run.certificate.der, run.store_dir)
    crash_point(f"r{round_no}-prepared")
    done = await _resume_existing(run, pending, round_no)
    pending = [r for r in pending if r.id not in done]
    attempt = 0
    lost = 0
    while pending:
        items = [i for ref in pending for i in items_by_ref[ref.id]]
        client_tx = f"{run.unit.unit_code}-r{round_no}-{uuid.uuid4().hex[:16]}"
        await record_signing_request(pending, round_no, client_tx, None, None, run.store_dir)
        crash_point(f"r{round_no}-sending")
        try:
            tx = await request_signatures(
                run.unit_block,
                run.certificate,
                items,
                _display_text(run, pending, round_no, len(items), _reference(client_tx)),
                client_tx,
            )
        except TransportError as exc:
            lost += 1
            await _after_lost_request(run, round_no, client_tx, exc, lost)
            continue
        run.requests += 1
        await record_signing_request(
            pending, round_no, client_tx, tx.id, tx.expires_at, run.store_dir
        )
        crash_point(f"r{round_no}-requested")
        tx = await wait_for_transaction(run, tx, items, round_no, _reference(client_tx))
        if tx.status is TxStatus.SUCCEEDED:
            run.approvals += 1
            crash_point(f"r{round_no}-approved")
            await _apply(run, pending, round_no, tx)
            return
        await _decide_after_failure(run, round_no, tx, attempt)
        attempt += 1
