"""Source schedules as written in the registry: "every 30m", "every 2h" or a crontab line."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

_EVERY = re.compile(r"^every\s+(\d+)\s*([mh])$")
_MIN_INTERVAL = timedelta(minutes=5)


def parse_schedule(text: str, timezone: str = "Asia/Ho_Chi_Minh") -> BaseTrigger:
    """An APScheduler trigger; ValueError with a readable reason when the text is wrong."""
    spec = text.strip().lower()
    every = _EVERY.match(spec)
    if every:
        amount, unit = int(every.group(1)), every.group(2)
        interval = timedelta(minutes=amount) if unit == "m" else timedelta(hours=amount)
        if interval < _MIN_INTERVAL:
            raise ValueError(f"'{text}' polls more often than every 5 minutes")
        return IntervalTrigger(seconds=interval.total_seconds(), timezone=ZoneInfo(timezone))
    if spec.startswith("every"):
        raise ValueError(f"'{text}' is not 'every <N>m' or 'every <N>h'")
    try:
        return CronTrigger.from_crontab(spec, timezone=ZoneInfo(timezone))
    except ValueError as error:
        raise ValueError(f"'{text}' is not a valid crontab line ({error})") from error
