"""The visible signature stamp on page 1 of a signed PDF attachment: its text (time in
Vietnam, signer, place), the Vietnamese font it needs, its box and style.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bhxh.errors import StampFontMissing
from bhxh.periods import VN_TZ
from bhxh.settings import get_settings
from bhxh.signing._asn1 import pyhanko_ready

__all__ = [
    "DEFAULT_STAMP_TEMPLATE",
    "StampSpec",
    "stamp_font",
    "vietnamese_font",
]

#: Fields: ``{time}`` (dd/mm/yyyy HH:MM:SS, Asia/Ho_Chi_Minh), ``{signer}``, ``{place}``.
DEFAULT_STAMP_TEMPLATE = "Ngày ký: {time}\nNgười ký: {signer}\nNơi ký: {place}"

_STAMP_FIELDS = frozenset({"time", "signer", "place"})
_STAMP_MAX_LINES = 6
_STAMP_MAX_CHARS = 400
# How far from the bottom-left corner of page 1 the stamp sits, and its size (points).
_STAMP_MARGIN = 24
_STAMP_WIDTH = 220
_STAMP_FONT_SIZE = 8
_STAMP_LEADING = 10
_STAMP_PADDING = 4


# ========================================================================= the stamp
@dataclass(frozen=True)
class StampSpec:
    """The visible stamp on page 1, bottom left (None in the API means no stamp).

    ``template`` is the unit's wording, with the fields ``{time}`` (the signing time as
    dd/mm/yyyy HH:MM:SS in Asia/Ho_Chi_Minh), ``{signer}`` and ``{place}``; one line per
    ``\\n``, at most six lines.

    Example:
        >>> StampSpec(signer="Công ty TNHH An Phát", place="Hà Nội").text(
        ...     dt.datetime(2026, 2, 10, 1, 2, 3, tzinfo=dt.UTC))
        'Ngày ký: 10/02/2026 08:02:03\\nNgười ký: Công ty TNHH An Phát\\nNơi ký: Hà Nội'
    """

    signer: str
    place: str
    template: str = DEFAULT_STAMP_TEMPLATE

    def __post_init__(self) -> None:
        fields = {name for _, name, _, _ in string.Formatter().parse(self.template) if name}
        unknown = fields - _STAMP_FIELDS
        if unknown:
            raise ValueError(
                f"stamp template: unknown field(s) {sorted(unknown)}; "
                f"known: {sorted(_STAMP_FIELDS)}"
            )
        if self.template.count("\n") >= _STAMP_MAX_LINES:
            raise ValueError(f"stamp template: at most {_STAMP_MAX_LINES} lines")
        for name, value in (("signer", self.signer), ("place", self.place)):
            if "\n" in value or "\r" in value:
                raise ValueError(f"stamp {name}: one line only")

    def text(self, signing_time: dt.datetime) -> str:
        """The stamp's lines for ``signing_time`` (shown in Vietnam's time)."""
        local = signing_time.astimezone(VN_TZ)
        text = self.template.format(
            time=local.strftime("%d/%m/%Y %H:%M:%S"), signer=self.signer, place=self.place
        )
        if len(text) > _STAMP_MAX_CHARS:
            raise ValueError(f"stamp text: at most {_STAMP_MAX_CHARS} characters")
        return text


def stamp_font(path: Path | None = None) -> Path:
    """The stamp font's path (``BHXH_STAMP_FONT`` by default), checked to exist.

    Raises:
        StampFontMissing: with the Debian package to install.
    """
    font = path or get_settings().stamp_font
    if not font.is_file():
        raise StampFontMissing(
            f"Không tìm thấy phông chữ cho con dấu chữ ký {font} "
            f"(font for the signature stamp not found): install the Debian package "
            f"fonts-dejavu-core (scripts/ensure-debian-packages fonts-dejavu-core) "
            f"or set BHXH_STAMP_FONT to a TrueType font with Vietnamese diacritics"
        )
    return font


@functools.lru_cache(maxsize=4)
def _font_program(path: str) -> bytes:
    """The font, cut to Latin + Vietnamese and rescaled to 1000 units per em.

    pyHanko 0.38 writes the CID widths (``/W``) and the kerning adjustments in the font's
    own units, while PDF reads them in thousandths of an em: with DejaVu Sans (2048 units
    per em) every glyph would advance twice too far. A font at 1000 units per em makes
    the two agree. Cutting it first to the scripts a stamp uses keeps this under a second,
    once per process.
    """
    from fontTools import subset, ttLib  # type: ignore[import-untyped]
    from fontTools.ttLib.scaleUpem import scale_upem  # type: ignore[import-untyped]

    font = ttLib.TTFont(path)
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.drop_tables = [*options.drop_tables, "FFTM"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(
        unicodes=[
            *range(0x20, 0x7F),  # ASCII
            *range(0xA0, 0x250),  # Latin-1, Latin Extended-A/B (Đ đ Ơ ơ Ư ư)
            *range(0x300, 0x370),  # combining diacritics
            *range(0x1E00, 0x1F00),  # Latin Extended Additional (ạ ả ấ ầ ... ỹ)
            *range(0x2000, 0x2070),  # punctuation
            0x20AB,  # ₫
        ]
    )
    subsetter.subset(font)
    if font["head"].unitsPerEm != 1000:
        scale_upem(font, 1000)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def vietnamese_font(size: int, path: Path | None = None) -> Any:
    """A pyHanko font engine factory drawing Vietnamese text correctly at ``size`` points
    (the stamp font, see :func:`stamp_font`); for ``pyhanko.pdf_utils.text.TextBoxStyle``.

    Raises:
        StampFontMissing: the font is not installed.
    """
    return _font_factory(stamp_font(path), size)


def _font_factory(path: Path, size: int) -> Any:
    pyhanko_ready()
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory

    program = _font_program(str(path))

    @dataclass(frozen=True)
    class _Factory(GlyphAccumulatorFactory):
        def create_font_engine(self, writer: Any, obj_stream: Any = None) -> Any:
            if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
                obj_stream = writer.prepare_object_stream()
            return GlyphAccumulator(
                writer=writer,
                font_handle=io.BytesIO(program),
                font_size=self.font_size,
                obj_stream=obj_stream,
            )

    return _Factory(font_file=str(path), font_size=size)


def _stamp_style(lines: str, font: Path) -> Any:
    from pyhanko.pdf_utils import layout
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    return TextStampStyle(
        # pyHanko interpolates %(name)s in the stamp text: the text is ours, escape it.
        stamp_text=lines.replace("%", "%%"),
        text_box_style=TextBoxStyle(
            font=_font_factory(font, _STAMP_FONT_SIZE),
            font_size=_STAMP_FONT_SIZE,
            leading=_STAMP_LEADING,
            # pyHanko's default 10-point margin around the text would make it shrink
            box_layout_rule=layout.SimpleBoxLayoutRule(
                x_align=layout.AxisAlignment.ALIGN_MIN,
                y_align=layout.AxisAlignment.ALIGN_MID,
                margins=layout.Margins(1, 1, 1, 1),
            ),
        ),
        inner_content_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins(*(_STAMP_PADDING,) * 4),
            inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT,
        ),
        border_width=1,
        background=None,
    )


def _stamp_box(reader: Any, lines: str) -> tuple[int, int, int, int]:
    """Bottom left of page 1, inside its crop box (the visible area)."""
    page_ref, _ = reader.find_page_for_modification(0)
    page = page_ref.get_object()
    # A4 when a careless page tree names no box at all (viewers assume it too).
    box = _inherited(page, "/CropBox") or _inherited(page, "/MediaBox") or [0, 0, 595, 842]
    x0, y0 = round(min(box[0], box[2])), round(min(box[1], box[3]))
    height = _STAMP_LEADING * (lines.count("\n") + 1) + 2 * (_STAMP_PADDING + 1) + 2
    # the document is silent on the page's /Rotate; our choice: the stamp sits in the
    # page's own (unrotated) space, where a scanner's upright page puts it bottom left.
    return (
        x0 + _STAMP_MARGIN,
        y0 + _STAMP_MARGIN,
        x0 + _STAMP_MARGIN + _STAMP_WIDTH,
        y0 + _STAMP_MARGIN + height,
    )


def _inherited(node: Any, key: str) -> Any:
    while node is not None:
        if key in node:
            return node[key]
        node = node.get("/Parent")
        node = node.get_object() if node is not None else None
    return None
