"""The sandbox audit log: one JSON object per line, shared by the provider and gateway.

Tests and benchmarks count approvals and submissions from it, so every line is written
whole (one ``write`` of a complete line under a lock, file opened in append mode).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

__all__ = ["AuditLog", "read_audit"]


class AuditLog:
    """Append-only JSONL writer.

    Example:
        >>> log = AuditLog(Path("/tmp/audit.jsonl"))  # doctest: +SKIP
        >>> log.write("provider", "login", user="acme")  # doctest: +SKIP
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def write(self, service: str, event: str, **fields: Any) -> None:
        record = {
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "service": service,
            "event": event,
            **fields,
        }
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()

    def read(self) -> list[dict[str, Any]]:
        return read_audit(self.path)


def read_audit(path: Path) -> list[dict[str, Any]]:
    """Every record of an audit file (missing file: none)."""
    if not Path(path).exists():
        return []
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
