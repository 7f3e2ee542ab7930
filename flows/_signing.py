"""One signing round: a batch signature (one approval on the phone) for every document of
some dossiers, and everything around it: the request, the wait for the phone (its approval
card), a new request after a lost one or a refusal (bounded), and resuming what an earlier
run left (a pending or approved transaction is continued, never asked for again).

The send window. A request is journalled under our own id before it is sent, and the
provider's id right after its answer (``tasks.signing.request_signatures``). A process
that dies between the two, or an answer lost in transport, leaves a request the journal
knows only by our id. Where the provider takes our id (VNPT SmartCA sp769, 3.3; CA2), the run
finds it again under that id (``esign.base.FindsRequests``) and continues it: waits on
it, uses its signatures, asks anew only after a rejection, an expiry or a failure, or
when the provider never received it. Where the provider chooses the id (MISA: only in
its answer; no documented call finds a request by anything of ours, see ``esign/misa.py``)
the request is void: before asking again the run names it by its reference ("Mã yêu
cầu", on the phone) in the log and on a card (``flows._approvals.publish_void_notice``),
and the new request's card and phone description name it too. Such a request costs at
most one repeated approval, and only if the signer approves it.

Only orchestration lives here: the steps are in ``bhxh.pipeline`` (through ``tasks``), the
clients in the unit's ``tasks.session.UnitSession``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import hashlib
import html
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence

from prefect.logging import get_run_logger

from bhxh.pipeline import DossierView, Prepared, PreparedItem
from bhxh.settings import Settings
from esign.errors import SigningBlocked, TransportError
from esign.models import Certificate, SignItem, Transaction, TxStatus
from esign.waiting import WAKEUPS, wait_for_outcome
from flows._approvals import ApprovalCard, VoidNotice, close_card, publish_card, publish_void_notice
from flows._artifacts import text
from flows._callbacks import listen_for_callbacks
from flows._pauses import STOP, AskAgain, Question, ask, was_answered
from flows._run import UnitRun
from flows.errors import SigningStopped, StoppedByOperator
from tasks.crash import crash_point
from tasks.dossiers import apply_round, prepare_round, record_signing_request
from tasks.events import announce_approval
from tasks.signing import (
    can_find_requests,
    fetch_transaction,
    find_signing_request,
    request_reference,
    request_signatures,
)

__all__ = ["LOOKUPS", "UNKNOWN_SENDS", "sign_round", "wait_for_transaction"]

#: Sign requests in a row, per round, that may fail in transport before the round stops.
UNKNOWN_SENDS = 5
#: Tries at asking the provider whether an unanswered request reached it, before the
#: round stops (nothing new is asked while the answer is unknown).
LOOKUPS = 5


def _deadline(tx: Transaction, settings: Settings, started: dt.datetime) -> dt.datetime:
    if tx.expires_at is not None:
        return tx.expires_at
    return started + dt.timedelta(seconds=settings.approval_window_seconds)


def _sign_items(items: Sequence[PreparedItem]) -> list[SignItem]:
    return [SignItem(i.document_id, i.name, i.digest, i.kind) for i in items]


def _round_position(views: Sequence[DossierView], round_no: int) -> tuple[int, int]:
    """(this approval, approvals in all) as the batch really needs: 1 of 1 for forms alone."""
    total = max((len(v.rounds) for v in views), default=2)
    return (round_no if total == 2 else 1), total


async def _publish_approval_request(
    run: UnitRun,
    tx: Transaction,
    items: Sequence[SignItem],
    position: tuple[int, int],
    expires: dt.datetime,
    reference: str,
    void: Sequence[str] = (),
) -> None:
    """One card per request; the cards of earlier requests of this run say they are old."""
    card = ApprovalCard(
        unit_code=run.unit.unit_code,
        unit_name=run.unit.name,
        provider=run.unit.provider,
        account=run.session.account,
        transaction_id=tx.id,
        reference=reference,
        position=position,
        expires=expires,
        documents=tuple((i.document_id, i.name) for i in items),
        number=len(run.cards) + 1,
        void=tuple(void),
    )
    run.cards.append((await publish_card(card), card))


async def _close_card(run: UnitRun, tx: Transaction) -> None:
    """The request's card says how it ended (so only the newest one says "waiting")."""
    for artifact_id, card in run.cards:
        if card.transaction_id == tx.id:
            await close_card(artifact_id, card, tx.status)


async def wait_for_transaction(
    run: UnitRun,
    tx: Transaction,
    items: Sequence[SignItem],
    position: tuple[int, int],
    reference: str = "",
    void: Sequence[str] = (),
) -> Transaction:
    """Tell a person what to approve, then wait for the outcome (``esign.waiting``)."""
    assert run.certificate is not None
    certificate = run.certificate
    deadline = _deadline(tx, run.settings, dt.datetime.now(dt.UTC))
    await _publish_approval_request(run, tx, items, position, deadline, reference, void)

    async def read() -> Transaction | None:
        return await _read_or_none(run, tx.id, certificate, items)

    settings = run.settings
    # A provider that calls back (``receiver/`` turns its callback into a Prefect event,
    # which the round's listener hears) wakes this wait at once; polling stays the
    # fallback, slower when a callback is expected. The wake only makes the wait read:
    # the provider's answer is the truth.
    listener = run.callbacks
    expected = listener is not None and tx.provider in settings.provider_callbacks
    with WAKEUPS.waiting(tx.provider, tx.id) as wake:
        if listener is not None and listener.heard(tx.provider, tx.id):
            wake.set()  # the callback came before this wait began
        outcome = await wait_for_outcome(
            read,
            tx,
            deadline=deadline,
            first_delay=(
                settings.callback_poll_initial_seconds
                if expected
                else settings.poll_initial_seconds
            ),
            max_delay=settings.callback_poll_max_seconds if expected else settings.poll_max_seconds,
            wake=wake,
            read_first=not expected,
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
            "Đơn vị %s: chưa đọc được giao dịch %s, sẽ hỏi lại / could not read transaction %s "
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


def _ask_again_key(round_no: int, tx: Transaction) -> str:
    """The pause key of the question after ``tx`` failed: named by the transaction, so that
    a run started again after a suspension finds its answer when it reads ``tx`` again."""
    return f"ask-again-r{round_no}-{hashlib.sha256(tx.id.encode()).hexdigest()[:12]}"


def refusal_words(
    unit_code: str, tx: Transaction, reference: str, position: tuple[int, int]
) -> str:
    """The sentence about a request the phone did not approve, in the phone's words: its
    "Mã yêu cầu" (not the provider's transaction id), "lần duyệt" (the phone says "lần
    ký 1/2"), the provider's own message in Vietnamese; its code (``USER_REJECTED``) is for
    the log only."""
    vi, en = _NOT_APPROVED.get(tx.status, (tx.status.value, tx.status.value))
    shown = reference or tx.id
    said = f" (nhà cung cấp báo: {tx.message})" if tx.message else ""
    return (
        f"Đơn vị {unit_code}: yêu cầu ký Mã yêu cầu {shown}, lần duyệt "
        f"{position[0]}/{position[1]}, {vi}{said} / {unit_code}: the signing request "
        f"{shown} (approval {position[0]} of {position[1]}) was {en}"
    )


async def _decide_after_failure(
    run: UnitRun,
    round_no: int,
    tx: Transaction,
    attempt: int,
    reference: str = "",
    position: tuple[int, int] = (1, 2),
) -> None:
    """Ask again, or raise SigningStopped (all state is kept)."""
    what = refusal_words(run.unit.unit_code, tx, reference, position)
    logger = get_run_logger()
    # The provider's code and transaction id stay in the log, for whoever reads it.
    logger.warning(
        "%s. Giao dịch %s / transaction %s, provider code %s",
        what,
        tx.id,
        tx.id,
        tx.error_code or "-",
    )
    if not tx.ask_again:
        # Asking again meets the same refusal until a person acts (MySign 4005: out of
        # signing quota; 13004: certificate expired or revoked): the unit ends here.
        raise SigningBlocked(run.unit.provider, tx.error_code or tx.status.value, what)
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
            key=_ask_again_key(round_no, tx),
            settings=run.settings,
            release_worker=run.release_worker,
        )
        if answer.action == STOP:
            raise StoppedByOperator(
                f"{what}. Người dùng chọn dừng, mọi việc đã làm được giữ lại, chạy lại để tiếp "
                "tục / stopped by the operator, everything done is kept: run again to continue"
            )
        return
    if attempt + 1 >= run.settings.scheduled_signing_attempts:
        raise SigningStopped(
            f"{what}. {attempt + 1} yêu cầu của lượt chạy tự động này chưa được duyệt, mọi "
            f"việc đã làm được giữ lại, chạy lại (hoặc chạy bằng tay) để tiếp tục / "
            f"{attempt + 1} request(s) in this unattended run were not approved; everything "
            "done so far is kept: run again (or start it by hand) to continue."
        )
    logger.info("Gửi lại yêu cầu tới điện thoại (lần %d) / asking the phone again", attempt + 2)


def _display_text(
    run: UnitRun,
    views: Sequence[DossierView],
    position: tuple[int, int],
    n_docs: int,
    reference: str,
    void: Sequence[str] = (),
) -> str:
    """What the phone shows: the unit, the period, what is signed, the references of
    earlier requests it replaces (void: not to be approved), and last the request's own
    reference (a provider that must shorten the text keeps its last line: MySign)."""
    unit = run.unit
    what = "tờ khai" if position[1] == 2 and position[0] == 1 else "hồ sơ"
    shown = (
        f"<b>BHXH điện tử</b>: {html.escape(unit.name)} ({html.escape(unit.unit_code)})<br>"
        f"Kỳ {html.escape(views[0].period)}, lần ký {position[0]}/{position[1]}: {n_docs} "
        f"{what} của {len(views)} hồ sơ<br>"
    )
    if void:
        refs = ", ".join(html.escape(r) for r in void)
        shown += f"<b>Đã hủy, đừng duyệt</b>: Mã yêu cầu {refs}<br>"
    return shown + f"Mã yêu cầu: {html.escape(reference)}"


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


async def _void(
    run: UnitRun, round_no: int, client_tx: str, void: list[str], *, crash: bool
) -> None:
    """Call a request void (it may be on the phone; it is never used) and say so now.

    ``crash``: the earlier run stopped between the send and the journalled answer; else
    the answer was lost in transport in this run.
    """
    reference = request_reference(client_tx)
    if reference in void:
        return
    void.append(reference)
    provider = run.unit.provider.upper()
    if crash:
        why_vi = (
            f"lượt chạy trước dừng giữa lúc gửi yêu cầu và lúc ghi mã giao dịch {provider} "
            f"trả về, nên nó có thể đã tới điện thoại, và {provider} không cho tìm lại yêu "
            "cầu theo mã của ta"
        )
        why_en = (
            f"the earlier run stopped between sending it and journalling {provider}'s answer "
            f"(its transaction id), so it may be on the phone, and {provider} offers no call "
            "that finds a request by our own reference"
        )
    else:
        why_vi = f"mất câu trả lời của {provider} (mã giao dịch) trên đường truyền"
        why_en = f"{provider}'s answer (its transaction id) was lost in transport"
    await publish_void_notice(
        VoidNotice(
            unit_code=run.unit.unit_code,
            unit_name=run.unit.name,
            provider=provider,
            account=run.session.account,
            reference=reference,
            round_no=round_no,
            why_vi=why_vi,
            why_en=why_en,
        )
    )


async def _look_up(
    run: UnitRun,
    views: Sequence[DossierView],
    round_no: int,
    client_tx: str,
    items: Sequence[SignItem],
    covers: Sequence[str] | None = None,
) -> Transaction | None:
    """The transaction of a request journalled under ``client_tx`` whose answer was not,
    found by the provider under our id (its id journalled at once), or None when the
    provider never received it (nothing is on the phone; a new request is safe).

    Raises:
        SigningStopped: the provider could not be asked ``LOOKUPS`` times: the request may
            be on the phone, so nothing new is asked; a later run asks again.
    """
    assert run.certificate is not None
    logger = get_run_logger()
    reference = request_reference(client_tx)
    for attempt in range(LOOKUPS):
        try:
            tx = await find_signing_request(run.session, client_tx, run.certificate, items)
        except TransportError as exc:
            logger.warning(
                "Đơn vị %s: chưa hỏi được nhà cung cấp về yêu cầu %s / could not ask the "
                "provider about request %s (%s)",
                run.unit.unit_code,
                reference,
                reference,
                exc,
            )
            await asyncio.sleep(min(5.0, run.settings.poll_initial_seconds * (attempt + 1)))
            continue
        if tx is None:
            logger.info(
                "Đơn vị %s: yêu cầu %s chưa tới nhà cung cấp, không có gì trên điện thoại / "
                "request %s never reached the provider: nothing is on the phone",
                run.unit.unit_code,
                reference,
                reference,
            )
            return None
        await record_signing_request(
            run.session, views, round_no, client_tx, tx.id, tx.expires_at, covers=covers
        )
        logger.info(
            "Đơn vị %s: tìm lại được yêu cầu %s (giao dịch %s, %s), tiếp tục nó, không hỏi lại / "
            "found request %s again (transaction %s, %s): continuing it, nothing asked twice",
            run.unit.unit_code,
            reference,
            tx.id,
            tx.status.value,
            reference,
            tx.id,
            tx.status.value,
        )
        return tx
    raise SigningStopped(
        f"Đơn vị {run.unit.unit_code}: round {round_no} request {reference}: không hỏi được nhà "
        f"cung cấp yêu cầu này đã tới chưa / the provider could not be asked whether it "
        f"received it ({LOOKUPS} tries). It may be on the phone, so nothing new was asked. "
        "Everything done so far is kept: run again later."
    )


async def _resume_existing(
    run: UnitRun, views: list[DossierView], round_no: int, void: list[str]
) -> set[str]:
    """Continue requests an earlier run sent for this round; returns dossiers done.

    A transaction still pending is waited for; one that succeeded is applied (no new
    approval); one that failed is forgotten (a new request follows). A request whose
    answer was never journalled is found again under our id where the provider allows it
    (and then handled the same way), else called void (its reference added to ``void``).
    """
    assert run.certificate is not None
    pipeline = run.session.pipeline
    done: set[str] = set()
    for request in await asyncio.to_thread(pipeline.open_requests, views, round_no):
        # The provider returns a signature for every document of the request, including
        # those of dossiers applied before a crash: verify against all of them.
        items = _sign_items(request.items)
        reference = request_reference(request.client_transaction_id)
        found: Transaction | None
        if request.transaction_id is None:
            # What it replaced was never shown with an answered request: still to announce.
            void.extend(r for r in request.void if r not in void)
            if not can_find_requests(run.session):
                await _void(run, round_no, request.client_transaction_id, void, crash=True)
                continue
            get_run_logger().info(
                "Tìm lại yêu cầu ký %s của lượt chạy trước / looking up request %s of an "
                "earlier run (its answer was never journalled)",
                reference,
                reference,
            )
            found = await _look_up(
                run,
                request.pending,
                round_no,
                request.client_transaction_id,
                items,
                request.dossiers,
            )
            if found is None:
                continue
            tx = found
        else:
            get_run_logger().info(
                "Tiếp tục giao dịch ký %s của lượt chạy trước / resuming signing transaction "
                "%s from an earlier run",
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
                run, tx, items, _round_position(request.pending, round_no), reference
            )
        _announce(run, request.pending, round_no, tx)
        if tx.status is TxStatus.SUCCEEDED:
            run.approvals += 1
            await _apply(run, list(request.pending), round_no, tx)
            done.update(v.id for v in request.pending)
        elif run.interactive and await was_answered(_ask_again_key(round_no, tx)):
            # This run asked a person about this very failure, then was suspended: the
            # stored answer decides (stop, or a new request below), nobody is asked twice.
            await _decide_after_failure(
                run, round_no, tx, 0, reference, _round_position(request.pending, round_no)
            )
    return done


async def _apply(run: UnitRun, views: list[DossierView], round_no: int, tx: Transaction) -> None:
    """Phase two for every dossier of the round: one task run per unit and round."""
    assert run.certificate is not None
    await apply_round(run.session, views, round_no, tx.id, tx.signatures, run.certificate.der)


async def _after_lost_request(
    run: UnitRun,
    views: Sequence[DossierView],
    round_no: int,
    client_tx: str,
    items: Sequence[SignItem],
    exc: TransportError,
    lost: int,
    void: list[str],
) -> Transaction | None:
    """A sign request failed in transport: its transaction when the provider has it after
    all (found under our id), else None and a new request follows (bounded), or the round
    stops.

    When the request may have reached the provider (a timeout or 5xx after it was sent),
    it may be on the phone. A provider that takes our id is asked for it; with one that
    does not (MISA), its id is unknown to us: it is void, never used, and said to be so
    before the new request, which carries a new reference ("Mã yêu cầu") on the phone and
    in the approval artifact, so the signer can tell the current one.
    """
    logger = get_run_logger()
    what = (
        f"Đơn vị {run.unit.unit_code}: lần duyệt {round_no}, Mã yêu cầu "
        f"{request_reference(client_tx)}"
    )
    if lost >= UNKNOWN_SENDS:
        raise SigningStopped(
            f"{what}: {lost} yêu cầu ký liên tiếp không gửi được / {lost} sign requests in a "
            f"row failed in transport ({exc}); nothing was approved. Everything done so far "
            "is kept: run again later."
        )
    pause = min(5.0, run.settings.poll_initial_seconds * lost)
    if not exc.maybe_sent:
        logger.warning(
            "%s chưa gửi được, gửi lại / was not delivered (%s); sending it again", what, exc
        )
        await asyncio.sleep(pause)
        return None
    if can_find_requests(run.session):
        logger.warning(
            "%s: mất câu trả lời, hỏi nhà cung cấp theo mã của ta / its answer was lost (%s); "
            "asking the provider for it under our own id",
            what,
            exc,
        )
        await asyncio.sleep(pause)
        return await _look_up(run, views, round_no, client_tx, items)
    logger.warning(
        "%s có thể đã tới điện thoại nhưng mất câu trả lời; đừng duyệt nó, chỉ duyệt yêu "
        "cầu mới nhất (mã yêu cầu riêng) / may have reached the phone but its answer was "
        "lost (%s). It will not be used: approve only the newest request, shown with its "
        "own reference.",
        what,
        exc,
    )
    await _void(run, round_no, client_tx, void, crash=False)
    await asyncio.sleep(pause)
    return None


async def sign_round(run: UnitRun, views: list[DossierView], round_no: int) -> None:
    """One batch signature (one approval) for every document of ``views`` in this round.

    Resumes what an earlier run left: prepared templates are reused, a pending or approved
    transaction is continued, never asked for again; a request whose answer was never
    journalled is found again, or called void before anything new is asked.
    """
    if not views:
        return
    assert run.certificate is not None
    session = run.session
    pending = await asyncio.to_thread(session.pipeline.unsigned, views, round_no)
    if not pending:
        return
    async with _listening(run):
        prepared = await prepare_round(session, pending, round_no, run.certificate)
        crash_point(f"r{round_no}-prepared")
        if run.callbacks is not None:
            await run.callbacks.ready()
        await _sign_pending(run, pending, prepared, round_no)


@contextlib.asynccontextmanager
async def _listening(run: UnitRun) -> AsyncIterator[None]:
    """The round's provider callbacks, heard from before its first request (when the
    unit's provider calls back, ``BHXH_PROVIDER_CALLBACKS``); the subscription opens while
    the round prepares."""
    if run.unit.provider not in run.settings.provider_callbacks:
        yield
        return
    async with listen_for_callbacks(run.unit.unit_code) as listener:
        run.callbacks = listener
        try:
            yield
        finally:
            run.callbacks = None


async def _sign_pending(
    run: UnitRun,
    pending: list[DossierView],
    prepared: Mapping[str, Prepared],
    round_no: int,
) -> None:
    """The round's requests and waits, after its templates are prepared."""
    assert run.certificate is not None
    session = run.session
    void: list[str] = []  # references of requests that may be on the phone, never used
    done = await _resume_existing(run, pending, round_no, void)
    pending = [v for v in pending if v.id not in done]
    position = _round_position(pending, round_no)
    attempt = 0
    lost = 0
    while pending:
        items = [i for v in pending for i in _sign_items(prepared[v.id].items)]
        client_tx = f"{run.unit.unit_code}-r{round_no}-{uuid.uuid4().hex[:16]}"
        reference = request_reference(client_tx)
        replaces = tuple(void)
        await record_signing_request(
            session, pending, round_no, client_tx, None, None, void=replaces
        )
        crash_point(f"r{round_no}-sending")
        try:
            # Journals the provider's id as soon as the answer is in (the send window).
            tx = await request_signatures(
                session,
                pending,
                round_no,
                run.certificate,
                items,
                _display_text(run, pending, position, len(items), reference, replaces),
                client_tx,
            )
        except TransportError as exc:
            lost += 1
            found = await _after_lost_request(
                run, pending, round_no, client_tx, items, exc, lost, void
            )
            if found is None:
                continue
            tx = found
        run.requests += 1
        void.clear()  # the phone shows them as void beside the new request
        _announce(run, pending, round_no, tx, reference, requested=True)
        crash_point(f"r{round_no}-requested")
        if tx.status is TxStatus.PENDING:
            tx = await wait_for_transaction(run, tx, items, position, reference, replaces)
        _announce(run, pending, round_no, tx, reference)
        if tx.status is TxStatus.SUCCEEDED:
            run.approvals += 1
            crash_point(f"r{round_no}-approved")
            await _apply(run, pending, round_no, tx)
            return
        await _decide_after_failure(run, round_no, tx, attempt, reference, position)
        attempt += 1
