"""Validation of a dossier before anything is signed: it fails early and changes nothing.

Checks, in order: the procedure is in the catalogue; the period (``KyKeKhai``) is
``MM/yyyy`` and not later than the current month in Vietnam; the forms fit the procedure
(with the I-VAN's exact texts "Thủ tục {X} thiếu tờ khai {Y}" / "Thủ tục {X} không cho phép
nộp tờ khai {Y}"); every declaration is safe, well-formed XML whose root is its form and
whose content follows the form's layout in the catalogue (:data:`bhxh.catalogue.FORM_LAYOUTS`):
the real files' elements in their order, no unknown element, every required field present
and filled ("Không được để trống", the portal's words), every value in its format; the rows
of a D02-TS follow the portal's rules (known PA code, no worker twice).

A declaration carries no unit or period of its own (the real files have no header): the
unit and the period are the inbox folder's, checked against the manifest by
:mod:`bhxh.intake`, and written into the envelope.

All problems of one dossier are collected into one :class:`DossierProblems` (a
:class:`~bhxh.errors.DossierInvalid`): ``.problems`` holds each problem's exact text, the
message names the unit and the dossier and joins them; each problem names the file, the
row (and its STT) and the field.

Example:
    >>> validate_period("01/2026")
    (1, 2026)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import etree

from bhxh.catalogue import (
    ATTACHMENT_FORM,
    FORM_LAYOUTS,
    PA_CODES,
    PROCEDURES,
    SIGNATURE_SLOT,
    FieldSpec,
    FormLayout,
    Procedure,
    form_filename,
)
from bhxh.errors import DossierInvalid, UnsafeXml
from bhxh.models import Declaration, Dossier
from bhxh.periods import PERIOD_PATTERN, today_vn
from bhxh.xmlsafe import field_text, find_text, own_text, parse_xml

__all__ = [
    "D02_LIMITS",
    "REQUIRED",
    "DossierProblems",
    "check_period_not_future",
    "field_problem",
    "validate_declaration",
    "validate_dossier",
    "validate_period",
]

_PERIOD = PERIOD_PATTERN
_WHOLE = re.compile(r"\d+")
_DECIMAL = re.compile(r"\d+(\.\d+)?")
_DAY = re.compile(r"\d{2}/\d{2}/\d{4}")
_BIRTH = re.compile(r"\d{2}/\d{2}/\d{4}|(0[1-9]|1[0-2])/\d{4}|\d{4}")
_XS_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?")

#: Maximum lengths of D02-TS text fields (portal rules), as the catalogue holds them.
D02_LIMITS = {
    f.name: f.max_length
    for f in FORM_LAYOUTS["D02-TS"].row_fields
    if f.max_length and f.name in ("HoTen", "ChucVu", "Ghichu")
}
#: The words after a required field left empty: English, then the portal's own.
REQUIRED = "required (Không được để trống)"
_MAX_PROBLEMS_PER_FILE = 50


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
    """Like :func:`validate_period`, and also refuse a month later than today's month
    (``today`` default: today in Vietnam, never the server's own date)."""
    month, year = validate_period(period)
    today = today or today_vn()
    if (year, month) > (today.year, today.month):
        raise DossierInvalid(
            f"period (KyKeKhai) {period} is in the future (current month "
            f"{today.month:02d}/{today.year})"
        )
    return month, year


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


# --- values ----------------------------------------------------------------------------------


def _valid_day(text: str) -> bool:
    """``dd/MM/yyyy`` (already matched) names a real day (no 31/02)."""
    try:
        dt.date(int(text[6:10]), int(text[3:5]), int(text[0:2]))
    except ValueError:
        return False
    return True


def field_problem(spec: FieldSpec, value: str, *, check_required: bool = True) -> str | None:
    """What is wrong with ``value`` for the field ``spec``, or None when it fits.

    Empty values are checked only for being required. The text says what the value must
    be, e.g. ``'9 triệu' must be a whole number of VND above 0``.
    """
    if not value:
        return REQUIRED if (check_required and spec.required) else None
    kind = spec.kind
    if kind == "text" and (spec.max_length is None or len(value) <= spec.max_length):
        return None
    if kind == "group":
        return "holds text, expected elements"
    if kind == "digits":
        if not (value.isascii() and value.isdigit()) or (
            spec.max_length is not None and len(value) > spec.max_length
        ):
            limit = f", at most {spec.max_length} digits" if spec.max_length else ""
            return f"{value!r} must be digits only{limit}"
        return None
    if spec.max_length is not None and len(value) > spec.max_length:
        return f"{len(value)} characters, at most {spec.max_length} allowed"
    if kind == "whole" and not _WHOLE.fullmatch(value):
        return f"{value!r} is not a whole number"
    if kind == "amount":
        if not _WHOLE.fullmatch(value):
            above = " above 0" if spec.required else ""
            return f"{value!r} is not a whole number of VND{above}"
        if spec.required and int(value) <= 0:
            return f"{value!r} must be a whole number of VND above 0"
    if kind == "month" and not _PERIOD.fullmatch(value):
        return f"{value!r} must be MM/yyyy with a month 01-12, e.g. 01/2026"
    if kind == "date" and not (_DAY.fullmatch(value) and _valid_day(value)):
        return f"{value!r} must be a date dd/MM/yyyy"
    if kind == "birth" and not (
        _BIRTH.fullmatch(value) and (not _DAY.fullmatch(value) or _valid_day(value))
    ):
        return f"{value!r} must be dd/MM/yyyy, MM/yyyy or yyyy"
    if kind == "flag" and value not in ("0", "1"):
        return f"{value!r} must be 0 or 1"
    if kind in ("rate", "decimal") and not _DECIMAL.fullmatch(value):
        return f"{value!r} is not a number such as 32.0"
    if (
        kind == "code"
        and spec.width
        and not (value.isascii() and value.isdigit() and len(value) == spec.width)
    ):
        example = "1".zfill(spec.width)
        return f"{value!r} must be a code of {spec.width} digits, e.g. {example}"
    if kind == "datetime" and not _XS_DATETIME.fullmatch(value):
        return f"{value!r} must be a date (and time) such as 2026-01-05T00:00:00"
    return None


# --- the content model ----------------------------------------------------------------------


@dataclass
class _FileCheck:
    """The problems of one declaration file (capped) and the rows met on the way."""

    filename: str
    layout: FormLayout
    problems: list[str] = field(default_factory=list)
    rows: list[tuple[str, etree._Element]] = field(default_factory=list)
    more: int = 0
    orders: dict[int, dict[str, int]] = field(default_factory=dict)

    def order(self, spec: FieldSpec) -> dict[str, int]:
        """Child name -> position, computed once per spec (rows share their spec)."""
        found = self.orders.get(id(spec))
        if found is None:
            found = self.orders[id(spec)] = {c.name: i for i, c in enumerate(spec.children)}
        return found

    def add(self, text: str) -> None:
        if len(self.problems) < _MAX_PROBLEMS_PER_FILE:
            self.problems.append(text)
        else:
            self.more += 1

    def result(self) -> list[str]:
        if self.more:
            return [*self.problems, f"file {self.filename}: and {self.more} more problems"]
        return self.problems


def _stt_where(check: _FileCheck, index: int, row: etree._Element) -> str:
    stt = _text(row, "STT")
    return f"file {check.filename}, row {index}" + (f" (STT {stt})" if stt else "")


def _walk(check: _FileCheck, el: etree._Element, spec: FieldSpec, where: str, path: str) -> None:
    """Check ``el``'s children against ``spec``'s: names, order, required, values.

    Written for speed (a D02-TS of 10,000 workers has 440,000 fields): tags are compared
    as strings (a namespaced tag, ``{uri}name``, never matches a layout name). A value is
    read as it will be signed (:func:`bhxh.xmlsafe.field_text`: a comment, a processing
    instruction or a CDATA section inside it changes nothing); an element inside a value,
    or text anywhere directly inside a group (before, between or after its children), is
    a problem.
    """
    if own_text(el).strip():
        check.add(f"{where}: <{el.tag}> holds text, expected elements")
    order = check.order(spec)
    children = spec.children
    last = -1
    counts: dict[str, int] = {}
    for child in el:
        name = child.tag
        if not isinstance(name, str):
            continue  # comments and processing instructions
        index = order.get(name)
        if index is None:
            check.add(
                f"{where}: unexpected element <{name}>; <{spec.name}> holds "
                + ", ".join(spec.names)
            )
            continue
        child_spec = children[index]
        if index < last:
            check.add(
                f"{where}, field {name}: out of order, it comes before "
                f"{children[last].name} in a {check.layout.form}"
            )
        elif index == last and not child_spec.repeated:
            check.add(f"{where}, field {name}: appears twice")
        if index > last:
            last = index
        counts[name] = counts.get(name, 0) + 1
        if child_spec.kind != "group":
            try:
                text = field_text(child)
            except UnsafeXml:
                check.add(f"{where}, field {name}: holds elements, expected a value")
                continue
            problem = field_problem(child_spec, text.strip())
            if problem:
                check.add(f"{where}, field {name}: {problem}")
            continue
        if name == SIGNATURE_SLOT and not path:
            if len(child) or own_text(child).strip():
                check.add(f"file {check.filename}: <Cky> must be empty (the signature goes there)")
            continue
        child_path = f"{path}/{name}" if path else name
        if child_path == check.layout.row_path:
            child_where = _stt_where(check, len(check.rows) + 1, child)
            check.rows.append((child_where, child))
        elif child_spec.repeated:
            child_where = f"{where}, {name} {counts[name]}"
        else:
            child_where = f"{where}, {name}"
        _walk(check, child, child_spec, child_where, child_path)
    for child_spec in children:
        if not child_spec.required or child_spec.name in counts:
            continue
        if child_spec.kind == "group":
            check.add(f"{where}: <{child_spec.name}> is missing")
        else:
            check.add(f"{where}, field {child_spec.name}: missing, {REQUIRED}")


def _text(el: etree._Element, name: str) -> str:
    """The value of ``el``'s child ``name`` as it will be signed, stripped ("" when missing
    or not plain text: :func:`_walk` reports that)."""
    try:
        return (find_text(el, name) or "").strip()
    except UnsafeXml:
        return ""


def _check_d02_rows(check: _FileCheck) -> None:
    """The portal's row rules beyond the layout: PA codes, months in order, no worker twice."""
    first_by: dict[str, dict[str, int]] = {"MasoBHXH": {}, "CMND": {}}
    for index, (where, row) in enumerate(check.rows, start=1):
        pa = _text(row, "PA")
        if pa and pa not in PA_CODES:
            check.add(f"{where}, field PA: unknown code {pa!r} (known: {', '.join(PA_CODES)})")
        start, end = _text(row, "TuThang"), _text(row, "DenThang")
        ordered = _PERIOD.fullmatch(start) and _PERIOD.fullmatch(end)
        if ordered and (end[3:], end[:2]) < (start[3:], start[:2]):
            check.add(f"{where}, field DenThang: {end} is before TuThang {start}")
        for name, first in first_by.items():
            value = _text(row, name)
            if not value:
                continue
            if value in first:
                check.add(
                    f"{where}, field {name}: worker {value} appears twice "
                    f"(already in row {first[value]})"
                )
            else:
                first[value] = index


_ROW_RULES = {"D02-TS": _check_d02_rows}
_NO_ROWS = {"D02-TS": "no worker rows", "TK1-TS": "no person rows", "D05-TS": "no person rows"}


def validate_declaration(filename: str, root: etree._Element, layout: FormLayout) -> list[str]:
    """Every problem of one parsed declaration against its form's layout (at most 50 and a
    count of the rest), each naming the file, the row and the field."""
    check = _FileCheck(filename, layout)
    root_spec = FieldSpec(layout.form, "group", children=layout.top)
    _walk(check, root, root_spec, f"file {filename}", "")
    if not check.rows and not any("is missing" in p for p in check.problems):
        what = _NO_ROWS.get(layout.form, "no rows")
        check.add(f"file {filename}: {what} ({layout.row_path})")
    rule = _ROW_RULES.get(layout.form)
    if rule is not None:
        rule(check)
    return check.result()


def _check_declaration(decl: Declaration, proc: Procedure | None) -> list[str]:
    registration = proc is not None and proc.kind == "registration"
    # Registration forms (04/05/06) are their own envelope, rooted at <Hoso>.
    root_tag = "Hoso" if registration else decl.form
    try:
        root = parse_xml(decl.content, expected_root=root_tag, what=f"file {decl.filename}")
    except UnsafeXml as exc:
        return [str(exc)]
    if registration:
        return []
    layout = FORM_LAYOUTS.get(decl.form)
    if layout is not None:
        return validate_declaration(decl.filename, root, layout)
    if root.find(SIGNATURE_SLOT) is None:  # M01B-HSB and forms without a layout here
        return [f"file {decl.filename}: no <Cky> element to receive the signature"]
    return []


def validate_dossier(dossier: Dossier, *, today: dt.date | None = None) -> None:
    """Check a dossier against its procedure and its forms' layouts.

    Args:
        dossier: the dossier as loaded from the inbox (or built in code).
        today: the date that decides which periods are in the future (default: today in
            Vietnam).

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
        problems.extend(_check_declaration(decl, proc))
    if problems:
        raise DossierProblems(dossier.unit.code, dossier.name, dossier.period, problems)
