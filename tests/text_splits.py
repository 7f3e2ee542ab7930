"""Split a text field of an XML document the three ways that leave its signed value alone.

Canonical XML without comments drops a comment and writes a CDATA section as text, so a
value split by either still signs (and verifies) as the whole value; a processing
instruction stays in the canonical form but is no text either. A reader that takes only
the first text piece (lxml's ``el.text``) reads less than what was signed (the class of
CVE-2017-11427). The readers' tests split every field they read with :func:`split_text`.

Example:
    >>> split_text(b"<a><MaSoThue>0309876543</MaSoThue></a>", "MaSoThue", "comment")
    b'<a><MaSoThue>03098<!---->76543</MaSoThue></a>'
"""

from __future__ import annotations

import re
from typing import Literal
from xml.sax.saxutils import unescape

__all__ = ["SPLITS", "Split", "pieces", "split_text"]

Split = Literal["comment", "pi", "cdata"]
#: The three splits, for ``pytest.mark.parametrize``.
SPLITS: tuple[Split, ...] = ("comment", "pi", "cdata")


def pieces(head: str, tail: str, how: Split) -> str:
    """Markup whose text is ``head + tail`` (both already escaped), split by ``how``."""
    return {
        "comment": f"{head}<!---->{tail}",
        "pi": f"{head}<?bhxh split?>{tail}",
        "cdata": f"{head}<![CDATA[{unescape(tail)}]]>",
    }[how]


def split_text(xml: bytes, tag: str, how: Split, *, occurrence: int = 1) -> bytes:
    """``xml`` with the text of its ``occurrence``-th ``<tag>`` (no attributes, plain text)
    split in the middle by a comment, a processing instruction or a CDATA section."""
    text = xml.decode("utf-8")
    found = list(re.finditer(rf"<{re.escape(tag)}>([^<]+)</{re.escape(tag)}>", text))
    assert len(found) >= occurrence, f"no <{tag}> number {occurrence} with plain text"
    match = found[occurrence - 1]
    value = match.group(1)
    cut = len(value) // 2
    amp = value.rfind("&", 0, cut)
    if amp != -1 and value.find(";", amp) >= cut:
        cut = amp  # never inside a character reference
    middle = pieces(value[:cut], value[cut:], how)
    return (text[: match.start(1)] + middle + text[match.end(1) :]).encode("utf-8")
