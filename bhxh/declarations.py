"""Declarations (tờ khai) built from data, so an HR export becomes a dossier without
hand-written XML.

Every declaration this module builds has exactly this shape (UTF-8, no namespace, no
pretty-printing, ending with the empty ``<Cky/>`` that receives the signature)::

    <?xml version="1.0" encoding="UTF-8"?>
    <D02-TS>
      <KyKeKhai>01/2026</KyKeKhai>        period, MM/yyyy
      <TenDonVi>Công ty ACME</TenDonVi>   unit name
      <MaDonVi>TZ1234A</MaDonVi>          unit code at VSS (MaSoBHXH of the unit)
      <MaSoThue>0101234567</MaSoThue>     tax code
      <CoQuanQuanLy>07906</CoQuanQuanLy>  managing agency
      <NoiDung><LaoDong>...</LaoDong>...</NoiDung>
      <Cky/>
    </D02-TS>

(shown indented here; the bytes carry no whitespace between elements). Each ``LaoDong``
row holds one element per field, in the order of the row type's fields; an empty value is
an empty element.

A CSV of worker rows (UTF-8, a BOM allowed) has a header row naming the fields of
:class:`WorkerRow` (D02-TS) or :class:`TK1Row` (TK1-TS), in any order; missing optional
columns are empty. :func:`write_demo_csv` writes invented, plausible D02-TS rows.

Example:
    >>> rows = read_workers_csv("HoTen,ChucVu,TienLuong,PA\\nNguyễn Văn An,Kế toán,9000000,TM\\n")
    >>> build_d02ts(unit, "01/2026", rows)[:38]
    b'<?xml version="1.0" encoding="UTF-8"?>'
"""

from __future__ import annotations

import csv
import dataclasses
import io
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from lxml import etree

from bhxh.errors import DossierInvalid
from bhxh.models import UnitInfo
from bhxh.validation import validate_period

__all__ = [
    "D02_FIELDS",
    "TK1_FIELDS",
    "XML_DECLARATION",
    "TK1Row",
    "WorkerRow",
    "build_d01ts",
    "build_d02ts",
    "build_d05ts",
    "build_declaration",
    "build_tk1ts",
    "read_tk1_csv",
    "read_workers_csv",
    "write_demo_csv",
]

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'
_MAX_CSV_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class WorkerRow:
    """One D02-TS row (``NoiDung/LaoDong``): a worker joining, leaving or adjusting.

    Field names are the wire names. ``PA`` is the action (see ``catalogue.PA_CODES``);
    amounts are whole VND; ``TuThang`` / ``DenThang`` are MM/yyyy; ``NgaySinh`` dd/MM/yyyy.
    """

    HoTen: str
    ChucVu: str
    TienLuong: int
    PA: str
    STT: int = 0  # 0: numbered by position when built
    MasoBHXH: str = ""
    PhuCapCV: int = 0
    PhuCapTNVK: int = 0
    PhuCapTNNghe: int = 0
    PhuCapLuong: int = 0
    PhuCapBosung: int = 0
    TuThang: str = ""
    DenThang: str = ""
    Ghichu: str = ""
    TyleDong: str = ""
    NgaySinh: str = ""
    GioiTinh: str = ""  # "1" male, "0" female
    CMND: str = ""  # identity card number (CMND / CCCD)
    MavungLTT: str = ""  # minimum-wage region 1-4


#: D02-TS row fields in wire order.
D02_FIELDS: tuple[str, ...] = (
    "STT",
    "HoTen",
    "MasoBHXH",
    "ChucVu",
    "TienLuong",
    "PhuCapCV",
    "PhuCapTNVK",
    "PhuCapTNNghe",
    "PhuCapLuong",
    "PhuCapBosung",
    "TuThang",
    "DenThang",
    "Ghichu",
    "PA",
    "TyleDong",
    "NgaySinh",
    "GioiTinh",
    "CMND",
    "MavungLTT",
)


@dataclass(frozen=True)
class TK1Row:
    """One TK1-TS row: a person registering or changing personal data.

    ``MaTinh`` / ``MaHuyen`` / ``MaXa`` are the province / district / commune codes of the
    address; ``Noidung_Thaydoi`` says what changes.
    """

    HoTen: str
    NgaySinh: str
    GioiTinh: str
    QuocTich: str = "VN"
    DanToc: str = ""
    STT: int = 0
    MasoBHXH: str = ""
    CMND: str = ""
    Dienthoai_LH: str = ""
    Noidung_Thaydoi: str = ""
    MaTinh: str = ""
    MaHuyen: str = ""
    MaXa: str = ""


#: TK1-TS row fields in wire order.
TK1_FIELDS: tuple[str, ...] = (
    "STT",
    "HoTen",
    "NgaySinh",
    "GioiTinh",
    "QuocTich",
    "DanToc",
    "MasoBHXH",
    "CMND",
    "Dienthoai_LH",
    "Noidung_Thaydoi",
    "MaTinh",
    "MaHuyen",
    "MaXa",
)

_Row = TypeVar("_Row", WorkerRow, TK1Row)


# --- CSV -----------------------------------------------------------------------------------


def _csv_text(path_or_text: str | Path, what: str) -> tuple[str, str]:
    """(text, source name) from a path or from CSV text itself (text holds a newline)."""
    if isinstance(path_or_text, Path) or "\n" not in path_or_text:
        p = Path(path_or_text)
        try:
            if p.stat().st_size > _MAX_CSV_BYTES:
                raise DossierInvalid(f"{what} CSV {p.name}: larger than {_MAX_CSV_BYTES} bytes")
            raw = p.read_bytes()
        except OSError as exc:
            raise DossierInvalid(f"{what} CSV {p}: cannot read: {exc.strerror or exc}") from None
        source = p.name
    else:
        raw = path_or_text.encode("utf-8")
        source = "CSV text"
    try:
        # utf-8-sig: a BOM (as spreadsheet programs write) is removed.
        return raw.decode("utf-8-sig"), source
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DossierInvalid(
            f"{what} CSV {source}, line {line}: not UTF-8 (save the file as CSV UTF-8)"
        ) from None


def _read_rows(path_or_text: str | Path, row_type: type[_Row], what: str) -> list[_Row]:
    text, source = _csv_text(path_or_text, what)
    fields = {f.name: f for f in dataclasses.fields(row_type)}
    required = [
        name
        for name, f in fields.items()
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise DossierInvalid(f"{what} CSV {source}: empty, expected a header row") from None
    except csv.Error as exc:
        raise DossierInvalid(f"{what} CSV {source}, line 1: {exc}") from None
    unknown = [h for h in header if h not in fields]
    if unknown:
        raise DossierInvalid(
            f"{what} CSV {source}, line 1: unknown column(s) {', '.join(unknown)}; "
            f"known columns: {', '.join(fields)}"
        )
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise DossierInvalid(f"{what} CSV {source}, line 1: column(s) {', '.join(dupes)} twice")
    missing = [name for name in required if name not in header]
    if missing:
        raise DossierInvalid(
            f"{what} CSV {source}, line 1: missing required column(s) {', '.join(missing)}"
        )
    rows: list[_Row] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue  # blank lines are common at the end of exports
            if len(cells) != len(header):
                raise DossierInvalid(
                    f"{what} CSV {source}, line {line}: {len(cells)} cells, "
                    f"the header has {len(header)}"
                )
            values: dict[str, Any] = {}
            for name, cell in zip(header, cells, strict=True):
                value = cell.strip()
                if fields[name].type in ("int", int):
                    if value == "":
                        if name in required:
                            raise DossierInvalid(
                                f"{what} CSV {source}, line {line}, column {name}: required"
                            )
                        continue
                    try:
                        values[name] = int(value.replace(" ", ""))
                    except ValueError:
                        raise DossierInvalid(
                            f"{what} CSV {source}, line {line}, column {name}: "
                            f"{value!r} is not a whole number"
                        ) from None
                else:
                    values[name] = value
            rows.append(row_type(**values))
    except csv.Error as exc:
        raise DossierInvalid(f"{what} CSV {source}, line {reader.line_num}: {exc}") from None
    return rows


def read_workers_csv(path_or_text: str | Path) -> list[WorkerRow]:
    """Read D02-TS worker rows from a CSV file (a path) or CSV text (a string with a newline).

    Raises:
        DossierInvalid: not UTF-8, unknown or missing columns, a row of the wrong width, a
            number that is not whole; the message names the line and the column.
    """
    return _read_rows(path_or_text, WorkerRow, "D02-TS")


def read_tk1_csv(path_or_text: str | Path) -> list[TK1Row]:
    """Read TK1-TS rows from a CSV file or CSV text (see :func:`read_workers_csv`)."""
    return _read_rows(path_or_text, TK1Row, "TK1-TS")


# --- XML -----------------------------------------------------------------------------------


def _sub(parent: etree._Element, tag: str, value: object) -> None:
    child = etree.SubElement(parent, tag)
    text = "" if value is None else str(value)
    if text:
        child.text = text


def build_declaration(
    form: str,
    unit: UnitInfo,
    period: str,
    rows: Iterable[Mapping[str, object]],
    *,
    row_tag: str = "LaoDong",
) -> bytes:
    """Any declaration with the standard header and one ``<row_tag>`` per row mapping.

    Raises:
        DossierInvalid: the period is not MM/yyyy.
    """
    validate_period(period)
    root = etree.Element(form)
    for tag, value in (
        ("KyKeKhai", period),
        ("TenDonVi", unit.name),
        ("MaDonVi", unit.code),
        ("MaSoThue", unit.tax_code),
        ("CoQuanQuanLy", unit.agency_code),
    ):
        _sub(root, tag, value)
    content = etree.SubElement(root, "NoiDung")
    for row in rows:
        el = etree.SubElement(content, row_tag)
        for field, cell in row.items():
            _sub(el, field, cell)
    etree.SubElement(root, "Cky")
    return XML_DECLARATION + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


def _as_mappings(rows: Iterable[_Row], fields: Sequence[str]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for i, row in enumerate(rows, start=1):
        values: dict[str, object] = {name: getattr(row, name) for name in fields}
        values["STT"] = row.STT or i
        out.append(values)
    return out


def build_d02ts(unit: UnitInfo, period: str, rows: Iterable[WorkerRow]) -> bytes:
    """The D02-TS declaration (``D02-TS-595.xml``) for these worker rows."""
    return build_declaration("D02-TS", unit, period, _as_mappings(rows, D02_FIELDS))


def build_tk1ts(unit: UnitInfo, period: str, rows: Iterable[TK1Row]) -> bytes:
    """The TK1-TS declaration (``TK1-TS-595.xml``) for these people."""
    return build_declaration("TK1-TS", unit, period, _as_mappings(rows, TK1_FIELDS))


def build_d01ts(unit: UnitInfo, period: str, rows: Iterable[Mapping[str, object]]) -> bytes:
    """A minimal D01-TS (``D01-TS-595.xml``): the header and the given rows as is."""
    return build_declaration("D01-TS", unit, period, rows)


def build_d05ts(unit: UnitInfo, period: str, rows: Iterable[Mapping[str, object]]) -> bytes:
    """A minimal D05-TS (``D05-TS-595.xml``): the header and the given rows as is."""
    return build_declaration("D05-TS", unit, period, rows)


# --- demo data -----------------------------------------------------------------------------

_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi")
_MIDDLE_M = ("Văn", "Hữu", "Đức", "Minh", "Quang", "Công", "Thành")
_MIDDLE_F = ("Thị", "Ngọc", "Thu", "Thanh", "Bảo", "Khánh", "Mỹ")
_GIVEN_M = ("An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khoa", "Long", "Nam", "Phúc", "Tuấn")
_GIVEN_F = ("Anh", "Châu", "Dung", "Hà", "Hạnh", "Hoa", "Lan", "Linh", "Mai", "Trang", "Yến")
_JOBS = (
    "Nhân viên kế toán",
    "Nhân viên kinh doanh",
    "Kỹ sư phần mềm",
    "Công nhân sản xuất",
    "Trưởng phòng hành chính",
    "Nhân viên kho",
    "Lái xe",
)


def write_demo_csv(
    path: str | Path, n_workers: int, seed: int = 0, *, period: str = "01/2026"
) -> Path:
    """Write ``n_workers`` invented but plausible D02-TS rows (all ``PA=TM``) as a UTF-8 CSV.

    Names come from a small built-in list; MasoBHXH (10 digits) and CMND (12 digits) are
    random and unique within the file. The same seed gives the same file.

    Example:
        >>> rows = read_workers_csv(write_demo_csv(tmp / "workers.csv", 3, seed=1))
    """
    if n_workers < 0:
        raise ValueError("n_workers must be >= 0")
    month, year = validate_period(period)
    rng = random.Random(seed)
    used_bhxh: set[str] = set()
    used_cmnd: set[str] = set()

    def unique(digits: int, used: set[str]) -> str:
        while True:
            value = "".join(rng.choice("0123456789") for _ in range(digits))
            if value not in used:
                used.add(value)
                return value

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(D02_FIELDS)
        for i in range(1, n_workers + 1):
            male = rng.random() < 0.5
            name = " ".join(
                (
                    rng.choice(_FAMILY),
                    rng.choice(_MIDDLE_M if male else _MIDDLE_F),
                    rng.choice(_GIVEN_M if male else _GIVEN_F),
                )
            )
            born = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1970, 2004)}"
            row = WorkerRow(
                STT=i,
                HoTen=name,
                MasoBHXH=unique(10, used_bhxh),
                ChucVu=rng.choice(_JOBS),
                TienLuong=rng.randrange(5_000_000, 40_000_001, 100_000),
                PhuCapCV=rng.choice((0, 0, 0, 500_000, 1_000_000)),
                TuThang=f"{month:02d}/{year}",
                PA="TM",
                TyleDong="32",
                NgaySinh=born,
                GioiTinh="1" if male else "0",
                CMND=unique(12, used_cmnd),
                MavungLTT="1",
            )
            writer.writerow([getattr(row, f) for f in D02_FIELDS])
    return p
