"""What the flows share: run inputs for every pause, log-in with two-factor, the wait for
the phone, and one signing round with resume.

Only orchestration lives here: the steps are in ``bhxh.pipeline`` (through ``tasks``), the
clients in the unit's ``tasks.session.UnitSession``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import html
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from prefect import get_client
from prefect.artifacts import acreate_markdown_artifact
from prefect.flow_runs import apause_flow_run
from prefect.input import RunInput
from prefect.input.actions import adelete_flow_run_input
from prefect.logging import get_run_logger
from prefect.runtime import deployment, flow_run
from pydantic import Field, SecretStr

from bhxh.pipeline import DossierView, PreparedItem, VssStatus
from bhxh.settings import Settings
from blocks.unit import BhxhUnit
from esign.errors import TransportError, TwoFactorRequired
from esign.models import Certificate, SignItem, Transaction, TxStatus
from esign.waiting import wait_for_outcome
from tasks.crash import crash_point
from tasks.dossiers import apply_round, prepare_round, record_signing_request
from tasks.events import announce_approval
from tasks.session import UnitSession
from tasks.signing import fetch_transaction, login_esign, request_signatures

__all__ = [
    "UNKNOWN_SENDS",
    "AskAgain",
    "ExportReceipt",
    "OneTimeCode",
    "SigningStopped",
    "UnitRun",
    "artifact_key",
    "ask_for_receipts",
    "is_interactive",
    "login",
    "sign_round",
]

#: Sign requests in a row, per round, that may fail in transport before the round stops.
UNKNOWN_SENDS = 5

VN = ZoneInfo("Asia/Ho_Chi_Minh")


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
    """One unit's run: its session (clients, pipeline), and what this run has done so far.

    No secret in it: the tokens live inside the session's client.
    """

    session: UnitSession
    interactive: bool
    certificate: Certificate | None = None
    approvals: int = 0
    requests: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def unit(self) -> BhxhUnit:
        return self.session.unit

    @property
    def settings(self) -> Settings:
        return self.session.settings


async def login(run: UnitRun) -> str:
    """Log in; in a manual run ask a person for the one-time code when the provider wants one.

    The code is deleted from the run's stored inputs as soon as it is read.
    """
    session = run.session
    try:
        return await login_esign(session)
    except TwoFactorRequired as exc:
        if not run.interactive:
            raise TwoFactorRequired(
                f"unit {run.unit.unit_code}: the provider asks for a one-time code; an "
                "unattended run cannot type it. Start setup_remote_signing by hand from the "
                "Prefect UI (or mark this device as remembered with the provider)."
            ) from exc
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
        try:
            return await login_esign(session, otp=answer.code)
        except TwoFactorRequired:
            get_run_logger().warning("The one-time code was refused; asking again")
    raise TwoFactorRequired(f"unit {run.unit.unit_code}: three one-time codes were refused")


def _deadline(tx: Transaction, settings: Settings, started: dt.datetime) -> dt.datetime:
    if tx.expires_at is not None:
        return tx.expires_at
    return started + dt.timedelta(seconds=settings.approval_window_seconds)


def _sign_items(items: Sequence[PreparedItem]) -> list[SignItem]:
    return [SignItem(i.document_id, i.name, i.digest) for i in items]


def _round_position(views: Sequence[DossierView], round_no: int) -> tuple[int, int]:
    """(this round, rounds in all) as the batch really needs: 1 of 1 for forms alone."""
    total = max((len(v.rounds) for v in views), default=2)
    return (round_no if total == 2 else 1), total


async def _publish_approval_request(
    run: UnitRun,
    tx: Transaction,
    items: Sequence[SignItem],
    position: tuple[int, int],
    expires: dt.datetime,
    reference: str,
) -> None:
    session = run.session
    names = "\n".join(f"| `{i.document_id}` | {html.escape(i.name)} |" for i in items)
    local = expires.astimezone(VN)
    markdown = (
        f"## Approve on the phone: {run.unit.name} ({run.unit.unit_code})\n\n"
        f"- Provider: **{run.unit.provider}**, account **{session.account}**\n"
        f"- Transaction: `{tx.id}` (approval {position[0]} of {position[1]}), shown on "
        f"the phone as **Mã yêu cầu: {reference or '-'}**\n"
        f"- Expires: **{local:%d/%m/%Y %H:%M:%S} (giờ Việt Nam, UTC+7)**\n"
        f"- What to do: open the signing app, press **Đồng ý**, confirm with Face ID / "
        f"Touch ID / PIN.\n\n"
        f"| document id | document |\n|---|---|\n{names}\n"
    )
    get_run_logger().info(
        "Waiting for %s to approve transaction %s on the phone (%d document(s), until %s "
        "Vietnam time)",
        session.account,
        tx.id,
        len(items),
        f"{local:%H:%M:%S}",
    )
    await acreate_markdown_artifact(
        markdown=markdown,
        key=artifact_key("approve", run.unit.unit_code),
        description=f"Approval request for {run.unit.unit_code}",
    )


async def wait_for_transaction(
    run: UnitRun,
    tx: Transaction,
    items: Sequence[SignItem],
    position: tuple[int, int],
    reference: str = "",
) -> Transaction:
    """Tell a person what to approve, then wait for the outcome (``esign.waiting``)."""
    assert run.certificate is not None
    certificate = run.certificate
    deadline = _deadline(tx, run.settings, dt.datetime.now(dt.UTC))
    await _publish_approval_request(run, tx, items, position, deadline, reference)

    async def read() -> Transaction | None:
        return await _read_or_none(run, tx.id, certificate, items)

    return await wait_for_outcome(
        read,
        tx,
        deadline=deadline,
        first_delay=run.settings.poll_initial_seconds,
        max_delay=run.settings.poll_max_seconds,
    )


async def _read_or_none(
    run: UnitRun, tx_id: str, certificate: Certificate, items: Sequence[SignItem]
) -> Transaction | None:
    """The transaction's status, or None when the provider could not be read this time."""
    try:
        return await fetch_transaction(run.session, tx_id, certificate, items)
    except TransportError as exc:
        # A transport error says nothing about the transaction: read the same one later,
        # never ask for a new approval because of it.
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
    run: UnitRun, views: Sequence[DossierView], round_no: int, n_docs: int, reference: str
) -> str:
    unit = run.unit
    what = "tờ khai" if round_no == 1 else "hồ sơ (bộ hồ sơ / tờ khai đăng ký)"
    return (
        f"<b>BHXH điện tử</b>: {html.escape(unit.name)} ({html.escape(unit.unit_code)})<br>"
        f"Kỳ {html.escape(views[0].period)}, lượt ký {round_no}: {n_docs} {what} "
        f"của {len(views)} hồ sơ<br>Mã yêu cầu: {html.escape(reference)}"
    )


def _reference(client_tx: str) -> str:
    """The short request reference shown on the phone and in the approval artifact."""
    return client_tx.rsplit("-", 1)[-1][:8].upper()


async def _resume_existing(run: UnitRun, views: list[DossierView], round_no: int) -> set[str]:
    """Continue transactions an earlier run started for this round; returns dossiers done.

    A transaction still pending is waited for; one that succeeded is applied (no new
    approval); one that failed is forgotten (a new request follows).
    """
    assert run.certificate is not None
    pipeline = run.session.pipeline
    done: set[str] = set()
    for request in await asyncio.to_thread(pipeline.open_requests, views, round_no):
        # The provider returns a signature for every document of the request, including
        # those of dossiers applied before a crash: verify against all of them.
        items = _sign_items(request.items)
        get_run_logger().info(
            "Resuming signing transaction %s from an earlier run", request.transaction_id
        )
        tx = await _read_or_none(
            run, request.transaction_id, run.certificate, items
        ) or Transaction(
            request.transaction_id,
            run.unit.provider,
            TxStatus.PENDING,
            expires_at=request.expires_at,
        )
        if tx.status is TxStatus.PENDING:
            tx = dataclasses.replace(tx, expires_at=tx.expires_at or request.expires_at)
            tx = await wait_for_transaction(
                run, tx, items, _round_position(request.pending, round_no)
            )
        announce_approval(run.session, request.pending, round_no, tx)
        if tx.status is TxStatus.SUCCEEDED:
            run.approvals += 1
            await _apply(run, list(request.pending), round_no, tx)
            done.update(v.id for v in request.pending)
    return done


async def _apply(run: UnitRun, views: list[DossierView], round_no: int, tx: Transaction) -> None:
    """Phase two for every dossier of the round: one task run per unit and round."""
    assert run.certificate is not None
    await apply_round(run.session, views, round_no, tx.id, tx.signatures, run.certificate.der)


async def _after_lost_request(
    run: UnitRun, round_no: int, client_tx: str, exc: TransportError, lost: int
) -> None:
    """A sign request failed in transport: send a new one (bounded), or stop the round.

    When the request may have reached the provider (a timeout or 5xx after it was sent),
    it may be on the phone, and its id may be unknown to us: it is never used. The new
    request carries a new reference ("Mã yêu cầu") on the phone and in the approval
    artifact, so the signer can tell the current one; the orphan expires unused.
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


async def sign_round(run: UnitRun, views: list[DossierView], round_no: int) -> None:
    """One batch signature (one approval) for every document of ``views`` in this round.

    Resumes what an earlier run left: prepared templates are reused, a pending or approved
    transaction is continued, never asked for again.
    """
    if not views:
        return
    assert run.certificate is not None
    session = run.session
    pending = await asyncio.to_thread(session.pipeline.unsigned, views, round_no)
    if not pending:
        return
    prepared = await prepare_round(session, pending, round_no, run.certificate)
    crash_point(f"r{round_no}-prepared")
    done = await _resume_existing(run, pending, round_no)
    pending = [v for v in pending if v.id not in done]
    position = _round_position(pending, round_no)
    attempt = 0
    lost = 0
    while pending:
        items = [i for v in pending for i in _sign_items(prepared[v.id].items)]
        client_tx = f"{run.unit.unit_code}-r{round_no}-{uuid.uuid4().hex[:16]}"
        await record_signing_request(session, pending, round_no, client_tx, None, None)
        crash_point(f"r{round_no}-sending")
        try:
            tx = await request_signatures(
                session,
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
        await record_signing_request(session, pending, round_no, client_tx, tx.id, tx.expires_at)
        announce_approval(session, pending, round_no, tx, _reference(client_tx), requested=True)
        crash_point(f"r{round_no}-requested")
        tx = await wait_for_transaction(run, tx, items, position, _reference(client_tx))
        announce_approval(session, pending, round_no, tx, _reference(client_tx))
        if tx.status is TxStatus.SUCCEEDED:
            run.approvals += 1
            crash_point(f"r{round_no}-approved")
            await _apply(run, pending, round_no, tx)
            return
        await _decide_after_failure(run, round_no, tx, attempt)
        attempt += 1


class ExportReceipt(RunInput):
    """The receipt the I-VAN's software gave for an exported dossier."""

    so_ho_so: str = Field(
        default="",
        pattern=r"^(\d{5}/\d{4}/\d{5})?$",
        description="Số hồ sơ (soHoSo) the I-VAN software showed after submitting, e.g. "
        "03706/2026/07906. Leave empty to enter it later in receipts.csv.",
    )
    dot: int | None = Field(
        default=None, ge=1, description="Đợt (dot), if the I-VAN software showed one."
    )


async def ask_for_receipts(run: UnitRun, views: Sequence[DossierView]) -> None:
    """In a manual run, ask a person for the receipt of every exported dossier.

    The export route ends at the I-VAN's software: the person imports the files there,
    submits, and types the soHoSo it shows. Left empty, the receipt can come later from
    the export location's receipts file (``track_results`` reads it).
    """
    from tasks.dossiers import record_receipt

    pipeline = run.session.pipeline
    for view in views:
        current = await asyncio.to_thread(pipeline.view, view)
        ack = current.acknowledgement
        if not current.exported or current.receipt is not None or ack is None:
            continue
        answer = await apause_flow_run(
            wait_for_input=ExportReceipt.with_initial_data(
                description=f"**{run.unit.name}** ({run.unit.unit_code}), hồ sơ / dossier "
                f"`{current.id}` (thủ tục {current.procedure}, kỳ {current.period}) đã được "
                f"xuất ra / was exported to `{ack.location}`.\n\nNhập tệp vào phần mềm I-VAN, "
                "nộp, rồi gõ số hồ sơ (soHoSo) mà phần mềm trả về / import the files into the "
                "I-VAN software, submit, and type the soHoSo it gives.",
            ),
            timeout=run.settings.pause_timeout_seconds,
            poll_interval=run.settings.pause_poll_seconds,
            key=artifact_key("receipt", current.id),
        )
        if answer.so_ho_so:
            await record_receipt(
                run.session,
                current,
                VssStatus("numbered", so_ho_so=answer.so_ho_so, dot=answer.dot),
            )
