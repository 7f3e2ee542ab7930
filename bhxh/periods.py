"""Dates and declaration periods in Vietnam's time, whatever the server's own clock says.

``KyKeKhai`` (the declaration period, ``MM/yyyy``) is the month a dossier is declared in:
a procedure-600 dossier sent on 13/01/2026 is declared for 01/2026, its rows' ``TuThang``
say from which month each change takes effect (the README's "The declaration period"
gives the sources). The default period of a run is therefore the current month, and the
current month is Vietnam's: a server on UTC started at 01:00 on the 1st (Vietnam time)
still sees the previous day.

Every date a person reads (``NgayLap``, certificate validity in the 04/05/06 forms, the
signing time) is computed here too. Vietnam has kept UTC+7 without daylight saving since
1975; the IANA zone is used when the system has it, a fixed +07:00 otherwise.

Example:
    >>> default_period(dt.datetime(2026, 1, 31, 17, 30, tzinfo=dt.UTC))  # 00:30 on 1 Feb
    '02/2026'
    >>> today_vn(dt.datetime(2026, 1, 31, 16, 59, tzinfo=dt.UTC))
    datetime.date(2026, 1, 31)
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "VN_TZ",
    "default_period",
    "format_period",
    "now_vn",
    "period_of",
    "today_vn",
]


def _zone() -> dt.tzinfo:
    try:
        return ZoneInfo("Asia/Ho_Chi_Minh")
    except ZoneInfoNotFoundError:  # a system without the tz database
        return dt.timezone(dt.timedelta(hours=7), "Asia/Ho_Chi_Minh")


#: Vietnam's time zone (Asia/Ho_Chi_Minh, UTC+7).
VN_TZ: dt.tzinfo = _zone()


def _utc_now() -> dt.datetime:
    """The current moment (one place, so tests can stand the clock at a month's edge)."""
    return dt.datetime.now(dt.UTC)


def now_vn(now: dt.datetime | None = None) -> dt.datetime:
    """The moment ``now`` (default: the current time) as Vietnam's wall-clock time.

    Raises:
        ValueError: ``now`` is naive: a moment needs its zone to be placed in Vietnam's day.
    """
    if now is None:
        now = _utc_now()
    elif now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(
            f"{now.isoformat()} has no time zone; pass an aware datetime "
            "(e.g. datetime.now(datetime.UTC))"
        )
    return now.astimezone(VN_TZ)


def today_vn(now: dt.datetime | None = None) -> dt.date:
    """Today's date in Vietnam (``NgayLap`` and every date a user reads)."""
    return now_vn(now).date()


def format_period(month: int, year: int) -> str:
    """``(1, 2026)`` -> ``"01/2026"``."""
    return f"{month:02d}/{year}"


def period_of(day: dt.date) -> str:
    """The period (``MM/yyyy``) a date falls in."""
    return format_period(day.month, day.year)


def default_period(now: dt.datetime | None = None) -> str:
    """The period a run declares when none is given: the current month in Vietnam.

    Args:
        now: the moment of the run (aware); default: the current time.

    Example:
        >>> default_period(dt.datetime(2026, 12, 1, 8, 0, tzinfo=VN_TZ))
        '12/2026'
    """
    return period_of(today_vn(now))
