"""The approval card of a signing request: one artifact per request, saying what the signer
approves (which documents, on which account's phone, under which reference, until when),
published when the request goes out and closed with its outcome, so that only the newest
card of a run says "waiting".

And the void notice: a request that may be on the phone but will never be used (its
provider's id was lost: a crash between the send and the journalled answer, or an answer
lost in transport, with a provider that cannot find a request by our reference) is
named by its reference ("Mã yêu cầu") in the log and on a card of its own before the
run asks again, and on the next request's card.
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

__all__ = ["ApprovalCard", "VoidNotice", "close_card", "publish_card", "publish_void_notice"]


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
    #: References of earlier requests this one replaces, void (never used).
    void: tuple[str, ...] = ()

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
            f"- Lần duyệt / approval: **{self.position[0]} / {self.position[1]}**, yêu cầu "
            f"số {self.number} của lượt chạy này / request no. {self.number} in this run\n"
            f"- Nhà cung cấp / provider: **{self.provider}**, tài khoản / account "
            f"**{text(self.account)}**\n"
            f"- Giao dịch / transaction: `{self.transaction_id}`, trên điện thoại hiện / shown "
            f"on the phone as **Mã yêu cầu: {self.reference or '-'}**\n"
            f"- Hạn / expires: **{vn_time(self.expires)}**\n"
            f"{_void_line(self.void)}"
            "- Cách duyệt / what to do: mở ứng dụng ký số, bấm **Đồng ý**, xác nhận bằng Face "
            "ID / Touch ID / PIN / open the signing app, press **Đồng ý**, confirm with "
            "Face ID / Touch ID / PIN.\n\n"
            f"{count(len(self.documents), 'tài liệu', 'document')}:\n\n"
            f"| mã tài liệu / document id | tài liệu / document |\n|---|---|\n{names}\n"
        )


def _void_line(void: tuple[str, ...]) -> str:
    if not void:
        return ""
    refs = ", ".join(f"**Mã yêu cầu {text(r)}**" for r in void)
    return (
        f"- Thay yêu cầu đã hủy / replaces, void: {refs}: đừng duyệt (nếu còn trên điện "
        "thoại, bấm **Từ chối**); đã duyệt thì cũng không được dùng / do not approve (if "
        "still on the phone, reject it); if approved, it is never used\n"
    )


@dataclass(frozen=True)
class VoidNotice:
    """An earlier request that will never be used, though it may be on the phone."""

    unit_code: str
    unit_name: str
    provider: str
    account: str
    reference: str  # as the phone showed it: "Mã yêu cầu: <reference>"
    round_no: int
    why_vi: str
    why_en: str

    @property
    def key(self) -> str:
        return artifact_key("duyet", "approve", self.unit_code, "void", self.reference)

    def title(self) -> str:
        return (
            f"Đã hủy, đừng duyệt / void, do not approve: {self.unit_code}, Mã yêu cầu "
            f"{self.reference}"
        )

    def markdown(self) -> str:
        return (
            f"## Yêu cầu đã hủy / Void request: {text(self.unit_name)} ({self.unit_code})\n\n"
            f"- Yêu cầu ký lần {self.round_no} hiện trên điện thoại với **Mã yêu cầu "
            f"{text(self.reference)}** (nhà cung cấp / provider **{self.provider}**, tài "
            f"khoản / account **{text(self.account)}**): **đã hủy / void**, không bao giờ "
            "được dùng / never used.\n"
            f"- Vì sao / why: {text(self.why_vi)} / {text(self.why_en)}\n"
            "- Cách làm / what to do: nếu nó còn trên điện thoại, bấm **Từ chối**; chỉ duyệt "
            "yêu cầu mới (mã yêu cầu khác) / if it is still on the phone, reject it; approve "
            "only the new request (another reference). Nếu đã duyệt, chữ ký đó không được "
            "dùng / if it was approved, that signature is never used.\n"
        )


async def publish_void_notice(notice: VoidNotice) -> UUID:
    """Log and publish, before the run asks again, that ``notice``'s request is void."""
    get_run_logger().warning(
        "Đơn vị %s: yêu cầu ký lần %d, Mã yêu cầu %s, đã hủy: %s; nếu còn trên điện thoại, "
        "bấm Từ chối, chỉ duyệt yêu cầu mới / round %d request %s is void: %s; if it is still "
        "on the phone, reject it and approve only the new request (if it was approved, it "
        "is never used)",
        notice.unit_code,
        notice.round_no,
        notice.reference,
        notice.why_vi,
        notice.round_no,
        notice.reference,
        notice.why_en,
    )
    return await publish_markdown(notice.markdown(), notice.key, notice.title())


async def publish_card(card: ApprovalCard) -> UUID:
    """Log the wait for the phone and publish ``card``; returns the artifact's id."""
    get_run_logger().info(
        "Chờ %s duyệt trên điện thoại yêu cầu %s (lần %d/%d, %s), hạn %s / waiting for the "
        "phone to approve request %s%s",
        card.account,
        card.reference or card.transaction_id,
        card.position[0],
        card.position[1],
        count(len(card.documents), "tài liệu", "document"),
        vn_time(card.expires, date=False),
        card.reference or card.transaction_id,
        f" (it replaces {', '.join(card.void)}, void)" if card.void else "",
    )
    return await publish_markdown(card.markdown(), card.key, card.title())


_OUTCOME_WORDS: Mapping[TxStatus, tuple[str, str]] = {
    TxStatus.SUCCEEDED: ("đã duyệt", "approved"),
    TxStatus.REJECTED: ("bị từ chối", "rejected"),
    TxStatus.EXPIRED: ("hết hạn", "expired"),
    TxStatus.FAILED: ("lỗi", "failed"),
    TxStatus.PENDING: ("hết thời gian chờ", "no answer in time"),
}


async def close_card(artifact_id: UUID, card: ApprovalCard, status: TxStatus) -> None:
    """The card says how its request ended (``status``), and when."""
    vi, en = _OUTCOME_WORDS.get(status, (status.value, status.value))
    words = f"{vi} / {en}"
    at = vn_time(dt.datetime.now(dt.UTC))
    outcome = f"{vi} lúc {at} / {en} at {at}"
    try:
        await update_markdown(artifact_id, card.markdown(outcome), card.title(words))
    except Exception:  # a card that cannot be updated never stops the signing
        get_run_logger().debug("approval card %s not updated", card.key, exc_info=True)
