"""Excel workbooks (``.xlsx``, ``.xlsm``) read into the HR table model: the package checked
(sizes, DTD markup) before openpyxl opens it, cached formula values, merged headers."""

from __future__ import annotations

import io
import itertools
import posixpath
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

import bhxh.hrdata.table as limits  # read at call time: tests lower the limits
from bhxh.errors import InputLocation, InputRefused
from bhxh.hrdata.reading import (
    _build_rows,
    _convert_cells,
    _legacy_refusal,
    _neighbour_warnings,
    _Reading,
)
from bhxh.hrdata.table import (
    HEADER_SCAN_ROWS,
    HeaderNotFound,
    Row,
    SheetNotFound,
    Table,
    _find_header,
    _Header,
    _letter,
    _Merge,
    _Problem,
    _qualifies,
)
from bhxh.vntext import (
    fold_key,
)

__all__: list[str] = []

_DTD_MARKUP = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


@dataclass
class _SheetInfo:
    name: str
    part: str
    hidden: bool
    merges: list[_Merge] = field(default_factory=list)
    uncached: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) -> formula
    scanned: bool = False


def _xml_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _check_package(archive: zipfile.ZipFile, where: InputLocation) -> None:
    refuse_package = (
        "tệp Excel hỏng hoặc không an toàn",
        "the Excel file is damaged or unsafe",
    )
    total = sum(info.file_size for info in archive.infolist())
    if total > limits.MAX_UNPACKED_BYTES:
        raise InputRefused(
            f"{refuse_package[0]}: giải nén ra {total} byte, quá {limits.MAX_UNPACKED_BYTES}",
            f"{refuse_package[1]}: it unpacks to {total} bytes, above {limits.MAX_UNPACKED_BYTES}",
            where=where,
        )
    for info in archive.infolist():
        if not info.filename.endswith((".xml", ".rels")):
            continue
        tail = b""
        with archive.open(info) as part:
            while chunk := part.read(1 << 20):
                if _DTD_MARKUP.search(tail + chunk):
                    raise InputRefused(
                        f"{refuse_package[0]}: phần {info.filename} có khai báo DOCTYPE/ENTITY",
                        f"{refuse_package[1]}: part {info.filename} holds DOCTYPE/ENTITY markup",
                        where=where,
                    )
                tail = chunk[-16:]


def _part_path(source: str, target: str) -> str:
    """A relationship target as a zip member name (targets are relative to the source)."""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def _relationships(archive: zipfile.ZipFile, source: str) -> dict[str, tuple[str, str]]:
    """Id -> (type, zip member) of a part's relationships."""
    rels = posixpath.join(posixpath.dirname(source), "_rels", posixpath.basename(source) + ".rels")
    root = etree.fromstring(archive.read(rels), parser=_xml_parser())
    return {
        rel.get("Id", ""): (rel.get("Type", ""), _part_path(source, rel.get("Target", "")))
        for rel in root.iter(f"{{{_PKG_REL_NS}}}Relationship")
    }


def _sheets(archive: zipfile.ZipFile) -> tuple[list[_SheetInfo], bool]:
    """The worksheets in workbook order, and whether the workbook uses the 1904 system."""
    book_part = next(
        (
            part
            for kind, part in _relationships(archive, "").values()
            if kind.endswith("/officeDocument")
        ),
        "xl/workbook.xml",
    )
    book = etree.fromstring(archive.read(book_part), parser=_xml_parser())
    targets = _relationships(archive, book_part)
    pr = book.find(f"{{{_MAIN_NS}}}workbookPr")
    date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
    names = set(archive.namelist())
    out: list[_SheetInfo] = []
    for sheet in book.iter(f"{{{_MAIN_NS}}}sheet"):
        kind, part = targets.get(sheet.get(f"{{{_REL_NS}}}id", ""), ("", ""))
        if not kind.endswith("/worksheet") or part not in names:
            continue  # a chartsheet or a missing part: nothing to read
        state = sheet.get("state", "visible")
        out.append(_SheetInfo(sheet.get("name", ""), part, state != "visible"))
    return out, date1904


def _scan_sheet(archive: zipfile.ZipFile, info: _SheetInfo) -> None:
    """Merged ranges and formula cells without a cached value, in one pass over the XML."""
    if info.scanned:
        return
    row_tag, c_tag, f_tag, v_tag = (f"{{{_MAIN_NS}}}{t}" for t in ("row", "c", "f", "v"))
    merge_tag = f"{{{_MAIN_NS}}}mergeCell"
    row_number = 0
    with archive.open(info.part) as source:
        for _, el in etree.iterparse(
            source,
            events=("end",),
            tag=(row_tag, merge_tag),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=True,
        ):
            if el.tag == merge_tag:
                a, _, b = el.get("ref", "").partition(":")
                ma, mb = _CELL_REF.fullmatch(a), _CELL_REF.fullmatch(b or a)
                if ma and mb:
                    info.merges.append(
                        _Merge(
                            int(ma.group(2)),
                            _col_index(ma.group(1)),
                            int(mb.group(2)),
                            _col_index(mb.group(1)),
                        )
                    )
                continue
            # ``r`` is optional on rows and cells: count as spreadsheet programs do.
            r = el.get("r")
            row_number = int(r) if r and r.isdigit() else row_number + 1
            if el.find(f"{c_tag}/{f_tag}") is not None:
                col = 0
                for cell in el.iterchildren(c_tag):
                    m = _CELL_REF.fullmatch(cell.get("r", ""))
                    col = _col_index(m.group(1)) if m else col + 1
                    formula = cell.find(f_tag)
                    if formula is None:
                        continue
                    value = cell.find(v_tag)
                    cached = value is not None and (value.text or cell.get("t") == "str")
                    if not cached:
                        info.uncached[(row_number, col)] = "=" + (formula.text or "")
            el.clear()
    info.scanned = True


def _opened(source: Path | bytes) -> Path | io.BytesIO:
    """A file to read: the path, or a fresh stream over bytes (one per reader)."""
    return io.BytesIO(source) if isinstance(source, bytes) else source


def _open_workbook(source: Path | bytes, where: InputLocation) -> Any:
    import openpyxl  # imported here: reading CSV does not need it

    try:
        return openpyxl.load_workbook(
            _opened(source), read_only=True, data_only=True, keep_links=False
        )
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InputRefused(
            f"không mở được tệp Excel ({type(exc).__name__}: {exc})",
            f"cannot open the Excel file ({type(exc).__name__}: {exc})",
            where=where,
            expected_vi="tệp .xlsx lưu từ Excel hoặc LibreOffice",
            expected_en="an .xlsx file saved by Excel or LibreOffice",
        ) from None


def _sheet_rows(ws: Any, info: _SheetInfo) -> Iterator[tuple[int, list[tuple[object, _Problem]]]]:
    """(row number, [(raw value, problem)]) for every row of a read-only worksheet."""
    ws.reset_dimensions()  # a wrong <dimension> must not cut the sheet short
    for number, cells in enumerate(ws.iter_rows(), start=1):
        values: list[tuple[object, _Problem]] = []
        for col, cell in enumerate(cells, start=1):
            value = getattr(cell, "value", None)
            problem: _Problem = None
            formula = info.uncached.get((number, col))
            ref = f"{_letter(col)}{number}"
            if formula is not None:
                problem = (
                    f"ô {ref} có công thức {formula} nhưng không có giá trị đã tính (tệp chưa "
                    "được Excel tính và lưu)",
                    f"cell {ref} holds the formula {formula} but no calculated value (the file "
                    "was never calculated and saved by Excel)",
                )
            elif getattr(cell, "data_type", "") == "e":
                problem = (f"ô {ref} có lỗi {value}", f"cell {ref} holds the error {value}")
            values.append((value, problem))
        yield number, values


def _read_xlsx(
    source: Path | bytes,
    expected: Sequence[str],
    index: Mapping[str, tuple[str, int]],
    required: Sequence[str],
    sheet: str | None,
    header_row: int | None,
    reading: _Reading,
    base: InputLocation,
) -> Table:
    try:
        archive = zipfile.ZipFile(_opened(source))
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputRefused(
            f"không phải tệp Excel .xlsx ({exc})",
            f"not an Excel .xlsx file ({exc})",
            where=base,
            expected_vi="tệp .xlsx (Excel Workbook)",
            expected_en="an .xlsx file (Excel Workbook)",
        ) from None
    with archive:
        _check_package(archive, base)
        try:
            infos, date1904 = _sheets(archive)
        except (KeyError, etree.XMLSyntaxError) as exc:
            raise InputRefused(
                f"tệp Excel hỏng: {exc}", f"damaged Excel file: {exc}", where=base
            ) from None
        wb = _open_workbook(source, base)
        try:
            if sheet is not None:
                chosen = [i for i in infos if i.name == sheet] or [
                    i for i in infos if fold_key(i.name) == fold_key(sheet)
                ]
                if not chosen:
                    raise SheetNotFound(
                        f"không có trang tính {sheet!r}",
                        f"there is no sheet {sheet!r}",
                        where=base,
                        expected_vi="một trong: " + ", ".join(repr(i.name) for i in infos),
                        expected_en="one of: " + ", ".join(repr(i.name) for i in infos),
                    )
                candidates = chosen[:1]
            else:
                candidates = [i for i in infos if not i.hidden]
            closest: tuple[str | None, _Header] | None = None
            for info in candidates:
                if info.name not in wb.sheetnames:
                    continue
                where = InputLocation(file=base.file, unit=base.unit, sheet=info.name)
                _scan_sheet(archive, info)
                rows = _sheet_rows(wb[info.name], info)
                head = list(itertools.islice(rows, HEADER_SCAN_ROWS))
                grid = [[v for v, _ in cells] for _, cells in head]
                header = _find_header(grid, info.merges, index, where, header_row)
                if not _qualifies(header, expected, required):
                    if header is not None and (
                        closest is None or len(header.columns) > len(closest[1].columns)
                    ):
                        closest = (info.name, header)
                    continue
                assert header is not None
                table_rows = _build_rows(
                    itertools.chain(head, rows), header, index, where, reading, date1904=date1904
                )
                return _finish(where, header, table_rows, reading, date1904=date1904)
        finally:
            wb.close()
    raise _no_header(base, expected, required, closest, sheets=[i.name for i in candidates])


def _no_header(
    where: InputLocation,
    expected: Sequence[str],
    required: Sequence[str],
    best: tuple[str | None, _Header] | None = None,
    sheets: Sequence[str] = (),
) -> HeaderNotFound:
    wanted = ", ".join(required or expected)
    vi = f"không tìm thấy dòng tiêu đề có các cột cần thiết trong {HEADER_SCAN_ROWS} dòng đầu"
    en = f"no header row with the needed columns in the first {HEADER_SCAN_ROWS} rows"
    if sheets:
        vi += f" (đã tìm trong các trang: {', '.join(map(repr, sheets))})"
        en += f" (sheets searched: {', '.join(map(repr, sheets))})"
    if best is not None and best[1].columns:
        sheet, header = best
        found = ", ".join(f"{c.field} ({c.letter})" for c in header.columns.values())
        missing = ", ".join(r for r in (required or expected) if r not in header.columns)
        place_vi = f"dòng {header.end}" + (f" trang {sheet!r}" if sheet else "")
        place_en = f"row {header.end}" + (f" of sheet {sheet!r}" if sheet else "")
        vi += f"; gần nhất là {place_vi}: có {found}, thiếu {missing}"
        en += f"; the closest is {place_en}: it has {found}, it lacks {missing}"
    return HeaderNotFound(
        vi,
        en,
        where=where,
        expected_vi=f"một dòng tiêu đề có các cột {wanted}",
        expected_en=f"a header row with the columns {wanted}",
    )


def _finish(
    where: InputLocation,
    header: _Header,
    rows: list[Row],
    reading: _Reading,
    *,
    date1904: bool = False,
    delimiter: str | None = None,
) -> Table:
    reading.settle()
    if reading.legacy and (not reading.convert or any(c.encoding is None for c in reading.legacy)):
        raise _legacy_refusal(reading, where)
    conversions = _convert_cells(rows, reading) if reading.convert else []
    warnings = list(header.notes) + reading.notes + _neighbour_warnings(rows, reading)
    warnings += [
        f"cột {letter} ({label!r}) không được dùng — column {letter} ({label!r}) not used"
        for letter, label in header.ignored
    ]
    return Table(
        file=where.file or "",
        sheet=where.sheet,
        header_row=header.end,
        columns=tuple(sorted(header.columns.values(), key=lambda c: c.index)),
        rows=tuple(rows),
        ignored_columns=tuple(header.ignored),
        conversions=tuple(conversions),
        warnings=tuple(warnings),
        date1904=date1904,
        delimiter=delimiter,
    )
