"""The outbox sink: signed envelopes, forms and declarations as files, for import into
other I-VAN software.

Layout: ``<outbox>/<unit code>/<MM-YYYY>/<dossier id>/<file name>``. Each file is written
atomically (temporary file, fsync, rename). Writing the same bytes again is a no-op;
different bytes under an existing name are refused (a signed file is final).

Example:
    >>> write_outbox(Path("var/outbox"), "TZ1234A", "01/2026", "TZ1234A-600-1",
    ...              {"BHXHDienTu.xml": envelope})  # doctest: +SKIP
    PosixPath('var/outbox/TZ1234A/01-2026/TZ1234A-600-1')
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path

from bhxh.errors import BhxhError
from bhxh.periods import folder_name, parse_period

__all__ = ["OutboxConflict", "outbox_path", "write_outbox"]

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,199}$")


class OutboxConflict(BhxhError, FileExistsError):
    """A file of the dossier is already in the outbox with other bytes."""


def _component(value: str, what: str) -> str:
    if not _SAFE.match(value) or ".." in value:
        raise ValueError(
            f"outbox {what} {value!r} is not a safe file name "
            "(letters, digits, '.', '_', '-', space; no path separators)"
        )
    return value


def _file_name(value: str) -> str:
    """A file's name (Vietnamese letters welcome: "Hợp đồng lao động.pdf"), never a path."""
    if (
        not value
        or value.startswith(".")
        or any(c in value for c in "/\\")
        or any(ord(c) < 32 or ord(c) == 127 for c in value)
        or len(value.encode()) > 200
    ):
        raise ValueError(
            f"outbox file name {value!r} is not a safe file name (no path separators, no "
            "control characters, not hidden, at most 200 bytes)"
        )
    return value


def outbox_path(outbox_dir: Path, unit_code: str, period: str, dossier_id: str) -> Path:
    """Where a dossier's files go: ``<outbox>/<unit>/<MM-YYYY>/<dossier id>``.

    Raises:
        ValueError: a component is not a safe name, or the period is not MM/yyyy.
    """
    parsed = parse_period(period)
    if parsed is None:
        raise ValueError(
            f"unit {unit_code}, dossier {dossier_id}: period {period!r} is not MM/yyyy"
        )
    return (
        Path(outbox_dir)
        / _component(unit_code, "unit code")
        / folder_name(*parsed)
        / _component(dossier_id, "dossier id")
    )


def _same(path: Path, data: bytes) -> bool:
    return path.is_file() and hashlib.sha256(path.read_bytes()).digest() == (
        hashlib.sha256(data).digest()
    )


def _write_once(path: Path, data: bytes) -> bool:
    """Write ``path`` whole, never over an existing file; False if another writer won."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # atomic, and refuses to replace: no lost update between writers
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)
    return True


def _conflict(unit_code: str, dossier_id: str, path: Path) -> OutboxConflict:
    return OutboxConflict(
        f"unit {unit_code}, dossier {dossier_id}: {path} already exists with other "
        "content; a signed file is final (use a new dossier id)"
    )


def write_outbox(
    outbox_dir: Path,
    unit_code: str,
    period: str,
    dossier_id: str,
    files: Mapping[str, bytes],
) -> Path:
    """Write a dossier's signed files to the outbox; returns the dossier's directory.

    Every name is checked, and every existing file compared, before anything is written,
    so a conflict changes nothing.

    Raises:
        OutboxConflict: a file exists with other bytes.
        ValueError: an unsafe name or a malformed period.
    """
    directory = outbox_path(outbox_dir, unit_code, period, dossier_id)
    pending: list[tuple[Path, bytes]] = []
    for name, data in files.items():
        path = directory / _file_name(name)
        if path.exists():
            if _same(path, data):
                continue
            raise _conflict(unit_code, dossier_id, path)
        pending.append((path, data))
    directory.mkdir(parents=True, exist_ok=True)
    for path, data in pending:
        if not _write_once(path, data) and not _same(path, data):
            raise _conflict(unit_code, dossier_id, path)
    if pending:
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return directory
