"""monthly_submission: every configured unit at once, in one flow run, or spread over a
work pool as one child run per unit (``BHXH_MONTHLY_SPREAD_DEPLOYMENT``, flows/_spread.py)."""

from __future__ import annotations

import asyncio

from prefect import flow
from prefect.logging import get_run_logger
from prefect.runtime import flow_run

from bhxh.settings import Settings
from flows._artifacts import UnitProgress, artifact_key, count_en, publish_table
from flows._failures import RunScope, explain, run_explained
from flows._forms import (
    BATCHING_LABELS,
    BatchingChoice,
    DryRun,
    OptionalPeriod,
    UnitNames,
    batching_mode,
    check_period,
    check_unit_names,
    list_unit_blocks,
)
from flows._outcomes import monthly_outcome
from flows._overview import publish_overview
from flows._spread import spread_month
from flows.errors import UnitsFailed
from flows.sign_and_submit import DossierSummary, run_unit, summary_rows
from tasks.session import RunResources

__all__ = ["list_unit_blocks", "monthly_submission"]


@flow(name="monthly_submission", validate_parameters=False)
async def monthly_submission(
    period: OptionalPeriod = "",
    units: UnitNames = (),
    batching: BatchingChoice = BATCHING_LABELS["per_unit"],
    dry_run: DryRun = False,
) -> list[DossierSummary]:
    """Ký và nộp hồ sơ của mọi đơn vị cho một kỳ, cùng lúc / sign and submit the period's
    dossiers of every configured unit, concurrently.

    Every unit's phone is pinged at once and the approval waits overlap; one unit's
    failure does not stop the others (it is reported, and the run ends Failed). Every
    unit's work runs inside this one flow run, as task runs: a subflow per unit costs the
    Prefect API a flow run's writes each, and hundreds of them at once stalled the
    SQLite-backed local API. A monthly run never pauses for a person: a unit that needs one
    (a one-time code, a rejection after the bounded attempts) is reported with what to do,
    and sign_and_submit for that unit, started by hand, asks. Receipts (soHoSo) are
    followed by track_results.

    Args:
        period: Kỳ kê khai dạng MM/yyyy; để trống = tháng hiện tại theo giờ Việt Nam (lịch
            chạy hằng tháng để trống), ví dụ 10/2026 / the declaration period as MM/yyyy;
            empty = the current month in Vietnam (the monthly schedule leaves it empty), e.g.
            10/2026.
        units: Các công ty cần chạy, chọn một hoặc nhiều trong danh sách (tên, mã số thuế,
            mã đơn vị); để trống = mọi đơn vị đã lưu / the companies to run, one or more
            chosen in the list (name, tax code, unit code); empty = every saved unit.
        batching: Theo đơn vị: tối đa 2 lần duyệt mỗi đơn vị; từng hồ sơ: 2 lần duyệt cho
            mỗi hồ sơ / per unit: at most 2 approvals per unit; per dossier: 2 approvals for
            each dossier.
        dry_run: Bật để chỉ kiểm tra và liệt kê, không ký, không nộp; mặc định tắt / on: only
            check and list, sign and submit nothing; off by default.

    Example:
        ```python
        import asyncio
        from flows import monthly_submission

        asyncio.run(monthly_submission(period="01/2026"))
        ```
    """
    scope = RunScope("monthly_submission")

    async def body() -> list[DossierSummary]:
        logger = get_run_logger()
        chosen = check_period(period)
        mode = batching_mode(batching)
        names = await check_unit_names(list(units or ()))
        covered.extend(names)
        logger.info(
            "Nộp hằng tháng kỳ %s cho %d đơn vị / monthly submission %s for %s",
            chosen,
            len(names),
            chosen,
            count_en(len(names), "unit"),
        )
        spread_to = Settings().monthly_spread_deployment
        if spread_to and flow_run.id is not None:
            return await _over_the_pool(names, chosen, batching, bool(dry_run), spread_to)
        progress = await UnitProgress.start(
            len(names),
            artifact_key("hang-thang-tien-do", "monthly-progress", chosen),
            f"nộp hằng tháng kỳ {chosen}",
            f"monthly submission {chosen}",
        )
        async with RunResources() as shared:

            async def one(name: str) -> list[DossierSummary]:
                try:
                    return await run_unit(
                        name,
                        chosen,
                        mode,
                        bool(dry_run),
                        False,
                        shared=shared,
                        summary_artifact=False,
                    )
                finally:
                    await progress.finished(name)

            outcomes = await asyncio.gather(*(one(name) for name in names), return_exceptions=True)
        rows: list[DossierSummary] = []
        failures: list[str] = []
        for name, outcome in zip(names, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, Exception):
                    raise outcome
                why = explain(outcome)
                failures.append(f"{name}: {why.message()}")
                logger.error("%s: %s", name, why.message())
                rows.append(DossierSummary(name, "-", "-", 0, "", "failed", why.message()[:500]))
            else:
                rows += outcome
        await publish_table(
            summary_rows(rows),
            artifact_key("hang-thang", "monthly", chosen),
            f"Nộp hằng tháng kỳ {chosen}: {len(names)} đơn vị, {len(failures)} chưa xong / "
            f"monthly submission {chosen}: {count_en(len(names), 'unit')}, "
            f"{len(failures)} not finished",
        )
        await publish_overview(chosen, source="monthly_submission")
        if failures:
            raise UnitsFailed(
                f"{len(failures)}/{len(names)} đơn vị chưa xong / {len(failures)} of "
                f"{count_en(len(names), 'unit')} did not finish:\n- " + "\n- ".join(failures)
            )
        return rows

    covered: list[str] = []  # the units the run covered, for its outcome

    def outcome(rows: list[DossierSummary]) -> str:
        return monthly_outcome(check_period(period), len(covered), rows)

    return await run_explained(scope, body, outcome)


async def _over_the_pool(
    names: list[str], period: str, batching: object, dry_run: bool, deployment: str
) -> list[DossierSummary]:
    """The month as one child run per unit on ``deployment``, followed to the end."""
    settings = Settings()
    label = batching if isinstance(batching, str) else BATCHING_LABELS["per_unit"]
    outcomes = await spread_month(names, period, label, dry_run, deployment, settings)
    rows = [
        DossierSummary(
            o.unit,
            "-",
            "-",
            0,
            "",
            "submitted" if o.completed else "failed",
            (o.message or o.state)[:500],
        )
        for o in outcomes
    ]
    failures = [o for o in outcomes if not o.completed]
    await publish_table(
        [
            {
                "Đơn vị / unit": o.unit,
                "Kết quả / state": o.state,
                "Chạy lại sau sự cố / crash retries": o.crashes,
                "Lời nhắn / message": o.message[:300],
                "Lượt chạy / flow run": str(o.flow_run_id),
            }
            for o in outcomes
        ],
        artifact_key("hang-thang", "monthly", period),
        f"Nộp hằng tháng kỳ {period} trên các máy: {len(names)} đơn vị, {len(failures)} chưa "
        f"xong / monthly submission {period} over the work pool: "
        f"{count_en(len(names), 'unit')}, {len(failures)} not finished",
    )
    await publish_overview(period, source="monthly_submission")
    if failures:
        raise UnitsFailed(
            f"{len(failures)}/{len(names)} đơn vị chưa xong / {len(failures)} of "
            f"{count_en(len(names), 'unit')} did not finish:\n- "
            + "\n- ".join(f"{o.unit}: {o.message or o.state}" for o in failures)
        )
    return rows
