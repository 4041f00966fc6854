"""Dates as Vietnamese feeds write them, taught to feedparser as extra date handlers.

feedparser reads RFC 822 and W3C dates; these outlets also write a US clock without a zone
(baochinhphu: "9/14/2026 6:44:00 PM"), an hour-only zone (vtv: "+07") and "GMT+7"
(vietnambiz). A date without a zone is Vietnamese time. Anything else: no date, never a
guess.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import feedparser

VIETNAM = timezone(timedelta(hours=7))

_US_CLOCK = re.compile(
    r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AP]M)?\s*$", re.I
)
_SHORT_ZONE = re.compile(
    r"^(?P<stamp>.*\d{1,2}:\d{2}(?::\d{2})?)\s*(?:GMT|UTC)?\s*(?P<sign>[+-])(?P<hours>\d{1,2})"
    r"(?::?(?P<minutes>\d{2}))?\s*$",
    re.I,
)


def _us_clock(text: str) -> datetime | None:
    found = _US_CLOCK.match(text)
    if not found:
        return None
    month, day, year, hour, minute, second, meridiem = found.groups()
    month_number, day_number, hour_number = int(month), int(day), int(hour)
    if month_number > 12 >= day_number:  # written day first after all
        month_number, day_number = day_number, month_number
    if meridiem:
        hour_number = hour_number % 12 + (12 if meridiem.upper() == "PM" else 0)
    try:
        return datetime(
            int(year),
            month_number,
            day_number,
            hour_number,
            int(minute),
            int(second or 0),
            tzinfo=VIETNAM,
        )
    except ValueError:
        return None


def _short_zone(text: str) -> datetime | None:
    found = _SHORT_ZONE.match(text)
    if not found or re.search(r"[+-]\d{4}\s*$", text):
        return None  # a full +0700 zone is feedparser's own business
    zone = f"{found['sign']}{int(found['hours']):02d}{found['minutes'] or '00'}"
    try:
        return parsedate_to_datetime(f"{found['stamp']} {zone}")
    except (TypeError, ValueError):
        return None


def parse_vietnamese_date(text: str) -> time.struct_time | None:
    """A feedparser date handler: a UTC struct_time, or None to let others try."""
    moment = _us_clock(text) or _short_zone(text)
    if moment is None or moment.tzinfo is None:
        return None
    return moment.astimezone(UTC).timetuple()


feedparser.registerDateHandler(parse_vietnamese_date)
