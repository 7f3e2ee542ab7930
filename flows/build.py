"""build_dossiers: a unit's HR files for a period into dossiers in its inbox, from the UI,
with the builders of the command ``python -m bhxh.hrdata build``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from prefect import flow
from prefect.logging import get_run_logger
from pydantic import Field

from bhxh.settings import Settings
from flows._artifacts import artifact_key, publish_markdown, text
from flows._failures import RunScope, run_explained
from flows._forms import DryRun, Period, UnitChoice, check_period, default_period, resolve_unit
from flows._naming import name_this_run
from flows.errors import HrFilesRefused
from tasks.hrfiles import HR_SUFFIXES, HrFileReport, build_dossier_from_file, hr_files

__all__ = ["BUILD_PROCEDURES", "build_dossiers", "build_outcome"]

#: The procedures the command builds from an HR file, as the form shows them.
BUILD_PROCEDURES: dict[str, str] = {
    "600": "600: báo tăng, giảm, điều chỉnh lao động / report joiners, leavers, changes",
    "601": "601: chỉ báo tăng, giảm (D02-TS) / joiners and leavers only (D02-TS)",
    "602": "602: cấp lại, đổi thẻ BHYT (D05-TS, TK1-TS) / reissue health cards",
    "603": "603: điều chỉnh thông tin (D05-TS) / correct personal details",
}

if TYPE_CHECKING:
    ProcedureChoice = str
else:
    ProcedureChoice = Annotated[
        Literal.__getitem__(tuple(BUILD_PROCEDURES.values())),
        Field(json_schema_extra={"title": "Thủ tục / Procedure"}),
    ]

_FORM_PERIOD = default_period()


def _procedure(value: object) -> str:
    for code, label in BUILD_PROCEDURES.items():
        if value in (code, label):
            return code
    known = " | ".join(BUILD_PROCEDURES)
    raise HrFilesRefused(
        f"Thủ tục '{value}' không lập được từ tệp nhân sự, các thủ tục lập được: {known} / "
        f"procedure '{value}' cannot be built from an HR file; these can: {known}"
    )


def build_outcome(unit_code: str, period: str, reports: list[HrFileReport]) -> str:
    """The run's state message: the dossiers built (or that there was nothing to read)."""
    built = [r.built for r in reports if r.built]
    if not reports:
        return (
            f"{unit_code} kỳ {period}: không có tệp nhân sự nào để lập hồ sơ / {unit_code} "
            f"{period}: no HR file to build from"
        )
    return (
        f"{unit_code} kỳ {period}: đã lập {len(built)} hồ sơ vào hộp thư ({', '.join(built)}) "
        f"/ {unit_code} {period}: {len(built)} dossier(s) built into the inbox"
    )


def _report_markdown(
    unit_name: str, unit_code: str, period: str, folder: str, reports: list[HrFileReport]
) -> str:
    lines = [
        f"## Lập hồ sơ từ tệp nhân sự / Dossiers from HR files: {text(unit_name)} "
        f"({unit_code}), kỳ / period {period}",
        "",
        f"Thư mục tệp / folder: `{folder}`",
        "",
        "| Tệp / file | Kết quả / result | Hồ sơ / dossier | Chi tiết / details |",
        "|---|---|---|---|",
    ]
    for r in reports:
        result = "✅ Đã lập / built" if r.built else "⛔ Bị từ chối / refused"
        detail = r.refusal or "; ".join(r.lines)
        lines.append(
            f"| `{text(r.file)}` | {result} | {text(r.built or '-')} | "
            f"{text(detail).replace('|', '/')} |"
        )
    if not reports:
        kinds = ", ".join(HR_SUFFIXES)
        lines.append(
            f"| - | Không có tệp ({kinds}) / no file | - | Đặt tệp vào thư mục trên rồi chạy lại "
            "/ put the files in the folder above, then run again |"
        )
    return "\n".join(lines) + "\n"


@flow(name="build_dossiers", validate_parameters=False)
async def build_dossiers(
    unit_block: UnitChoice,
    period: Period = _FORM_PERIOD,
    procedure: ProcedureChoice = BUILD_PROCEDURES["600"],
    dry_run: DryRun = False,
) -> list[HrFileReport]:
    """Lập hồ sơ từ tệp nhân sự / build the period's dossiers from a unit's HR files.

    Reads every workbook (.xlsx) and CSV file the firm dropped in the unit's HR folder
    for the period, `<data>/hr/<unit code>/<MM-YYYY>/`, one dossier per file, with the
    builders of the command `python -m bhxh.hrdata build`, and writes each dossier into
    the unit's inbox for the period, where sign_and_submit finds it. A file that cannot
    be read is refused naming its sheet, row and column, and nothing of it is written;
    the other files are built. The report is an artifact, Vietnamese first.

    Args:
        unit_block: Đơn vị có tệp nhân sự: chọn công ty trong danh sách (tên, mã số thuế,
            mã đơn vị), hoặc khối đã lưu, ví dụ an-phat / the unit whose HR files to read:
            the company chosen in the list (name, tax code, unit code), or its saved block,
            e.g. an-phat.
        period: Kỳ kê khai dạng MM/yyyy, mặc định tháng hiện tại (giờ Việt Nam), ví dụ
            10/2026 / the declaration period as MM/yyyy, by default the current month in
            Vietnam, e.g. 10/2026.
        procedure: Thủ tục của các hồ sơ lập từ tệp; mặc định 600 / the procedure of the
            dossiers built from the files; 600 by default.
        dry_run: Bật để chỉ đọc và kiểm tra tệp, không ghi hồ sơ nào; mặc định tắt / on:
            only read and check the files, write no dossier; off by default.

    Example:
        ```python
        import asyncio
        from flows import build_dossiers

        asyncio.run(build_dossiers("an-phat", period="01/2026"))
        ```
    """
    scope = RunScope("build_dossiers")
    where: dict[str, str] = {}

    async def body() -> list[HrFileReport]:
        settings = Settings()
        chosen = check_period(period)
        code = _procedure(procedure)
        name, unit = await resolve_unit(unit_block)
        scope.unit_code, scope.unit_name = unit.unit_code, unit.name
        where.update(unit=unit.unit_code, period=chosen)
        await name_this_run([name], chosen)
        folder, files = hr_files(settings.hr_dir, unit.unit_code, chosen)
        logger = get_run_logger()
        logger.info(
            "Đọc %d tệp nhân sự trong %s / reading %d HR file(s) in %s",
            len(files),
            folder,
            len(files),
            folder,
        )
        reports = [
            build_dossier_from_file(
                unit.unit_info(), chosen, code, path, settings.inbox_dir, bool(dry_run)
            )
            for path in files
        ]
        await publish_markdown(
            _report_markdown(unit.name, unit.unit_code, chosen, str(folder), reports),
            artifact_key("lap-ho-so", "build", unit.unit_code, chosen),
            f"Lập hồ sơ từ tệp nhân sự {unit.unit_code} {chosen}: "
            f"{sum(1 for r in reports if r.built)} hồ sơ / dossiers from HR files",
        )
        refused = [r for r in reports if r.refusal]
        for r in refused:
            logger.warning("%s: %s", r.file, r.refusal)
        if refused:
            raise HrFilesRefused(
                "; ".join(f"{r.file}: {r.refusal}" for r in refused)
                + f" ({len(reports) - len(refused)}/{len(reports)} tệp đã lập / files built)"
            )
        return reports

    def outcome(reports: list[HrFileReport]) -> str:
        return build_outcome(where.get("unit", ""), where.get("period", ""), reports)

    return await run_explained(scope, body, outcome)
