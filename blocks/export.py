"""The export route's destination as a Prefect file-system block.

``BhxhUnit.export_block`` names a saved ``LocalFileSystem`` or ``RemoteFileSystem``
block (any ``WritableFileSystem``); the export adapter (``bhxh.submission.ExportAdapter``)
writes through it. Without one, a unit exports to its outbox folder.
"""

from __future__ import annotations

from typing import Any

from prefect.filesystems import WritableFileSystem

__all__ = ["FileSystemSink", "aload_sink"]


class FileSystemSink:
    """``bhxh.submission.ExportSink`` over a Prefect file-system block."""

    def __init__(self, block: WritableFileSystem, name: str) -> None:
        self.block = block
        self.name = name

    def describe(self) -> str:
        base = getattr(self.block, "basepath", None)
        return f"{self.name} ({base})" if base else self.name

    async def write(self, relpath: str, data: bytes) -> None:
        writer: Any = getattr(self.block, "awrite_path", None) or self.block.write_path
        await writer(relpath, data)

    async def read(self, relpath: str) -> bytes | None:
        reader: Any = getattr(self.block, "aread_path", None) or self.block.read_path
        try:
            content: bytes = await reader(relpath)
        except (FileNotFoundError, ValueError):
            return None
        return content


async def aload_sink(name: str) -> FileSystemSink:
    """The sink of the file-system block saved as ``name``."""
    block = await WritableFileSystem.aload(name)
    if not isinstance(block, WritableFileSystem):
        raise TypeError(f"block {name!r} is not a writable file-system block")
    return FileSystemSink(block, name)
