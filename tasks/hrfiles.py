"""HR files into dossiers: the command ``python -m bhxh.hrdata build`` as a task, one HR
file (an .xlsx workbook or a .csv file) per call, with the same builders and the same
report (what was read, every converted cell and warning, or the refused cell).

Where the files are: a unit's HR folder for the period, ``<BHXH_DATA_DIR>/hr/<unit
code>/<MM-YYYY>/`` (our choice, beside the inbox the dossiers go to), one file per
dossier; the dossier's folder in the inbox is named after the file, as the command names
it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from prefect import task
from prefect.cache_policies import NONE

from bhxh.intake import period_folder
from bhxh.models import UnitInfo

__all__ = ["HR_SUFFIXES", "HrFileReport", "build_dossier_from_file", "hr_files"]

#: The files read: workbooks and CSV files (a legacy .xls is refused by the reader).
HR_SUFFIXES = (".xlsx", ".csv")


@dataclass(frozen=True)
class HrFileReport:
    """What became of one HR file (no secret in it: an HR file holds none).

    Attributes:
        file: the file's name.
        built: the dossier folder written (or checked, in a dry run), "" when refused.
        refusal: the command's refusal, naming unit, file, sheet, row and column.
        lines: the command's report (what was read, converted, warned).
    """

    file: str
    built: str = ""
    refusal: str = ""
    lines: Sequence[str] = field(default_factory=tuple)


def hr_files(hr_dir: Path, unit_code: str, period: str) -> tuple[Path, list[Path]]:
    """The unit's HR folder for ``period`` and the files in it, sorted by name."""
    folder = hr_dir / unit_code / period_folder(period)
    if not folder.is_dir():
        return folder, []
    files = [
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in HR_SUFFIXES and not p.name.startswith(("~", "."))
    ]
    return folder, sorted(files, key=lambda p: p.name)


@task(name="build_dossier_from_file", cache_policy=NONE, persist_result=False)
def build_dossier_from_file(
    unit: UnitInfo,
    period: str,
    procedure: str,
    path: Path,
    inbox: Path,
    dry_run: bool = False,
) -> HrFileReport:
    """One HR file -> one dossier in the unit's inbox for ``period``, by the command's own
    code (``bhxh.hrdata.main`` with ``file_forms``); nothing is written when it refuses."""
    # Loaded here: only this task needs the HR tool (and its workbook reader).
    from bhxh.hrdata import file_forms, main

    out, err = io.StringIO(), io.StringIO()
    argv = ["build", "--unit", unit.code, "--period", period, "--procedure", procedure]
    if unit.tax_code:
        argv += ["--tax-code", unit.tax_code]
    if unit.name:
        argv += ["--name", unit.name]
    argv += ["--inbox", str(inbox)]
    if dry_run:
        argv.append("--dry-run")
    argv.append(str(path))
    status = main(argv, forms=file_forms(), resolve_unit=lambda _code: unit, out=out, err=err)
    lines = tuple(line for line in out.getvalue().splitlines() if line.strip())
    if status != 0:
        refusal = " ".join(err.getvalue().split()) or "refused"
        return HrFileReport(path.name, refusal=refusal, lines=lines)
    folder = next(
        (
            line.split(": ", 1)[1].split(" — ", 1)[0]
            for line in lines
            if "(dossier written)" in line
        ),
        "",
    )
    return HrFileReport(path.name, built=Path(folder).name if folder else path.stem, lines=lines)
