"""The inbox: where a unit's dossiers for a period wait to be signed and submitted.

Layout (one folder per dossier; folders are taken in name order)::

    <inbox>/                          Settings.inbox_dir (default <data_dir>/inbox)
      <unit code>/                    e.g. TZ1234A
        <MM-YYYY>/                    the period, e.g. 01-2026 for KyKeKhai 01/2026
          <dossier folder>/           any name, e.g. 01-bao-tang
            manifest.json             {"procedure": "600", "name": "optional title",
                                       "attachments": ["hop-dong.pdf"],
                                       "unit": "TZ1234A", "tax_code": "0101234567",
                                       "period": "01/2026"}
            D02-TS-595.xml            declarations: <FORM>-595.xml (M01B-HSB.xml for 630*),
            TK1-TS-595.xml            the root element is the form code
            hop-dong.pdf              attachments (CT-DK), listed in the manifest

Rules: ``manifest.json`` is required (``procedure`` a catalogue code; ``name`` a free
title for people; ``attachments`` plain file names in the folder; optionally ``unit``,
``tax_code`` and ``period``, which must then be the unit's code, its tax code and the
period of the folder the dossier sits in). Declarations carry no unit or period of their
own (the real files have no header), so the folder and the manifest are where a dossier
says whose and which month it is; the envelope then carries both. Every other file is
either a declaration (named after its form) or a listed attachment; anything else, a
sub-folder, a name with a path in it, or a symlink leading out of the inbox is refused
with a :class:`~bhxh.errors.DossierInvalid` naming the unit, the folder and the file.
Loading reads bytes and normalises a person's text only
(:func:`normalize_declaration`: Unicode dựng sẵn, legacy encodings refused or converted);
:func:`bhxh.intake.validate_dossier` checks the content.

Example:
    >>> write_dossier(inbox, "TZ1234A", "01/2026", "01-bao-tang", "600",
    ...               {"D02-TS-595.xml": build_d02ts(unit, "01/2026", rows)})
    >>> [d.name for d in load_dossiers(inbox, unit, "01/2026")]
    ['01-bao-tang']
"""

from __future__ import annotations

import json
import logging
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from bhxh._files import write_atomic
from bhxh.catalogue import FORM_LAYOUTS, form_of_filename, get_procedure
from bhxh.errors import DossierInvalid, InputLocation, InputRefused, UnsafeXml
from bhxh.intake.validation import validate_period
from bhxh.models import Attachment, Declaration, Dossier, UnitInfo
from bhxh.periods import folder_name
from bhxh.vntext import (
    LEGACY_NAMES,
    LegacyConversion,
    LegacyEncoding,
    legacy_candidates,
    normalize_text,
)
from bhxh.vntext import convert_legacy as legacy_to_unicode
from bhxh.xmlsafe import find_text, own_text, parse_xml

__all__ = [
    "MANIFEST",
    "MAX_ATTACHMENT_BYTES",
    "MAX_MANIFEST_BYTES",
    "load_dossiers",
    "normalize_declaration",
    "period_folder",
    "write_dossier",
]

log = logging.getLogger("bhxh.inbox")

MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 64 * 1024
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
_MANIFEST_KEYS = frozenset(
    {"procedure", "name", "attachments", "unit", "tax_code", "period", "convert_legacy"}
)


def period_folder(period: str) -> str:
    """The folder name of a period: ``"01/2026"`` -> ``"01-2026"``."""
    return folder_name(*validate_period(period))


def _plain_name(name: object, where: str, what: str) -> str:
    """A single file or folder name: no separators, not '.', '..', hidden or absolute."""
    if (
        not isinstance(name, str)
        or not name
        or name in (".", "..")
        or name.startswith(".")
        or "/" in name
        or "\\" in name
        or "\x00" in name
        or os.path.isabs(name)
        or (len(name) > 1 and name[1] == ":")  # C:foo
    ):
        raise DossierInvalid(f"{where}: {what} {name!r} must be a plain name inside the folder")
    return name


def _inside(path: Path, root: Path, where: str, name: str) -> Path:
    """The real path of ``path``; refuse it when it leads outside ``root`` (a resolved path)."""
    real = path.resolve()
    if not real.is_relative_to(root):
        raise DossierInvalid(f"{where}, file {name}: leads outside the inbox (symlink to {real})")
    return real


def _read_limited(path: Path, limit: int, where: str, name: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > limit:
            raise DossierInvalid(f"{where}, file {name}: {size} bytes, limit {limit}")
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise DossierInvalid(f"{where}, file {name}: cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:  # grew between stat and read
        raise DossierInvalid(f"{where}, file {name}: larger than the limit of {limit} bytes")
    return data


def _check_identity(data: dict[str, Any], unit: UnitInfo, period: str, where: str) -> None:
    """The manifest's optional unit, tax code and period must be the folder's."""
    for key, expected, what in (
        ("unit", unit.code, f"the unit's code (folder {unit.code}/)"),
        ("tax_code", unit.tax_code, "the unit's tax code"),
        ("period", period, f"the period of the folder {period_folder(period)}/"),
    ):
        if key not in data:
            continue
        value = data[key]
        if not isinstance(value, str) or not value.strip():
            raise DossierInvalid(f"{where}, file {MANIFEST}, field {key}: must be text")
        if value.strip() != expected:
            raise DossierInvalid(
                f"{where}, file {MANIFEST}, field {key}: {value.strip()!r} does not match "
                f"{what} {expected!r}"
            )


def _read_manifest(
    folder: Path, root: Path, where: str, unit: UnitInfo, period: str
) -> tuple[str, list[str], bool | None]:
    path = folder / MANIFEST
    if not path.is_file():
        raise DossierInvalid(
            f'{where}: no {MANIFEST} (it names the procedure, e.g. {{"procedure": "600"}})'
        )
    real = _inside(path, root, where, MANIFEST)
    raw = _read_limited(real, MAX_MANIFEST_BYTES, where, MANIFEST)
    try:
        data: Any = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DossierInvalid(f"{where}, file {MANIFEST}: not valid UTF-8 JSON: {exc}") from None
    if not isinstance(data, dict):
        raise DossierInvalid(f"{where}, file {MANIFEST}: must be a JSON object")
    unknown = sorted(set(data) - _MANIFEST_KEYS)
    if unknown:
        raise DossierInvalid(
            f"{where}, file {MANIFEST}: unknown key(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(_MANIFEST_KEYS))}"
        )
    procedure = data.get("procedure")
    if not isinstance(procedure, str) or not procedure:
        raise DossierInvalid(f"{where}, file {MANIFEST}, field procedure: required (a code)")
    try:
        get_procedure(procedure)
    except DossierInvalid as exc:
        raise DossierInvalid(f"{where}, file {MANIFEST}, field procedure: {exc}") from None
    if not isinstance(data.get("name", ""), str):
        raise DossierInvalid(f"{where}, file {MANIFEST}, field name: must be text")
    attachments = data.get("attachments", [])
    if not isinstance(attachments, list):
        raise DossierInvalid(f"{where}, file {MANIFEST}, field attachments: must be a list")
    names = [_plain_name(a, f"{where}, file {MANIFEST}", "attachment") for a in attachments]
    if len(set(names)) != len(names):
        raise DossierInvalid(f"{where}, file {MANIFEST}, field attachments: a name twice")
    _check_identity(data, unit, period, where)
    convert = data.get("convert_legacy")
    if convert is not None and not isinstance(convert, bool):
        raise DossierInvalid(
            f"{where}, file {MANIFEST}, field convert_legacy: must be true or false"
        )
    return procedure, names, convert


def _load_one(
    folder: Path,
    root: Path,
    unit: UnitInfo,
    period: str,
    max_xml_bytes: int,
    convert_legacy: bool,
) -> Dossier:
    where = f"unit {unit.code}, period {period}, dossier {folder.name}"
    procedure, attachment_names, convert = _read_manifest(folder, root, where, unit, period)
    convert = convert_legacy if convert is None else convert
    listed = set(attachment_names)
    declarations: list[Declaration] = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        name = entry.name
        if name == MANIFEST or name in listed:
            continue
        if name.startswith("."):
            continue  # editor and OS droppings (.DS_Store), never read
        real = _inside(entry, root, where, name)
        if real.is_dir():
            raise DossierInvalid(f"{where}, file {name}: sub-folders are not allowed")
        form = form_of_filename(name)
        if form is None:
            raise DossierInvalid(
                f"{where}, file {name}: neither a declaration (<FORM>-595.xml, M01B-HSB.xml) "
                f"nor an attachment listed in {MANIFEST}"
            )
        content, conversions = normalize_declaration(
            _read_limited(real, max_xml_bytes, where, name),
            unit=unit.code,
            dossier=folder.name,
            filename=name,
            convert_legacy=convert,
        )
        for conversion in conversions:
            log.warning("%s", conversion.sentence())
        declarations.append(Declaration(form, name, content))
    attachments: list[Attachment] = []
    for name in attachment_names:
        path = folder / name
        if not path.exists() and not path.is_symlink():
            raise DossierInvalid(f"{where}, file {name}: listed in {MANIFEST} but missing")
        real = _inside(path, root, where, name)
        if not real.is_file():
            raise DossierInvalid(f"{where}, file {name}: not a regular file")
        attachments.append(Attachment(name, _read_limited(real, MAX_ATTACHMENT_BYTES, where, name)))
    return Dossier(
        unit=unit,
        period=period,
        procedure=procedure,
        name=folder.name,
        declarations=tuple(declarations),
        attachments=tuple(attachments),
    )


def load_dossiers(
    inbox_dir: str | Path,
    unit: UnitInfo,
    period: str,
    *,
    max_xml_bytes: int | None = None,
    convert_legacy: bool | None = None,
) -> list[Dossier]:
    """Every dossier waiting in ``<inbox>/<unit code>/<MM-YYYY>/``, sorted by folder name.

    Each declaration's text is normalised before the dossier is built (so before
    validation and before any digest): see :func:`normalize_declaration`. Text typed in a
    legacy encoding is refused unless conversion is on: the manifest's ``convert_legacy``
    (true / false) decides for its dossier, else ``convert_legacy`` here, else the setting
    ``BHXH_CONVERT_LEGACY`` (default false). Every converted value is logged (logger
    ``bhxh.intake``, level WARNING).

    Returns an empty list when the period folder does not exist.

    Raises:
        DossierInvalid: a folder without manifest, an unknown procedure, a path leading
            outside the inbox, a file too large or not expected; names unit, folder, file.
        InputRefused: a value typed in a legacy encoding (a ``DossierInvalid``), naming
            unit, dossier, file, row (``LaoDong`` and its STT) and element.
    """
    folder_name = period_folder(period)
    _plain_name(unit.code, f"unit {unit.code}", "unit code")
    if max_xml_bytes is None or convert_legacy is None:
        from bhxh.settings import get_settings

        settings = get_settings()
        max_xml_bytes = settings.max_xml_bytes if max_xml_bytes is None else max_xml_bytes
        convert_legacy = settings.convert_legacy if convert_legacy is None else convert_legacy
    root = Path(inbox_dir).resolve()
    period_dir = root / unit.code / folder_name
    where = f"unit {unit.code}, period {period}"
    if not period_dir.exists() and not period_dir.is_symlink():
        return []
    real_period = _inside(period_dir, root, where, f"{unit.code}/{folder_name}")
    if not real_period.is_dir():
        raise DossierInvalid(f"{where}: {period_dir} is not a folder")
    dossiers: list[Dossier] = []
    for entry in sorted(real_period.iterdir(), key=lambda p: p.name):
        if entry.name.startswith("."):
            continue
        real = _inside(entry, root, where, entry.name)
        if not real.is_dir():
            raise DossierInvalid(
                f"{where}, file {entry.name}: the period folder holds only dossier folders"
            )
        dossiers.append(_load_one(entry, root, unit, period, max_xml_bytes, convert_legacy))
    return dossiers


# --- a person's text in a declaration ----------------------------------------------------

# Markup of a document that parse_xml accepted (so no DTD): comments, CDATA, processing
# instructions and tags, whose quoted attribute values may hold '>'.
_MARKUP = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.DOTALL
)
_REFERENCE = re.compile(r"&(lt|gt|amp|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_RUN = re.compile(r"[^<>]+")
# What can split a value into several runs of raw text (the first look above sees runs).
_SPLITTERS = re.compile(r"<!--|<!\[CDATA\[|<\?(?!xml\s)")
_MAX_SHOWN = 10


def _non_ascii_runs(document: str) -> set[str]:
    """The runs between markup delimiters (text, or the inside of a tag) that hold a
    character beyond ASCII: a first look before parsing, linear in the document's size."""
    return {run for run in set(_RUN.findall(document)) if not run.isascii()}


def _unescape(raw: str) -> str:
    def one(match: re.Match[str]) -> str:
        ref = match.group(1)
        if ref[0] != "#":
            return _NAMED[ref]
        return chr(int(ref[2:], 16) if ref[1] == "x" else int(ref[1:]))

    return _REFERENCE.sub(one, raw) if "&" in raw else raw


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _rewrite_text(document: str, change: Mapping[str, str] | None) -> str:
    """The document with every text node in NFC, and the texts in ``change`` replaced;
    markup, comments and untouched text stay byte for byte as they were."""

    def replaced(text: str) -> str:
        core = text.strip()
        if not change or core not in change:
            return text
        start = text.index(core)
        return text[:start] + change[core] + text[start + len(core) :]

    def fix(raw: str) -> str:
        value = _unescape(raw)
        new = replaced(unicodedata.normalize("NFC", value))
        return raw if new == value else _escape(new)

    out: list[str] = []
    last = 0
    for match in _MARKUP.finditer(document):
        out.append(fix(document[last : match.start()]))
        token = match.group()
        if token.startswith("<![CDATA["):
            inner = token[9:-3]
            new = replaced(unicodedata.normalize("NFC", inner))
            token = token if new == inner or "]]>" in new else f"<![CDATA[{new}]]>"
        out.append(token)
        last = match.end()
    out.append(fix(document[last:]))
    return "".join(out)


@dataclass(frozen=True)
class _LegacyText:
    where: InputLocation
    value: str
    candidates: tuple[LegacyEncoding, ...]


def _stt(row: etree._Element) -> str:
    try:
        return (find_text(row, "STT") or "").strip()
    except UnsafeXml:  # an element inside STT: the validation names it
        return ""


def _legacy_texts(root: etree._Element, base: InputLocation) -> list[_LegacyText]:
    """Every element's text that reads as TCVN3 / VNI, located by its row and element.

    An element's text is all of its own pieces joined (:func:`bhxh.xmlsafe.own_text`), as
    it will be signed: a value split by a comment or a processing instruction is found.
    """
    layout = FORM_LAYOUTS.get(str(root.tag))
    rows: dict[etree._Element, str] = {}
    if layout is not None:
        row_tag = layout.row_path.rsplit("/", 1)[-1]
        for index, row in enumerate(root.findall(layout.row_path), start=1):
            stt = _stt(row)
            rows[row] = f"{row_tag} {index}" + (f" (STT {stt})" if stt else "")
    found: list[_LegacyText] = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        text = own_text(el)
        if not text or text.isascii():
            continue
        candidates = legacy_candidates(text.strip())
        if not candidates:
            continue
        record = next((rows[a] for a in el.iterancestors() if a in rows), None)
        path = [str(el.tag)]
        for ancestor in el.iterancestors():
            if ancestor in rows or ancestor is root:
                break
            path.append(str(ancestor.tag))
        where = InputLocation(
            unit=base.unit,
            dossier=base.dossier,
            file=base.file,
            record=record,
            element="/".join(reversed(path)),
        )
        found.append(_LegacyText(where, text.strip(), candidates))
    return found


def _legacy_refusal(
    found: list[_LegacyText], encodings: dict[str, LegacyEncoding | None], convert: bool
) -> InputRefused:
    details = []
    for item in found[:_MAX_SHOWN]:
        settled = encodings[item.value]
        options = [settled] if settled else list(item.candidates)
        guesses = " / ".join(repr(legacy_to_unicode(item.value, e)) for e in options)
        names = " hoặc / or ".join(LEGACY_NAMES[e] for e in options)
        details.append(
            f"{item.where.describe('vi')}: {item.value!r} — có lẽ là / probably {guesses} ({names})"
        )
    if len(found) > _MAX_SHOWN:
        details.append(f"... và {len(found) - _MAX_SHOWN} giá trị nữa / and more values")
    first = found[0].where
    if convert:
        unsure = sum(1 for item in found if encodings[item.value] is None)
        return InputRefused(
            f"{unsure} giá trị được gõ bằng bảng mã cũ nhưng không rõ là TCVN3 hay VNI",
            f"{unsure} value(s) typed in a legacy encoding, TCVN3 or VNI: cannot tell which",
            where=first,
            expected_vi="chuyển mã tệp sang Unicode bằng công cụ (ví dụ Unikey) rồi chạy lại",
            expected_en="convert the file to Unicode with a tool (e.g. Unikey), then run again",
            details=details,
        )
    names = ", ".join(sorted({LEGACY_NAMES[e] for item in found for e in item.candidates}))
    return InputRefused(
        f"{len(found)} giá trị được gõ bằng bảng mã cũ {names}, không phải Unicode",
        f"{len(found)} value(s) typed in the legacy encoding {names}, not Unicode",
        where=first,
        expected_vi='văn bản Unicode: chuyển mã tệp sang Unicode, hoặc đặt "convert_legacy": '
        f"true trong {MANIFEST} của hồ sơ (hoặc BHXH_CONVERT_LEGACY=true) để chuyển tự động",
        expected_en='Unicode text: convert the file to Unicode, or set "convert_legacy": true '
        f"in the dossier's {MANIFEST} (or BHXH_CONVERT_LEGACY=true) to convert automatically",
        details=details,
    )


def _split_refusal(found: list[_LegacyText]) -> InputRefused:
    return InputRefused(
        "giá trị gõ bằng bảng mã cũ bị tách bởi chú thích, chỉ thị xử lý hoặc CDATA: "
        "không chuyển mã tại chỗ được",
        "a value in a legacy encoding is split by a comment, a processing instruction or a "
        "CDATA section: it cannot be converted in place",
        where=found[0].where,
        read=found[0].value,
        expected_vi="viết giá trị liền một khối (bỏ chú thích / CDATA ở giữa), hoặc chuyển mã "
        "tệp sang Unicode bằng công cụ (ví dụ Unikey)",
        expected_en="the value in one piece (remove the comment / CDATA inside it), or convert "
        "the file to Unicode with a tool (e.g. Unikey)",
        details=[f"{item.where.describe('vi')}: {item.value!r}" for item in found[1:_MAX_SHOWN]],
    )


def normalize_declaration(
    content: bytes,
    *,
    unit: str | None = None,
    dossier: str | None = None,
    filename: str | None = None,
    convert_legacy: bool = False,
) -> tuple[bytes, list[LegacyConversion]]:
    """A declaration's bytes with a person's text as a declaration must carry it.

    - Every text node in Unicode dựng sẵn (NFC), whatever the program that wrote the file
      used (a name in decomposed Unicode, or written with character references to combining
      marks): the signed bytes and the dossier's id never depend on it. Only text nodes
      change; markup, attribute values, comments and the XML declaration stay byte for byte.
    - Text typed in a legacy font encoding (TCVN3 / ABC, VNI-Windows, as
      :func:`bhxh.vntext.legacy_candidates` recognises it) is refused, naming the unit,
      dossier, file, row (``LaoDong 3 (STT 3)``) and element; with ``convert_legacy`` it is
      converted with the published tables and each conversion is returned. A value both
      encodings explain takes the file's other values' encoding; when none decides, the
      file is refused even with conversion on. A value is read whole, as it will be
      signed: split by a comment, a processing instruction or a CDATA section it is still
      found, and refused even with conversion on (it cannot be replaced in place).

    A file that is not UTF-8 or not safe, well-formed XML is returned unchanged: the
    validation refuses it with its own message.

    Raises:
        InputRefused: legacy text (a ``DossierInvalid``).
    """
    try:
        document = content.decode("utf-8")
    except UnicodeDecodeError:
        return content, []
    needs_nfc = "&#" in document or not unicodedata.is_normalized("NFC", document)
    if (
        not needs_nfc
        and not _SPLITTERS.search(document)
        and not any(legacy_candidates(_unescape(t).strip()) for t in _non_ascii_runs(document))
    ):
        return content, []  # the common case: nothing to change, nothing to parse
    what = f"unit {unit}, dossier {dossier}, file {filename}"
    try:
        root = parse_xml(content, what=what)
    except UnsafeXml:
        return content, []
    changed = False
    if needs_nfc:
        new = _rewrite_text(document, None)
        if new != document:
            document, changed = new, True
            root = parse_xml(document.encode("utf-8"), what=what)
    found = (
        []
        if document.isascii()
        else _legacy_texts(root, InputLocation(unit=unit, dossier=dossier, file=filename))
    )
    if not found:
        return (document.encode("utf-8") if changed else content), []
    # A value both encodings explain takes the encoding the file's other values agree on.
    sure = {item.candidates[0] for item in found if len(item.candidates) == 1}
    encodings: dict[str, LegacyEncoding | None] = {}
    for item in found:
        if len(item.candidates) == 1:
            encodings[item.value] = item.candidates[0]
        elif len(sure) == 1 and sure <= set(item.candidates):
            encodings[item.value] = next(iter(sure))
        else:
            encodings[item.value] = None
    if not convert_legacy or any(e is None for e in encodings.values()):
        raise _legacy_refusal(found, encodings, convert_legacy)
    change = {
        text: normalize_text(legacy_to_unicode(text, enc)) for text, enc in encodings.items() if enc
    }
    document = _rewrite_text(document, change)
    # A conversion replaces a value where it is written in one piece; a value split by a
    # comment, a processing instruction or a CDATA section is not, and is refused rather
    # than reported converted and left as it was.
    base = InputLocation(unit=unit, dossier=dossier, file=filename)
    left = _legacy_texts(parse_xml(document.encode("utf-8"), what=what), base)
    if left:
        raise _split_refusal(left)
    conversions = [
        LegacyConversion(item.where, enc, item.value, change[item.value])
        for item in found
        if (enc := encodings[item.value]) is not None
    ]
    return document.encode("utf-8"), conversions


def write_dossier(
    inbox_dir: str | Path,
    unit_code: str,
    period: str,
    folder: str,
    procedure: str,
    declarations: Mapping[str, bytes],
    attachments: Mapping[str, bytes] | None = None,
    *,
    name: str = "",
    tax_code: str = "",
) -> Path:
    """Drop a dossier into the inbox (as the demo does with CSV-built declarations).

    Declaration file names must follow the form convention (``D02-TS-595.xml``); the
    manifest is written last, so a reader never sees a half-written dossier as complete,
    and names the unit and the period (and the tax code when given). An existing folder of
    that name is replaced file by file.

    Returns:
        The dossier folder.
    """
    get_procedure(procedure)
    where = f"unit {unit_code}, period {period}, dossier {folder}"
    _plain_name(unit_code, where, "unit code")
    _plain_name(folder, where, "dossier folder")
    attachments = attachments or {}
    for fname in declarations:
        _plain_name(fname, where, "declaration")
        if form_of_filename(fname) is None:
            raise DossierInvalid(f"{where}, file {fname}: not a declaration file name")
    for fname in attachments:
        _plain_name(fname, where, "attachment")
        if fname == MANIFEST or fname in declarations:
            raise DossierInvalid(f"{where}, file {fname}: name already used")
    target = Path(inbox_dir) / unit_code / period_folder(period) / folder
    target.mkdir(parents=True, exist_ok=True)
    for fname, data in [*declarations.items(), *attachments.items()]:
        write_atomic(target / fname, data)
    manifest: dict[str, object] = {"procedure": procedure}
    if name:
        manifest["name"] = name
    manifest["attachments"] = list(attachments)
    manifest["unit"] = unit_code
    if tax_code:
        manifest["tax_code"] = tax_code
    manifest["period"] = period
    text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
    write_atomic(target / MANIFEST, text.encode("utf-8"))
    return target
