"""The declaration period and every date a person reads follow Vietnam's clock
(Asia/Ho_Chi_Minh), never the server's own time zone."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator

import pytest

from bhxh import periods
from bhxh.documents import build_envelope, build_registration_form
from bhxh.intake import check_period_not_future
from bhxh.models import CertificateInfo, Declaration, Dossier, UnitInfo
from bhxh.periods import VN_TZ, default_period, now_vn, period_of, today_vn

UTC = dt.UTC
#: 00:30 on 1 February 2026 in Vietnam is still 31 January on a server on UTC.
EDGE = dt.datetime(2026, 1, 31, 17, 30, tzinfo=UTC)


@pytest.fixture
def server_on_utc_at_the_edge(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's zone is UTC and the clock stands at :data:`EDGE`."""
    monkeypatch.setattr(periods, "_utc_now", lambda: EDGE)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    if "TZ" not in os.environ:
        time.tzset()


def test_the_default_period_is_the_current_month_in_vietnam() -> None:
    assert default_period(EDGE) == "02/2026"
    assert default_period(dt.datetime(2026, 1, 31, 16, 59, 59, tzinfo=UTC)) == "01/2026"
    assert default_period(dt.datetime(2026, 12, 10, 8, 0, tzinfo=VN_TZ)) == "12/2026"
    assert default_period(dt.datetime(2026, 12, 31, 23, 0, tzinfo=UTC)) == "01/2027"


def test_default_period_without_arguments_uses_the_clock(
    server_on_utc_at_the_edge: None,
) -> None:
    assert dt.datetime.now().astimezone().utcoffset() == dt.timedelta(0)
    assert default_period() == "02/2026"
    assert today_vn() == dt.date(2026, 2, 1)


def test_a_moment_without_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        default_period(dt.datetime(2026, 2, 1, 0, 30))


def test_vietnam_is_utc_plus_seven() -> None:
    assert now_vn(EDGE).utcoffset() == dt.timedelta(hours=7)
    assert period_of(dt.date(2026, 3, 31)) == "03/2026"


def test_the_future_is_judged_by_vietnams_month(server_on_utc_at_the_edge: None) -> None:
    assert check_period_not_future("02/2026") == (2, 2026)


def test_ngay_lap_of_envelopes_and_forms_is_vietnams_today(
    server_on_utc_at_the_edge: None,
) -> None:
    unit = UnitInfo("TZ1234A", "0101234567", "Công ty TNHH Thử Nghiệm", "07906")
    dossier = Dossier(unit, "02/2026", "600", "d")
    envelope = build_envelope(dossier, [Declaration("D02-TS", "D02-TS-595.xml", b"<D02-TS/>")])
    assert b"<NgayLap>01/02/2026</NgayLap>" in envelope
    cert = CertificateInfo(
        serial="0A",
        subject="UID=MST:0101234567,CN=Thử",
        not_before=dt.datetime(2026, 1, 31, 17, 0, tzinfo=UTC),
        not_after=dt.datetime(2027, 1, 31, 17, 0, tzinfo=UTC),
    )
    form = build_registration_form("05", unit, cert)
    assert b"<NgayLap>01/02/2026</NgayLap>" in form
    assert b"<BEGIN>01/02/2026 00:00:00</BEGIN>" in form
