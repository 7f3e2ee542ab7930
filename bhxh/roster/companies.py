"""The firm's companies: the checks of what an accountant types about a company, and a
workbook (or CSV) of companies read row by row.

A company (đơn vị) is known to VSS by its unit code (``MaSoBHXH`` of the unit), its tax
code (``MaSoThue``) and the code of the BHXH agency that manages it (``CoQuanQuanLy``).
The formats checked here are those of the domain notes: a tax code of 10 digits, or 10-3
for a branch (``0101234567-001``); an agency code of 5 digits (``07906``). The unit code's
exact format is not published in the documents we have; the notes show ``TZ1234A``, so
our choice is 7 characters: a letter, a letter or digit, 4 digits, a letter (``TA0001A``,
``T00001X``), written in capitals.

The workbook is read as the project reads HR files (``bhxh.hrdata.read_table``): formula
cells without a cached value, legacy font encodings and oversized files are refused, the
header is found by name or Vietnamese label, and every refusal names the sheet, row and
column. A row that cannot be a company is refused alone; the others are read.

Secrets: the signer's password column is read only when the caller asks
(``read_secrets``); otherwise it is not read at all, and its header is reported as
ignored. A password read is held in a ``SecretStr`` and never written into a refusal.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from bhxh.catalogue import DEFAULT_IVAN, IVANS
from bhxh.errors import BhxhError, InputLocation, InputRefused
from bhxh.hrdata import Row, read_table
from bhxh.vntext import fold_key, normalize_text

__all__ = [
    "COLUMNS",
    "SECRET_COLUMNS",
    "CompanyEntry",
    "CompanyInvalid",
    "RosterRead",
    "check_agency_code",
    "check_tax_code",
    "check_unit_code",
    "read_roster",
    "unit_slug",
]


class CompanyInvalid(BhxhError, ValueError):
    """What was typed about a company cannot be saved (a format, a duplicate, an account)."""


_TAX = re.compile(r"[0-9]{10}(-?[0-9]{3})?")
_UNIT = re.compile(r"[A-Z][A-Z0-9][0-9]{4}[A-Z]")
_AGENCY = re.compile(r"[0-9]{5}")

TAX_EXPECTED = (
    "10 chữ số, hoặc 10-3 cho chi nhánh, ví dụ 0101234567 hoặc 0101234567-001",
    "10 digits, or 10-3 for a branch, e.g. 0101234567 or 0101234567-001",
)
UNIT_EXPECTED = (
    "7 ký tự: 2 chữ cái (hoặc chữ và số), 4 chữ số, 1 chữ cái, ví dụ TA0001A",
    "7 characters: 2 letters (or a letter and a digit), 4 digits, a letter, e.g. TA0001A",
)
AGENCY_EXPECTED = ("5 chữ số, ví dụ 07906", "5 digits, e.g. 07906")


def _plain(value: object) -> str:
    return re.sub(r"\s+", "", normalize_text(str(value))) if value is not None else ""


def check_tax_code(value: object) -> str:
    """The tax code as VSS writes it (``0101234567`` or ``0101234567-001``).

    Raises:
        CompanyInvalid: not 10 digits, or 10-3.
    """
    text = _plain(value)
    if not _TAX.fullmatch(text):
        raise CompanyInvalid(
            f"mã số thuế '{text}' không đúng dạng, cần {TAX_EXPECTED[0]} / the tax code "
            f"'{text}' is not valid, expected {TAX_EXPECTED[1]}"
        )
    return text if len(text) != 13 else f"{text[:10]}-{text[10:]}"


def check_unit_code(value: object) -> str:
    """The unit code in capitals (``TA0001A``).

    Raises:
        CompanyInvalid: not the format of the module's docstring.
    """
    text = _plain(value).upper()
    if not _UNIT.fullmatch(text):
        raise CompanyInvalid(
            f"mã đơn vị '{text}' không đúng dạng, cần {UNIT_EXPECTED[0]} / the unit code "
            f"'{text}' is not valid, expected {UNIT_EXPECTED[1]}"
        )
    return text


def check_agency_code(value: object) -> str:
    """The managing agency's code, 5 digits (``07906``).

    Raises:
        CompanyInvalid: not 5 digits.
    """
    text = _plain(value)
    if text.isdigit() and len(text) < 5:
        text = text.zfill(5)  # a spreadsheet drops the leading zero of 07906
    if not _AGENCY.fullmatch(text):
        raise CompanyInvalid(
            f"mã cơ quan BHXH '{text}' không đúng dạng, cần {AGENCY_EXPECTED[0]} / the BHXH "
            f"agency code '{text}' is not valid, expected {AGENCY_EXPECTED[1]}"
        )
    return text


# Words of a company's legal form, left out of its short name (our choice).
_LEGAL_FORMS = (
    "cong ty trach nhiem huu han mot thanh vien",
    "cong ty trach nhiem huu han hai thanh vien tro len",
    "cong ty trach nhiem huu han",
    "cong ty tnhh mot thanh vien",
    "cong ty tnhh mtv",
    "cong ty tnhh",
    "cong ty co phan",
    "cong ty cp",
    "cong ty",
    "doanh nghiep tu nhan",
    "chi nhanh",
)


def _words(value: str) -> list[str]:
    text = unicodedata.normalize("NFD", normalize_text(value).casefold())
    text = text.replace("đ", "d")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.findall(r"[a-z0-9]+", text)


def unit_slug(name: str, unit_code: str, taken: Iterable[str] = ()) -> str:
    """The block name of a company, from its name: ``Công ty TNHH An Phát`` -> ``an-phat``.

    Lower-case letters, digits and dashes (what Prefect allows in a block name), the legal
    form left out; when the name is taken (or empty), the unit code is added
    (``an-phat-ta0001a``).
    """
    words = _words(name)
    joined = " ".join(words)
    for form in _LEGAL_FORMS:
        if joined.startswith(form + " "):
            words = words[len(form.split()) :]
            break
    base = "-".join(words)[:40].strip("-")
    code = unit_code.lower()
    used = set(taken)
    if base and base not in used:
        return base
    return f"{base}-{code}" if base else code


# --- the workbook ----------------------------------------------------------------------
#: The columns of a company workbook: element name -> (Vietnamese labels..., English).
COLUMNS: Mapping[str, tuple[str, ...]] = {
    "TenDonVi": ("Tên đơn vị", "Tên công ty", "Tên doanh nghiệp", "Company name"),
    "MaSoThue": ("Mã số thuế", "MST", "Tax code"),
    "MaDonVi": ("Mã đơn vị", "Mã đơn vị BHXH", "Mã số BHXH đơn vị", "Unit code"),
    "CoQuanQuanLy": ("Mã cơ quan BHXH", "Cơ quan BHXH", "Mã cơ quan quản lý", "Agency code"),
    "NhaCungCap": ("Nhà cung cấp ký số", "Nhà cung cấp", "Provider"),
    "TaiKhoan": ("Tài khoản ký số", "Tài khoản", "Tài khoản người ký", "Account"),
    "TuyenNop": ("Tuyến nộp", "Cách nộp", "Carrier", "Route"),
    "MaIVAN": ("Mã I-VAN", "I-VAN"),
    "NguoiKy": ("Người ký", "Signer"),
    "DienThoai": ("Điện thoại", "Số điện thoại", "Phone"),
    "DiaChi": ("Địa chỉ", "Address"),
    "Email": ("E-mail", "Thư điện tử"),
}
#: Columns holding a secret: read only when asked.
SECRET_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "MatKhau": ("Mật khẩu", "Mật khẩu ký số", "Mật khẩu người ký", "Password"),
}
REQUIRED = ("TenDonVi", "MaSoThue", "MaDonVi", "CoQuanQuanLy", "NhaCungCap", "TaiKhoan")


@dataclass(frozen=True)
class CompanyEntry:
    """One company as read from a workbook row (checked formats, no block names)."""

    name: str
    tax_code: str
    unit_code: str
    agency_code: str
    provider: str
    account: str
    route: str
    ivan_code: str
    signer: str = ""
    phone: str = ""
    address: str = ""
    email: str = ""
    password: SecretStr | None = field(default=None, repr=False)
    row: int = 0
    where: InputLocation = field(default_factory=InputLocation)


@dataclass(frozen=True)
class RosterRead:
    """A company workbook as read: the companies, the refused rows, what was noted."""

    file: str
    sheet: str | None
    companies: tuple[CompanyEntry, ...]
    refused: tuple[InputRefused, ...]
    notes: tuple[str, ...] = ()


def _choice(
    row: Row, column: str, choices: Mapping[str, Sequence[str]], what: tuple[str, str]
) -> str:
    """The key of ``choices`` the cell names (the key or a label, any case or accents)."""
    value = row.text(column)
    key = fold_key(value)
    for name, labels in choices.items():
        if key in {fold_key(name), *(fold_key(label) for label in labels)}:
            return name
    known = ", ".join(choices)
    raise InputRefused.pair(
        row.where(column),
        (f"{what[0]} không có trong danh sách", f"unknown {what[1]}"),
        value,
        (f"một trong: {known}", f"one of: {known}"),
    )


def _cell(row: Row, column: str, check: object) -> str:
    """A cell through one of the format checks, refused naming the cell."""
    assert callable(check)
    try:
        return str(check(row.text(column)))
    except CompanyInvalid as exc:
        vi, _, en = str(exc).partition(" / ")
        raise InputRefused(vi, en, where=row.where(column)) from None


def _required(row: Row, column: str) -> str:
    value = row.text(column)
    if not value:
        raise InputRefused(
            "ô bắt buộc đang trống", "a required cell is empty", where=row.where(column)
        )
    return value


def _entry(
    row: Row,
    providers: Mapping[str, Sequence[str]],
    carriers: Mapping[str, Sequence[str]],
    read_secrets: bool,
) -> CompanyEntry:
    ivans = {code: (ivan.short, ivan.name) for code, ivan in IVANS.items()}
    route = (
        _choice(row, "TuyenNop", carriers, ("tuyến nộp", "carrier"))
        if row.text("TuyenNop")
        else "gateway"
    )
    ivan = (
        _choice(row, "MaIVAN", ivans, ("I-VAN", "I-VAN"))
        if row.text("MaIVAN")
        else DEFAULT_IVAN.code
    )
    password = row.text("MatKhau") if read_secrets else ""
    return CompanyEntry(
        name=_required(row, "TenDonVi"),
        tax_code=_cell(row, "MaSoThue", check_tax_code),
        unit_code=_cell(row, "MaDonVi", check_unit_code),
        agency_code=_cell(row, "CoQuanQuanLy", check_agency_code),
        provider=_choice(row, "NhaCungCap", providers, ("nhà cung cấp ký số", "provider")),
        account=_required(row, "TaiKhoan"),
        route=route,
        ivan_code=ivan,
        signer=row.text("NguoiKy"),
        phone=row.text("DienThoai"),
        address=row.text("DiaChi"),
        email=row.text("Email"),
        password=SecretStr(password) if password else None,
        row=row.number,
        where=row.where(),
    )


def _twice(entry: CompanyEntry, earlier: CompanyEntry, row: Row) -> InputRefused | None:
    for column, same in (
        ("MaDonVi", entry.unit_code == earlier.unit_code),
        ("MaSoThue", entry.tax_code == earlier.tax_code),
    ):
        if same:
            return InputRefused(
                f"trùng với dòng {earlier.row}",
                f"the same as row {earlier.row}",
                where=row.where(column),
                read=row.text(column),
            )
    return None


def read_roster(
    source: str | Path | bytes,
    *,
    providers: Mapping[str, Sequence[str]],
    carriers: Mapping[str, Sequence[str]],
    read_secrets: bool = False,
    name: str | None = None,
) -> RosterRead:
    """Read a workbook (``.xlsx``) or CSV of companies, one company a row.

    Args:
        source: the file, or its bytes.
        providers: the registered providers, name -> the labels a cell may use.
        carriers: the registered carriers, name -> the labels a cell may use.
        read_secrets: read the password column (``Mật khẩu``); otherwise it is not read.
        name: the file name refusals give (for bytes).

    Raises:
        InputRefused: the file as a whole cannot be read (its size, a formula without a
            value, no header with the required columns...), naming the file and the cell.
    """
    columns = dict(COLUMNS)
    if read_secrets:
        columns.update(SECRET_COLUMNS)
    table = read_table(
        source,
        list(columns),
        name=name,
        aliases={k: v for k, v in columns.items()},
        required=REQUIRED,
    )
    companies: list[CompanyEntry] = []
    refused: list[InputRefused] = []
    for row in table.rows:
        try:
            entry = _entry(row, providers, carriers, read_secrets)
        except InputRefused as exc:
            refused.append(exc)
            continue
        twice = next((r for e in companies if (r := _twice(entry, e, row)) is not None), None)
        if twice is not None:
            refused.append(twice)
            continue
        companies.append(entry)
    notes = list(table.warnings)
    secret_labels = {fold_key(label) for labels in SECRET_COLUMNS.values() for label in labels}
    for letter, header in table.ignored_columns:
        if not read_secrets and fold_key(header) in secret_labels:
            notes.append(
                f"cột {letter} ({header}) không được đọc: chưa cho phép đọc mật khẩu từ tệp / "
                f"column {letter} ({header}) was not read: reading passwords from the file "
                "was not allowed"
            )
    return RosterRead(table.file, table.sheet, tuple(companies), tuple(refused), tuple(notes))
