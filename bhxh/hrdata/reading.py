"""Reading cell values into the table model: text normalised to NFC, legacy encodings
(TCVN3, VNI) refused or converted, numbers and dates as people type them, rows built and
checked (numbering rows, repeated headers, column widths, neighbours)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import bhxh.hrdata.table as limits  # read at call time: tests lower the limits
from bhxh.errors import InputLocation, InputRefused
from bhxh.hrdata.table import (
    _CONTROL,
    _NUMBERING,
    Cell,
    Column,
    Row,
    _display,
    _Header,
    _Problem,
)
from bhxh.vntext import (
    LEGACY_NAMES,
    LegacyConversion,
    LegacyEncoding,
    convert_legacy,
    could_be_legacy,
    fold_key,
    legacy_candidates,
    normalize_text,
)

__all__: list[str] = []


@dataclass(frozen=True)
class _Legacy:
    """A cell that reads as legacy text: its candidates, and the encoding settled on."""

    where: InputLocation
    text: str
    candidates: tuple[LegacyEncoding, ...]
    encoding: LegacyEncoding | None = None

    def converted(self) -> str:
        assert self.encoding is not None
        return normalize_text(convert_legacy(self.text, self.encoding))


@dataclass
class _Reading:
    """What is gathered while rows are read: legacy cells, notes."""

    convert: bool
    legacy: list[_Legacy] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def settle(self) -> None:
        """Cells both encodings explain take the file's encoding when the others agree."""
        sure = {c.candidates[0] for c in self.legacy if len(c.candidates) == 1}
        self.legacy = [
            dataclasses.replace(
                c,
                encoding=c.candidates[0]
                if len(c.candidates) == 1
                else (next(iter(sure)) if len(sure) == 1 and sure <= set(c.candidates) else None),
            )
            for c in self.legacy
        ]


def _check_text(raw: str, text: str, where: InputLocation, reading: _Reading) -> None:
    """Refuse control characters; note a cell that reads as legacy text (``text`` is
    ``raw`` normalised)."""
    bad = _CONTROL.search(raw)
    if bad:
        raise InputRefused(
            f"ô có ký tự điều khiển U+{ord(bad.group()):04X} (không in được, XML không chứa được)",
            f"the cell holds the control character U+{ord(bad.group()):04X} (not printable, "
            "XML cannot carry it)",
            where=where,
            read=raw,
            expected_vi="văn bản thường; gõ lại ô này",
            expected_en="plain text; type the cell again",
        )
    if not text.isascii():
        candidates = legacy_candidates(text)
        if candidates:
            reading.legacy.append(_Legacy(where, text, candidates))


def _legacy_refusal(reading: _Reading, where: InputLocation) -> InputRefused:
    def name(cell: _Legacy) -> str:
        if cell.encoding is not None:
            return LEGACY_NAMES[cell.encoding]
        return " hoặc / or ".join(LEGACY_NAMES[e] for e in cell.candidates)

    unsure = [c for c in reading.legacy if c.encoding is None]
    names = sorted(
        {
            LEGACY_NAMES[e]
            for c in reading.legacy
            for e in ([c.encoding] if c.encoding else c.candidates)
        }
    )
    shown = reading.legacy[:10]
    details = []
    for cell in shown:
        guesses = (
            [cell.converted()]
            if cell.encoding
            else [normalize_text(convert_legacy(cell.text, e)) for e in cell.candidates]
        )
        details.append(
            f"{cell.where.describe('vi')}: {cell.text!r} — có lẽ là / probably "
            + " / ".join(map(repr, guesses))
            + f" ({name(cell)})"
        )
    if len(reading.legacy) > len(shown):
        details.append(f"... và {len(reading.legacy) - len(shown)} ô nữa / and more cells")
    n = len(reading.legacy)
    if reading.convert:  # only the cells whose encoding is unknown stop the conversion
        return InputRefused(
            f"{len(unsure)} ô được gõ bằng bảng mã cũ nhưng không rõ là TCVN3 hay VNI",
            f"{len(unsure)} cell(s) typed in a legacy encoding, TCVN3 or VNI: cannot tell which",
            where=where,
            expected_vi="chuyển mã tệp sang Unicode bằng công cụ (ví dụ Unikey) rồi chạy lại",
            expected_en="convert the file to Unicode with a tool (e.g. Unikey), then run again",
            details=details,
        )
    return InputRefused(
        f"{n} ô được gõ bằng bảng mã cũ {', '.join(names)}, không phải Unicode",
        f"{n} cell(s) typed in the legacy encoding {', '.join(names)}, not Unicode",
        where=where,
        expected_vi="văn bản Unicode: chuyển mã tệp sang Unicode (ví dụ Unikey, Công cụ chuyển "
        "mã), hoặc chạy lại với convert_legacy=True (--convert-legacy) để chuyển tự động",
        expected_en="Unicode text: convert the file to Unicode (e.g. Unikey's converter), or "
        "run again with convert_legacy=True (--convert-legacy) to convert it automatically",
        details=details,
    )


def _convert_cells(rows: Sequence[Row], reading: _Reading) -> list[LegacyConversion]:
    """Replace each legacy cell's value by its conversion; the list of what changed."""
    found = {(c.where.row, c.where.column): c for c in reading.legacy}
    conversions: list[LegacyConversion] = []
    for row in rows:
        cells = row.cells
        assert isinstance(cells, dict)
        for name, cell in list(cells.items()):
            legacy = found.get((cell.row, cell.column))
            if legacy is None or legacy.encoding is None:
                continue
            new = legacy.converted()
            cells[name] = dataclasses.replace(cell, value=new)
            conversions.append(LegacyConversion(cell.where, legacy.encoding, legacy.text, new))
    return conversions


def _is_numbering_row(values: Sequence[str]) -> bool:
    filled = [v for v in values if v]
    return len(filled) >= 3 and all(_NUMBERING.fullmatch(v) for v in filled)


def _is_header_like(values: Sequence[str], index: Mapping[str, tuple[str, int]]) -> bool:
    filled = [v for v in values if v]
    hits = sum(1 for v in filled if fold_key(v) in index)
    return len(filled) >= 2 and hits * 2 >= len(filled)


def _build_rows(
    rows: Iterator[tuple[int, Sequence[tuple[object, _Problem]]]],
    header: _Header,
    index: Mapping[str, tuple[str, int]],
    base: InputLocation,
    reading: _Reading,
    *,
    date1904: bool = False,
) -> list[Row]:
    """Rows below the header. ``rows`` yields (row number, [(raw, problem)]), the problem
    (vi, en) of a cell that cannot be read (formula without value, error value) or None."""
    out: list[Row] = []
    leading = True  # still right under the header: numbering / repeated header rows
    for number, cells in rows:
        if number <= header.end:
            continue
        picked: list[tuple[Column, object, _Problem]] = []
        for column in header.columns.values():
            raw, problem = cells[column.index - 1] if column.index <= len(cells) else (None, None)
            picked.append((column, raw, problem))
        texts = [
            "" if raw is None else normalize_text(raw if isinstance(raw, str) else _display(raw))
            for _, raw, _ in picked
        ]
        if not any(texts) and all(p is None for _, _, p in picked):
            continue
        if leading:
            if _is_numbering_row(texts) or _is_header_like(texts, index):
                reading.notes.append(
                    f"dòng {number} bỏ qua (dòng số thứ tự cột hoặc tiêu đề lặp lại) — "
                    f"row {number} skipped (column numbers or a repeated header)"
                )
                continue
            leading = False
        if len(out) >= limits.MAX_ROWS:
            raise InputRefused(
                f"quá {limits.MAX_ROWS} dòng dữ liệu",
                f"more than {limits.MAX_ROWS} data rows",
                where=base,
                expected_vi="tách tệp thành nhiều tệp nhỏ hơn",
                expected_en="split the file into smaller ones",
            )
        values: dict[str, Cell] = {}
        for (column, raw, problem), text in zip(picked, texts, strict=True):
            where = InputLocation(
                file=base.file,
                sheet=base.sheet,
                row=number,
                column=column.letter,
                header=column.header,
                unit=base.unit,
            )
            if problem is not None:
                raise InputRefused(
                    problem[0],
                    problem[1],
                    where=where,
                    expected_vi="một giá trị: mở tệp trong Excel, kiểm tra công thức rồi lưu lại",
                    expected_en="a value: open the file in Excel, check the formula and save it",
                )
            if isinstance(raw, str):
                _check_text(raw, text, where, reading)
            values[column.field] = Cell(
                value=text,
                raw=raw,
                field=column.field,
                file=base.file or "",
                sheet=base.sheet,
                row=number,
                column=column.letter,
                header=column.header,
                unit=base.unit,
            )
        out.append(Row(number, values, base.file or "", base.sheet, base.unit, date1904))
    return out


def _neighbour_warnings(rows: Sequence[Row], reading: _Reading) -> list[str]:
    """Cells in a column with legacy cells that convert into Vietnamese too: a person checks."""
    found = {(c.where.row, c.where.column) for c in reading.legacy}
    columns = {c.where.column: c.encoding for c in reading.legacy if c.encoding is not None}
    out: list[str] = []
    for row in rows:
        for cell in row.cells.values():
            encoding = columns.get(cell.column)
            if encoding is None or (cell.row, cell.column) in found:
                continue
            if not isinstance(cell.raw, str):
                continue
            maybe = could_be_legacy(cell.value, encoding)
            if maybe is not None:
                out.append(
                    f"{cell.where.describe('vi')}: {cell.value!r} có thể cũng là "
                    f"{LEGACY_NAMES[encoding]} ({maybe!r}); kiểm tra lại — may also be "
                    f"{LEGACY_NAMES[encoding]} ({maybe!r}); check it"
                )
    return out
