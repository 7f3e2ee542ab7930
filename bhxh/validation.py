"""Validation of a dossier before anything is signed: it fails early and changes nothing.

Checks, in order: the procedure is in the catalogue; the period (``KyKeKhai``) is
``MM/yyyy`` and not later than the current month; the forms fit the procedure (with the
I-VAN's exact texts "Thủ tục {X} thiếu tờ khai {Y}" / "Thủ tục {X} không cho phép nộp tờ
khai {Y}"); every declaration is safe, well-formed XML whose root is its form and whose
header (``MaSoThue``, ``MaDonVi``, ``KyKeKhai``) agrees with the unit and the period; the
rows of D02-TS and TK1-TS follow the portal's rules.

All problems of one dossier are collected into one :class:`DossierProblems` (a
:class:`~bhxh.errors.DossierInvalid`): ``.problems`` holds each problem's exact text, the
message names the unit and the dossier and joins them.

Example:
    >>> validate_period("01/2026")
    (1, 2026)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from lxml import etree

from bhxh.catalogue import ATTACHMENT_FORM, PA_CODES, PROCEDURES, Procedure, form_filename
from bhxh.errors import DossierInvalid, UnsafeXml
from bhxh.models import Declaration, Dossier
from bhxh.xmlsafe import parse_xml

__all__ = [
    "D02_LIMITS",
    "DossierProblems",
    "check_period_not_future",
    "validate_dossier",
    "validate_period",
]

_PERIOD = re.compile(r"(0[1-9]|1[0-2])/(\d{4})")
_WHOLE = re.compile(r"\d+")
_DATE = re.compile(r"(\d{2}/\d{2}/\d{4}|\d{2}/\d{4}|\d{4})")

#: Maximum lengths of D02-TS text fields (portal rules).
D02_LIMITS = {"HoTen": 100, "ChucVu": 500, "Ghichu": 500}
_D02_REQUIRED = ("PA", "HoTen", "ChucVu", "TienLuong")
_D02_AMOUNTS = ("PhuCapCV", "PhuCapTNVK", "PhuCapTNNghe", "PhuCapLuong", "PhuCapBosung")
_TK1_REQUIRED = ("HoTen", "NgaySinh", "GioiTinh", "QuocTich")
_MAX_BHXH_DIGITS = 10


class DossierProblems(DossierInvalid):
    """A dossier with one or more problems; ``problems`` holds each problem's exact text."""

    def __init__(self, unit_code: str, dossier: str, period: str, problems: Sequence[str]):
        self.unit_code = unit_code
        self.dossier = dossier
        self.period = period
        self.problems: tuple[str, ...] = tuple(problems)
        n = len(self.problems)
        head = f"unit {unit_code}, dossier {dossier}, period {period}: {n} problem"
        super().__init__(head + ("s" if n != 1 else "") + ": " + "; ".join(self.problems))


def validate_period(period: str) -> tuple[int, int]:
    """Check a ``KyKeKhai`` period and return ``(month, year)``.

    Raises:
        DossierInvalid: not ``MM/yyyy`` with a month 01-12 (``1/2026``, ``13/2026`` and
            ``2026-01`` are refused).
    """
    m = _PERIOD.fullmatch(period) if isinstance(period, str) else None
    if not m:
        raise DossierInvalid(
            f"period (KyKeKhai) {period!r} is not MM/yyyy with a month 01-12, e.g. '01/2026'"
        )
    month, year = int(m.group(1)), int(m.group(2))
    if year < 1995:  # VSS was founded in 1995
        raise DossierInvalid(f"period (KyKeKhai) {period!r}: year {year} is before 1995")
    return month, year


def check_period_not_future(period: str, today: dt.date | None = None) -> tuple[int, int]:
    """Like :func:`validate_period`, and also refuse a month later than today's month."""
    month, year = validate_period(period)
    today = today or dt.date.today()
    if (year, month) > (today.year, today.month):
        raise DossierInvalid(
            f"period (KyKeKhai) {period} is in the future (current month "
            f"{today.month:02d}/{today.year})"
        )
    return month, year


def _text(el: etree._Element, name: str) -> str:
    return (el.findtext(name) or "").strip()


def _check_forms(proc: Procedure, dossier: Dossier, problems: list[str]) -> None:
    forms = [d.form for d in dossier.declarations]
    seen: set[str] = set()
    for form in forms:
        if form in seen:
            problems.append(f"form {form} is given more than once")
        seen.add(form)
    for form in sorted(proc.required_forms - seen):
        problems.append(f"Thủ tục {proc.code} thiếu tờ khai {form}")
    for form in sorted(seen - proc.allowed_forms):
        problems.append(f"Thủ tục {proc.code} không cho phép nộp tờ khai {form}")
    if dossier.attachments and not proc.allows_attachments:
        problems.append(f"Thủ tục {proc.code} không cho phép nộp tờ khai {ATTACHMENT_FORM}")
    if not dossier.declarations:
        problems.append(f"procedure {proc.code}: the dossier holds no declaration")
    for decl in dossier.declarations:
        expected = form_filename(decl.form)
        if decl.filename != expected:
            problems.append(
                f"file {decl.filename}: a {decl.form} declaration must be named {expected}"
            )
    names = [a.filename for a in dossier.attachments]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"attachment {name} is given more than once")


def _check_header(decl: Declaration, root: etree._Element, dossier: Dossier) -> list[str]:
    problems: list[str] = []
    unit = dossier.unit
    for field, expected, what in (
        ("MaSoThue", unit.tax_code, "the unit's tax code"),
        ("MaDonVi", unit.code, "the unit's code"),
        ("KyKeKhai", dossier.period, "the dossier's period"),
    ):
        if root.find(field) is None:
            problems.append(f"file {decl.filename}, field {field}: missing from the header")
            continue
        found = _text(root, field)
        if found != expected:
            problems.append(
                f"file {decl.filename}, field {field}: {found!r} does not match {what} {expected!r}"
            )
    return problems


def _row_where(filename: str, index: int, row: etree._Element) -> str:
    stt = _text(row, "STT")
    return f"file {filename}, row {index}" + (f" (STT {stt})" if stt else "")


def _check_bhxh_number(where: str, value: str, problems: list[str]) -> None:
    if value and not (value.isascii() and value.isdigit() and len(value) <= _MAX_BHXH_DIGITS):
        problems.append(
            f"{where}, field MasoBHXH: {value!r} must be digits only, at most "
            f"{_MAX_BHXH_DIGITS} digits"
        )


def _check_d02_rows(filename: str, root: etree._Element) -> list[str]:
    problems: list[str] = []
    rows = root.findall("NoiDung/LaoDong")
    if not rows:
        return [f"file {filename}: no worker rows (NoiDung/LaoDong)"]
    first_by_bhxh: dict[str, int] = {}
    first_by_cmnd: dict[str, int] = {}
    for i, row in enumerate(rows, start=1):
        where = _row_where(filename, i, row)
        for field in _D02_REQUIRED:
            if not _text(row, field):
                problems.append(f"{where}, field {field}: required")
        for field, limit in D02_LIMITS.items():
            value = _text(row, field)
            if len(value) > limit:
                problems.append(
                    f"{where}, field {field}: {len(value)} characters, at most {limit} allowed"
                )
        salary = _text(row, "TienLuong")
        if salary and not (_WHOLE.fullmatch(salary) and int(salary) > 0):
            problems.append(
                f"{where}, field TienLuong: {salary!r} must be a whole number of VND above 0"
            )
        for field in _D02_AMOUNTS:
            value = _text(row, field)
            if value and not _WHOLE.fullmatch(value):
                problems.append(f"{where}, field {field}: {value!r} must be a whole number of VND")
        pa = _text(row, "PA")
        if pa and pa not in PA_CODES:
            problems.append(
                f"{where}, field PA: unknown code {pa!r} (known: {', '.join(PA_CODES)})"
            )
        bhxh = _text(row, "MasoBHXH")
        _check_bhxh_number(where, bhxh, problems)
        cmnd = _text(row, "CMND")
        for field, value, first in (
            ("MasoBHXH", bhxh, first_by_bhxh),
            ("CMND", cmnd, first_by_cmnd),
        ):
            if not value:
                continue
            if value in first:
                problems.append(
                    f"{where}, field {field}: worker {value} appears twice "
                    f"(already in row {first[value]})"
                )
            else:
                first[value] = i
    return problems


def _check_tk1_rows(filename: str, root: etree._Element) -> list[str]:
    problems: list[str] = []
    rows = root.findall("NoiDung/LaoDong")
    if not rows:
        return [f"file {filename}: no person rows (NoiDung/LaoDong)"]
    for i, row in enumerate(rows, start=1):
        where = _row_where(filename, i, row)
        for field in _TK1_REQUIRED:
            if not _text(row, field):
                problems.append(f"{where}, field {field}: required")
        name = _text(row, "HoTen")
        if len(name) > D02_LIMITS["HoTen"]:
            problems.append(
                f"{where}, field HoTen: {len(name)} characters, at most "
                f"{D02_LIMITS['HoTen']} allowed"
            )
        born = _text(row, "NgaySinh")
        if born and not _DATE.fullmatch(born):
            problems.append(
                f"{where}, field NgaySinh: {born!r} must be dd/MM/yyyy, MM/yyyy or yyyy"
            )
        _check_bhxh_number(where, _text(row, "MasoBHXH"), problems)
    return problems


_ROW_CHECKS = {"D02-TS": _check_d02_rows, "TK1-TS": _check_tk1_rows}


def _check_declaration(decl: Declaration, proc: Procedure | None, dossier: Dossier) -> list[str]:
    registration = proc is not None and proc.kind == "registration"
    # Registration forms (04/05/06) are their own envelope, rooted at <Hoso>.
    root_tag = "Hoso" if registration else decl.form
    try:
        root = parse_xml(decl.content, expected_root=root_tag, what=f"file {decl.filename}")
    except UnsafeXml as exc:
        return [str(exc)]
    if registration:
        return []
    problems = _check_header(decl, root, dossier)
    if root.find("Cky") is None:
        problems.append(f"file {decl.filename}: no <Cky> element to receive the signature")
    check_rows = _ROW_CHECKS.get(decl.form)
    if check_rows is not None:
        problems.extend(check_rows(decl.filename, root))
    return problems


def validate_dossier(dossier: Dossier, *, today: dt.date | None = None) -> None:
    """Check a dossier against its procedure, its unit and the portal's row rules.

    Args:
        dossier: the dossier as loaded from the inbox (or built in code).
        today: the date that decides which periods are in the future (default: today).

    Raises:
        DossierProblems: one error holding every problem found (``.problems``).
    """
    problems: list[str] = []
    proc = PROCEDURES.get(dossier.procedure)
    if proc is None:
        problems.append(
            f"unknown procedure (MaThuTuc) {dossier.procedure!r}; known procedures: "
            + ", ".join(PROCEDURES)
        )
    try:
        check_period_not_future(dossier.period, today)
    except DossierInvalid as exc:
        problems.append(str(exc))
    if proc is not None:
        _check_forms(proc, dossier, problems)
    for decl in dossier.declarations:
        problems.extend(_check_declaration(decl, proc, dossier))
    if problems:
        raise DossierProblems(dossier.unit.code, dossier.name, dossier.period, problems)
