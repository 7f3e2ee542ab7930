"""What a completed run says in its state message: the outcome a person looks for in the
run's header (the soHoSo, or what is left to do), Vietnamese first, English beside.

Prefect leaves a completed run's message empty; a flow that returns a ``Completed`` state
of its own ends with that state (its data is the flow's return value), so
``flows._failures.run_explained`` returns ``Completed(message=..., data=result)`` with
the sentence one of these functions writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from bhxh.submission import FINAL_STATUSES

__all__ = ["monthly_outcome", "setup_outcome", "submit_outcome", "track_outcome"]

#: A state message is cut by the API at this length.
_MAX = 2000


class _Row(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def so_ho_so(self) -> str: ...


class _Setup(Protocol):
    @property
    def unit(self) -> str: ...
    @property
    def certificate_alias(self) -> str: ...
    @property
    def registration_state(self) -> str: ...
    @property
    def registration_dossier(self) -> str | None: ...


_REGISTRATION: Mapping[str, tuple[str, str]] = {
    "registered": ("BHXH đã đăng ký chứng thư này", "VSS has this certificate on file"),
    "change_pending": (
        "tờ khai đã nộp, BHXH đang xử lý, track_results theo dõi tiếp",
        "the form is with VSS; track_results follows it",
    ),
    "stopped": ("đơn vị đã dừng giao dịch điện tử", "the unit stopped e-transactions"),
    "unknown": ("chưa rõ đăng ký tại BHXH", "the registration at VSS is unknown"),
}


def _cut(message: str) -> str:
    return message if len(message) <= _MAX else message[: _MAX - 1] + "…"


def _numbers(rows: Sequence[_Row]) -> tuple[str, str]:
    numbered = [r for r in rows if r.so_ho_so]
    vi = ", ".join(f"số hồ sơ {r.so_ho_so}" for r in numbered)
    en = ", ".join(f"soHoSo {r.so_ho_so}" for r in numbered)
    return vi, en


def submit_outcome(unit_code: str, period: str, rows: Sequence[_Row], *, dry_run: bool) -> str:
    """sign_and_submit's outcome: the soHoSo of each dossier, or what is left."""
    where_vi, where_en = f"{unit_code} kỳ {period}", f"{unit_code} {period}"
    if not rows:
        return (
            f"{where_vi}: không có hồ sơ nào trong hộp thư, chưa ký gì / {where_en}: no "
            "dossier in the inbox, nothing signed"
        )
    if dry_run:
        return (
            f"{where_vi}: chạy thử, {len(rows)} hồ sơ sẽ được ký, chưa ký gì / {where_en}: "
            f"dry run, {len(rows)} dossier(s) would be signed, nothing signed"
        )
    numbered_vi, numbered_en = _numbers(rows)
    waiting = sum(1 for r in rows if not r.so_ho_so)
    vi = f"{where_vi}: {len(rows)} hồ sơ đã nộp"
    en = f"{where_en}: {len(rows)} dossier(s) submitted"
    if numbered_vi:
        vi += f", {numbered_vi}"
        en += f", {numbered_en}"
    if waiting:
        vi += f"; {waiting} hồ sơ chưa có số hồ sơ, track_results sẽ theo dõi"
        en += f"; {waiting} without a soHoSo yet, track_results follows them"
    return _cut(f"{vi} / {en}")


def setup_outcome(result: _Setup) -> str:
    """setup_remote_signing's outcome: the certificate, the form, the registration."""
    vi_state, en_state = _REGISTRATION.get(
        result.registration_state, (result.registration_state, result.registration_state)
    )
    form_vi = form_en = ""
    if result.registration_dossier:
        form_vi = f", đã nộp tờ khai {result.registration_dossier}"
        form_en = f", form {result.registration_dossier} submitted"
    return _cut(
        f"{result.unit}: ký bằng chứng thư {result.certificate_alias}{form_vi}; {vi_state} / "
        f"{result.unit}: signs with {result.certificate_alias}{form_en}; {en_state}"
    )


def monthly_outcome(period: str, units: int, rows: Sequence[_Row]) -> str:
    """monthly_submission's outcome (every unit finished: a failure ends it Failed)."""
    submitted = [r for r in rows if r.status in {"submitted", "exported"} or r.so_ho_so]
    numbered = sum(1 for r in rows if r.so_ho_so)
    left = len(submitted) - numbered
    vi = f"Kỳ {period}: {units} đơn vị xong, {len(submitted)} hồ sơ đã nộp"
    en = f"{period}: {units} unit(s) done, {len(submitted)} dossier(s) submitted"
    if left:
        vi += f", {left} hồ sơ chờ số hồ sơ, track_results sẽ theo dõi"
        en += f", {left} awaiting a soHoSo, track_results follows them"
    return _cut(f"{vi} / {en}")


def track_outcome(period: str, table: Sequence[Mapping[str, Any]]) -> str:
    """track_results' outcome: how many have a soHoSo, a final result, or are still open."""
    which_vi, which_en = (f"kỳ {period}", period) if period else ("mọi kỳ", "every period")
    numbered = sum(1 for r in table if r.get("so_ho_so"))
    final = sum(1 for r in table if r.get("status") in FINAL_STATUSES)
    open_ = len(table) - final
    numbers = ", ".join(str(r["so_ho_so"]) for r in table if r.get("so_ho_so"))
    vi = (
        f"Đã theo dõi {len(table)} hồ sơ {which_vi}: {numbered} có số hồ sơ, {final} đã có "
        f"kết quả, {open_} còn chờ"
    )
    en = (
        f"followed {len(table)} dossier(s) of {which_en}: {numbered} with a soHoSo, {final} "
        f"with a final result, {open_} still open"
    )
    if numbers:
        vi += f" (số hồ sơ {numbers})"
        en += f" (soHoSo {numbers})"
    return _cut(f"{vi} / {en}")
