"""The rule of ``tests.words`` sees what the issue found and lets pairs, codes and names
through (the flows' messages are scanned with it in ``tests/flows/test_words.py``)."""

from __future__ import annotations

import pytest

from tests.words import doubled, english_in_vietnamese, offences


@pytest.mark.parametrize(
    ("message", "english"),
    [
        ("unit TB0002B: chưa chọn chứng thư số / no certificate chosen yet", ["unit"]),
        (
            "Người dùng chọn dừng, mọi việc được giữ lại. Run again to continue.",
            [],  # an English sentence of its own is the English half
        ),
        ("Chạy setup_remote_signing trước / run setup_remote_signing first", []),
        ("chưa chọn chứng thư, run setup_remote_signing first", ["run", "first"]),
        ("Đã theo dõi 2 hồ sơ / 2 dossiers, 2 thay đổi / dossiers followed", ["dossiers"]),
        ("yêu cầu bị từ chối (USER_REJECTED Người dùng từ chối ký)", ["USER_REJECTED"]),
        ("<li>1A2B: approved (2 tài liệu)</li>", []),  # "approved" alone: no sentence
        ("Gần đây: đã duyệt approved", ["approved"]),
    ],
)
def test_english_inside_a_vietnamese_sentence_is_found(message: str, english: list[str]) -> None:
    assert english_in_vietnamese(message) == english


@pytest.mark.parametrize(
    "message",
    [
        "Trạng thái / status: **đã duyệt lúc 07/12/2026 07:19 / approved at 07/12/2026 07:19**",
        "Đơn vị TB0002B (Công ty CP Bình Minh) chưa chọn chứng thư số / no certificate chosen",
        "on this run's page open the ⋮ menu, choose Resume (giờ Việt Nam, UTC+7)",
        "mở ứng dụng, bấm **Đồng ý**, xác nhận bằng Face ID / Touch ID / PIN / open the app, "
        "press **Đồng ý**",
        "trên trang mở menu ⋮, chọn Resume, bấm Resume; lượt chạy dừng (Failed)",
        "Chạy setup\\_remote\\_signing để chọn chứng thư số",
        "shown on the phone as **Mã yêu cầu: 077E269F**",
    ],
)
def test_pairs_codes_names_and_ui_words_pass(message: str) -> None:
    assert english_in_vietnamese(message) == []


def test_a_sentence_said_twice_is_found() -> None:
    message = (
        "TC0003C: Đơn vị chưa chọn chứng thư số / no certificate has been chosen for the "
        "unit. unit TC0003C: chưa chọn chứng thư số / no certificate chosen yet"
    )
    assert doubled(message) == ["chưa chọn chứng thư số"]
    assert doubled("Đơn vị TC0003C chưa chọn chứng thư số / no certificate chosen") == []
    (offence,) = offences([("state", message)])[1:]
    assert "said twice" in offence
