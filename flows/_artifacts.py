"""What a person reads in the Prefect UI: artifact keys, Vietnam time, counted words,
status labels, and tables published once and updated in place as news arrives."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from prefect import get_client
from prefect.artifacts import (
    acreate_markdown_artifact,
    acreate_progress_artifact,
    acreate_table_artifact,
    aupdate_progress_artifact,
)
from prefect.client.schemas.actions import ArtifactUpdate

from bhxh.periods import VN_TZ

__all__ = [
    "STATUS_LABELS",
    "UnitProgress",
    "artifact_key",
    "count",
    "count_en",
    "counts",
    "publish_markdown",
    "publish_table",
    "status_label",
    "text",
    "update_markdown",
    "update_table",
    "vn_time",
]


#: Journal and VSS statuses, as an accountant reads them.
STATUS_LABELS: Mapping[str, str] = {
    "loaded": "đã nạp / loaded",
    "prepared": "đang ký lượt 1 / signing, round 1",
    "round1_requested": "chờ duyệt lượt 1 / waiting for approval 1",
    "declarations_signed": "đã ký tờ khai / declarations signed",
    "envelope_prepared": "đang ký hồ sơ / signing the envelope",
    "round2_requested": "chờ duyệt hồ sơ / waiting for the envelope's approval",
    "signed": "đã ký / signed",
    "submitting": "đang nộp / submitting",
    "submitted": "đã nộp / submitted",
    "exported": "đã xuất cho phần mềm I-VAN / exported for the I-VAN software",
    "receipt": "đã có số hồ sơ / numbered",
    "result": "đã có kết quả / result known",
    "failed": "bị từ chối / refused",
    "received": "BHXH đã nhận / received by VSS",
    "numbered": "đã có số hồ sơ / numbered",
    "processing": "BHXH đang xử lý / being processed",
    "accepted": "được chấp nhận / accepted",
    "rejected": "bị từ chối / rejected",
    "rejected_at_receipt": "bị từ chối khi tiếp nhận / refused at receipt",
    "supplement_requested": "BHXH yêu cầu bổ sung / supplement requested",
}


def text(value: object) -> str:
    """``value`` safe inside an artifact's Markdown: HTML tags neutralised, quotes kept
    (the UI's Markdown shows ``&#x27;`` literally)."""
    return html.escape(str(value), quote=False)


def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(status or "", status or "")


def artifact_key(*parts: str) -> str:
    """Artifact keys allow lower-case letters, digits and dashes only."""
    raw = "-".join(parts).lower()
    return "".join(c if c.isalnum() and c.isascii() else "-" for c in raw).strip("-")[:100]


def vn_time(moment: dt.datetime, *, date: bool = True) -> str:
    """``25/11/2026 08:25:22 (giờ Việt Nam, UTC+7)``: the zone is always shown."""
    local = moment.astimezone(VN_TZ)
    shown = f"{local:%d/%m/%Y %H:%M:%S}" if date else f"{local:%H:%M:%S}"
    return f"{shown} (giờ Việt Nam, UTC+7)"


def count(n: int, vi: str, en: str, en_plural: str | None = None) -> str:
    """``1 tài liệu / 1 document``, ``3 tài liệu / 3 documents``."""
    english = en if n == 1 else (en_plural or f"{en}s")
    return f"{n} {vi} / {n} {english}"


def count_en(n: int, en: str) -> str:
    """``1 dossier``, ``3 dossiers``: the English half of a count."""
    return f"{n} {en if n == 1 else en + 's'}"


def counts(*items: tuple[int, str, str]) -> str:
    """Several counts as one pair, never interleaved: ``counts((1, "hồ sơ", "dossier"),
    (2, "lần duyệt", "approval"))`` is ``1 hồ sơ, 2 lần duyệt / 1 dossier, 2 approvals``."""
    vi = ", ".join(f"{n} {v}" for n, v, _ in items)
    en = ", ".join(f"{n} {e if n == 1 else e + 's'}" for n, _, e in items)
    return f"{vi} / {en}"


async def publish_markdown(markdown: str, key: str, description: str) -> UUID:
    return await acreate_markdown_artifact(markdown=markdown, key=key, description=description)


async def update_markdown(artifact_id: UUID, markdown: str, description: str) -> None:
    """Rewrite a published markdown artifact in place (the same card, new words)."""
    async with get_client() as client:
        await client.update_artifact(
            artifact_id, ArtifactUpdate(data=markdown, description=description)
        )


async def publish_table(rows: Sequence[Mapping[str, Any]], key: str, description: str) -> UUID:
    return await acreate_table_artifact(
        table=[dict(r) for r in rows], key=key, description=description
    )


async def update_table(
    artifact_id: UUID, rows: Sequence[Mapping[str, Any]], description: str
) -> None:
    """Rewrite a published table in place (receipts that arrived, say)."""
    async with get_client() as client:
        await client.update_artifact(
            artifact_id,
            ArtifactUpdate(data=json.dumps([dict(r) for r in rows]), description=description),
        )


class UnitProgress:
    """A Prefect progress artifact for a run over several units: units finished / total,
    updated as each one finishes (the run's Artifacts tab and the artifact's page show
    the bar).

    Example:
        progress = await UnitProgress.start(4, "hang-thang-tien-do-12-2026", "monthly 12/2026")
        await progress.finished("an-phat")
    """

    def __init__(self, artifact_id: UUID | None, total: int, what_vi: str, what_en: str):
        self.artifact_id = artifact_id
        # Units finish concurrently: one update at a time, so the last one sent is the
        # newest count (two updates in flight could land in the other order).
        self._lock = asyncio.Lock()
        self.total = total
        self.done: list[str] = []
        self.what_vi = what_vi
        self.what_en = what_en

    @classmethod
    async def start(cls, total: int, key: str, what_vi: str, what_en: str) -> UnitProgress:
        progress = cls(None, total, what_vi, what_en)
        try:
            progress.artifact_id = await acreate_progress_artifact(
                0.0 if total else 100.0, key=key, description=progress.description()
            )
        except Exception:  # a progress bar is a courtesy: it never stops a run
            progress.artifact_id = None
        return progress

    def description(self) -> str:
        done, total = len(self.done), self.total
        last = f" (mới xong / last: {self.done[-1]})" if self.done else ""
        return (
            f"Tiến độ {self.what_vi}: {done}/{total} đơn vị xong / progress of "
            f"{self.what_en}: {done} of {total} unit(s) finished{last}"
        )

    @property
    def percent(self) -> float:
        return 100.0 if not self.total else round(100.0 * len(self.done) / self.total, 1)

    async def finished(self, unit: str) -> None:
        """One more unit finished (done or failed: it is no longer being worked on)."""
        async with self._lock:
            if unit in self.done:
                return
            self.done.append(unit)
            if self.artifact_id is None:
                return
            try:
                await aupdate_progress_artifact(
                    self.artifact_id, self.percent, description=self.description()
                )
            except Exception:  # the run's own log and tables say the same
                logging.getLogger("flows").debug("progress not updated", exc_info=True)
