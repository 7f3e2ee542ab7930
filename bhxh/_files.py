"""The one crash-safe file write of the project: temporary file, fsync, rename, fsync of
the folder. A crash leaves the old file or the new one, never half of one.

Used by the journal (``bhxh.pipeline``), the inbox, the export sink and the reports. Inside
a batch (``pending`` given) the fsyncs are deferred and :func:`make_durable` makes the
whole batch durable with one barrier.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path

__all__ = ["make_durable", "makedirs_durable", "write_atomic"]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def makedirs_durable(path: Path, pending: set[Path] | None = None) -> None:
    """Create ``path`` and make each new directory entry durable (now, or with
    ``pending`` at the batch's end)."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        with suppress(FileExistsError):
            folder.mkdir()
        if pending is None:
            _fsync_dir(folder.parent)
        else:
            pending.add(folder)


def write_atomic(path: Path, data: bytes, pending: set[Path] | None = None) -> None:
    """Write ``path`` whole or not at all (temporary file, rename).

    Durable at once (fsync of the file, then of its folder) unless ``pending`` is given:
    the path is then recorded there and made durable by :func:`make_durable` later.
    """
    makedirs_durable(path.parent, pending)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if pending is None:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if pending is None:
        _fsync_dir(path.parent)
    else:
        pending.add(path)


def make_durable(paths: Iterable[Path]) -> None:
    """fsync each file (or new folder), then each folder holding them (once per folder)."""
    folders: set[Path] = set()
    for path in paths:
        with suppress(FileNotFoundError):
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        folders.add(path.parent)
    for folder in folders:
        _fsync_dir(folder)
