"""Safe XML reading for files that come from outside (the inbox, the gateway, a provider).

Refused before anything uses them: any DOCTYPE (so no DTD, no entity declarations, no
billion laughs, no external entities), network access, text that is not UTF-8 (a UTF-8
BOM is allowed; an XML declaration naming another encoding is not), files above the size
limit, trees deeper than the depth limit, malformed XML and the wrong root element.
Every refusal is an :class:`~bhxh.errors.UnsafeXml` whose message starts with ``what``
(for example ``unit TZ1234A, dossier 01-bao-tang, file D02-TS-595.xml``).

A field of a parsed document is read "as signed" with :func:`field_text` /
:func:`find_text`, never with lxml's ``el.text`` (the text before the first comment or
processing instruction only): every reader of a signed document reads through them
(``tests/architecture/test_text_reads.py`` keeps it so).

Example:
    >>> parse_xml(b"<D02-TS><Cky/></D02-TS>", expected_root="D02-TS").tag
    'D02-TS'
    >>> find_text(parse_xml(b"<a><MaSoThue>03098<!---->76543</MaSoThue></a>"), "MaSoThue")
    '0309876543'
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

from lxml import etree

from bhxh.errors import UnsafeXml

__all__ = [
    "field_text",
    "find_text",
    "own_text",
    "parse_xml",
    "parse_xml_file",
    "remove_keeping_tail",
]

_UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_BOMS = (
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xfe\xff", "UTF-16"),
    (b"\xff\xfe", "UTF-16"),
)
_XML_DECL = re.compile(rb"\A<\?xml\s[^>]*?\?>")
_DECL_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']*)["']""")
_UTF8_NAMES = {b"utf-8", b"utf8"}
# Markup that declares a DTD or entities: refused anywhere in the raw bytes, even inside a
# comment, rather than trusting the parser alone.
_DTD_MARKUP = re.compile(rb"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)


def _fail(what: str, problem: str) -> UnsafeXml:
    return UnsafeXml(f"{what}: {problem}" if what else problem)


@functools.lru_cache(maxsize=8)
def _settings_limits(_key: tuple[object, ...]) -> tuple[int, int]:
    from bhxh.settings import get_settings

    settings = get_settings()
    return settings.max_xml_bytes, settings.max_xml_depth


def _limits(max_bytes: int | None, max_depth: int | None) -> tuple[int, int]:
    if max_bytes is None or max_depth is None:
        # Building Settings costs ~0.4 ms; reuse it while what it reads is unchanged
        # (BHXH_ variables, the working directory and its .env file).
        try:
            env_file: object = os.stat(".env").st_mtime_ns
        except OSError:
            env_file = None
        key = (
            tuple(sorted((k, v) for k, v in os.environ.items() if k[:5].upper() == "BHXH_")),
            os.getcwd(),
            env_file,
        )
        default_bytes, default_depth = _settings_limits(key)
        max_bytes = default_bytes if max_bytes is None else max_bytes
        max_depth = default_depth if max_depth is None else max_depth
    return max_bytes, max_depth


def _check_encoding(data: bytes, what: str) -> None:
    for bom, name in _OTHER_BOMS:
        if data.startswith(bom):
            raise _fail(what, f"XML must be UTF-8, found a {name} byte order mark")
    body = data[len(_UTF8_BOM) :] if data.startswith(_UTF8_BOM) else data
    if b"\x00" in body:
        raise _fail(what, "XML must be UTF-8, found NUL bytes (UTF-16 or binary data?)")
    decl = _XML_DECL.match(body)
    if decl:
        enc = _DECL_ENCODING.search(decl.group(0))
        if enc and enc.group(1).lower() not in _UTF8_NAMES:
            named = enc.group(1).decode("ascii", "replace")
            raise _fail(what, f"XML must be UTF-8, the XML declaration names encoding {named!r}")
    try:
        body.decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        raise _fail(
            what,
            f"XML must be UTF-8, byte 0x{body[exc.start]:02x} at offset {exc.start} "
            f"(line {line}) is not valid UTF-8",
        ) from None


def _make_parser() -> etree.XMLParser:
    # A fresh parser per call: lxml parsers are not thread-safe to share.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        remove_comments=False,
        remove_pis=False,
    )


def _check_depth(root: etree._Element, max_depth: int, what: str) -> None:
    stack: list[tuple[etree._Element, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise _fail(what, f"XML nesting deeper than the limit of {max_depth} levels")
        stack.extend((child, depth + 1) for child in node)


def parse_xml(
    data: bytes,
    *,
    expected_root: str | None = None,
    max_bytes: int | None = None,
    max_depth: int | None = None,
    what: str = "",
) -> etree._Element:
    """Parse untrusted XML bytes safely and return the root element.

    Args:
        data: the raw file content (never re-serialised here).
        expected_root: the root element's tag it must have, e.g. ``"D02-TS"``.
        max_bytes: size limit (default ``Settings.max_xml_bytes``).
        max_depth: nesting limit, the root being level 1 (default ``Settings.max_xml_depth``).
        what: names the file in error messages (unit, dossier, file name).

    Raises:
        UnsafeXml: the content is refused; the message says why and names ``what``.
    """
    if not isinstance(data, bytes | bytearray):
        raise _fail(what, f"XML must be given as bytes, got {type(data).__name__}")
    data = bytes(data)
    max_bytes, max_depth = _limits(max_bytes, max_depth)
    if len(data) > max_bytes:
        raise _fail(what, f"XML file too large: {len(data)} bytes, limit {max_bytes}")
    if not data.strip():
        raise _fail(what, "malformed XML: the file is empty")
    _check_encoding(data, what)
    dtd = _DTD_MARKUP.search(data)
    if dtd:
        kind = dtd.group(1).decode("ascii").upper()
        raise _fail(what, f"DOCTYPE / DTD markup (<!{kind}) is not allowed in XML")
    try:
        root = etree.fromstring(data, parser=_make_parser())
    except etree.XMLSyntaxError as exc:
        line, col = exc.position
        if "depth" in (exc.msg or "").lower():
            # libxml2's own nesting guard fired before ours could.
            raise _fail(what, f"XML nesting deeper than the limit of {max_depth} levels") from None
        raise _fail(what, f"malformed XML at line {line}, column {col}: {exc.msg}") from None
    except ValueError as exc:  # e.g. lxml refusing an input it cannot take
        raise _fail(what, f"malformed XML: {exc}") from None
    if root is None:
        raise _fail(what, "malformed XML: no root element")
    docinfo = root.getroottree().docinfo
    # ``doctype`` is missing from the lxml stubs; it is "" when there is no DOCTYPE.
    doctype = str(getattr(docinfo, "doctype", "") or "")
    if doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _fail(what, "DOCTYPE / DTD is not allowed in XML")
    _check_depth(root, max_depth, what)
    if expected_root is not None and root.tag != expected_root:
        raise _fail(what, f"wrong root element: expected <{expected_root}>, found <{root.tag}>")
    return root


def parse_xml_file(
    path: str | Path,
    *,
    expected_root: str | None = None,
    max_bytes: int | None = None,
    max_depth: int | None = None,
    what: str = "",
) -> etree._Element:
    """Like :func:`parse_xml` for a file; the size is checked before the file is read."""
    p = Path(path)
    what = what or f"file {p.name}"
    max_bytes, max_depth = _limits(max_bytes, max_depth)
    try:
        with p.open("rb") as fh:
            # Read one byte past the limit: enough to know it is too large, never more.
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise _fail(what, f"cannot read XML file: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        size = p.stat().st_size
        raise _fail(what, f"XML file too large: {size} bytes, limit {max_bytes}")
    return parse_xml(
        data, expected_root=expected_root, max_bytes=max_bytes, max_depth=max_depth, what=what
    )


# --- reading a field as it was signed ----------------------------------------------------

_NOT_TEXT = (etree._Comment, etree._ProcessingInstruction)


def own_text(el: etree._Element) -> str:
    """Every piece of character data directly inside ``el``, joined: its text and the text
    after each child (comment, processing instruction or element), which lxml keeps apart
    (``el.text`` and each child's ``tail``). For "this element holds no text" checks."""
    if not len(el):
        return el.text or ""
    return "".join([el.text or "", *[child.tail or "" for child in el]])


def field_text(el: etree._Element, *, what: str = "") -> str:
    """The text of a plain-text field as it was signed: every text piece joined.

    The signature profile canonicalises with C14N 1.0 without comments, which signs a
    field's characters whatever splits them: a comment is dropped, a CDATA section is
    written as text (lxml's parser has already merged it into the text), a processing
    instruction is kept but is no text of the field. lxml's ``el.text`` is only the piece
    before the first comment or processing instruction: ``<MaSoThue>03098<!---->76543
    </MaSoThue>`` reads ``'03098'`` there while ``'0309876543'`` was signed (the class of
    CVE-2017-11427). This reads ``'0309876543'``: comments and processing instructions are
    skipped, the text after each kept, as C14N without comments (and any DOM's text
    content) sees it.

    The choice for mixed content: a field holds plain text, so an element inside it
    (``<TenDoiTuong>Công ty <b>X</b></TenDoiTuong>``) is refused, never read around.
    Whitespace is returned as written; the caller strips it when the field allows.

    Raises:
        UnsafeXml: ``el`` holds an element; the message starts with ``what``.
    """
    if not len(el):
        return el.text or ""
    pieces = [el.text or ""]
    for child in el:
        if not isinstance(child, _NOT_TEXT):
            inside = f"an element <{child.tag}>" if isinstance(child.tag, str) else "an entity"
            field = etree.QName(el).localname
            raise _fail(what, f"<{field}> holds {inside}; a field must be plain text")
        pieces.append(child.tail or "")
    return "".join(pieces)


def find_text(parent: etree._Element, path: str, *, what: str = "") -> str | None:
    """:func:`field_text` of the first element at ``path`` under ``parent``, or None when
    there is none (unlike ``findtext``, never a first text piece)."""
    el = parent.find(path)
    return None if el is None else field_text(el, what=what)


def remove_keeping_tail(el: etree._Element) -> None:
    """Remove ``el`` from its parent; the text after it (lxml's ``tail``, which would go
    with it) stays in the document, as the enveloped-signature transform requires."""
    parent = el.getparent()
    assert parent is not None, "the root cannot be removed"
    tail = el.tail
    previous = el.getprevious()
    parent.remove(el)
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
