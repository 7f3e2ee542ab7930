"""sign_and_submit: one unit, one period: validate, sign in (at most) two approvals, submit,
and wait a bounded time for the receipt (soHoSo, dot)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from prefect import flow
from prefect.logging import get_run_logger

from bhxh.errors import SubmissionError
from bhxh.pipeline import DossierView
from bhxh.settings import Settings
from blocks.unit import BhxhUnit
from flows._artifacts import (
    artifact_key,
    count_en,
    counts,
    publish_table,
    status_label,
    update_table,
)
from flows._failures import RunScope, run_explained
from flows._forms import (
    ATTENDED_LABELS,
    BATCHING_LABELS,
    AttendedChoice,
    BatchingChoice,
    DryRun,
    Period,
    ReceiptWait,
    UnitChoice,
    attended_mode,
    batching_mode,
    check_period,
    default_period,
    resolve_unit,
)
from flows._naming import name_this_run
from flows._outcomes import submit_outcome
from flows._overview import publish_overview
from flows._receipts import ask_for_receipts
from flows._run import UnitRun, is_interactive, login
from flows._signing import sign_round
from flows.errors import CertificateNotChosen, CertificateUnusable, VssRefused
from tasks.dossiers import (
    load_dossiers,
    read_dossier_statuses,
    read_registration,
    submit_dossiers,
)
from tasks.session import RunResources, open_unit_session
from tasks.signing import list_certificates

__all__ = ["DossierSummary", "run_unit", "sign_and_submit", "summary_rows"]

Batching = Literal["per_unit", "per_dossier"]

#: The period the form offers: the current month in Vietnam when the flow was loaded (for a
#: deployment, when it was last deployed; an empty period always means the current month).
_FORM_PERIOD = default_period()


@dataclass(frozen=True)
class DossierSummary:
    """One row of a run's summary (no secrets)."""

    unit: str
    dossier: str
    procedure: str
    approvals_used: int
    acknowledgement: str
    status: str
    message: str = ""
    route: str = ""  # gateway (submitted through the I-VAN's API) or export (files)
    where: str = ""  # export: where the files are
    so_ho_so: str = ""  # the receipt VSS gave (soHoSo), once it came
    dot: int | None = None
    outcome: str = ""  # VSS's status of the dossier (numbered, accepted...), once read


def summary_rows(rows: Sequence[DossierSummary]) -> list[dict[str, Any]]:
    """The summary as the artifact shows it: Vietnamese column names, English beside."""
    return [
        {
            "Đơn vị / unit": r.unit,
            "Hồ sơ / dossier": r.dossier,
            "Thủ tục / procedure": r.procedure,
            "Lần duyệt / approvals": r.approvals_used,
            "Trạng thái / status": status_label(r.outcome or r.status),
            "Số hồ sơ / soHoSo": r.so_ho_so
            or ("đang chờ / waiting" if r.status == "submitted" else ""),
            "Đợt / dot": r.dot if r.dot is not None else "",
            "Nộp qua / route": {
                "gateway": "cổng I-VAN / gateway",
                "export": "xuất tệp / export",
            }.get(r.route, r.route),
            "Mã tiếp nhận / acknowledgement": r.acknowledgement,
            "Ghi chú / note": r.message or r.where,
        }
        for r in rows
    ]


async def find_certificate(run: UnitRun) -> None:
    """The unit's chosen certificate, still listed, active and valid."""
    unit = run.unit
    if not unit.certificate_serial:
        raise CertificateNotChosen(
            f"Khối đơn vị của {unit.unit_code} chưa ghi số serial chứng thư, việc "
            "setup_remote_signing làm khi chọn / the unit block of "
            f"{unit.unit_code} holds no certificate serial yet; setup_remote_signing writes it"
        )
    certificates = await list_certificates(run.session)
    for cert in certificates:
        if cert.serial.upper() == unit.certificate_serial.upper():
            if not cert.is_usable():
                raise CertificateUnusable(
                    f"Đơn vị {unit.unit_code}: chứng thư đã chọn {cert.describe()} không dùng "
                    "được lúc này, chạy setup_remote_signing để chọn chứng thư khác / the "
                    "chosen certificate is not usable now; run setup_remote_signing to choose "
                    "another"
                )
            run.certificate = cert
            return
    raise CertificateUnusable(
        f"Đơn vị {unit.unit_code}: tài khoản {unit.credentials_block} không còn chứng thư "
        f"{unit.certificate_serial} / the chosen certificate {unit.certificate_serial} is no "
        f"longer listed by account {unit.credentials_block}; run setup_remote_signing again"
    )


async def check_registration(run: UnitRun, views: list[DossierView]) -> None:
    """Refuse early when VSS would refuse: a 05 change still pending, or a stopped unit."""
    if all(v.is_registration for v in views):
        return
    unit = run.unit
    registration = await read_registration(run.session)
    if registration.state == "stopped":
        raise VssRefused(
            f"Đơn vị {unit.unit_code}: đơn vị đã dừng giao dịch điện tử (06) tại BHXH / stopped "
            "(06) at VSS; nothing can be submitted"
        )
    if registration.state == "unknown" and registration.source == "local":
        # Nothing to decide here: VSS itself refuses a dossier signed by a certificate it
        # does not have on file, and the refusal is journalled with its words.
        get_run_logger().warning(
            "Không biết chứng thư đăng ký của %s tại BHXH (I-VAN không cho đọc) / the "
            "registration of %s at VSS is unknown (its I-VAN cannot read it): signing with "
            "%s; record registration_state in the unit block to check it before signing",
            unit.unit_code,
            unit.unit_code,
            unit.certificate_serial,
        )
        return
    registered = registration.serial
    chosen = (unit.certificate_serial or "").upper()
    if registered != chosen and not any(v.procedure in {"04", "05"} for v in views):
        state = registration.state
        raise VssRefused(
            f"Đơn vị {unit.unit_code}: BHXH đang giữ chứng thư {registered or '(không có)'} "
            f"({state}), không phải chứng thư đã chọn {chosen} / VSS has certificate "
            f"{registered or '(none)'} on file ({state}), not the chosen {chosen}; dossiers "
            "would be refused (chứng thư số chưa đăng ký). Run setup_remote_signing (it "
            "submits the 05 change) or wait for the change to be accepted."
        )


def summarise(run: UnitRun, views: Sequence[DossierView]) -> list[DossierSummary]:
    """One summary row per dossier, read from the journal."""
    rows = []
    for view in views:
        current = run.session.pipeline.view(view)
        ack = current.acknowledgement
        failure = current.failure
        vss = current.result or current.receipt
        rows.append(
            DossierSummary(
                unit=current.unit_code,
                dossier=current.id,
                procedure=current.procedure,
                approvals_used=run.approvals,
                acknowledgement=ack.gateway_transaction_id if ack else "",
                status=str(current.state),
                message=failure.message if failure else "",
                route=ack.route if ack else "",
                where=ack.location if ack else "",
                so_ho_so=(vss.so_ho_so or "") if vss else "",
                dot=vss.dot if vss else None,
                outcome=vss.status if vss else "",
            )
        )
    return rows


def _awaiting_receipt(view: DossierView) -> bool:
    return view.submitted and view.receipt is None and view.result is None and not view.failure


async def wait_for_receipts(run: UnitRun, views: Sequence[DossierView], seconds: float) -> None:
    """Read the carrier until every submitted dossier has its soHoSo, at most ``seconds``.

    Reads that fail only end the wait: the dossiers are submitted, and ``track_results``
    follows them later.
    """
    session = run.session
    if seconds <= 0 or not session.port.capabilities.numbers_receipts:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    delay = 0.5
    while True:
        current = [await asyncio.to_thread(session.pipeline.view, v) for v in views]
        waiting = [v for v in current if _awaiting_receipt(v)]
        if not waiting:
            return
        try:
            await read_dossier_statuses(session, waiting)
        except (SubmissionError, OSError) as exc:
            get_run_logger().warning(
                "Chưa đọc được số hồ sơ (%s); track_results sẽ theo dõi / could not read the "
                "receipts yet; track_results follows them",
                exc,
            )
            return
        current = [await asyncio.to_thread(session.pipeline.view, v) for v in views]
        if not any(_awaiting_receipt(v) for v in current):
            return
        left = deadline - loop.time()
        if left <= 0:
            get_run_logger().info(
                "Sau %.0f giây BHXH chưa cấp số hồ sơ; track_results sẽ theo dõi / no soHoSo "
                "after %.0f s; track_results follows the dossiers",
                seconds,
                seconds,
            )
            return
        await asyncio.sleep(min(delay, left))
        delay = min(delay * 2, 5.0)


def _summary_title(unit: BhxhUnit, period: str, run: UnitRun, rows: list[DossierSummary]) -> str:
    numbered = sum(1 for r in rows if r.so_ho_so)
    return (
        f"Tổng hợp {unit.unit_code} {period}: {len(rows)} hồ sơ, {run.approvals} lần duyệt, "
        f"{numbered} có số hồ sơ / summary {unit.unit_code} {period}: "
        f"{count_en(len(rows), 'dossier')}, {count_en(run.approvals, 'approval')}, "
        f"{numbered} with a soHoSo"
    )


async def run_unit(
    unit_block: str,
    period: str | None = None,
    batching: Batching = "per_unit",
    dry_run: bool = False,
    interactive: bool | None = None,
    *,
    unit: BhxhUnit | None = None,
    receipt_wait_seconds: float = 0,
    scope: RunScope | None = None,
    shared: RunResources | None = None,
    summary_artifact: bool = True,
    release_worker: bool = False,
) -> list[DossierSummary]:
    """What sign_and_submit does, inside whatever flow run is current.

    monthly_submission calls it for every unit inside its own flow run, with the run's
    ``shared`` resources (one gateway port for all units) and no summary artifact per unit
    (its own table and the period's overview cover them). ``release_worker``: a question
    that may wait long suspends the run (``flows._pauses``); only a run of this one unit
    may ask for that. The unit's session (provider
    client, its pipeline) is opened here and closed when this returns.
    """
    settings = Settings()
    period = check_period(period)
    logger = get_run_logger()
    if unit is None:
        unit_block, unit = await resolve_unit(unit_block)
    if scope is not None:
        scope.unit_code, scope.unit_name = unit.unit_code, unit.name
    attended = await is_interactive(interactive)
    async with open_unit_session(unit_block, unit, settings=settings, shared=shared) as session:
        run = UnitRun(session, attended, release_worker=release_worker)
        views = await load_dossiers(session, period)
        if dry_run or not views:
            rows = [
                {
                    "Hồ sơ / dossier": v.id,
                    "Thủ tục / procedure": v.procedure,
                    "Tên / name": v.name,
                    "Lần duyệt cần / approvals needed": v.approvals_needed,
                }
                for v in views
            ]
            await publish_table(
                rows,
                artifact_key("chay-thu", "dry-run", unit.unit_code),
                f"Chạy thử / dry run {unit.unit_code} {period}: những gì sẽ được ký / what "
                "would be signed",
            )
            logger.info(
                "%s %s: %d hồ sơ, chưa ký gì / %s, nothing signed",
                unit.unit_code,
                period,
                len(views),
                count_en(len(views), "dossier"),
            )
            return [
                DossierSummary(unit.unit_code, v.id, v.procedure, 0, "", str(v.state))
                for v in views
            ]
        await login(run)
        await find_certificate(run)
        await check_registration(run, views)
        batches = [views] if batching == "per_unit" else [[v] for v in views]
        problems: list[str] = []
        for batch in batches:
            business = [v for v in batch if not v.is_registration]
            await sign_round(run, business, 1)
            await sign_round(run, batch, 2)  # its prepare_round builds the envelopes first
            problems += await submit_dossiers(session, batch)
        if run.interactive:
            await ask_for_receipts(run, views)
        summary = summarise(run, views)
        card: UUID | None = None
        if receipt_wait_seconds > 0 and any(
            _awaiting_receipt(session.pipeline.view(v)) for v in views
        ):
            card = await publish_table(
                summary_rows(summary),
                artifact_key("tong-hop", "summary", unit.unit_code),
                _summary_title(unit, period, run, summary),
            )
            await wait_for_receipts(run, views, receipt_wait_seconds)
            summary = summarise(run, views)
    rows_shown = summary_rows(summary)
    if card is None and summary_artifact:
        await publish_table(
            rows_shown,
            artifact_key("tong-hop", "summary", unit.unit_code),
            _summary_title(unit, period, run, summary),
        )
    elif card is not None:
        await update_table(card, rows_shown, _summary_title(unit, period, run, summary))
    logger.info(
        "%s %s: xong, %s / done, %s",
        unit.unit_code,
        period,
        *counts((len(views), "hồ sơ", "dossier"), (run.approvals, "lần duyệt", "approval")).split(
            " / "
        ),
    )
    for row in summary:
        if row.so_ho_so:
            logger.info(
                "Hồ sơ %s: số hồ sơ %s, đợt %s / dossier %s: soHoSo %s, dot %s",
                row.dossier,
                row.so_ho_so,
                row.dot,
                row.dossier,
                row.so_ho_so,
                row.dot,
            )
    if problems:
        raise VssRefused(f"Đơn vị {unit.unit_code}: " + "; ".join(problems))
    return summary


@flow(name="sign_and_submit", log_prints=False, validate_parameters=False)
async def sign_and_submit(
    unit_block: UnitChoice,
    period: Period = _FORM_PERIOD,
    batching: BatchingChoice = BATCHING_LABELS["per_unit"],
    dry_run: DryRun = False,
    interactive: AttendedChoice = ATTENDED_LABELS[None],
    receipt_wait_seconds: ReceiptWait = 60,
) -> list[DossierSummary]:
    """Ký và nộp hồ sơ của một đơn vị cho một kỳ / sign and submit one unit's dossiers for
    one period.

    A register, change or stop form (04, 05, 06) needs one approval on the phone; every
    other dossier two (its declarations, then the envelope that embeds them). Batched per
    unit, a unit needs at most two approvals per run whatever the number of dossiers. A
    re-run continues from the dossier store: no approval already given is asked again, no
    dossier is submitted twice. After submitting, the run waits a bounded time for the
    receipt (soHoSo, dot) and shows it in its summary artifact.

    Args:
        unit_block: Đơn vị cần ký và nộp: chọn công ty trong danh sách (tên, mã số thuế,
            mã đơn vị), hoặc khối đã lưu, ví dụ an-phat / the unit to sign and submit for:
            the company chosen in the list (name, tax code, unit code), or its saved block,
            e.g. an-phat.
        period: Kỳ kê khai dạng MM/yyyy, mặc định tháng hiện tại (giờ Việt Nam), ví dụ
            10/2026 / the declaration period as MM/yyyy, by default the current month in
            Vietnam, e.g. 10/2026.
        batching: Theo đơn vị: mọi hồ sơ chung một lần duyệt tờ khai và một lần duyệt hồ
            sơ (tối đa 2); từng hồ sơ: 2 lần duyệt cho mỗi hồ sơ / per unit: every dossier
            in one approval for the declarations and one for the envelopes (at most 2);
            per dossier: 2 approvals for each dossier.
        dry_run: Bật để chỉ kiểm tra và liệt kê những gì sẽ được ký, không ký, không nộp;
            mặc định tắt / on: only check and list what would be signed, sign and submit
            nothing; off by default.
        interactive: Có người trả lời câu hỏi của lượt chạy không (chọn chứng thư, mã OTP,
            gửi lại yêu cầu); tự động: chạy tay thì có, chạy theo lịch thì không / whether a
            person answers the run's questions (certificate, one-time code, ask again);
            auto: yes when started by hand, no on a schedule.
        receipt_wait_seconds: Sau khi nộp, chờ BHXH cấp số hồ sơ tối đa bấy nhiêu giây
            (0 đến 3600, mặc định 60; 0 = không chờ) / after submitting, wait at most this
            many seconds for the soHoSo (0 to 3600, default 60; 0 = do not wait).

    Example:
        ```python
        import asyncio
        from flows import sign_and_submit

        asyncio.run(sign_and_submit("an-phat", period="01/2026"))
        ```
    """
    scope = RunScope("sign_and_submit")

    async def body() -> list[DossierSummary]:
        name, unit = await resolve_unit(unit_block)
        scope.unit_code, scope.unit_name = unit.unit_code, unit.name
        await name_this_run([name], check_period(period))
        return await run_unit(
            name,
            check_period(period),
            batching_mode(batching),
            bool(dry_run),
            attended_mode(interactive),
            unit=unit,
            receipt_wait_seconds=float(receipt_wait_seconds),
            scope=scope,
            release_worker=True,
        )

    def outcome(rows: list[DossierSummary]) -> str:
        return submit_outcome(
            scope.unit_code or "", check_period(period), rows, dry_run=bool(dry_run)
        )

    try:
        return await run_explained(scope, body, outcome)
    finally:
        try:
            shown = check_period(period)
        except ValueError:
            shown = None  # a period the form would refuse: there is no overview to update
        if shown is not None:
            await publish_overview(shown, source="sign_and_submit")
