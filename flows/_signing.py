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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal
from uuid import UUID

from prefect import get_client
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
from flows._artifacts import (
    artifact_key,
    count,
    publish_markdown,
    text,
    update_markdown,
    vn_time,
)
from flows._pauses import Question, ask
from flows.errors import SigningStopped
from tasks.crash import crash_point
from tasks.dossiers import apply_round, prepare_round, record_signing_request
from tasks.events import announce_approval
from tasks.session import UnitSession
from tasks.signing import fetch_transaction, login_esign, request_signatures

__all__ = [
    "ASK_AGAIN",
    "STOP",
    "UNKNOWN_SENDS",
    "AskAgain",
    "ExportReceipt",
    "OneTimeCode",
    "UnitRun",
    "artifact_key",
    "ask_for_receipts",
    "is_interactive",
    "login",
    "sign_round",
]

#: Sign requests in a row, per round, that may fail in transport before the round stops.
UNKNOWN_SENDS = 5

#: The two answers after a rejection or an expiry, as the form shows them.
ASK_AGAIN: Final = "Gửi lại yêu cầu tới điện thoại / ask the phone again"
STOP: Final = "Dừng ở đây, giữ mọi việc đã làm / stop here, keep everything done so far"


class OneTimeCode(RunInput):
    """The one-time code the provider sent (SMS, e-mail or authenticator app)."""

    code: SecretStr = Field(
        title="Mã OTP / one-time code",
        description="Mã một lần nhà cung cấp ký số vừa gửi (SMS, e-mail hoặc ứng dụng), "
        "ví dụ 123456 / the one-time code the signing provider just sent (SMS, e-mail or "
        "app), e.g. 123456.",
    )


class AskAgain(RunInput):
    """What to do after the phone rejected the request or let it expire."""

    action: Literal[
        "Gửi lại yêu cầu tới điện thoại / ask the phone again",
        "Dừng ở đây, giữ mọi việc đã làm / stop here, keep everything done so far",
    ] = Field(
        default=ASK_AGAIN,
        title="Làm gì tiếp? / What next?",
        description="Gửi lại: điện thoại nhận một yêu cầu ký mới. Dừng: lượt chạy kết thúc, "
        "không mất gì, chạy lại sau / ask again: the phone gets a new signing request. "
        "Stop: the run ends, nothing is lost, run it again later.",
    )


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
    #: The approval cards published in this run, newest last: (artifact id, card).
    cards: list[tuple[UUID, ApprovalCard]] = field(default_factory=list)

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
    unit = run.unit
    try:
        return await login_esign(session)
    except TwoFactorRequired as exc:
        if not run.interactive:
            raise TwoFactorRequired(
                f"unit {unit.unit_code}: nhà cung cấp gửi mã OTP tới chủ tài khoản "
                f"{session.account}; lượt chạy tự động không nhập được / the provider asks for "
                "a one-time code; an unattended run cannot type it. Start setup_remote_signing "
                "by hand from the Prefect UI (or mark this device as remembered with the "
                "provider)."
            ) from exc
    for attempt in range(3):
        key = f"otp-{attempt}"
        question = Question(
            "nhập mã OTP nhà cung cấp ký số vừa gửi",
            "type the one-time code the signing provider sent",
            f"**{text(unit.name)}** ({unit.unit_code}): nhà cung cấp ký số đã gửi mã "
            f"một lần tới chủ tài khoản `{session.account}` / the signing provider sent a "
            f"one-time code to the owner of account `{session.account}`.",
            unit.unit_code,
        )
        answer = await ask(question, OneTimeCode, key=key, settings=run.settings)
        if flow_run.id is not None:
            # The code must not stay in the Prefect database.
            await adelete_flow_run_input(
                key=f"paused-{key}-response", flow_run_id=UUID(flow_run.id)
            )
        try:
            return await login_esign(session, otp=answer.code)
        except TwoFactorRequired:
            get_run_logger().warning(
                "Mã OTP bị từ chối, hỏi lại / the one-time code was refused; asking again"
            )
    raise TwoFactorRequired(
        f"unit {unit.unit_code}: ba mã OTP liên tiếp bị từ chối / three one-time codes were refused"
    )


def _deadline(tx: Transaction, settings: Settings, started: dt.datetime) -> dt.datetime:
    if tx.expires_at is not None:
        return tx.expires_at
    return started + dt.timedelta(seconds=settings.approval_window_seconds)


def _sign_items(items: Sequence[PreparedItem]) -> list[SignItem]:
    return [SignItem(i.document_id, i.name, i.digest) for i in items]


def _round_position(views: Sequence[DossierView], round_no: int) -> tuple[int, int]:
    """(this approval, approvals in all) as the batch really needs: 1 of 1 for forms alone."""
    total = max((len(v.rounds) for v in views), default=2)
    return (round_no if total == 2 else 1), total


@dataclass(frozen=True)
class ApprovalCard:
    """What one signing request asks the signer to approve (one artifact per request)."""

    unit_code: str
    unit_name: str
    provider: str
    account: str
    transaction_id: str
    reference: str
    position: tuple[int, int]
    expires: dt.datetime
    documents: tuple[tuple[str, str], ...]  # (document id, name)
    number: int  # the request's number in this run, per unit: 1, 2, 3...

    @property
    def key(self) -> str:
        """One key per request: unit, request number and reference tell them apart."""
        return artifact_key(
            "duyet", "approve", self.unit_code, f"{self.number:02d}", self.reference or "tx"
        )

    def title(self, outcome: str | None = None) -> str:
        state = outcome or "đang chờ, mới nhất / waiting, newest"
        return (
            f"Duyệt trên điện thoại / approve on the phone: {self.unit_code}, lần "
            f"{self.position[0]}/{self.position[1]}, yêu cầu số {self.number} "
            f"({self.reference or self.transaction_id}) - {state}"
        )

    def markdown(self, outcome: str | None = None) -> str:
        names = "\n".join(f"| `{text(doc_id)}` | {text(name)} |" for doc_id, name in self.documents)
        now = f"**{outcome}**" if outcome else "**Đang chờ duyệt / waiting for approval**"
        return (
            f"## Duyệt trên điện thoại / Approve on the phone: {text(self.unit_name)} "
            f"({self.unit_code})\n\n"
            f"- Trạng thái / status: {now}\n"
            f"- Lần duyệt / approval: **{self.position[0]} / {self.position[1]}** cho hồ sơ "
            f"này / for these dossiers (yêu cầu số / request no. {self.number} trong lượt "
            "chạy / in this run)\n"
            f"- Nhà cung cấp / provider: **{self.provider}**, tài khoản / account "
            f"**{text(self.account)}**\n"
            f"- Giao dịch / transaction: `{self.transaction_id}`, trên điện thoại hiện / shown "
            f"on the phone as **Mã yêu cầu: {self.reference or '-'}**\n"
            f"- Hạn / expires: **{vn_time(self.expires)}**\n"
            "- Cách duyệt / what to do: mở ứng dụng ký số, bấm **Đồng ý**, xác nhận bằng Face "
            "ID / Touch ID / PIN / open the signing app, press **Đồng ý**, confirm with "
            "Face ID / Touch ID / PIN.\n\n"
            f"{count(len(self.documents), 'tài liệu', 'document')}:\n\n"
            f"| mã tài liệu / document id | tài liệu / document |\n|---|---|\n{names}\n"
        )


async def _publish_approval_request(
    run: UnitRun,
    tx: Transaction,
    items: Sequence[SignItem],
    position: tuple[int, int],
    expires: dt.datetime,
    reference: str,
) -> None:
    """One card per request; the cards of earlier requests of this run say they are old."""
    session = run.session
    card = ApprovalCard(
        unit_code=run.unit.unit_code,
        unit_name=run.unit.name,
        provider=run.unit.provider,
        account=session.account,
        transaction_id=tx.id,
        reference=reference,
        position=position,
        expires=expires,
        documents=tuple((i.document_id, i.name) for i in items),
        number=len(run.cards) + 1,
    )
    get_run_logger().info(
        "Chờ %s duyệt trên điện thoại yêu cầu %s (lần %d/%d, %s), hạn %s / waiting for the "
        "phone to approve request %s",
        session.account,
        reference or tx.id,
        position[0],
        position[1],
        count(len(items), "tài liệu", "document"),
        vn_time(expires, date=False),
        reference or tx.id,
    )
    artifact_id = await publish_markdown(card.markdown(), card.key, card.title())
    run.cards.append((artifact_id, card))


_OUTCOME_WORDS: Mapping[TxStatus, str] = {
    TxStatus.SUCCEEDED: "đã duyệt / approved",
    TxStatus.REJECTED: "bị từ chối / rejected",
    TxStatus.EXPIRED: "hết hạn / expired",
    TxStatus.FAILED: "lỗi / failed",
    TxStatus.PENDING: "hết thời gian chờ / no answer in time",
}


async def _close_card(run: UnitRun, tx: Transaction) -> None:
    """The request's card says how it ended (so only the newest one says "waiting")."""
    for artifact_id, card in run.cards:
        if card.transaction_id == tx.id:
            words = _OUTCOME_WORDS.get(tx.status, tx.status.value)
            outcome = f"{words}, lúc / at {vn_time(dt.datetime.now(dt.UTC))}"
            try:
                await update_markdown(artifact_id, card.markdown(outcome), card.title(words))
            except Exception:  # a card that cannot be updated never stops the signing
                get_run_logger().debug("approval card %s not updated", card.key, exc_info=True)


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

    outcome = await wait_for_outcome(
        read,
        tx,
        deadline=deadline,
        first_delay=run.settings.poll_initial_seconds,
        max_delay=run.settings.poll_max_seconds,
    )
    await _close_card(run, outcome)
    return outcome


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
            "unit %s: chưa đọc được giao dịch %s, sẽ hỏi lại / could not read transaction %s "
            "(%s); polling the same transaction again",
            run.unit.unit_code,
            tx_id,
            tx_id,
            exc,
        )
        return None


_NOT_APPROVED: Mapping[TxStatus, tuple[str, str]] = {
    TxStatus.REJECTED: ("bị từ chối trên điện thoại", "rejected on the phone"),
    TxStatus.EXPIRED: ("hết hạn mà chưa được duyệt", "expired before it was approved"),
    TxStatus.FAILED: ("bị nhà cung cấp báo lỗi", "failed at the provider"),
}


async def _decide_after_failure(run: UnitRun, round_no: int, tx: Transaction, attempt: int) -> None:
    """Ask again, or raise SigningStopped (all state is kept)."""
    vi, en = _NOT_APPROVED.get(tx.status, (tx.status.value, tx.status.value))
    what = (
        f"unit {run.unit.unit_code}: yêu cầu ký lượt {round_no} (giao dịch {tx.id}) {vi} / "
        f"round {round_no} transaction {tx.id} {en}"
    )
    if tx.message or tx.error_code:
        what += f" ({tx.error_code or ''} {tx.message or ''})".replace("( ", "(")
    logger = get_run_logger()
    logger.warning("%s", what)
    if run.interactive:
        question = Question(
            "gửi lại yêu cầu ký tới điện thoại, hay dừng",
            "ask the phone again, or stop",
            f"**{text(what)}**.\n\nKhông mất gì đã làm / nothing done so far is lost.",
            run.unit.unit_code,
        )
        answer = await ask(
            question,
            AskAgain,
            key=f"ask-again-r{round_no}-{attempt}",
            settings=run.settings,
        )
        if answer.action == STOP:
            raise SigningStopped(
                f"{what}; người dùng chọn dừng / stopped by the operator. Run again to continue."
            )
        return
    if attempt + 1 >= run.settings.scheduled_signing_attempts:
        raise SigningStopped(
            f"{what}; {attempt + 1} request(s) in this unattended run were not approved "
            f"({attempt + 1} yêu cầu chưa được duyệt). Everything done so far is kept: run "
            "again (or start it by hand) to continue."
        )
    logger.info("Gửi lại yêu cầu tới điện thoại (lần %d) / asking the phone again", attempt + 2)


def _display_text(
    run: UnitRun,
    views: Sequence[DossierView],
    position: tuple[int, int],
    n_docs: int,
    reference: str,
) -> str:
    unit = run.unit
    what = "tờ khai" if position[1] == 2 and position[0] == 1 else "hồ sơ"
    return (
        f"<b>BHXH điện tử</b>: {html.escape(unit.name)} ({html.escape(unit.unit_code)})<br>"
        f"Kỳ {html.escape(views[0].period)}, lần ký {position[0]}/{position[1]}: {n_docs} "
        f"{what} của {len(views)} hồ sơ<br>Mã yêu cầu: {html.escape(reference)}"
    )


def _reference(client_tx: str) -> str:
    """The short request reference shown on the phone and in the approval artifact."""
    return client_tx.rsplit("-", 1)[-1][:8].upper()


def _announce(
    run: UnitRun,
    views: Sequence[DossierView],
    round_no: int,
    tx: Transaction,
    reference: str = "",
    *,
    requested: bool = False,
) -> None:
    """The approval's event (``tasks.events.announce_approval``) for this unit's signer."""
    announce_approval(
        run.unit.unit_code,
        views,
        round_no,
        tx,
        reference,
        account=run.session.account,
        provider=run.unit.provider,
        requested=requested,
    )


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
            "Tiếp tục giao dịch ký %s của lượt chạy trước / resuming signing transaction %s "
            "from an earlier run",
            request.transaction_id,
            request.transaction_id,
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
        _announce(run, request.pending, round_no, tx)
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
            f"{what}: {lost} yêu cầu ký liên tiếp không gửi được / {lost} sign requests in a "
            f"row failed in transport ({exc}); nothing was approved. Everything done so far "
            "is kept: run again later."
        )
    if exc.maybe_sent:
        logger.warning(
            "%s có thể đã tới điện thoại nhưng mất câu trả lời; đừng duyệt nó, chỉ duyệt yêu "
            "cầu mới nhất (mã yêu cầu riêng) / may have reached the phone but its answer was "
            "lost (%s). It will not be used: approve only the newest request, shown with its "
            "own reference.",
            what,
            exc,
        )
    else:
        logger.warning(
            "%s chưa gửi được, gửi lại / was not delivered (%s); sending it again", what, exc
        )
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
                _display_text(run, pending, position, len(items), _reference(client_tx)),
                client_tx,
            )
        except TransportError as exc:
            lost += 1
            await _after_lost_request(run, round_no, client_tx, exc, lost)
            continue
        run.requests += 1
        await record_signing_request(session, pending, round_no, client_tx, tx.id, tx.expires_at)
        _announce(run, pending, round_no, tx, _reference(client_tx), requested=True)
        crash_point(f"r{round_no}-requested")
        tx = await wait_for_transaction(run, tx, items, position, _reference(client_tx))
        _announce(run, pending, round_no, tx, _reference(client_tx))
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
        title="Số hồ sơ / soHoSo",
        description="Số hồ sơ phần mềm I-VAN hiện sau khi nộp, dạng NNNNN/YYYY/CCCCC, ví dụ "
        "03706/2026/07906; để trống để nhập sau vào receipts.csv / the soHoSo the I-VAN "
        "software showed after submitting, e.g. 03706/2026/07906; leave empty to enter it "
        "later in receipts.csv.",
    )
    dot: int | None = Field(
        default=None,
        ge=1,
        title="Đợt / dot",
        description="Đợt nộp nếu phần mềm có hiện, ví dụ 1; để trống nếu không / the batch "
        "number (dot) if the software showed one, e.g. 1; empty otherwise.",
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
        question = Question(
            f"nhập số hồ sơ (soHoSo) I-VAN cấp cho hồ sơ {current.id}",
            f"type the soHoSo the I-VAN gave dossier {current.id}",
            f"**{text(run.unit.name)}** ({run.unit.unit_code}), hồ sơ / dossier "
            f"`{current.id}` (thủ tục / procedure {current.procedure}, kỳ / period "
            f"{current.period}) đã được xuất ra / was exported to `{ack.location}`.\n\n"
            "Nhập tệp vào phần mềm I-VAN, nộp, rồi gõ số hồ sơ (soHoSo) mà phần mềm trả về / "
            "import the files into the I-VAN software, submit, and type the soHoSo it gives.",
            run.unit.unit_code,
        )
        answer = await ask(
            question, ExportReceipt, key=artifact_key("receipt", current.id), settings=run.settings
        )
        if answer.so_ho_so:
            await record_receipt(
                run.session,
                current,
                VssStatus("numbered", so_ho_so=answer.so_ho_so, dot=answer.dot),
            )
