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
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "PERIOD_PATTERN",
    "VN_TZ",
    "contribution_due",
    "default_period",
    "folder_name",
    "format_period",
    "now_vn",
    "parse_period",
    "period_ended",
    "period_of",
    "previous_period",
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


#: A declaration period as written: ``MM/yyyy`` with a month 01-12 (``01/2026``).
PERIOD_PATTERN = re.compile(r"(0[1-9]|1[0-2])/(\d{4})")


def parse_period(period: object) -> tuple[int, int] | None:
    """``"01/2026"`` -> ``(1, 2026)``; None when it is not ``MM/yyyy`` with a month 01-12.

    Callers turn None into their own refusal (a dossier error, a store error...).
    """
    match = PERIOD_PATTERN.fullmatch(period) if isinstance(period, str) else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def folder_name(month: int, year: int) -> str:
    """The folder of a period in the inbox, the store and the exports: ``01-2026``."""
    return f"{month:02d}-{year}"


def _month_year(period: str) -> tuple[int, int]:
    parsed = parse_period(period)
    if parsed is None:
        raise ValueError(f"period {period!r} is not MM/yyyy with a month 01-12, e.g. '01/2026'")
    return parsed


def previous_period(period: str) -> str:
    """``"01/2026"`` -> ``"12/2025"``."""
    month, year = _month_year(period)
    return f"12/{year - 1}" if month == 1 else f"{month - 1:02d}/{year}"


def _last_day(year: int, month: int) -> dt.date:
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def contribution_due(period: str) -> dt.date:
    """The day a period's contributions are due: the last day of the following month."""
    month, year = _month_year(period)
    following = (year + 1, 1) if month == 12 else (year, month + 1)
    return _last_day(*following)


def period_ended(period: str, today: dt.date) -> bool:
    """Whether Vietnam's ``today`` is past the period's last day."""
    month, year = _month_year(period)
    return today > _last_day(year, month)


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
