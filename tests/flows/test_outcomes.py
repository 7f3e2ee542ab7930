"""A completed run says its outcome in its state message, and the certificate drop-down
gives ground to choose: subject, issuer, validity, the recommended one first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from esign.models import Certificate
from flows._outcomes import monthly_outcome, setup_outcome, submit_outcome, track_outcome
from flows._pauses import certificate_choice, certificate_labels
from tests.words import offences


@dataclass
class Row:
    unit: str
    dossier: str
    status: str
    so_ho_so: str = ""
    dot: int | None = None


@dataclass
class Setup:
    unit: str
    certificate_alias: str
    registration_state: str
    registration_dossier: str | None = None


def test_sign_and_submit_says_the_sohoso_or_what_is_left() -> None:
    done = submit_outcome(
        "TA0001A",
        "12/2026",
        [Row("TA0001A", "d1", "submitted", "03706/2026/07906", 1)],
        dry_run=False,
    )
    assert done.startswith("TA0001A kỳ 12/2026: 1 hồ sơ đã nộp, số hồ sơ 03706/2026/07906")
    assert "soHoSo 03706/2026/07906" in done.split(" / ", 1)[1]
    left = submit_outcome("TA0001A", "12/2026", [Row("TA0001A", "d1", "submitted")], dry_run=False)
    assert "1 hồ sơ chưa có số hồ sơ, track_results sẽ theo dõi" in left
    assert "không có hồ sơ nào" in submit_outcome("TA0001A", "12/2026", [], dry_run=False)
    assert "chạy thử" in submit_outcome("TA0001A", "12/2026", [Row("T", "d", "x")], dry_run=True)


def test_setup_track_and_monthly_say_their_outcome_too() -> None:
    setup = setup_outcome(Setup("TA0001A", "ANPHAT-RS", "change_pending", "05-122026-ab"))
    assert "ký bằng chứng thư ANPHAT-RS, đã nộp tờ khai 05-122026-ab" in setup
    table = [
        {"unit": "TA", "status": "accepted", "so_ho_so": "03706/2026/07906"},
        {"unit": "TB", "status": "submitted", "so_ho_so": ""},
    ]
    track = track_outcome("12/2026", table)
    assert track.startswith("Đã theo dõi 2 hồ sơ kỳ 12/2026: 1 có số hồ sơ, 1 đã có kết quả")
    assert "03706/2026/07906" in track
    month = monthly_outcome("12/2026", 3, [Row("TA", "d", "submitted", "1/2/3")])
    assert month.startswith("Kỳ 12/2026: 3 đơn vị xong, 1 hồ sơ đã nộp")
    said = [setup, track, month, submit_outcome("T", "12/2026", [], dry_run=False)]
    assert offences([("outcome", m) for m in said]) == []


def _cert(alias: str, days: int) -> Certificate:
    now = dt.datetime(2026, 11, 6, tzinfo=dt.UTC)
    return Certificate(
        "misa",
        alias,
        f"{days:04X}AB",
        "CN=Test",
        "0105556667",
        now,
        now + dt.timedelta(days=days),
        "active",
        b"",
    )


def test_the_certificate_drop_down_names_validity_and_recommends_the_longest() -> None:
    older, newer = _cert("GP-2026", 400), _cert("GP-2027", 800)
    labels = certificate_labels((older, newer))
    first, second = labels
    assert labels[first] == newer.serial and first.startswith("★ Nên chọn / recommended")
    assert "hiệu lực / valid 06/11/2026 - 14/01/2029" in first
    assert "cấp bởi / issuer" in first and f"serial {older.serial} ·" in second
    # What tells the two apart comes first (the new UI shows a chosen line cut short).
    assert second.startswith(f"GP-2026 · serial {older.serial} · hiệu lực / valid")
    form = certificate_choice((older, newer)).model_json_schema()["properties"]["serial"]
    assert form["enum"] == list(labels) and form["default"] == first


def test_setup_run_again_marks_the_certificate_the_unit_signs_with_now() -> None:
    older, newer = _cert("GP-2026", 400), _cert("GP-2027", 800)
    labels = certificate_labels((older, newer), in_use=older.serial.lower())
    first, second = labels
    assert second.startswith("Đang dùng / in use · GP-2026 · serial")
    assert labels[second] == older.serial
    assert "Đang dùng" not in first  # the recommended one stays first and chosen to start with
    form = certificate_choice((older, newer), older.serial).model_json_schema()["properties"]
    assert form["serial"]["default"] == first
