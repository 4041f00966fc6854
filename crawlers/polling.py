"""Adaptive polling: how soon to read a source again, judged by what its last read brought.

A feed that lists the same entries poll after poll is read less often, up to its ceiling; one
whose entries are mostly new is read more often, down to its floor, so a busy source does not
push items off its feed before we see them. Crontab schedules are fixed times and do not adapt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from apscheduler.triggers.interval import IntervalTrigger

from mediawatch.model import Source
from mediawatch.schedule import parse_schedule

SLOW_DOWN = 1.5
SPEED_UP = 0.5
MOSTLY_NEW = 0.5  # more than this share of new entries: read sooner
MOSTLY_SEEN = 0.2  # less than this share: read later


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What one read of a source gave."""

    entries: int = 0
    new_entries: int = 0
    not_modified: bool = False
    failed: bool = False


def base_interval(source: Source) -> timedelta | None:
    """The schedule's own interval, or None for a crontab schedule (fixed times)."""
    trigger = parse_schedule(source.schedule)
    if isinstance(trigger, IntervalTrigger):
        return trigger.interval
    return None


def bounds(source: Source, base: timedelta) -> tuple[timedelta, timedelta]:
    """Floor and ceiling; a schedule outside the configured bounds widens them to include it."""
    floor = timedelta(minutes=source.poll.floor_minutes)
    ceiling = timedelta(minutes=source.poll.ceiling_minutes)
    return min(floor, base), max(ceiling, base)


def next_interval(source: Source, current: timedelta | None, outcome: PollOutcome) -> timedelta:
    """The interval after this outcome; failures back off like quiet polls, only faster."""
    base = base_interval(source)
    if base is None:
        raise ValueError(f"source {source.id} runs on a crontab schedule; it does not adapt")
    floor, ceiling = bounds(source, base)
    current = current or base
    if outcome.failed:
        factor = 2.0
    elif outcome.not_modified or outcome.entries == 0:
        factor = SLOW_DOWN
    else:
        new_share = outcome.new_entries / outcome.entries
        if new_share > MOSTLY_NEW:
            factor = SPEED_UP
        elif new_share < MOSTLY_SEEN:
            factor = SLOW_DOWN
        else:
            factor = 1.0
    return min(max(current * factor, floor), ceiling)
