"""The approval card of a signing request: one artifact per request, saying what the signer
approves (which documents, on which account's phone, under which reference, until when),
published when the request goes out and closed with its outcome, so that only the newest
card of a run says "waiting".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from prefect.logging import get_run_logger

from esign.models import TxStatus
from flows._artifacts import (
    artifact_key,
    count,
    publish_markdown,
    text,
    update_markdown,
    vn_time,
)

__all__ = ["ApprovalCard", "close_card", "publish_card"]


@dataclass(frozen=True)
class ApprovalCard:
    """What one signing request asks the signer to approve (one artifact per request)."""

    unit_code: str
    unit_name: str
    provider: str
    account: str
    transaction_id: str
    reference: str
    position: tuple[int, int]
    expires: dt.datetime
    documents: tuple[tuple[str, str], ...]  # (document id, name)
    number: int  # the request's number in this run, per unit: 1, 2, 3...

    @property
    def key(self) -> str:
        """One key per request: unit, request number and reference tell them apart."""
        return artifact_key(
            "duyet", "approve", self.unit_code, f"{self.number:02d}", self.reference or "tx"
        )

    def title(self, outcome: str | None = None) -> str:
        state = outcome or "đang chờ, mới nhất / waiting, newest"
        return (
            f"Duyệt trên điện thoại / approve on the phone: {self.unit_code}, lần "
            f"{self.position[0]}/{self.position[1]}, yêu cầu số {self.number} "
            f"({self.reference or self.transaction_id}) - {state}"
        )

    def markdown(self, outcome: str | None = None) -> str:
        names = "\n".join(f"| `{text(doc_id)}` | {text(name)} |" for doc_id, name in self.documents)
        now = f"**{outcome}**" if outcome else "**Đang chờ duyệt / waiting for approval**"
        return (
            f"## Duyệt trên điện thoại / Approve on the phone: {text(self.unit_name)} "
            f"({self.unit_code})\n\n"
            f"- Trạng thái / status: {now}\n"
            f"- Lần duyệt / approval: **{self.position[0]} / {self.position[1]}** cho hồ sơ "
            f"này / for these dossiers (yêu cầu số / request no. {self.number} trong lượt "
            "chạy / in this run)\n"
            f"- Nhà cung cấp / provider: **{self.provider}**, tài khoản / account "
            f"**{text(self.account)}**\n"
            f"- Giao dịch / transaction: `{self.transaction_id}`, trên điện thoại hiện / shown "
            f"on the phone as **Mã yêu cầu: {self.reference or '-'}**\n"
            f"- Hạn / expires: **{vn_time(self.expires)}**\n"
            "- Cách duyệt / what to do: mở ứng dụng ký số, bấm **Đồng ý**, xác nhận bằng Face "
            "ID / Touch ID / PIN / open the signing app, press **Đồng ý**, confirm with "
            "Face ID / Touch ID / PIN.\n\n"
            f"{count(len(self.documents), 'tài liệu', 'document')}:\n\n"
            f"| mã tài liệu / document id | tài liệu / document |\n|---|---|\n{names}\n"
        )


async def publish_card(card: ApprovalCard) -> UUID:
    """Log the wait for the phone and publish ``card``; returns the artifact's id."""
    get_run_logger().info(
        "Chờ %s duyệt trên điện thoại yêu cầu %s (lần %d/%d, %s), hạn %s / waiting for the "
        "phone to approve request %s",
        card.account,
        card.reference or card.transaction_id,
        card.position[0],
        card.position[1],
        count(len(card.documents), "tài liệu", "document"),
        vn_time(card.expires, date=False),
        card.reference or card.transaction_id,
    )
    return await publish_markdown(card.markdown(), card.key, card.title())


_OUTCOME_WORDS: Mapping[TxStatus, str] = {
    TxStatus.SUCCEEDED: "đã duyệt / approved",
    TxStatus.REJECTED: "bị từ chối / rejected",
    TxStatus.EXPIRED: "hết hạn / expired",
    TxStatus.FAILED: "lỗi / failed",
    TxStatus.PENDING: "hết thời gian chờ / no answer in time",
}


async def close_card(artifact_id: UUID, card: ApprovalCard, status: TxStatus) -> None:
    """The card says how its request ended (``status``), and when."""
    words = _OUTCOME_WORDS.get(status, status.value)
    outcome = f"{words}, lúc / at {vn_time(dt.datetime.now(dt.UTC))}"
    try:
        await update_markdown(artifact_id, card.markdown(outcome), card.title(words))
    except Exception:  # a card that cannot be updated never stops the signing
        get_run_logger().debug("approval card %s not updated", card.key, exc_info=True)
