"""A command that turns an HR workbook or CSV into a dossier in the inbox, for people who
are not programmers, printing what it read.

It is exposed as (:func:`command` gives the real builders)::

    python -m bhxh.hrdata build --unit TZ1234A --tax-code 0101234567 \\
        --period 01/2026 --procedure 600 luong.xlsx

Options: ``--tax-code`` (written to the manifest: the run then checks it is the unit's),
``--name``, ``--period`` (default: this month in Vietnam), ``--sheet NAME`` or
``--sheet FORM=NAME``, ``--header-row``, ``--convert-legacy`` (default: the setting
``BHXH_CONVERT_LEGACY``), ``--dossier`` (the folder; default from the file name),
``--inbox``, ``--dry-run``.

:func:`main` is plain Python and knows neither the declaration builders nor how a unit is
found: the caller gives them (``forms``: per procedure, the forms to build and a function
"table -> declaration XML" for each; ``resolve_unit``: a unit code ->
:class:`~bhxh.models.UnitInfo`). What it does, in order, and nothing is written unless
every step succeeds:

1. reads the file once per form (:func:`bhxh.hrdata.read_table`; TCVN3 / VNI cells are
   refused unless ``--convert-legacy``);
2. builds each declaration with the given function;
3. validates the dossier (:func:`bhxh.intake.validate_dossier` by default);
4. writes it into the inbox (:func:`bhxh.intake.write_dossier`), unless ``--dry-run``.

It prints the file, sheet and header row read, the columns matched, the number of rows,
every converted cell, every warning (columns not used, rows skipped, possible duplicates)
and where the dossier was written. A refusal prints one message naming unit, file,
sheet, row and column (Vietnamese, then English) and returns 2.

Example:
    >>> main(["build", "--unit", "TZ1234A", "--period", "01/2026", "--procedure", "600",
    ...       "luong.xlsx"], forms={"600": [d02_spec]}, resolve_unit=units.__getitem__)
    0
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bhxh.catalogue import form_filename
from bhxh.errors import BhxhError, DossierInvalid, InputLocation, InputRefused
from bhxh.hrdata.declarations import (
    build_declaration,
)
from bhxh.hrdata.rows import (
    file_columns,
    required_columns,
    rows_from_table,
)
from bhxh.hrdata.table import (
    HeaderNotFound,
    SheetNotFound,
    Table,
)
from bhxh.hrdata.values import (
    parse_month,
)
from bhxh.hrdata.workbook import (
    read_table,
)
from bhxh.models import Declaration, Dossier, UnitInfo
from bhxh.vntext import fold_key

__all__ = [
    "BuiltDeclaration",
    "DeclarationBuilder",
    "DossierWriter",
    "FormSpec",
    "build_parser",
    "command",
    "file_forms",
    "main",
    "unit_from_code",
]


@dataclass(frozen=True)
class BuiltDeclaration:
    """A declaration built from a table, and what its builder wants the person to see."""

    content: bytes
    warnings: Sequence[str] = ()


#: Builds one declaration's XML bytes (or a :class:`BuiltDeclaration`, with warnings) from
#: the table read, the unit and the period.
DeclarationBuilder = Callable[[Table, UnitInfo, str], bytes | BuiltDeclaration]
#: Writes the dossier: inbox, unit, period, folder, procedure, {file name: bytes} -> folder.
DossierWriter = Callable[[Path, UnitInfo, str, str, str, Mapping[str, bytes]], Path]
_TAX_CODE = re.compile(r"\d{10}(?:-\d{3})?")


@dataclass(frozen=True)
class FormSpec:
    """One form a procedure's dossier holds, and how to build it from an HR table.

    Attributes:
        form: the form code (``D02-TS``).
        filename: the declaration's file name (``D02-TS-595.xml``).
        columns: the element names read from the table.
        required: columns the header must have.
        build: table, unit, period -> the declaration's XML bytes.
        optional: built only when the file has a table for it (a TK1-TS sheet).
        sheet: the sheet to read by default (``--sheet NAME`` overrides it for the first
            form, ``--sheet FORM=NAME`` for any form). A form with a sheet of its own is
            read from a workbook only: a CSV holds one table (the first form's).
        duplicate_columns: groups of columns whose equal values (once normalised) are
            reported as possible duplicates, e.g. ``(("HoTen", "NgaySinh"),)``.
    """

    form: str
    filename: str
    columns: Sequence[str]
    build: DeclarationBuilder
    required: Sequence[str] = ()
    optional: bool = False
    sheet: str | None = None
    duplicate_columns: Sequence[Sequence[str]] = field(default_factory=tuple)


def build_parser(prog: str = "python -m bhxh.hrdata") -> argparse.ArgumentParser:
    """The command line: ``build --unit U --period MM/yyyy --procedure P FILE``."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Lập hồ sơ BHXH từ tệp Excel/CSV của phòng nhân sự — build a BHXH "
        "dossier from an HR workbook or CSV file.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser(
        "build",
        help="đọc tệp, lập tờ khai, đưa hồ sơ vào hộp chờ (inbox) — read the file, build "
        "the declarations, put the dossier in the inbox",
    )
    build.add_argument("file", type=Path, help="tệp .xlsx hoặc .csv — the .xlsx or .csv file")
    build.add_argument("--unit", required=True, help="mã đơn vị — the unit's code, e.g. TA0001A")
    build.add_argument(
        "--tax-code",
        help="mã số thuế, ghi vào manifest để lúc nộp kiểm tra đúng đơn vị — tax code, "
        "written to the manifest so the run checks the unit",
    )
    build.add_argument("--name", help="tên đơn vị — the unit's name (for messages)")
    build.add_argument(
        "--period",
        help="kỳ kê khai MM/yyyy (mặc định: tháng này, giờ Việt Nam) — period, e.g. 01/2026 "
        "(default: this month in Vietnam)",
    )
    build.add_argument("--procedure", required=True, help="mã thủ tục — procedure code, e.g. 600")
    build.add_argument(
        "--sheet",
        action="append",
        default=[],
        help="tên trang tính, hoặc TỜ-KHAI=tên — sheet name, or FORM=name (default: found)",
    )
    build.add_argument("--header-row", type=int, help="dòng tiêu đề — header row (default: found)")
    build.add_argument(
        "--convert-legacy",
        action="store_true",
        default=None,
        help="chuyển ô TCVN3/VNI sang Unicode (mặc định: BHXH_CONVERT_LEGACY) — convert "
        "TCVN3/VNI cells to Unicode (default: BHXH_CONVERT_LEGACY)",
    )
    build.add_argument("--dossier", help="tên thư mục hồ sơ — dossier folder (default: file name)")
    build.add_argument(
        "--inbox", type=Path, help="thư mục inbox — inbox folder (default: settings)"
    )
    build.add_argument(
        "--dry-run", action="store_true", help="chỉ đọc và kiểm tra — read and check only"
    )
    return parser


def _folder_name(path: Path) -> str:
    """A dossier folder from a file name: ASCII letters, digits and dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", _fold_words(path.stem)).strip("-")
    return slug or "ho-so"


def _fold_words(text: str) -> str:
    """``Lương tháng 01`` -> ``luong thang 01`` (folded per word, separators kept)."""
    return " ".join(fold_key(part) for part in re.split(r"[\s_.]+", text))


def _default_inbox() -> Path:
    from bhxh.settings import get_settings

    return get_settings().inbox_dir


def _default_validate(dossier: Dossier) -> None:
    from bhxh.intake import validate_dossier

    validate_dossier(dossier)


def _default_write(
    inbox: Path,
    unit: UnitInfo,
    period: str,
    folder: str,
    procedure: str,
    files: Mapping[str, bytes],
) -> Path:
    from bhxh.intake import write_dossier

    return write_dossier(
        inbox, unit.code, period, folder, procedure, dict(files), tax_code=unit.tax_code
    )


def _default_period() -> str:
    from bhxh.periods import default_period

    return default_period()


def _default_convert() -> bool:
    from bhxh.settings import get_settings

    return get_settings().convert_legacy


def _sheets(values: Sequence[str], specs: Sequence[FormSpec]) -> dict[str, str | None]:
    """Form -> the sheet to read: ``--sheet NAME`` for the first form, ``FORM=NAME``."""
    chosen: dict[str, str | None] = {spec.form: spec.sheet for spec in specs}
    forms = {fold_key(spec.form): spec.form for spec in specs}
    for value in values:
        form, sep, name = value.partition("=")
        if sep and fold_key(form) in forms:
            chosen[forms[fold_key(form)]] = name
        elif specs:
            chosen[specs[0].form] = value
    return chosen


def _is_workbook(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False  # read_table says why


def _report_table(spec: FormSpec, table: Table, out: TextIO) -> None:
    where = f"trang tính {table.sheet!r}" if table.sheet else "CSV"
    out.write(
        f"{spec.form}: {table.file}, {where}, tiêu đề ở dòng {table.header_row} "
        f"(header row {table.header_row}), {len(table.rows)} dòng dữ liệu (data rows)\n"
    )
    if table.template:
        out.write(f"  mẫu nhận ra (template recognised): {table.template}\n")
    for col in table.columns:
        out.write(f"  cột {col.letter} {col.header!r} -> {col.field}\n")
    for conv in table.conversions:
        out.write(f"  đã chuyển mã (converted): {conv.describe()}\n")
    for warning in table.warnings:
        out.write(f"  lưu ý (warning): {warning}\n")
    for names in spec.duplicate_columns:
        for first, later in table.duplicates(*names):
            out.write(
                f"  lưu ý (warning): dòng {later.number} trùng dòng {first.number} theo "
                f"{', '.join(names)} — row {later.number} repeats row {first.number} "
                f"({', '.join(later.text(n) for n in names)})\n"
            )


def main(
    argv: Sequence[str] | None = None,
    *,
    forms: Mapping[str, Sequence[FormSpec]],
    resolve_unit: Callable[[str], UnitInfo],
    validate: Callable[[Dossier], None] | None = _default_validate,
    write: DossierWriter = _default_write,
    out: TextIO | None = None,
    err: TextIO | None = None,
    prog: str = "python -m bhxh.hrdata",
) -> int:
    """Run the command; returns the exit status (0 done, 2 refused).

    Args:
        argv: the arguments (default ``sys.argv[1:]``), starting with ``build``.
        forms: procedure code -> the forms its dossier is built from.
        resolve_unit: a unit code or block name -> the unit (raise ``KeyError`` or a
            :class:`~bhxh.errors.BhxhError` when unknown).
        validate: checks the built dossier before it is written (None: no check).
        write: puts the dossier into the inbox.
        out / err: where the report and the refusals go (default stdout / stderr).
    """
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser(prog).parse_args(argv)
    unit_code: str | None = None
    try:
        try:
            period = parse_month(args.period or _default_period())
        except InputRefused as exc:
            raise DossierInvalid(
                f"--period {args.period!r}: {exc.reason_vi}; cần MM/yyyy — "
                f"{exc.reason_en}; expected MM/yyyy, e.g. 01/2026"
            ) from None
        specs = forms.get(args.procedure)
        if not specs:
            known = ", ".join(forms) or "(none)"
            raise DossierInvalid(
                f"thủ tục {args.procedure} chưa lập được từ tệp; các thủ tục lập được: {known} — "
                f"procedure {args.procedure} cannot be built from a file; these can: {known}"
            )
        try:
            unit = resolve_unit(args.unit)
        except KeyError:
            raise DossierInvalid(
                f"không tìm thấy đơn vị {args.unit!r} — unit {args.unit!r} not found"
            ) from None
        unit_code = unit.code
        if args.tax_code is not None:
            if not _TAX_CODE.fullmatch(args.tax_code.strip()):
                raise DossierInvalid(
                    f"--tax-code {args.tax_code!r}: mã số thuế gồm 10 chữ số (chi nhánh: "
                    "10-3), ví dụ 0101234567 — a tax code is 10 digits (a branch: 10-3)"
                )
            unit = dataclasses.replace(unit, tax_code=args.tax_code.strip())
        if args.name:
            unit = dataclasses.replace(unit, name=args.name.strip())
        convert = _default_convert() if args.convert_legacy is None else args.convert_legacy
        sheets = _sheets(args.sheet, specs)
        workbook = _is_workbook(args.file)
        files: dict[str, bytes] = {}
        declarations: list[Declaration] = []
        for index, spec in enumerate(specs):
            sheet = sheets[spec.form]
            if index and spec.sheet is not None and not workbook:
                if spec.optional:
                    out.write(f"{spec.form}: tệp CSV chỉ có một bảng, bỏ qua (CSV: one table)\n")
                    continue
                raise InputRefused(
                    f"thủ tục {args.procedure} cần tờ khai {spec.form} ở trang tính {sheet!r}; "
                    "tệp CSV chỉ có một bảng",
                    f"procedure {args.procedure} needs a {spec.form} from the sheet {sheet!r}; "
                    "a CSV file holds one table",
                    where=InputLocation(file=args.file.name, unit=unit.code),
                    expected_vi="một tệp .xlsx có trang tính đó",
                    expected_en="an .xlsx workbook with that sheet",
                )
            try:
                table = read_table(
                    args.file,
                    spec.columns,
                    sheet=sheet,
                    header_row=args.header_row if index == 0 else None,
                    required=spec.required,
                    convert_legacy=convert,
                    unit=unit.code,
                )
            except (HeaderNotFound, SheetNotFound):
                if spec.optional:
                    out.write(f"{spec.form}: không có trong tệp, bỏ qua (not in the file)\n")
                    continue
                raise
            _report_table(spec, table, out)
            built = spec.build(table, unit, period)
            if isinstance(built, BuiltDeclaration):
                content = built.content
                for warning in built.warnings:
                    if warning not in table.warnings:
                        out.write(f"  lưu ý (warning): {warning}\n")
            else:
                content = built
            files[spec.filename] = content
            declarations.append(Declaration(spec.form, spec.filename, content))
        folder = args.dossier or _folder_name(args.file)
        dossier = Dossier(
            unit=unit,
            period=period,
            procedure=args.procedure,
            name=folder,
            declarations=tuple(declarations),
        )
        if validate is not None:
            validate(dossier)
        if args.dry_run:
            out.write(
                f"Kiểm tra xong, chưa ghi gì (dry run, nothing written): đơn vị {unit.code}, "
                f"kỳ {period}, thủ tục {args.procedure}, {len(files)} tờ khai\n"
            )
            return 0
        target = write(args.inbox or _default_inbox(), unit, period, folder, args.procedure, files)
    except InputRefused as exc:
        err.write(f"Từ chối (refused): {exc.with_unit(unit_code)}\n")
        return 2
    except BhxhError as exc:
        prefix = f"Đơn vị {unit_code} — unit {unit_code}: " if unit_code else ""
        err.write(f"Từ chối (refused): {prefix}{exc}\n")
        return 2
    out.write(f"Đã đưa hồ sơ vào inbox (dossier written): {target} — {', '.join(files)}\n")
    return 0


# --- the command of this package: its forms and its unit ------------------------------
_UNIT_CODE = re.compile(r"[A-Z0-9]{1,20}")


def _form_spec(form: str, *, optional: bool = False, sheet: str | None = None) -> FormSpec:
    def build(table: Table, unit: UnitInfo, period: str) -> BuiltDeclaration:
        read = rows_from_table(table, form)
        content = build_declaration(form, unit, period, read.rows)
        return BuiltDeclaration(content, read.warnings)

    return FormSpec(
        form=form,
        filename=form_filename(form),
        columns=file_columns(form),
        required=required_columns(form),
        build=build,
        optional=optional,
        sheet=sheet,
    )


def file_forms() -> dict[str, list[FormSpec]]:
    """Procedure -> the forms the command builds from an HR file.

    600 and 601: the D02-TS from the table found (or ``--sheet``); 600 also a TK1-TS when
    the workbook has a sheet named ``TK1-TS``. 602: the D05-TS and the TK1-TS of the sheet
    ``TK1-TS`` (both required); 603: the D05-TS, and a TK1-TS sheet when there is one.
    """
    d02, d05 = _form_spec("D02-TS"), _form_spec("D05-TS")
    tk1 = _form_spec("TK1-TS", sheet="TK1-TS")
    tk1_optional = _form_spec("TK1-TS", optional=True, sheet="TK1-TS")
    return {"600": [d02, tk1_optional], "601": [d02], "602": [d05, tk1], "603": [d05, tk1_optional]}


def unit_from_code(code: str) -> UnitInfo:
    """The unit the command files a dossier for, from its code at VSS (``TA0001A``).

    The declarations carry no unit header and the inbox files a dossier under the unit's
    code, so the code is what the command needs; ``--tax-code`` (written to the manifest,
    so the run checks it against the unit's block) and ``--name`` are optional. Our
    choice: the code is written in capitals, as VSS writes it.

    Raises:
        DossierInvalid: not a code of letters and digits.
    """
    text = code.strip().upper()
    if not _UNIT_CODE.fullmatch(text):
        raise DossierInvalid(
            f"mã đơn vị {code!r} chỉ gồm chữ và số, ví dụ TA0001A — unit code {code!r}: "
            "letters and digits only, e.g. TA0001A"
        )
    return UnitInfo(code=text, tax_code="", name=text, agency_code="")


def command(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """``python -m bhxh.hrdata build --unit TA0001A --period 01/2026 --procedure 600
    luong.xlsx``: the HR file into a dossier in the inbox, with the forms of
    :func:`file_forms`.

    Returns the exit status: 0 written (or checked, ``--dry-run``), 2 refused (nothing
    written).
    """
    return main(argv, forms=file_forms(), resolve_unit=unit_from_code, out=out, err=err)
