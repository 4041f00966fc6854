"""Calendar days as people in the province count them (Asia/Ho_Chi_Minh by default)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from mediawatch.model import utc_now


def local_time(value: datetime, zone: ZoneInfo) -> datetime | None:
    """``value`` on the clocks of ``zone``, or None where it has no time there (9999-12-31
    23:00 UTC is past the calendar's end at +07): printing a date must never fail."""
    try:
        return value.astimezone(zone)
    except (OverflowError, ValueError):
        return None


def recent_days(days: int, timezone: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    """From local midnight ``days - 1`` days ago until now: whole days, today included."""
    zone = ZoneInfo(timezone)
    until = now or utc_now()
    first_day = until.astimezone(zone).date() - timedelta(days=days - 1)
    return datetime.combine(first_day, time(), tzinfo=zone), until


def day_bounds(day: datetime | None, timezone: str) -> tuple[datetime, datetime]:
    """Local midnight to midnight of the day before ``day`` (default: now): "yesterday"."""
    zone = ZoneInfo(timezone)
    today = (day or utc_now()).astimezone(zone).date()
    yesterday = today - timedelta(days=1)
    return datetime.combine(yesterday, time(), tzinfo=zone), datetime.combine(
        today, time(), tzinfo=zone
    )
