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
Loading reads bytes only; :func:`bhxh.validation.validate_dossier` checks the content.

Example:
    >>> write_dossier(inbox, "TZ1234A", "01/2026", "01-bao-tang", "600",
    ...               {"D02-TS-595.xml": build_d02ts(unit, "01/2026", rows)})
    >>> [d.name for d in load_dossiers(inbox, unit, "01/2026")]
    ['01-bao-tang']
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bhxh.catalogue import form_of_filename, get_procedure
from bhxh.errors import DossierInvalid
from bhxh.models import Attachment, Declaration, Dossier, UnitInfo
from bhxh.validation import validate_period

__all__ = [
    "MANIFEST",
    "MAX_ATTACHMENT_BYTES",
    "MAX_MANIFEST_BYTES",
    "load_dossiers",
    "period_folder",
    "write_dossier",
]

MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 64 * 1024
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
_MANIFEST_KEYS = frozenset({"procedure", "name", "attachments", "unit", "tax_code", "period"})


def period_folder(period: str) -> str:
    """The folder name of a period: ``"01/2026"`` -> ``"01-2026"``."""
    month, year = validate_period(period)
    return f"{month:02d}-{year}"


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
) -> tuple[str, list[str]]:
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
    return procedure, names


def _load_one(folder: Path, root: Path, unit: UnitInfo, period: str, max_xml_bytes: int) -> Dossier:
    where = f"unit {unit.code}, period {period}, dossier {folder.name}"
    procedure, attachment_names = _read_manifest(folder, root, where, unit, period)
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
        declarations.append(
            Declaration(form, name, _read_limited(real, max_xml_bytes, where, name))
        )
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
) -> list[Dossier]:
    """Every dossier waiting in ``<inbox>/<unit code>/<MM-YYYY>/``, sorted by folder name.

    Returns an empty list when the period folder does not exist.

    Raises:
        DossierInvalid: a folder without manifest, an unknown procedure, a path leading
            outside the inbox, a file too large or not expected; names unit, folder, file.
    """
    folder_name = period_folder(period)
    _plain_name(unit.code, f"unit {unit.code}", "unit code")
    if max_xml_bytes is None:
        from bhxh.settings import get_settings

        max_xml_bytes = get_settings().max_xml_bytes
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
        dossiers.append(_load_one(entry, root, unit, period, max_xml_bytes))
    return dossiers


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
        _write_atomic(target / fname, data)
    manifest: dict[str, object] = {"procedure": procedure}
    if name:
        manifest["name"] = name
    manifest["attachments"] = list(attachments)
    manifest["unit"] = unit_code
    if tax_code:
        manifest["tax_code"] = tax_code
    manifest["period"] = period
    text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
    _write_atomic(target / MANIFEST, text.encode("utf-8"))
    return target
